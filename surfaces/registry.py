"""The loss surfaces, one `Surface` each, in `SURFACES` (most didactic first).

Every `fn(w, params)` is a pure jnp function of w = (x, y), traceable in its parameters. The known
stationary points are closed forms, roots of a 1-D profile, or float64 Newton iterates stored to
full precision; local maxima are left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from surfaces.base import CriticalPoint, PointKind, Samples, Surface
from surfaces.dataset import squared_error
from surfaces.params import ParamSpec, Registry

Scalars = Mapping[str, jax.Array]
Data = tuple[jax.Array, jax.Array]

TAGS = frozenset(
    {
        "quadratic",
        "convex",
        "ill-conditioned",
        "valley",
        "saddle",
        "unbounded",
        "multimodal",
        "plateau",
        "cliff",
        "nonsmooth",
        "regression",
        "classic",
    }
)

N_SAMPLES = 50


# Stationary-point helpers.


def _points(kind: PointKind, value: float, *xy: tuple[float, float]) -> tuple[CriticalPoint, ...]:
    """Points of one kind sharing one value."""
    return tuple(CriticalPoint(x, y, value, kind) for x, y in xy)


def _orbit(
    kind: PointKind, value: float, x: float, y: float, *, square: bool = False
) -> tuple[CriticalPoint, ...]:
    """(x, y) and its images: ±(x, y) under f(−w) = f(w), or all of (±x, ±y), (±y, ±x) when
    `square` (f symmetric under the square's reflections)."""
    if square:
        images = [(sx * a, sy * b) for a, b in ((x, y), (y, x)) for sx in (1, -1) for sy in (1, -1)]
    else:
        images = [(x, y), (-x, -y)]
    unique = dict.fromkeys((a + 0.0, b + 0.0) for a, b in images)
    return _points(kind, value, *unique)


def _separable(
    profile: Callable[[float], float], minima: Sequence[float], maxima: Sequence[float]
) -> tuple[CriticalPoint, ...]:
    """Stationary points of f(x, y) = g(x) + g(y) from those of g: minimum × minimum is a minimum
    (the lowest ones global), minimum × maximum a saddle; maximum × maximum is left out."""
    labelled = [(t, 1) for t in minima] + [(t, 0) for t in maxima]
    pairs = [(a, b, profile(a) + profile(b), m + n) for a, m in labelled for b, n in labelled]
    lowest = min(value for *_, value, n_min in pairs if n_min == 2)
    points = []
    for a, b, value, n_min in pairs:
        if n_min == 1:
            points.append(CriticalPoint(a, b, value, "saddle"))
        elif n_min == 2:
            points.append(CriticalPoint(a, b, value, "global" if value <= lowest else "local"))
    return tuple(points)


def _real_roots(coefficients: Sequence[float]) -> list[float]:
    """Real roots of a polynomial (highest power first), ascending, polished by Newton steps."""
    derivative = np.polyder(coefficients)
    roots = []
    for root in np.roots(coefficients):
        if abs(root.imag) < 1e-9:
            r = root.real
            for _ in range(3):
                r -= np.polyval(coefficients, r) / np.polyval(derivative, r)
            roots.append(float(r))
    return sorted(roots)


# Quadratics.


def _bowl(w: jax.Array, params: Scalars) -> jax.Array:
    """½ (x² + y²)."""
    return 0.5 * jnp.sum(w**2)


def _quadratic(w: jax.Array, params: Scalars) -> jax.Array:
    """½ (u² + κ v²) with (u, v) = w rotated by −θ: eigenvalues 1 along (cos θ, sin θ), κ across."""
    theta = jnp.deg2rad(params["angle"])
    c, s = jnp.cos(theta), jnp.sin(theta)
    x, y = w
    u = c * x + s * y
    v = c * y - s * x
    return 0.5 * (u**2 + params["kappa"] * v**2)


def _booth(w: jax.Array, params: Scalars) -> jax.Array:
    """(x + 2y − 7)² + (2x + y − 5)²."""
    x, y = w
    return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2


def _matyas(w: jax.Array, params: Scalars) -> jax.Array:
    """0.26 (x² + y²) − 0.48 xy."""
    x, y = w
    return 0.26 * (x**2 + y**2) - 0.48 * x * y


# Valleys, saddles and pathologies.


def _rosenbrock(w: jax.Array, params: Scalars) -> jax.Array:
    """(1 − x)² + b (y − x²)²."""
    x, y = w
    return (1 - x) ** 2 + params["b"] * (y - x**2) ** 2


def _saddle(w: jax.Array, params: Scalars) -> jax.Array:
    """x² − y²."""
    x, y = w
    return x**2 - y**2


def _monkey_saddle(w: jax.Array, params: Scalars) -> jax.Array:
    """x³ − 3xy²."""
    x, y = w
    return x**3 - 3 * x * y**2


DOUBLE_WELL_TILT = 0.5


def _double_well_profile(x: float) -> float:
    return (x**2 - 1) ** 2 + DOUBLE_WELL_TILT * x


def _double_well(w: jax.Array, params: Scalars) -> jax.Array:
    """(x² − 1)² + x/2 + y²."""
    x, y = w
    return (x**2 - 1) ** 2 + DOUBLE_WELL_TILT * x + y**2


def _double_well_points() -> tuple[CriticalPoint, ...]:
    """Roots of 4x³ − 4x + ½ on y = 0: the deep well, the barrier (a saddle), the shallow well."""
    deep, barrier, shallow = _real_roots([4.0, 0.0, -4.0, DOUBLE_WELL_TILT])
    kinds: tuple[PointKind, ...] = ("global", "saddle", "local")
    return tuple(
        CriticalPoint(x, 0.0, _double_well_profile(x), kind)
        for x, kind in zip((deep, barrier, shallow), kinds, strict=True)
    )


def _plateau(w: jax.Array, params: Scalars) -> jax.Array:
    """1 − exp(−(x² + y²)/2): a unit Gaussian well in a plateau where |∇f| = r e^{−r²/2}."""
    return -jnp.expm1(-0.5 * jnp.sum(w**2))


def _cliff(w: jax.Array, params: Scalars) -> jax.Array:
    """[(x + 2)² + y²]/10 + 20 (1 + tanh 10x): a terrace (slope ≈ 1) above a wall (slope ≤ 200).

    The wall's tail moves the minimizer off (−2, 0) by under 1e−13.
    """
    x, y = w
    return 0.1 * ((x + 2) ** 2 + y**2) + 20 * (1 + jnp.tanh(10 * x))


# Regression losses on seeded synthetic data.


def _key(seed: jax.Array) -> jax.Array:
    return jax.random.key(jnp.round(jnp.asarray(seed)).astype(jnp.int32))


def _linreg_data(params: Scalars) -> Data:
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


_DATA: dict[str, Callable[[Mapping[str, float]], Data]] = {
    "linreg": jax.jit(_linreg_data),
    "logreg": jax.jit(_logreg_data),
}


def _linreg(w: jax.Array, params: Scalars) -> jax.Array:
    """(1/n) Σ (w xᵢ + b − yᵢ)² at the point (w, b)."""
    x, y = _linreg_data(params)
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
    x, y = regression_data("linreg", values)
    A = _design(x)
    beta = np.linalg.solve(A.T @ A, A.T @ y)
    value = np.mean((A @ beta - y) ** 2)
    return (CriticalPoint(float(beta[0]), float(beta[1]), float(value), "global"),)


def _cross_entropy(A: np.ndarray, y: np.ndarray, beta: np.ndarray) -> float:
    z = A @ beta
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def _logreg_points(values: Mapping[str, float]) -> tuple[CriticalPoint, ...]:
    """The maximum-likelihood fit, by Newton's method with step halving, to ‖step‖ < 1e−12."""
    x, y = regression_data("logreg", values)
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


# Classic test functions.


def _himmelblau(w: jax.Array, params: Scalars) -> jax.Array:
    """(x² + y − 11)² + (x + y² − 7)²."""
    x, y = w
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def _camel(w: jax.Array, params: Scalars) -> jax.Array:
    """(4 − 2.1x² + x⁴/3) x² + xy + (−4 + 4y²) y²."""
    x, y = w
    return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2


def _styblinski_tang_profile(t: float) -> float:
    return 0.5 * (t**4 - 16 * t**2 + 5 * t)


def _styblinski_tang(w: jax.Array, params: Scalars) -> jax.Array:
    """½ Σ (wᵢ⁴ − 16wᵢ² + 5wᵢ)."""
    return 0.5 * jnp.sum(w**4 - 16 * w**2 + 5 * w)


def _styblinski_tang_points() -> tuple[CriticalPoint, ...]:
    """Products of the roots of 4t³ − 32t + 5 (minimum, maximum, minimum)."""
    low, top, high = _real_roots([4.0, 0.0, -32.0, 5.0])
    return _separable(_styblinski_tang_profile, (low, high), (top,))


def _rastrigin_profile(t: float) -> float:
    return t**2 - 10 * math.cos(2 * math.pi * t) + 10


def _rastrigin_points() -> tuple[CriticalPoint, ...]:
    """The origin, the eight nearest minima and the twelve saddles between them, from the roots
    of 2t + 20π sin 2πt next to the origin (Newton iterates in float64)."""
    t_min, t_max = 0.9949586376523348, 0.5025460365546747
    return _separable(_rastrigin_profile, (-t_min, 0.0, t_min), (-t_max, t_max))


def _rastrigin(w: jax.Array, params: Scalars) -> jax.Array:
    """20 + Σ (wᵢ² − 10 cos 2πwᵢ)."""
    return 20 + jnp.sum(w**2 - 10 * jnp.cos(2 * jnp.pi * w))


def _ackley(w: jax.Array, params: Scalars) -> jax.Array:
    """−20 exp(−0.2 √(½(x² + y²))) − exp(½(cos 2πx + cos 2πy)) + e + 20.

    The root is taken where r² > 0 only, so ∇f(0) = 0 (a subgradient of the cone) instead of NaN.
    """
    r2 = 0.5 * jnp.sum(w**2)
    positive = r2 > 0
    r = jnp.where(positive, jnp.sqrt(jnp.where(positive, r2, 1.0)), 0.0)
    ripple = jnp.exp(0.5 * jnp.sum(jnp.cos(2 * jnp.pi * w)))
    return -20 * jnp.exp(-0.2 * r) - ripple + jnp.e + 20


def _beale(w: jax.Array, params: Scalars) -> jax.Array:
    """(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²."""
    x, y = w
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _goldstein_price(w: jax.Array, params: Scalars) -> jax.Array:
    """[1 + (x + y + 1)² (19 − 14x + 3x² − 14y + 6xy + 3y²)]
    · [30 + (2x − 3y)² (18 − 32x + 12x² + 48y − 36xy + 27y²)]."""
    x, y = w
    a = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)
    b = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
    return a * b


