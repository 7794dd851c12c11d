"""Teaching surfaces: bowls, saddles, a double well, a plateau and a cliff, each built to show
one behaviour of a learning rate (most didactic first in the registry)."""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp

from common.params import ParamSpec
from surfaces.base import CriticalPoint, PointKind, Surface
from surfaces.stationary import points_at, real_roots

Scalars = Mapping[str, jax.Array]


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
    deep, barrier, shallow = real_roots([4.0, 0.0, -4.0, DOUBLE_WELL_TILT])
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


BOWL = Surface(
    key="bowl",
    name="Isotropic bowl",
    latex=r"f(x, y) = \tfrac12\left(x^2 + y^2\right)",
    fn=_bowl,
    box=(-3.0, 3.0, -3.0, 3.0),
    starts=((-2.5, 2.0),),
    critical=points_at("global", 0.0, (0.0, 0.0)),
    note="Hessian I: gradient descent lands in one step at η = 1 and diverges for η > 2.",
    tags=frozenset({"quadratic", "convex"}),
    reference=(
        "Descent Lab teaching surface: the model quadratic of Nocedal & Wright (2006), "
        "Numerical Optimization, 2nd ed., Springer, ch. 3"
    ),
)


QUADRATIC = Surface(
    key="quadratic",
    name="Ill-conditioned quadratic",
    latex=(
        r"f(x, y) = \tfrac12\left(u^2 + \kappa v^2\right), \quad "
        r"u = x\cos\theta + y\sin\theta, \quad v = y\cos\theta - x\sin\theta"
    ),
    fn=_quadratic,
    box=(-3.0, 3.0, -3.0, 3.0),
    starts=((-2.5, 2.0),),
    critical=points_at("global", 0.0, (0.0, 0.0)),
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
    reference=(
        "Descent Lab teaching surface: steepest descent on an ill-conditioned "
        "quadratic, Nocedal & Wright (2006), Numerical Optimization, 2nd ed., Springer, "
        "§3.3"
    ),
)


SADDLE = Surface(
    key="saddle",
    name="Saddle",
    latex=r"f(x, y) = x^2 - y^2",
    fn=_saddle,
    box=(-2.0, 2.0, -2.0, 2.0),
    starts=((-1.8, 0.02),),
    critical=points_at("saddle", 0.0, (0.0, 0.0)),
    note=(
        "Unbounded below, no minimum: a run slows near the saddle, then escapes along y "
        "at a speed set by its tiny offset."
    ),
    tags=frozenset({"quadratic", "saddle", "unbounded"}),
    reference=(
        "Descent Lab teaching surface; saddle points in training: Dauphin et al. "
        "(2014), Identifying and attacking the saddle point problem in high-dimensional "
        "non-convex optimization, NeurIPS"
    ),
)


MONKEY_SADDLE = Surface(
    key="monkey_saddle",
    name="Monkey saddle",
    latex=r"f(x, y) = x^3 - 3xy^2",
    fn=_monkey_saddle,
    box=(-2.0, 2.0, -2.0, 2.0),
    starts=((1.8, 0.05),),
    critical=points_at("saddle", 0.0, (0.0, 0.0)),
    note=(
        "A flat saddle (zero Hessian) with three downhill valleys, unbounded below: "
        "the gradient fades quadratically, so runs stall before sliding off."
    ),
    tags=frozenset({"saddle", "unbounded"}),
    reference=(
        "Descent Lab teaching surface: the monkey saddle of Hilbert & Cohn-Vossen "
        "(1932), Anschauliche Geometrie, Springer"
    ),
)


DOUBLE_WELL = Surface(
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
    reference=(
        "Descent Lab teaching surface: a tilted quartic double well, the textbook "
        "two-minimum landscape"
    ),
)


PLATEAU = Surface(
    key="plateau",
    name="Plateau",
    latex=r"f(x, y) = 1 - e^{-(x^2 + y^2)/2}",
    fn=_plateau,
    box=(-6.0, 6.0, -6.0, 6.0),
    starts=((3.5, 2.5),),
    critical=points_at("global", 0.0, (0.0, 0.0)),
    note=(
        "Vanishing gradients: on the plateau |∇f| ≈ 4·10⁻⁴ at the start and far less "
        "beyond, so gradient descent stalls; Adam rescales and walks in."
    ),
    tags=frozenset({"plateau"}),
    reference=(
        "Descent Lab teaching surface; plateaus and vanishing gradients: Goodfellow, "
        "Bengio & Courville (2016), Deep Learning, MIT Press, §8.2"
    ),
)


CLIFF = Surface(
    key="cliff",
    name="Cliff",
    latex=r"f(x, y) = \tfrac{1}{10}\left[(x + 2)^2 + y^2\right] + 20\,(1 + \tanh 10x)",
    fn=_cliff,
    box=(-4.0, 4.0, -3.0, 3.0),
    starts=((3.5, 2.0),),
    critical=points_at("global", 0.0, (-2.0, 0.0)),
    note=(
        "Exploding gradients: the slope jumps from about 1 to 200 at the edge and flings an "
        "unclipped run far away; gradient clipping walks it down."
    ),
    tags=frozenset({"cliff"}),
    reference=(
        "Descent Lab teaching surface; cliffs and gradient clipping: Pascanu, Mikolov & "
        "Bengio (2013), On the difficulty of training recurrent neural networks, ICML"
    ),
)
