"""The learning-rate sweep: K rates η₁ < … < η_K of one configuration, run at once."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from optimizers.analysis.inputs import Cancel, check_work, checked_rates
from optimizers.analysis.thresholds import Threshold, threshold
from optimizers.engine import RunConfig, plan, summarize


class Sweep(NamedTuple):
    """`lr_sweep`: one entry per rate (ascending). Steps are −1 where that did not happen.

    `boundary` is the smallest rate that diverged (None if none did).
    """

    lrs: np.ndarray
    final_loss: np.ndarray
    best_loss: np.ndarray
    converged_step: np.ndarray
    diverged_step: np.ndarray
    threshold: Threshold | None
    boundary: float | None


def lr_sweep(config: RunConfig, lrs: object, cancelled: Cancel | None = None) -> Sweep:
    """Run `config` at every rate in `lrs` at once.

    Args:
        config: the run; its own rate is replaced by each of `lrs`.
        lrs: strictly increasing positive rates, at least two (see `log_rates`).
        cancelled: asked between chunks whether to stop (see `summarize`).

    Returns:
        A `Sweep`: final and best loss and event steps per rate, the rule's `threshold` and the
        smallest rate that diverged.

    Raises:
        ValueError: for an invalid configuration or rates, or a request over the caps.
        CancelledError: when `cancelled()` said so.

    GD on the bowl ½‖w‖² diverges for η > 2:

    >>> from optimizers.analysis.inputs import log_rates
    >>> lr_sweep(RunConfig("bowl", "gd", steps=20), log_rates(0.5, 4.0, 4)).boundary
    4.0
    """
    rates = checked_rates(lrs)
    check_work(len(rates), plan(config).steps)
    summary = summarize(config, {"lr": rates}, cancelled)
    diverged = summary.diverged_step >= 0
    boundary = float(rates[diverged][0]) if diverged.any() else None
    return Sweep(
        rates,
        summary.final_loss,
        summary.best_loss,
        summary.converged_step,
        summary.diverged_step,
        threshold(config),
        boundary,
    )
