"""Classic test functions of the optimisation literature, each with the paper or book that
introduced it."""

from __future__ import annotations

import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp

from common.params import ParamSpec
from surfaces.base import CriticalPoint, Surface
from surfaces.stationary import orbit, points_at, real_roots, separable

Scalars = Mapping[str, jax.Array]


def _booth(w: jax.Array, params: Scalars) -> jax.Array:
    """(x + 2y − 7)² + (2x + y − 5)²."""
    x, y = w
    return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2


def _matyas(w: jax.Array, params: Scalars) -> jax.Array:
    """0.26 (x² + y²) − 0.48 xy."""
    x, y = w
    return 0.26 * (x**2 + y**2) - 0.48 * x * y


def _rosenbrock(w: jax.Array, params: Scalars) -> jax.Array:
    """(1 − x)² + b (y − x²)²."""
    x, y = w
    return (1 - x) ** 2 + params["b"] * (y - x**2) ** 2


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
    low, top, high = real_roots([4.0, 0.0, -32.0, 5.0])
    return separable(_styblinski_tang_profile, (low, high), (top,))


def _rastrigin_profile(t: float) -> float:
    return t**2 - 10 * math.cos(2 * math.pi * t) + 10


def _rastrigin_points() -> tuple[CriticalPoint, ...]:
    """The origin, the eight nearest minima and the twelve saddles between them, from the roots
    of 2t + 20π sin 2πt next to the origin (Newton iterates in float64)."""
    t_min, t_max = 0.9949586376523348, 0.5025460365546747
    return separable(_rastrigin_profile, (-t_min, 0.0, t_min), (-t_max, t_max))


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


ROSENBROCK = Surface(
    key="rosenbrock",
    name="Rosenbrock",
    latex=r"f(x, y) = (1 - x)^2 + b\,(y - x^2)^2",
    fn=_rosenbrock,
    box=(-2.0, 2.0, -1.0, 3.0),
    starts=((-1.5, 2.0), (-1.2, 1.0)),
    critical=points_at("global", 0.0, (1.0, 1.0)),
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
    reference=(
        "Rosenbrock (1960), An automatic method for finding the greatest or least value "
        "of a function, The Computer Journal 3(3)"
    ),
)


HIMMELBLAU = Surface(
    key="himmelblau",
    name="Himmelblau",
    latex=r"f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
    fn=_himmelblau,
    box=(-5.0, 5.0, -5.0, 5.0),
    starts=((-0.3, -0.9), (0.0, 0.0)),
    critical=(
        *points_at(
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
    reference="Himmelblau (1972), Applied Nonlinear Programming, McGraw-Hill",
)


CAMEL = Surface(
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
        *orbit("global", -1.0316284534898774, 0.08984201310031806, -0.7126564030207396),
        *orbit("local", -0.2154638243837178, 1.7036067149699807, -0.7960835686726251),
        *orbit("local", 2.1042503103112598, 1.6071047529201974, 0.5686514548841314),
        CriticalPoint(0.0, 0.0, 0.0, "saddle"),
        *orbit("saddle", 0.5437186009781853, 1.1092053368047865, -0.7682680925095399),
        *orbit("saddle", 2.229357197530713, 1.6380679841897787, 0.22867406904439408),
        *orbit("saddle", 2.2294708180298595, 1.296070267167109, 0.6050843880386585),
    ),
    note="Two global and four local minima among steep walls: the start decides the basin.",
    tags=frozenset({"classic", "multimodal", "saddle"}),
    reference=(
        "Dixon & Szegő (1978), The global optimization problem: an introduction, in "
        "Towards Global Optimisation 2, North-Holland"
    ),
)


STYBLINSKI_TANG = Surface(
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
    reference=(
        "Styblinski & Tang (1990), Experiments in nonconvex optimization: stochastic "
        "approximation with function smoothing and simulated annealing, Neural Networks "
        "3(4)"
    ),
)


RASTRIGIN = Surface(
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
    reference="Rastrigin (1974), Systems of Extremal Control, Nauka, Moscow",
)


ACKLEY = Surface(
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
        *orbit("local", 2.5799275570298725, 0.9521665459501717, 0.0, square=True),
        *orbit("local", 3.5744518772576797, 0.9684776587077244, 0.9684776587077244, square=True),
        *orbit("saddle", 3.252469245113179, 0.6257806168564639, 0.0, square=True),
        *orbit("saddle", 4.558777135299987, 0.8747620388753441, 0.5774125352782147, square=True),
    ),
    note=(
        "A nearly flat, rippled outer region around a sharp central funnel (a kink at the "
        "minimum): ripples trap small steps, the kink makes a fixed η oscillate."
    ),
    tags=frozenset({"classic", "multimodal", "saddle", "nonsmooth"}),
    reference="Ackley (1987), A Connectionist Machine for Genetic Hillclimbing, Kluwer",
)


BEALE = Surface(
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
    reference=(
        "Beale (1958), On an iterative method for finding a local minimum of a function "
        "of more than one variable, Technical Report 25, Statistical Techniques "
        "Research Group, Princeton University"
    ),
)


BOOTH = Surface(
    key="booth",
    name="Booth",
    latex=r"f(x, y) = (x + 2y - 7)^2 + (2x + y - 5)^2",
    fn=_booth,
    box=(-10.0, 10.0, -10.0, 10.0),
    starts=((-8.0, -6.0),),
    critical=points_at("global", 0.0, (1.0, 3.0)),
    note="A tilted quadratic bowl with eigenvalues 2 and 18: stable for η < 1/9.",
    tags=frozenset({"classic", "quadratic", "convex"}),
    reference=(
        "Booth function, as catalogued by Jamil & Yang (2013), A literature survey of "
        "benchmark functions for global optimisation problems, IJMMNO 4(2)"
    ),
)


MATYAS = Surface(
    key="matyas",
    name="Matyas",
    latex=r"f(x, y) = 0.26\left(x^2 + y^2\right) - 0.48xy",
    fn=_matyas,
    box=(-10.0, 10.0, -10.0, 10.0),
    starts=((-8.0, 6.0),),
    critical=points_at("global", 0.0, (0.0, 0.0)),
    note=(
        "A flat diagonal trough (eigenvalues 0.04 and 1): quick to reach the trough, "
        "25 times slower along it."
    ),
    tags=frozenset({"classic", "quadratic", "convex", "ill-conditioned"}),
    reference=(
        "Matyas function, as catalogued by Jamil & Yang (2013), A literature survey of "
        "benchmark functions for global optimisation problems, IJMMNO 4(2)"
    ),
)


GOLDSTEIN_PRICE = Surface(
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
    reference=(
        "Goldstein & Price (1971), On descent from local minima, Mathematics of Computation 25(115)"
    ),
)
