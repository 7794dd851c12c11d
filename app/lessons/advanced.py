"""Lessons past the basic rate: exploding and vanishing gradients, the (w, b) surface of linear
regression, L2, sharpness, and step sizes that set themselves (line search, Polyak,
learning-rate-free rules, schedule-free averaging)."""

from __future__ import annotations

from app.lessons.lesson import Lesson

ADVANCED: tuple[Lesson, ...] = (
    Lesson(
        key="cliff",
        title="Exploding gradients at a cliff",
        concepts=("clipping",),
        question=(
            "The terrace's curvature is 0.2, so η = 3.2 is well below its limit 2/0.2 = 10, but "
            "the slope at the cliff edge is 200. What happens when the run reaches the edge, "
            "with and without clipping the gradient to norm 1?"
        ),
        look_for=(
            "Run 1 lands on the edge at step 1 and one gradient of about 200 flings it off the "
            "map: diverged. Run 2 never steps further than η·C = 3.2, drops down the cliff and "
            "converges to (−2, 0)."
        ),
        query="surface=cliff&run1_lr=3.2&runs=2&run2_optimizer=gd&run2_lr=3.2&run2_clip_norm=1",
    ),
    Lesson(
        key="vanishing",
        title="Vanishing gradients on a plateau",
        concepts=("vanishing", "adaptive"),
        question=(
            "At the start |∇f| ≈ 4·10⁻⁴. Gradient descent at η = 1 moves by η|∇f| per step; "
            "Adam moves by about η whatever the slope. Which run reaches the well in 500 steps?"
        ),
        look_for=(
            "Run 1 barely moves, 0.43 of the 4.3 to the well: its gradient norm stays below "
            "3·10⁻³ and its loss above 0.999. Run 2 (Adam, η = 0.1) walks across the plateau "
            "at about η√2 ≈ 0.14 per step (each coordinate moves by about η) and converges."
        ),
        query="surface=plateau&steps=500&run1_lr=1&runs=2&run2_optimizer=adam&run2_lr=0.1",
    ),
    Lesson(
        key="linreg_ravine",
        title="Fitting a line: the (w, b) plane",
        concepts=("linreg", "too_slow"),
        question=(
            "Each point (w, b) is a line y = wx + b, its height the mean squared error on 50 "
            "points with x between 1 and 5. Slope and intercept trade off: what shape is the "
            "loss, and how far does gradient descent get in 300 steps?"
        ),
        look_for=(
            "A long diagonal ravine (condition number about 130). At η = 0.04 ≈ 1/λ_max the "
            "path drops into it within a few steps, then crawls along it and runs out of steps; "
            "η cannot pass 2/λ_max ≈ 0.082. Now switch on “standardise x”."
        ),
        query="surface=linreg&run1_lr=0.04",
    ),
    Lesson(
        key="linreg_standardised",
        title="Standardised features: one step",
        concepts=("linreg", "step_size"),
        question=(
            "With x standardised (mean 0, standard deviation 1) the Hessian of the mean squared "
            "error is exactly 2I. Which η lands on the least-squares line in one step?"
        ),
        look_for=(
            "Run 1 (η = 1/2) lands on the least-squares fit in one step: ηH = I, as on the bowl "
            "at η = 1. Run 2 (η = 0.1) shrinks the error by 20 % per step and takes 70 steps."
        ),
        query=(
            "surface=linreg&linreg_standardise=1&run1_lr=0.5&runs=2&run2_optimizer=gd&run2_lr=0.1"
        ),
    ),
    Lesson(
        key="l2",
        title="L2 moves the minimum",
        concepts=("l2", "linreg"),
        question=(
            "Fitting a line again: (w, b) = (0.96, −1.73) has the least squared error. Ridge "
            "regression adds (λ₂/2)(w² + b²), λ₂ = 1, a pull towards (0, 0): where will run 2 "
            "stop, and does it move straight towards the origin?"
        ),
        look_for=(
            "Run 2 stops at (0.50, −0.17), the minimum of the penalised loss (H + λ₂I)⁻¹Hw*, "
            "1.6 away from run 1. It moved along the flat ravine (curvature 0.19: shrunk 6-fold) "
            "and barely across it (curvature 24: shrunk 4 %): L2 shrinks hardest where the loss "
            "cares least."
        ),
        query=(
            "surface=linreg&steps=1200&run1_lr=0.07&runs=2&run2_optimizer=gd&run2_lr=0.07&run2_l2=1"
        ),
    ),
    Lesson(
        key="edge_of_stability",
        title="Edge of stability",
        concepts=("sharpness", "step_size"),
        question=(
            "At Rosenbrock's minimum λ_max ≈ 1002, so gradient descent cannot stay there once "
            "η > 2/λ_max ≈ 0.002. From (−1.2, 1) at η = 0.003 and η = 0.004: does it blow up, "
            "reach (1, 1), or stop somewhere else? Watch the sharpness row."
        ),
        look_for=(
            "Neither blows up nor reaches (1, 1). λ_max falls to 200 on the valley floor, then "
            "climbs as the run moves along the valley until it meets the dashed 2/η (667, 500) "
            "and stays: over the last 1000 steps λ_max, averaged over each two steps, is within "
            "0.5 % of 2/η, a two-step bounce across the valley (Cohen et al. 2021)."
        ),
        query=(
            "surface=rosenbrock&x0=-1.2&y0=1&steps=3000&run1_lr=0.003&runs=2&run2_optimizer=gd"
            "&run2_lr=0.004"
        ),
    ),
    Lesson(
        key="line_search",
        title="A line search cannot overshoot",
        concepts=("self_set", "divergence"),
        question=(
            "Here λ_max = κ = 100, so gradient descent needs η < 2/λ_max = 0.02. Run 2 tries "
            "η₀ = 100 at every step, 5000 times too large, and halves it until the loss falls "
            "enough (Armijo). Which run reaches the minimum?"
        ),
        look_for=(
            "Run 1 (η = 0.021) diverges. Run 2's loss falls at every step: its first step tried "
            "14 sizes, down to 0.0122; it converges in 654 steps with 1.6 evaluations of f per "
            "step, and over half of its accepted steps are longer than 0.02 (the inspector's "
            "step size)."
        ),
        query=(
            "surface=quadratic&quadratic_kappa=100&steps=1000&run1_lr=0.021&runs=2"
            "&run2_optimizer=armijo&run2_lr=100"
        ),
    ),
    Lesson(
        key="polyak_floor",
        title="Polyak knows the floor",
        concepts=("self_set",),
        question=(
            "Polyak's step is (f − f*)/‖∇f‖² times ∇f: it needs the minimum value f*, 0 on this "
            "quadratic. Run 1 is told the true f*, run 2 a floor 0.5 too high, run 3 one 0.5 too "
            "low. Which runs reach the minimum?"
        ),
        look_for=(
            "Run 1 converges in 45 steps with no rate to tune. Run 2 reaches the level f = 0.5 "
            "at step 8 and stays on it, 0.92 from the minimum: its step is 0 there. Run 3 never "
            "settles: near the minimum ‖∇f‖² is tiny but f − f* + 0.5 is not; after step 100 "
            "its loss jumps back above 10 again and again, once to 2364."
        ),
        query=(
            "surface=quadratic&steps=300&run1_optimizer=polyak&runs=3&run2_optimizer=polyak"
            "&run2_offset=0.5&run3_optimizer=polyak&run3_offset=-0.5"
        ),
    ),
    Lesson(
        key="lr_free",
        title="No learning rate to set?",
        concepts=("self_set", "step_size"),
        question=(
            "On this κ = 10 quadratic GD needs η < 2/κ = 0.2. Prodigy, D-Adaptation and DoG "
            "(runs 3–5) start with a step of about 10⁻⁶ and set their own rate (η₀ = 1 takes "
            "their step as published). Which reach the minimum in 300 steps, against GD at a "
            "tuned η = 0.1 and at η = 0.21?"
        ),
        look_for=(
            "GD at η = 0.1 converges in 133 steps; at η = 0.21 it diverges at step 53. "
            "D-Adaptation's D (inspector: d) grows from 10⁻⁶ to 2.5 and converges in 295 steps; "
            "Prodigy's D reaches 1.1, loss 3 × 10⁻¹² at step 300; DoG's rate (step_scale) grows "
            "from 10⁻⁷ to only 0.013, loss still 0.002. None diverges, but they pay in steps."
        ),
        query=(
            "surface=quadratic&steps=300&run1_lr=0.1&runs=5&run2_optimizer=gd&run2_lr=0.21"
            "&run3_optimizer=prodigy&run3_lr=1&run4_optimizer=dadapt&run4_lr=1"
            "&run5_optimizer=dog&run5_lr=1"
        ),
    ),
    Lesson(
        key="schedule_free",
        title="Schedule-free: no decay, same end",
        concepts=("schedule_free", "self_set"),
        question=(
            "Noisy gradients (σ = 1) on the round bowl, η = 0.1 for 500 steps. Run 2 decays η to "
            "0 along a cosine; run 3, Schedule-Free SGD, keeps γ = 0.1 constant but takes each "
            "gradient between its SGD sequence z and their running average x. Which ends "
            "nearer the minimum?"
        ),
        look_for=(
            "Run 1 jitters at a loss of about 0.08 over its last 50 steps. Run 2's cosine brings "
            "it to 0.004 at the end; run 3's averaged point x (open circles on the contour) "
            "ends at f = 0.005: within 1.5 times the cosine's and 14 times below run 1's, with no "
            "schedule and no end date to plan for."
        ),
        query=(
            "surface=bowl&steps=500&runs=3&run1_lr=0.1&run1_noise_std=1&run2_optimizer=gd"
            "&run2_lr=0.1&run2_noise_std=1&run2_schedule=cosine&run2_sched_decay_steps=500"
            "&run3_optimizer=schedule_free_sgd&run3_lr=1&run3_gamma=0.1&run3_noise_std=1"
        ),
    ),
)
