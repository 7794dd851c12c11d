"""Loss surfaces: one registry table, `SURFACES`, read by the engine, the UI and the tests."""

import jax

# Float64 throughout: divergence then shows as growth rather than an instant inf.
jax.config.update("jax_enable_x64", True)
