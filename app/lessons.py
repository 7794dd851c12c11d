"""One-click lessons: a registry table of "predict, then run" set-ups, each a shareable link.

A `Lesson` is a question to answer before running, a page state written as a link's query
(`query`, without `v=` and `lesson=`), and what to look for on screen afterwards. `LESSONS`
is the table the gallery and the tests read; `CONCEPTS` names what the lessons teach, and every
concept has at least one lesson (tests/test_lessons.py checks both, and checks each lesson's
claim through the engine).

The UI is three functions for the page: `lesson_picker()` (a picker with an "Open lesson"
button, in the header), `gallery_table()` (every lesson, as links) and `lesson_card(key)` (the
open lesson's question and what to look for, with a close button).
Lesson text reaches Markdown only through `app.text.plain`, so "|∇f|" stays inside its table cell.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, urlencode

import streamlit as st

from app import controls
from app.state import Decoded, PageState, from_query, to_query
from app.text import plain
from surfaces.params import Registry

CONCEPTS: dict[str, str] = {
    "step_size": "Step size",
    "overshooting": "Overshooting",
    "divergence": "Divergence",
    "too_slow": "Too slow",
    "local_minima": "Local minima",
    "adaptive": "Adaptive rates",
    "momentum": "Momentum",
    "grid_search": "Grid search",
    "step_decay": "Step decay",
    "exponential_decay": "Exponential decay",
    "polynomial_decay": "Polynomial decay",
    "warmup": "Warmup",
    "cyclical": "Cyclical rates",
    "plateau": "ReduceLROnPlateau",
    "range_test": "LR range test",
    "clipping": "Exploding gradients & clipping",
    "vanishing": "Vanishing gradients",
    "l2": "L2 regularisation",
    "linreg": "Linear regression's (w, b) surface",
    "sharpness": "Sharpness & the edge of stability",
    "self_set": "Step sizes that set themselves",
    "schedule_free": "Schedule-free averaging",
}


@dataclass(frozen=True)
class Lesson:
    """A lesson: what to predict, the set-up as a link's query, and what to look for."""

    key: str
    title: str
    concepts: tuple[str, ...]
    question: str
    look_for: str
    query: str  # the link's fields without `v` and `lesson`, e.g. "surface=bowl&run1_lr=1"

    def fields(self) -> dict[str, str]:
        """The query as {field: text}, with this lesson's key as `lesson`."""
        return {**dict(parse_qsl(self.query, strict_parsing=True)), "lesson": self.key}

    def decoded(self) -> Decoded:
        """The page state the lesson asks for, and any field that could not be used."""
        return from_query(self.fields(), (self.key,))

    @property
    def state(self) -> PageState:
        return self.decoded().state

    @property
    def link(self) -> str:
        """The canonical query string (`v=1&lesson=<key>&…`), as the page writes it."""
        return query_string(to_query(self.state))


def query_string(query: Mapping[str, str]) -> str:
    return urlencode(query, safe=",")


