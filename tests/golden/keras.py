"""Adam on Rosenbrock, cosine annealing rate from η₀ = 0.02, 300 steps from (-1.5, 2): the run from
Descent Lab, in Keras 3.

Where this differs from a plain port:
- The maths is written in jax.numpy: on the JAX backend keras.ops returns float32 from sin, cos,
  tanh, logaddexp and norm even for float64 input (Keras 3.15.1).
- Keras's Adam adds its ε before the bias correction of v (ε̂); this class after.
- Keras's CosineDecay and CosineDecayRestarts take their cosine in float32 on the JAX backend (a
  relative error near 1e-8): the schedule is written out.
"""

import math
import os

os.environ["KERAS_BACKEND"] = "jax"

import jax
import jax.numpy as jnp
import keras
from keras import ops

jax.config.update("jax_enable_x64", True)
keras.config.set_floatx("float64")


def loss_fn(w):
    """Rosenbrock."""
    x, y = w[0], w[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


class Adam(keras.optimizers.Optimizer):
    """Adam with ε added to √v̂: w -= η_k m̂ / (√v̂ + ε)."""

    def __init__(self, learning_rate, b1, b2, eps, **options):
        super().__init__(learning_rate, **options)
        self.b1, self.b2, self.eps = b1, b2, eps

    def build(self, variables):
        super().build(variables)
        (w,) = variables
        self.m = self.add_variable_from_reference(w, "m")
        self.v = self.add_variable_from_reference(w, "v")

    def update_step(self, g, w, lr):
        b1, b2, eps = self.b1, self.b2, self.eps
        t = ops.cast(self.iterations + 1, "float64")
        m, v = self.m, self.v
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        d = m / (1 - b1**t) / (ops.sqrt(v / (1 - b2**t)) + eps)
        self.assign(self.m, m)
        self.assign(self.v, v)
        self.assign_sub(w, lr * d)


class Cosine(keras.optimizers.schedules.LearningRateSchedule):
    """Cosine annealing: η_k = η₀ · factor(k) (Keras has no such schedule)."""

    def __call__(self, step):
        k = jnp.asarray(step, jnp.float64)
        u = jnp.minimum(k, 300) / 300
        return 0.02 * (0.05 + (1 - 0.05) * (1 + jnp.cos(math.pi * u)) / 2)


class Warmup(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup over `steps` steps from start·η̂ to η̂ = after(0), then
    after(k − steps)."""

    def __init__(self, after, steps, start):
        self.after, self.steps, self.start = after, steps, start

    def __call__(self, step):
        k = jnp.asarray(step, jnp.float64)
        ramp = self.after(0) * (self.start + (1 - self.start) * k / self.steps)
        after = self.after(jnp.maximum(k - self.steps, 0))
        return jnp.where(k < self.steps, ramp, after)


w = keras.Variable([-1.5, 2.0])
optimizer = Adam(
    Warmup(Cosine(), steps=20, start=0),
    b1=0.9,
    b2=0.999,
    eps=1e-08,
    global_clipnorm=5,
)
gradient = jax.jit(jax.grad(loss_fn))

for _ in range(300):
    grad = gradient(w.value)
    optimizer.apply([grad], [w])

x, y = w.numpy().tolist()
print(f"final point: ({x}, {y}) loss: {loss_fn(w.value)}")