def _seed(help: str) -> ParamSpec:
    return ParamSpec("seed", "data seed", 0.0, 0.0, 999.0, help, integer=True)


SURFACES: Registry[Surface] = Registry(
    "surface",
    Surface(
        key="bowl",
        name="Isotropic bowl",
        latex=r"f(x, y) = \tfrac12\left(x^2 + y^2\right)",
        fn=_bowl,
        box=(-3.0, 3.0, -3.0, 3.0),
        starts=((-2.5, 2.0),),
        critical=_points("global", 0.0, (0.0, 0.0)),
        note="Hessian I: gradient descent lands in one step at η = 1 and diverges for η > 2.",
        tags=frozenset({"quadratic", "convex"}),
    ),
    Surface(
        key="quadratic",
        name="Ill-conditioned quadratic",
        latex=(
            r"f(x, y) = \tfrac12\left(u^2 + \kappa v^2\right), \quad "
            r"u = x\cos\theta + y\sin\theta, \quad v = y\cos\theta - x\sin\theta"
        ),
        fn=_quadratic,
        box=(-3.0, 3.0, -3.0, 3.0),
        starts=((-2.5, 2.0),),
        critical=_points("global", 0.0, (0.0, 0.0)),
        note=(
            "Eigenvalues 1 and κ: gradient descent needs η < 2/κ, then crawls along the flat "
            "axis; momentum and Adam help (Adam most when θ is 0° or 90°)."
        ),
        tags=frozenset({"quadratic", "convex", "ill-conditioned"}),
        params=(
            ParamSpec(
                "kappa",
                "κ (condition number)",
                10.0,
                1.0,
                1000.0,
                "Ratio of the two curvatures; the steep one is κ, so η must stay below 2/κ.",
                log=True,
            ),
            ParamSpec(
                "angle",
                "θ (degrees)",
                30.0,
                0.0,
                180.0,
                "Rotation of the shallow axis from the x-axis; per-coordinate methods like "
                "Adam lose their edge when the axes are rotated.",
            ),
        ),
    ),
    Surface(
        key="rosenbrock",
        name="Rosenbrock",
        latex=r"f(x, y) = (1 - x)^2 + b\,(y - x^2)^2",
        fn=_rosenbrock,
        box=(-2.0, 2.0, -1.0, 3.0),
        starts=((-1.5, 2.0), (-1.2, 1.0)),
        critical=_points("global", 0.0, (1.0, 1.0)),
        note=(
            "A curved, narrow valley: finding it is easy, following it to (1, 1) is slow; "
            "momentum and Newton shine."
        ),
        tags=frozenset({"classic", "valley", "ill-conditioned"}),
        params=(
            ParamSpec(
                "b",
                "b (valley steepness)",
                100.0,
                1.0,
                1000.0,
                "Weight of the valley walls: larger b, narrower valley and smaller stable η.",
                log=True,
            ),
        ),
    ),
    Surface(
        key="saddle",
        name="Saddle",
        latex=r"f(x, y) = x^2 - y^2",
        fn=_saddle,
        box=(-2.0, 2.0, -2.0, 2.0),
        starts=((-1.8, 0.02),),
        critical=_points("saddle", 0.0, (0.0, 0.0)),
        note=(
            "Unbounded below, no minimum: a run slows near the saddle, then escapes along y "
            "at a speed set by its tiny offset."
        ),
        tags=frozenset({"quadratic", "saddle", "unbounded"}),
    ),
    Surface(
        key="monkey_saddle",
        name="Monkey saddle",
        latex=r"f(x, y) = x^3 - 3xy^2",
        fn=_monkey_saddle,
        box=(-2.0, 2.0, -2.0, 2.0),
        starts=((1.8, 0.05),),
        critical=_points("saddle", 0.0, (0.0, 0.0)),
        note=(
            "A flat saddle (zero Hessian) with three downhill valleys, unbounded below: "
            "the gradient fades quadratically, so runs stall before sliding off."
        ),
        tags=frozenset({"saddle", "unbounded"}),
    ),
    Surface(
        key="double_well",
        name="Tilted double well",
        latex=r"f(x, y) = (x^2 - 1)^2 + \tfrac12 x + y^2",
        fn=_double_well,
        box=(-2.0, 2.0, -1.5, 1.5),
        starts=((1.8, 1.2), (-1.8, -1.2)),
        critical=_double_well_points(),
        note=(
            "Local vs global: from the right, gradient descent settles in the shallow well; "
            "momentum or a large η can carry a run over the barrier."
        ),
        tags=frozenset({"multimodal", "saddle"}),
    ),
    Surface(
        key="plateau",
        name="Plateau",
        latex=r"f(x, y) = 1 - e^{-(x^2 + y^2)/2}",
        fn=_plateau,
        box=(-6.0, 6.0, -6.0, 6.0),
        starts=((3.5, 2.5),),
        critical=_points("global", 0.0, (0.0, 0.0)),
        note=(
            "Vanishing gradients: on the plateau |∇f| ≈ 4·10⁻⁴ at the start and far less "
            "beyond, so gradient descent stalls; Adam rescales and walks in."
        ),
        tags=frozenset({"plateau"}),
    ),
    Surface(
        key="cliff",
        name="Cliff",
        latex=r"f(x, y) = \tfrac{1}{10}\left[(x + 2)^2 + y^2\right] + 20\,(1 + \tanh 10x)",
        fn=_cliff,
        box=(-4.0, 4.0, -3.0, 3.0),
        starts=((3.5, 2.0),),
        critical=_points("global", 0.0, (-2.0, 0.0)),
        note=(
            "Exploding gradients: the slope jumps from about 1 to 200 at the edge and flings an "
            "unclipped run far away; gradient clipping walks it down."
        ),
        tags=frozenset({"cliff"}),
    ),
    Surface(
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
        samples=Samples(_linreg_data, squared_error, N_SAMPLES),
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
    ),
    Surface(
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
    ),
    Surface(
        key="himmelblau",
        name="Himmelblau",
        latex=r"f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        fn=_himmelblau,
        box=(-5.0, 5.0, -5.0, 5.0),
        starts=((-0.3, -0.9), (0.0, 0.0)),
        critical=(
            *_points(
                "global",
                0.0,
                (3.0, 2.0),
                (-2.805118086952745, 3.131312518250573),
                (-3.779310253377747, -3.2831859912861696),
                (3.5844283403304917, -1.8481265269644036),
            ),
            CriticalPoint(3.3851541836070207, 0.0738518798377493, 13.31192627040559, "saddle"),
            CriticalPoint(0.08667750455539634, 2.8842547011747763, 67.71915008752613, "saddle"),
            CriticalPoint(-3.0730257507643897, -0.08135304428796751, 104.01516291755811, "saddle"),
            CriticalPoint(-0.12796134673068005, -1.9537149802445766, 178.33723920192745, "saddle"),
        ),
        note=(
            "Four equally good minima: which one a run finds depends on its start (try starting "
            "near the maximum at (−0.27, −0.92))."
        ),
        tags=frozenset({"classic", "multimodal", "saddle"}),
    ),
    Surface(
        key="camel",
        name="Six-hump camel",
        latex=(
            r"f(x, y) = \left(4 - 2.1x^2 + \tfrac13 x^4\right)x^2 + xy"
            r" + \left(4y^2 - 4\right)y^2"
        ),
        fn=_camel,
        box=(-3.0, 3.0, -2.0, 2.0),
        starts=((-2.0, 1.5), (0.6, 1.2)),
        critical=(
            *_orbit("global", -1.0316284534898774, 0.08984201310031806, -0.7126564030207396),
            *_orbit("local", -0.2154638243837178, 1.7036067149699807, -0.7960835686726251),
            *_orbit("local", 2.1042503103112598, 1.6071047529201974, 0.5686514548841314),
            CriticalPoint(0.0, 0.0, 0.0, "saddle"),
            *_orbit("saddle", 0.5437186009781853, 1.1092053368047865, -0.7682680925095399),
            *_orbit("saddle", 2.229357197530713, 1.6380679841897787, 0.22867406904439408),
            *_orbit("saddle", 2.2294708180298595, 1.296070267167109, 0.6050843880386585),
        ),
        note="Two global and four local minima among steep walls: the start decides the basin.",
        tags=frozenset({"classic", "multimodal", "saddle"}),
    ),
    Surface(
        key="styblinski_tang",
        name="Styblinski–Tang",
        latex=r"f(x, y) = \tfrac12\left(x^4 - 16x^2 + 5x + y^4 - 16y^2 + 5y\right)",
        fn=_styblinski_tang,
        box=(-5.0, 5.0, -5.0, 5.0),
        starts=((4.0, 4.5),),
        critical=_styblinski_tang_points(),
        note=(
            "Four wells of different depths: descent from the upper right ends in the shallowest "
            "one; the deepest lies at (−2.90, −2.90)."
        ),
        tags=frozenset({"classic", "multimodal", "saddle"}),
    ),
    Surface(
        key="rastrigin",
        name="Rastrigin",
        latex=r"f(x, y) = 20 + x^2 - 10\cos 2\pi x + y^2 - 10\cos 2\pi y",
        fn=_rastrigin,
        box=(-5.12, 5.12, -5.12, 5.12),
        starts=((3.2, 2.6),),
        critical=_rastrigin_points(),
        note=(
            "A bowl covered in an egg-crate of local minima (the nearest ones shown): small "
            "steps get trapped in the first dimple."
        ),
        tags=frozenset({"classic", "multimodal", "saddle"}),
    ),
    Surface(
        key="ackley",
        name="Ackley",
        latex=(
            r"f(x, y) = -20\exp\left(-0.2\sqrt{\tfrac12\left(x^2 + y^2\right)}\right)"
            r" - \exp\left(\tfrac12\left(\cos 2\pi x + \cos 2\pi y\right)\right) + e + 20"
        ),
        fn=_ackley,
        box=(-5.0, 5.0, -5.0, 5.0),
        starts=((3.3, -2.7),),
        critical=(
            CriticalPoint(0.0, 0.0, 0.0, "global"),
            *_orbit("local", 2.5799275570298725, 0.9521665459501717, 0.0, square=True),
            *_orbit(
                "local", 3.5744518772576797, 0.9684776587077244, 0.9684776587077244, square=True
            ),
            *_orbit("saddle", 3.252469245113179, 0.6257806168564639, 0.0, square=True),
            *_orbit(
                "saddle", 4.558777135299987, 0.8747620388753441, 0.5774125352782147, square=True
            ),
        ),
        note=(
            "A nearly flat, rippled outer region around a sharp central funnel (a kink at the "
            "minimum): ripples trap small steps, the kink makes a fixed η oscillate."
        ),
        tags=frozenset({"classic", "multimodal", "saddle", "nonsmooth"}),
    ),
    Surface(
        key="beale",
        name="Beale",
        latex=r"f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        fn=_beale,
        box=(-4.5, 4.5, -4.5, 4.5),
        starts=((0.0, -1.5), (-3.0, 1.5)),
        critical=(
            CriticalPoint(3.0, 0.5, 0.0, "global"),
            CriticalPoint(0.0, 1.0, 14.203125, "saddle"),
            CriticalPoint(0.10053793732415833, -2.6445135850231254, 9.86451228475556, "saddle"),
        ),
        note=(
            "Flat basins cut by sharp ridges, with gradient norms from under 1 to 10⁵: a fixed η "
            "either crawls or blows up."
        ),
        tags=frozenset({"classic", "saddle", "valley"}),
    ),
    Surface(
        key="booth",
        name="Booth",
        latex=r"f(x, y) = (x + 2y - 7)^2 + (2x + y - 5)^2",
        fn=_booth,
        box=(-10.0, 10.0, -10.0, 10.0),
        starts=((-8.0, -6.0),),
        critical=_points("global", 0.0, (1.0, 3.0)),
        note="A tilted quadratic bowl with eigenvalues 2 and 18: stable for η < 1/9.",
        tags=frozenset({"classic", "quadratic", "convex"}),
    ),
    Surface(
        key="matyas",
        name="Matyas",
        latex=r"f(x, y) = 0.26\left(x^2 + y^2\right) - 0.48xy",
        fn=_matyas,
        box=(-10.0, 10.0, -10.0, 10.0),
        starts=((-8.0, 6.0),),
        critical=_points("global", 0.0, (0.0, 0.0)),
        note=(
            "A flat diagonal trough (eigenvalues 0.04 and 1): quick to reach the trough, "
            "25 times slower along it."
        ),
        tags=frozenset({"classic", "quadratic", "convex", "ill-conditioned"}),
    ),
    Surface(
        key="goldstein_price",
        name="Goldstein–Price",
        latex=(
            r"f(x, y) = \left[1 + (x + y + 1)^2\left(19 - 14x + 3x^2 - 14y + 6xy + 3y^2\right)"
            r"\right] \left[30 + (2x - 3y)^2\left(18 - 32x + 12x^2 + 48y - 36xy + 27y^2\right)"
            r"\right]"
        ),
        fn=_goldstein_price,
        box=(-2.0, 2.0, -2.0, 2.0),
        starts=((0.8, -0.8), (-1.6, 0.0)),
        critical=(
            CriticalPoint(0.0, -1.0, 3.0, "global"),
            CriticalPoint(-0.6, -0.4, 30.0, "local"),
            CriticalPoint(1.8, 0.2, 84.0, "local"),
            CriticalPoint(1.2, 0.8, 840.0, "local"),
            CriticalPoint(-0.4, -0.6, 35.0, "saddle"),
            CriticalPoint(1.2, -0.2, 99.0, "saddle"),
            CriticalPoint(1.4, 0.6, 980.0, "saddle"),
            CriticalPoint(0.6, 0.4, 990.0, "saddle"),
        ),
        note=(
            "Values from 3 to 10⁶: gradients vary so much that no fixed η suits the whole "
            "surface; adaptive methods cope."
        ),
        tags=frozenset({"classic", "multimodal", "saddle"}),
    ),
)


def get_surface(key: str) -> Surface:
    """The surface registered under `key`; ValueError listing the valid keys otherwise."""
    return SURFACES.lookup(key)


def regression_data(
    key: str, params: Mapping[str, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The data set (x, y) behind regression surface `key` for these parameter values, as used by
    its loss (x standardised when asked)."""
    surface = get_surface(key)
    if key not in _DATA:
        raise ValueError(
            f"surface {key!r} has no data set; regression surfaces: {', '.join(_DATA)}"
        )
    x, y = _DATA[key](surface.resolve(params))
    return np.asarray(x), np.asarray(y)