LESSONS: Registry[Lesson] = Registry(
    "lesson",
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
    Lesson(
        key="step_decay",
        title="Step decay quiets the noise",
        concepts=("step_decay",),
        question=(
            "Each gradient here carries Gaussian noise (σ = 1), as in SGD. With a constant "
            "η = 0.1 the run never settles. What happens if η halves every 50 steps?"
        ),
        look_for=(
            "The η_k plot of run 2 is a staircase; each drop shrinks the cloud of points around "
            "the minimum, and its loss curve steps down with it. Run 1 keeps jittering at the "
            "same loss level."
        ),
        query=(
            "surface=bowl&runs=2&run1_lr=0.1&run1_noise_std=1&run2_optimizer=gd&run2_lr=0.1"
            "&run2_noise_std=1&run2_schedule=step"
        ),
    ),
    Lesson(
        key="exponential_decay",
        title="Exponential decay: gentle or too fast",
        concepts=("exponential_decay",),
        question=(
            "Noisy gradients again (σ = 1). Run 2 halves η every 50 steps, smoothly; run 3 starts "
            "higher, at η₀ = 0.3, but divides it by 100 every 10 steps. Which one ends closest to "
            "the minimum?"
        ),
        look_for=(
            "Run 2 settles far closer than run 1, which jitters at its noise floor. Run 3's "
            "rate is below 10⁻³ by step 15 (η_k plot, log scale): its path freezes about "
            "half-way to the minimum and its loss curve goes flat at over 40 times run 1's level."
        ),
        query=(
            "surface=bowl&runs=3&run1_lr=0.1&run1_noise_std=1&run2_optimizer=gd&run2_lr=0.1"
            "&run2_noise_std=1&run2_schedule=exponential&run3_optimizer=gd&run3_lr=0.3"
            "&run3_noise_std=1&run3_schedule=exponential&run3_sched_gamma=0.01"
            "&run3_sched_decay_steps=10"
        ),
    ),
    Lesson(
        key="polynomial_decay",
        title="Linear decay to zero",
        concepts=("polynomial_decay",),
        question=(
            "Noisy gradients (σ = 1). Run 2's rate falls linearly from 0.1 to 0 at step 250 "
            "(polynomial decay, power 1) and stays 0. What does its path do after step 250?"
        ),
        look_for=(
            "The η_k plot of run 2 is a ramp down to zero; its jitter around the minimum fades "
            "as the rate falls, and from step 250 the path stops dead. Run 1 jitters to the end."
        ),
        query=(
            "surface=bowl&runs=2&run1_lr=0.1&run1_noise_std=1&run2_optimizer=gd&run2_lr=0.1"
            "&run2_noise_std=1&run2_schedule=polynomial&run2_sched_decay_steps=250"
        ),
    ),
    Lesson(
        key="warmup",
        title="Warmup tames the first steps",
        concepts=("warmup", "adaptive"),
        question=(
            "RMSprop divides by √v, and v starts at 0: with ρ = 0.999 the first step is "
            "η/√(1 − ρ) ≈ 32η per coordinate. At η = 0.3, will the loss rise before it falls? "
            "And with η ramped up from 0 over 100 steps?"
        ),
        look_for=(
            "Run 1's loss curve jumps to about 11 times its start at step 1, then recovers and "
            "converges at step 82. Run 2 (warmup: the ramp in its η_k plot) falls at every "
            "step, never jumps, converges at step 111 and stays there: 29 steps slower, but safe."
        ),
        query=(
            "runs=2&run1_optimizer=rmsprop&run1_lr=0.3&run1_rho=0.999&run2_optimizer=rmsprop"
            "&run2_lr=0.3&run2_rho=0.999&run2_warmup_steps=100"
        ),
    ),
    Lesson(
        key="cyclical",
        title="Cyclical rates",
        concepts=("cyclical",),
        question=(
            "Run 2's rate bounces between η₀ = 0.02 and 12η₀ = 0.24 every 50 steps, so it "
            "spends 9 steps of each cycle above 2/λ_max = 0.2. Does that wreck it, or does it "
            "beat the constant η₀ of run 1?"
        ),
        look_for=(
            "The η_k plot of run 2 is a saw-tooth whose tips cross the dashed 2/λ_max line. "
            "Those 9-step stretches do no lasting harm: run 2 converges in under 100 steps while "
            "run 1 is still crawling at step 300 (status lines)."
        ),
        query=(
            "runs=2&run1_lr=0.02&run2_optimizer=gd&run2_lr=0.02&run2_schedule=triangular"
            "&run2_sched_max_factor=12"
        ),
    ),
    Lesson(
        key="reduce_on_plateau",
        title="Reduce on plateau",
        concepts=("plateau", "divergence"),
        question=(
            "Both runs start at η = 0.3, above the limit 2/λ_max = 0.2. Run 2 halves η whenever "
            "the loss has not improved for 3 steps (ReduceLROnPlateau). Which run survives?"
        ),
        look_for=(
            "Run 1 diverges. Run 2's loss rises for 4 steps, then its η_k plot drops once, to "
            "0.15, below the limit; the loss turns down and the status line says converged."
        ),
        query=(
            "runs=2&run1_lr=0.3&run2_optimizer=gd&run2_lr=0.3&run2_schedule=plateau"
            "&run2_sched_patience=3"
        ),
    ),
    Lesson(
        key="range_test",
        title="The LR range test",
        concepts=("range_test",),
        question=(
            "One run whose rate climbs every step, linearly from 0.005 to 0.5 over 200 steps "
            "(the first half-cycle of a triangular schedule, as in Smith's original test). "
            "At what rate will the loss stop falling?"
        ),
        look_for=(
            "While η_k is below the dashed 2/λ_max = 0.2 line of the η_k plot the loss falls, "
            "to the minimum by step 100. Past it the zig-zag grows: the loss turns up at η_k ≈ "
            "0.32 (step 127), the run is thrown out at step 152 and diverges at step 160. Pick "
            "η₀ a few times below the turn. The LR range test view (log η) has the same line."
        ),
        query=(
            "steps=200&run1_lr=0.005&run1_schedule=triangular&run1_sched_max_factor=100"
            "&run1_sched_step_size=200"
        ),
    ),
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


# The UI.


def _open(key: str) -> None:
    controls.apply_state(LESSONS[key].state)


def close_lesson() -> None:
    info = st.session_state.get(controls.LINK, controls.LinkInfo())
    st.session_state[controls.LINK] = replace(info, lesson=None)


def _badges(lesson: Lesson) -> str:
    return " ".join(f":blue-badge[{plain(CONCEPTS[c])}]" for c in lesson.concepts)


@functools.cache
def gallery_table() -> str:
    """Every lesson as a row of one markdown table: its title (a link to the lesson), its
    concepts and its question. One element, built once: the page reruns on every slider move."""
    rows = [
        f"| [{plain(lesson.title)}](?{lesson.link}) | {_badges(lesson)} "
        f"| {plain(lesson.question)} |"
        for lesson in LESSONS.values()
    ]
    return "\n".join(["| Lesson | Concepts | Predict, then run |", "| --- | --- | --- |", *rows])


def lesson_picker() -> None:
    """A picker and an open button: the lesson replaces this page's setup. (The table of every
    lesson, whose titles are links to each lesson, is `gallery_table`.)"""
    st.markdown("**Start with a lesson:** each one sets up the page and asks a question.")
    key = st.selectbox(
        "Lesson", list(LESSONS), format_func=lambda k: LESSONS[k].title, key="lesson_pick"
    )
    st.button("Open lesson", key="lesson_open", on_click=_open, args=(key,), type="primary")


def lesson_text(key: str | None) -> dict[str, object] | None:
    """The open lesson as plain text, for the live view to show beside the picture."""
    if key is None or key not in LESSONS:
        return None
    lesson = LESSONS[key]
    return {
        "title": lesson.title,
        "concepts": [CONCEPTS[c] for c in lesson.concepts],
        "question": lesson.question,
        "look_for": lesson.look_for,
    }


def lesson_card(key: str | None) -> None:
    """The open lesson: its title, its question and, folded, what to look for."""
    if key is None or key not in LESSONS:
        return
    lesson = LESSONS[key]
    with st.container(border=True):
        text, close = st.columns([8, 1], vertical_alignment="top")
        text.markdown(f"**Lesson: {plain(lesson.title)}** · {_badges(lesson)}")
        text.markdown(f"**Predict, then run.** {plain(lesson.question)}")
        close.button("Close", key="lesson_close", on_click=close_lesson, width="stretch")
        with st.expander("What to look for"):
            st.markdown(plain(lesson.look_for))
