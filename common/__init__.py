"""Generic building blocks of every package: parameter specs, registry tables, compiled caches."""
