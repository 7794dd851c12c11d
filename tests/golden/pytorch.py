"""Adam on Rosenbrock, cosine annealing rate from η₀ = 0.02, 300 steps from (-1.5, 2): the run from
Descent Lab, in PyTorch.
"""

import torch

torch.set_default_dtype(torch.float64)


def loss_fn(w):
    """Rosenbrock."""
    x, y = w[0], w[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


w = torch.tensor([-1.5, 2.0], requires_grad=True)
optimizer = torch.optim.Adam([w], lr=0.02, betas=(0.9, 0.999), eps=1e-08)
warmup = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda k: k / 20)
schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=300, eta_min=0.001)
scheduler = torch.optim.lr_scheduler.SequentialLR(optimizer, [warmup, schedule], milestones=[20])

for _ in range(300):
    optimizer.zero_grad()
    loss = loss_fn(w)
    loss.backward()
    with torch.no_grad():
        # g · min(1, C/‖g‖) as the app: clip_grad_norm_ would divide by ‖g‖ + 1e-6
        w.grad *= torch.clamp(5 / w.grad.norm(), max=1.0)
    optimizer.step()
    scheduler.step()

x, y = w.tolist()
print(f"final point: ({x}, {y}) loss: {loss_fn(w).item()}")
