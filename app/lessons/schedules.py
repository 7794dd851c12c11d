"""Lessons on learning-rate schedules: step, exponential and polynomial decay, warmup, cyclical
rates, ReduceLROnPlateau and the LR range test."""

from __future__ import annotations

from app.lessons.lesson import Lesson

SCHEDULES: tuple[Lesson, ...] = (
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
)
