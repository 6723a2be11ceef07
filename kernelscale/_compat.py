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

Tested on JAX 0.10.2 (Python 3.11) and JAX 0.12.0.1 (Python 3.12), the two lines ``uv.lock`` resolves; CI runs the
suite on both (``.ci/run``).

:func:`precise` scopes float64 and the highest matmul precision to kernelscale's own computations (every public
function that runs JAX is a :func:`precise_function`); importing kernelscale changes no global JAX setting.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import types

import jax

# Precision is scoped, never global: importing kernelscale leaves a user's JAX process as it found it. kernelscale's
# own JAX work runs inside ``precise()`` (float64, highest matmul precision, restored on exit; JAX's config contexts
# are thread-local and every kernelscale computation runs in the calling thread). Asynchronous CPU dispatch is left
# as the user has it: turning it off did not stop the rare XLA CPU crash it was suspected of (docs/quickstart.md,
# "Known problem"); the test suite turns it off for its own process (tests/conftest.py), where it ran faster.


@contextlib.contextmanager
def precise():
    """float64 and the highest matmul precision (no TF32 on GPUs) inside, the caller's settings outside."""
    with jax.enable_x64(True), jax.default_matmul_precision("highest"):
        yield


def precise_function(function):
    """Run ``function`` inside :func:`precise`."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with precise():
            return function(*args, **kwargs)

    return wrapper


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
    try:
        import neural_tangents
    except ModuleNotFoundError as exc:  # a pip install with --no-deps that skipped a dependency
        raise ImportError(
            f"kernelscale needs neural-tangents 0.6.5 and its dependency frozendict; {exc.name!r} is missing. With "
            "pip: pip install -r requirements-pip.txt && pip install --no-deps neural-tangents==0.6.5 (README.md, "
            "'Installing'); with uv: uv sync.") from exc

    return neural_tangents


nt = import_neural_tangents()
stax = nt.stax

__all__ = ["nt", "stax", "import_neural_tangents", "precise", "precise_function"]
