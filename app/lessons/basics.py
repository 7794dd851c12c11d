"""Lessons on the learning rate itself: step size, overshooting, divergence, slow progress,
local minima, momentum and adaptive rates."""

from __future__ import annotations

from app.lessons.lesson import Lesson

BASICS: tuple[Lesson, ...] = (
    Lesson(
        key="one_step",
        title="One step to the bottom",
        concepts=("step_size",),
        question=(
            "On the round bowl f = ½(x² + y²), gradient descent takes w ← (1 − η) w. "
            "How many steps does η = 0.1 need, and how many does η = 1?"
        ),
        look_for=(
            "Run 2 (η = 1) lands on the minimum in one step; run 1 shrinks the distance by 10 % "
            "per step along a straight path and needs 143 steps (see its status line)."
        ),
        query="surface=bowl&run1_lr=0.1&runs=2&run2_optimizer=gd&run2_lr=1",
    ),
    Lesson(
        key="overshoot",
        title="Overshooting the valley floor",
        concepts=("overshooting", "step_size"),
        question=(
            "Here the steep curvature is λ_max = 10, so η = 0.1 = 1/λ_max would land on the "
            "valley floor in one step. At η = 0.15, does the path stop at the floor or jump "
            "across it? Does it still converge?"
        ),
        look_for=(
            "Run 2 (η = 0.15) crosses the valley floor at every step, a zig-zag whose swings "
            "halve each time, and converges; run 1 (η = 0.05) slides down one side without "
            "crossing and is slower."
        ),
        query="run1_lr=0.05&runs=2&run2_optimizer=gd&run2_lr=0.15",
    ),
    Lesson(
        key="diverge",
        title="Just past 2/λ_max",
        concepts=("divergence",),
        question=(
            "This quadratic has λ_max = 10, so gradient descent is stable for η < 2/λ_max = 0.2. "
            "At η = 0.19 and η = 0.21, which run reaches the minimum?"
        ),
        look_for=(
            "Run 1 zig-zags and converges. Run 2's zig-zag grows by 10 % per step: its loss "
            "curve climbs and its status line reports divergence. A 10 % change in η decides it."
        ),
        query="run1_lr=0.19&runs=2&run2_optimizer=gd&run2_lr=0.21",
    ),
    Lesson(
        key="too_slow",
        title="Too small a step",
        concepts=("too_slow",),
        question=(
            "η = 0.002 is perfectly stable here (the limit is 0.2). After 300 steps, where will "
            "it be compared with η = 0.18?"
        ),
        look_for=(
            "Run 1 is stable but slow: in 300 steps its loss falls about 200-fold (log scale), yet "
            "while the steep direction is done, its distance along the valley floor has only "
            "halved and its status line does not say converged. Run 2 converges in under 80."
        ),
        query="run1_lr=0.002&runs=2&run2_optimizer=gd&run2_lr=0.18",
    ),
    Lesson(
        key="grid_search",
        title="A grid of six rates",
        concepts=("grid_search", "too_slow", "divergence"),
        question=(
            "Six gradient-descent runs at η = 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, about half a "
            "decade apart, with the limit at 2/λ_max = 0.2: which one wins, and which fail how?"
        ),
        look_for=(
            "The four smallest rates run out of steps (the loss curves fan out by rate), "
            "η = 0.1 converges and η = 0.3 diverges within a few steps. The best rate sits just "
            "below the one that breaks; the LR sweep view does the same with a thousand rates."
        ),
        query=(
            "runs=6&run1_lr=0.001&run2_optimizer=gd&run2_lr=0.003&run3_optimizer=gd&run3_lr=0.01"
            "&run4_optimizer=gd&run4_lr=0.03&run5_optimizer=gd&run5_lr=0.1"
            "&run6_optimizer=gd&run6_lr=0.3"
        ),
    ),
    Lesson(
        key="local_minimum",
        title="Trapped in the shallow well",
        concepts=("local_minima", "momentum"),
        question=(
            "The tilted double well has a deep minimum on the left and a shallow one on the "
            "right. Starting on the right, where does gradient descent end, and where does "
            "momentum (β = 0.8) at the same η = 0.05?"
        ),
        look_for=(
            "Run 1 settles in the shallow well (status: a local minimum, f ≈ 0.48). Run 2's "
            "velocity carries it over the barrier into the deep well (f ≈ −0.51). The gradient "
            "is zero at both: descent cannot tell a local minimum from the global one."
        ),
        query=("surface=double_well&run1_lr=0.05&runs=2&run2_lr=0.05&run2_beta=0.8"),
    ),
    Lesson(
        key="momentum_valley",
        title="Momentum along a long valley",
        concepts=("momentum",),
        question=(
            "With κ = 100, the rate is capped by the steep direction (η < 0.02) and gradient "
            "descent crawls along the flat one. At the same η = 0.019, how much sooner does "
            "momentum (β = 0.9) arrive?"
        ),
        look_for=(
            "Run 2 overshoots and spirals, but its loss curve drops far faster: it converges in "
            "about half the steps of run 1 (compare the two status lines)."
        ),
        query="quadratic_kappa=100&steps=1000&run1_lr=0.019&runs=2&run2_lr=0.019",
    ),
    Lesson(
        key="momentum_limit",
        title="Momentum moves the stability limit",
        concepts=("momentum", "divergence"),
        question=(
            "At η = 0.03 gradient descent is past its limit 2/λ_max = 0.02. Heavy-ball momentum "
            "with β = 0.9 is stable up to 2(1 + β)/λ_max = 0.038: which run survives?"
        ),
        look_for=(
            "Run 1 diverges within a few steps. Run 2's loss first jumps up (the velocity "
            "overshoots) and then falls to the minimum: the status line says converged."
        ),
        query="quadratic_kappa=100&steps=500&run1_lr=0.03&runs=2&run2_lr=0.03",
    ),
    Lesson(
        key="adaptive",
        title="Adaptive rates on an axis-aligned valley",
        concepts=("adaptive",),
        question=(
            "The valley runs along x (κ = 100, θ = 0°). Gradient descent must keep η < 0.02 for "
            "the steep y-axis. Adam at η = 0.1 divides each coordinate by its own RMS gradient: "
            "which run reaches the minimum first?"
        ),
        look_for=(
            "Adam's first step moves x and y by the same amount, η, whatever their slopes; the "
            "inspector's effective per-coordinate step shows x getting a far larger rate than y. "
            "By step 200 Adam's loss is thousands of times lower; it converges near step 300, "
            "while gradient descent is still short of the minimum at step 500."
        ),
        query=(
            "quadratic_kappa=100&quadratic_angle=0&steps=500&run1_lr=0.019&runs=2"
            "&run2_optimizer=adam&run2_lr=0.1"
        ),
    ),
)
