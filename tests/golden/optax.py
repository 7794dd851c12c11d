"""Adam on Rosenbrock, cosine annealing rate from η₀ = 0.02, 300 steps from (-1.5, 2): the run from
Descent Lab, in optax.

Where this differs from a plain port:
- optax counts steps in int32, and some of its schedules then compute in float32 (a relative
  error near 1e-8); the schedule is given the count as float64.
"""

import jax
import jax.numpy as jnp
import optax

jax.config.update("jax_enable_x64", True)


def loss_fn(w):
    """Rosenbrock."""
    x, y = w[0], w[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


schedule = optax.cosine_decay_schedule(0.02, decay_steps=300, alpha=0.05)
warmup = optax.linear_schedule(0, 0.02, transition_steps=20)
warmed = optax.join_schedules([warmup, schedule], boundaries=[20])
optimizer = optax.chain(
    optax.clip_by_global_norm(5),
    optax.scale_by_adam(b1=0.9, b2=0.999, eps=1e-08),
    optax.scale_by_learning_rate(lambda count: warmed(count.astype(jnp.float64))),
)
w = jnp.array([-1.5, 2.0])
state = optimizer.init(w)


@jax.jit
def train_step(w, state):
    grad = jax.grad(loss_fn)(w)
    updates, state = optimizer.update(grad, state, w)
    return optax.apply_updates(w, updates), state


for _ in range(300):
    w, state = train_step(w, state)

x, y = w.tolist()
print(f"final point: ({x}, {y}) loss: {loss_fn(w)}")
