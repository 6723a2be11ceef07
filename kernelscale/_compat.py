"""The only module that knows neural-tangents' and JAX's internals.

neural-tangents 0.6.5 (its last release) was written for JAX 0.4. On current JAX it fails to import because:

* ``jax.core.{Jaxpr, JaxprEqn, Literal, Var, Primitive}`` moved to ``jax.extend.core``;
* ``jax.util`` (``safe_map``, ``safe_zip``) became private (``jax._src.util``);
* ``jax.interpreters.ad.zeros_like_p`` moved to ``jax._src.ad_util``;
* ``neural_tangents.experimental`` imports TensorFlow and tf2jax, which kernelscale does not install.

:func:`import_neural_tangents` provides the moved names where neural-tangents looks for them (only names that are
missing; nothing existing is overwritten), replaces ``neural_tangents.experimental`` by an empty module, and imports
neural-tangents. Everything else in kernelscale imports ``nt`` and ``stax`` from here.

The suite (``tests/test_compat.py``) checks the analytic kernels against the closed-form arc-cosine kernel and
against Monte Carlo estimates from finite networks, so a JAX upgrade that breaks this shim fails the tests.
"""

from __future__ import annotations

import sys
import types

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_default_matmul_precision", "highest")
# The full test suite segfaulted in an XLA worker thread in 4 of 22 runs on a 2-core CPU (jaxlib 0.10.2), each time
# while the main thread waited for an image kernel's block (cnn-gap). Asynchronous CPU dispatch (JAX >= 0.4.33) runs
# computations on such worker threads; other projects' CI stopped intermittent CPU segfaults by turning it off
# (netket/netket#1925). That did not stop this crash: with it off, 1 of 15 later full suites still crashed in a
# non-Python thread while the main thread executed a freshly compiled image kernel (docs/quickstart.md, "Known
# problem"). It stays off: the suite ran faster without it (214 to 245 s against 280 to 320 s before). Without it,
# blocks on several host CPU devices run one after another (they share the same cores anyway). GPU dispatch stays
# asynchronous.
if "jax_cpu_enable_async_dispatch" in jax.config.values:
    jax.config.update("jax_cpu_enable_async_dispatch", False)

_MOVED_TO_EXTEND_CORE = ("Jaxpr", "JaxprEqn", "Literal", "Var", "Primitive")


def _provide_moved_jax_names() -> None:
    import jax.core
    import jax.extend.core
    import jax.interpreters.ad as ad
    from jax._src import ad_util, util

    for name in _MOVED_TO_EXTEND_CORE:
        if not hasattr(jax.core, name):
            setattr(jax.core, name, getattr(jax.extend.core, name))
    if "jax.util" not in sys.modules:
        try:
            import jax.util  # noqa: F401  (present in older JAX)
        except ImportError:
            shim = types.ModuleType("jax.util")
            shim.safe_map = util.safe_map
            shim.safe_zip = util.safe_zip
            sys.modules["jax.util"] = shim
            jax.util = shim
    if not hasattr(ad, "zeros_like_p"):
        ad.zeros_like_p = ad_util.zeros_like_p


def _skip_tensorflow_experimental() -> None:
    """neural_tangents.experimental holds only the TensorFlow bridge; kernelscale never uses it."""
    name = "neural_tangents.experimental"
    if name not in sys.modules:
        module = types.ModuleType(name)
        module.__doc__ = "Replaced by kernelscale._compat: the TensorFlow bridge is not installed."
        sys.modules[name] = module


def import_neural_tangents():
    """Import neural-tangents on current JAX without TensorFlow; returns the ``neural_tangents`` module."""
    _provide_moved_jax_names()
    _skip_tensorflow_experimental()
    import neural_tangents

    return neural_tangents


nt = import_neural_tangents()
stax = nt.stax

__all__ = ["nt", "stax", "import_neural_tangents"]
