"""Regression losses on seeded synthetic data: least squares and logistic regression in (w, b)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from common.params import ParamSpec
from surfaces.base import CriticalPoint, Samples, Surface
from surfaces.dataset import squared_error

Scalars = Mapping[str, jax.Array]
Data = tuple[jax.Array, jax.Array]

N_SAMPLES = 50


def _key(seed: jax.Array) -> jax.Array:
    return jax.random.key(jnp.round(jnp.asarray(seed)).astype(jnp.int32))


def linreg_data(params: Scalars) -> Data:
    """x ~ U(1, 5), y = x − 2 + ε/2 with ε ~ N(0, 1); x standardised when `standardise` = 1."""
    kx, ke = jax.random.split(_key(params["seed"]))
    x = jax.random.uniform(kx, (N_SAMPLES,), minval=1.0, maxval=5.0)
    y = x - 2 + 0.5 * jax.random.normal(ke, (N_SAMPLES,))
    x = jnp.where(params["standardise"] > 0.5, (x - x.mean()) / x.std(), x)
    return x, y


# x = ±1/4 and x = ±3/4 with the labels 0, 1, 0, 1: no threshold separates them either way round,
# so every seed's data is non-separable and the cross-entropy has a finite minimizer.
_ANCHOR_X = np.array([-0.75, -0.25, 0.25, 0.75])
_ANCHOR_Y = np.array([0.0, 1.0, 0.0, 1.0])


def _logreg_data(params: Scalars) -> Data:
    """Four fixed points, then x ~ U(−3, 3) with labels y ~ Bernoulli(σ(x − ½))."""
    n = N_SAMPLES - _ANCHOR_X.size
    kx, ky = jax.random.split(_key(params["seed"]))
    x = jax.random.uniform(kx, (n,), minval=-3.0, maxval=3.0)
    y = jax.random.bernoulli(ky, jax.nn.sigmoid(x - 0.5)).astype(x.dtype)
    return jnp.concatenate([_ANCHOR_X, x]), jnp.concatenate([_ANCHOR_Y, y])


DATA_SETS: dict[str, Callable[[Mapping[str, float]], Data]] = {  # surface key → its data
    "linreg": jax.jit(linreg_data),
    "logreg": jax.jit(_logreg_data),
}


def data_set(key: str, values: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """The data set (x, y) of regression surface `key` for its resolved parameter `values`."""
    x, y = DATA_SETS[key](values)
    return np.asarray(x), np.asarray(y)


def _linreg(w: jax.Array, params: Scalars) -> jax.Array:
    """(1/n) Σ (w xᵢ + b − yᵢ)² at the point (w, b)."""
    x, y = linreg_data(params)
    return jnp.mean((w[0] * x + w[1] - y) ** 2)


def _logreg(w: jax.Array, params: Scalars) -> jax.Array:
    """(1/n) Σ [log(1 + e^{zᵢ}) − yᵢ zᵢ] with zᵢ = w xᵢ + b, at the point (w, b)."""
    x, y = _logreg_data(params)
    z = w[0] * x + w[1]
    return jnp.mean(jnp.logaddexp(0.0, z) - y * z)


def _design(x: np.ndarray) -> np.ndarray:
    return np.column_stack([x, np.ones_like(x)])


def _linreg_points(values: Mapping[str, float]) -> tuple[CriticalPoint, ...]:
    """The least-squares solution, from the normal equations."""
    x, y = data_set("linreg", values)
    A = _design(x)
    beta = np.linalg.solve(A.T @ A, A.T @ y)
    value = np.mean((A @ beta - y) ** 2)
    return (CriticalPoint(float(beta[0]), float(beta[1]), float(value), "global"),)


def _cross_entropy(A: np.ndarray, y: np.ndarray, beta: np.ndarray) -> float:
    z = A @ beta
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def _logreg_points(values: Mapping[str, float]) -> tuple[CriticalPoint, ...]:
    """The maximum-likelihood fit, by Newton's method with step halving, to ‖step‖ < 1e−12."""
    x, y = data_set("logreg", values)
    A = _design(x)
    beta = np.zeros(2)
    for _ in range(100):
        p = 0.5 * (1 + np.tanh(0.5 * (A @ beta)))
        grad = A.T @ (p - y) / y.size
        hess = (A.T * (p * (1 - p))) @ A / y.size
        step = np.linalg.solve(hess, grad)
        loss, t = _cross_entropy(A, y, beta), 1.0
        while t > 1e-6 and _cross_entropy(A, y, beta - t * step) > loss + 1e-13:
            t /= 2
        beta = beta - t * step
        if np.linalg.norm(step) < 1e-12:
            break
    return (CriticalPoint(float(beta[0]), float(beta[1]), _cross_entropy(A, y, beta), "global"),)


def _seed(help: str) -> ParamSpec:
    return ParamSpec("seed", "data seed", 0.0, 0.0, 999.0, help, integer=True)


LINREG = Surface(
    key="linreg",
    name="Linear regression (MSE)",
    latex=(
        r"f(w, b) = \frac{1}{50}\sum_{i=1}^{50}\left(w\,x_i + b - y_i\right)^2, \quad "
        r"x_i \sim \mathcal{U}(1, 5), \quad y_i = x_i - 2 + \tfrac12\varepsilon_i, \quad "
        r"x_i \leftarrow \frac{x_i - \bar x}{s_x} \text{ if standardised}"
    ),
    fn=_linreg,
    box=(-2.0, 4.0, -5.0, 4.0),
    starts=((-1.5, 3.0),),
    critical=_linreg_points,
    samples=Samples(linreg_data, squared_error, N_SAMPLES),
    note=(
        "Raw features make a long ravine (condition number about 100): zig-zags and "
        "crawling; standardising x makes the bowl round and gradient descent fast."
    ),
    tags=frozenset({"regression", "quadratic", "convex", "ill-conditioned"}),
    params=(
        _seed("Seed of the 50 synthetic points (x, y)."),
        ParamSpec(
            "standardise",
            "standardise x",
            0.0,
            0.0,
            1.0,
            "1 rescales x to mean 0 and standard deviation 1: the Hessian becomes 2I.",
            integer=True,
        ),
    ),
    reference=(
        "Least squares: Legendre (1805), Nouvelles méthodes pour la détermination des "
        "orbites des comètes; Descent Lab synthetic data"
    ),
)


LOGREG = Surface(
    key="logreg",
    name="Logistic regression (cross-entropy)",
    latex=(
        r"f(w, b) = \frac{1}{50}\sum_{i=1}^{50}\left[\log\left(1 + e^{z_i}\right) - y_i z_i"
        r"\right], \quad z_i = w\,x_i + b, \quad y_i \sim \mathrm{Bernoulli}"
        r"\left(\sigma(x_i - \tfrac12)\right)"
    ),
    fn=_logreg,
    box=(-3.0, 5.0, -4.0, 4.0),
    starts=((-2.5, 3.0),),
    critical=_logreg_points,
    note=(
        "Convex but not quadratic: nearly linear far away, curved near the fit; the labels "
        "overlap, so the minimizer is finite."
    ),
    tags=frozenset({"regression", "convex"}),
    params=(_seed("Seed of the 46 random labelled points (4 more are fixed)."),),
    reference=(
        "Cox (1958), The regression analysis of binary sequences, Journal of the Royal "
        "Statistical Society B 20(2); Descent Lab synthetic data"
    ),
)
