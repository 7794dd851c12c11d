"""The lessons on gradients, data and regularisation (app/lessons/advanced.py: cliff, vanishing,
the (w, b) surface of linear regression, L2), checked in numbers against the engine (one check
per lesson; tests/test_lessons.py runs them with the other lessons' checks)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from app.lessons import LESSONS
from app.state import configs
from optimizers.curvature import hessian_eigenvalues
from optimizers.engine import RunConfig, plan
from surfaces import SURFACES, regression_data
from tests.lesson_tools import (
    in_text,
    lesson_runs,
    start,
)

APP = str(Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py")
PLOT_PX = 500  # the contour's longer side on screen, in pixels (equal x and y scales)


def check_cliff() -> None:
    (lr, free), (_, clipped) = lesson_runs("cliff")
    clip = LESSONS["cliff"].state.runs[1].modifiers["clip_norm"]
    in_text("cliff", "η = 3.2", "2/0.2 = 10", "about 200", "step 1", "η·C = 3.2", "(−2, 0)")
    assert lr == 3.2 and clip == 1 and lr * clip == 3.2
    # f = ((x + 2)² + y²)/10 + 20(1 + tanh 10x): curvature 0.2 on the terrace, and the edge's
    # slope d/dx 20 tanh 10x = 200 sech² 10x peaks at 200 on x = 0.
    for point in (LESSONS["cliff"].state.start, (-2.0, 0.0)):
        np.testing.assert_allclose(hessian_eigenvalues(SURFACES["cliff"], point), 0.2, rtol=1e-9)
    assert 150 <= free.grad_norm[1] <= 250  # one gradient of about 200, at step 1 …
    assert free.status.step == 2  # … flings it off the map
    assert np.linalg.norm(clipped.update, axis=1).max() <= lr * clip * (1 + 1e-12)
    np.testing.assert_allclose(clipped.positions[-1], [-2.0, 0.0], atol=1e-6)


def check_vanishing() -> None:
    (gd_lr, gd), (adam_lr, adam) = lesson_runs("vanishing")
    r = np.linalg.norm(start("vanishing"))
    in_text("vanishing", "|∇f| ≈ 4·10⁻⁴", "η = 1", "500 steps", "0.43 of the 4.3", "3·10⁻³")
    in_text("vanishing", "above 0.999", "η = 0.1", "η√2 ≈ 0.14 per step")
    assert gd_lr == 1 and adam_lr == 0.1 and LESSONS["vanishing"].state.steps == 500
    # f = 1 − e^{−r²/2}: |∇f| = r e^{−r²/2}.
    assert gd.grad_norm[0] == pytest.approx(r * math.exp(-(r**2) / 2), rel=1e-10)
    assert round(gd.grad_norm[0], 4) == 4e-4 and round(r, 1) == 4.3
    assert round(np.linalg.norm(gd.positions[-1] - gd.positions[0]), 2) == 0.43  # barely moves
    assert gd.grad_norm.max() < 3e-3 and gd.loss.min() > 0.999
    pace = np.linalg.norm(np.diff(adam.positions[:21], axis=0), axis=1)
    np.testing.assert_allclose(pace, adam_lr * math.sqrt(2), rtol=0.12)  # a steady η√2
    assert adam.status.nearest.kind == "global"


def regression(key: str) -> tuple[np.ndarray, np.ndarray]:
    """The Hessian 2AᵀA/n of the mean squared error and the least-squares fit (w, b)."""
    x, y = regression_data("linreg", LESSONS[key].state.surface_params)
    A = np.column_stack([x, np.ones_like(x)])
    return 2 * A.T @ A / len(x), np.linalg.lstsq(A, y, rcond=None)[0]


def pixels(config: RunConfig, distance: float) -> float:
    """`distance` on screen: the contour has equal scales, its longer box side PLOT_PX long."""
    x0, x1, y0, y1 = plan(config).surface.box
    return PLOT_PX * distance / max(x1 - x0, y1 - y0)


def check_linreg_ravine() -> None:
    ((lr, fit),) = lesson_runs("linreg_ravine")
    H, best = regression("linreg_ravine")
    values, vectors = np.linalg.eigh(H)
    in_text("linreg_ravine", "50 points", "300 steps", "about 130", "η = 0.04 ≈ 1/λ_max", "0.082")
    assert 115 <= values[1] / values[0] <= 145  # condition number about 130
    assert round(1 / values[1], 2) == 0.04 and round(2 / values[1], 3) == 0.082
    assert lr == 0.04 and len(regression_data("linreg", {})[0]) == 50
    # Gradient descent on a quadratic: w_k − w* = (I − ηH)^k (w₀ − w*).
    steps = LESSONS["linreg_ravine"].state.steps
    error = fit.positions - best
    expected = np.linalg.matrix_power(np.eye(2) - lr * H, steps) @ (start("linreg_ravine") - best)
    np.testing.assert_allclose(error[-1], expected, rtol=1e-6)
    across = error @ vectors[:, 1]
    assert abs(across[5]) < 1e-3 * abs(across[0])  # into the ravine within a few steps
    assert np.linalg.norm(error[-1]) > 0.01  # then crawls, not there yet
    assert abs(error[-1] @ vectors[:, 0]) > 0.999 * np.linalg.norm(error[-1])  # along it


def check_linreg_standardised() -> None:
    (lr_one, one), (lr_slow, slow) = lesson_runs("linreg_standardised")
    H, best = regression("linreg_standardised")
    in_text("linreg_standardised", "exactly 2I", "η = 1/2", "η = 0.1", "20 %", "70 steps")
    np.testing.assert_allclose(H, 2 * np.eye(2), atol=1e-12)
    assert lr_one == 1 / 2  # ηH = I
    np.testing.assert_allclose(one.positions[1], best, atol=1e-12)
    assert one.status.step == 1
    assert 1 - 2 * lr_slow == pytest.approx(0.8)  # the error shrinks by 20 % per step
    k = np.arange(20)[:, None]
    expected = best + (1 - 2 * lr_slow) ** k * (start("linreg_standardised") - best)
    np.testing.assert_allclose(slow.positions[:20], expected, atol=1e-10)
    assert slow.status.step == 70


def check_l2() -> None:
    (_, plain), (_, ridge) = lesson_runs("l2")
    penalty = LESSONS["l2"].state.runs[1].modifiers["l2"]
    H, best = regression("l2")
    values, vectors = np.linalg.eigh(H)
    shifted = np.linalg.solve(H + penalty * np.eye(2), H @ best)  # (H + λ₂I)⁻¹Hw*
    in_text("l2", "(0.96, −1.73)", "λ₂ = 1", "(0.50, −0.17)", "1.6 away", "0.19", "6-fold")
    in_text("l2", "curvature 24", "4 %")
    assert penalty == 1
    np.testing.assert_allclose(plain.positions[-1], best, atol=1e-6)
    np.testing.assert_allclose(ridge.positions[-1], shifted, atol=1e-6)
    np.testing.assert_array_equal(np.round(best, 2), [0.96, -1.73])
    np.testing.assert_array_equal(np.round(shifted, 2), [0.50, -0.17])
    moved = best - shifted
    assert round(np.linalg.norm(moved), 1) == 1.6
    (plain_config, _) = configs(LESSONS["l2"].state)
    assert pixels(plain_config, np.linalg.norm(moved)) >= 60  # clearly apart on screen
    # Along each eigenvector the penalty keeps λ/(λ + λ₂) of w*.
    assert round(values[0], 2) == 0.19 and round(values[1]) == 24
    kept = (vectors.T @ shifted) / (vectors.T @ best)
    np.testing.assert_allclose(kept, values / (values + penalty), rtol=1e-9)
    assert round(1 / kept[0]) == 6 and round(1 - kept[1], 2) == 0.04
    assert abs(moved @ vectors[:, 0]) > 0.99 * np.linalg.norm(moved)  # along the ravine
