"""Architectures: spec strings -> neural-tangents stax triples ``(init_fn, apply_fn, kernel_fn)``.

Spec form ``NAME:key=value,...``; every key has a default. Names:

============  =====================================================================================================
``fc``        fully connected: ``depth`` hidden layers of ``width`` units, activation ``act``, then a linear readout
``cnn``       ``depth`` 3x3 (``filter``) SAME convolutions with ``width`` channels, then Flatten and a linear readout
``cnn-gap``   as ``cnn`` with global average pooling instead of Flatten (kernel cost grows with pixels squared)
``resnet``    wide-ResNet style: a conv stem, ``depth`` residual blocks (act-conv-act-conv + identity shortcut)
              with ``16*k`` channels (``k`` = widening factor), global average pooling, linear readout
============  =====================================================================================================

Common keys: ``act`` (relu, erf, gelu, leaky_relu, abs), ``w_std`` (weight std, default sqrt 2), ``b_std`` (bias
std). Widths and the widening factor only matter for finite networks; the infinite-width kernels do not depend on
them. A user's own stax triple is accepted through :func:`from_stax`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from ._compat import stax
from .errors import SpecError
from .options import validated
from .specs import format_spec, parse_spec

ACTIVATIONS: dict[str, Callable[[], tuple]] = {
    "relu": stax.Relu,
    "erf": stax.Erf,
    "gelu": stax.Gelu,
    "leaky_relu": lambda: stax.LeakyRelu(0.1),
    "abs": stax.Abs,
}

_COMMON = {"act": "relu", "w_std": math.sqrt(2.0), "b_std": 0.05}
SCHEMAS: dict[str, dict[str, Any]] = {
    "fc": {"depth": 3, "width": 512, **_COMMON},
    "cnn": {"depth": 2, "width": 64, "filter": 3, **_COMMON},
    "cnn-gap": {"depth": 2, "width": 64, "filter": 3, **_COMMON},
    "resnet": {"depth": 2, "k": 4, **_COMMON},
}


@dataclasses.dataclass(frozen=True)
class Architecture:
    """A network and its infinite-width kernels.

    Attributes:
      name: ``"fc"``, ``"cnn"``, ``"cnn-gap"``, ``"resnet"``, or ``"stax"`` for a user's triple (:func:`from_stax`).
      options: the parsed spec options, every key of the name's schema typed like its default (empty for a user's
        triple); the properties below read them, so no stage parses the spec string again.
      init_fn, apply_fn, kernel_fn: the neural-tangents stax triple.
      input_kind: ``"flat"`` (inputs of shape (n, features)), ``"image"`` (inputs of shape (n, H, W, C)) or
        ``"auto"`` (a user's network: the data's own shape, images as images).
      cacheable: whether ``spec`` determines the kernel (false for a user's stax triple without a stable name).
      body: ``(init_fn, apply_fn)`` of the network without its linear readout (None for a user's triple): its
        outputs, scaled as the readout scales them, are the random features whose kernel is the NNGP.
      readout_std: ``(W_std, b_std)`` of the readout layer.
      label: the name a user gave a stax triple (None for a spec).
    """

    name: str
    options: dict[str, Any]
    init_fn: Callable
    apply_fn: Callable
    kernel_fn: Callable
    input_kind: str = "flat"
    cacheable: bool = True
    body: tuple[Callable, Callable] | None = None
    readout_std: tuple[float, float] | None = None
    label: str | None = None

    @property
    def spec(self) -> str:
        """The canonical spec string (all options, sorted; the cache key), or ``stax:<label>`` for a user's triple."""
        return f"stax:{self.label or 'custom'}" if self.name == "stax" else format_spec(self.name, self.options)

    @property
    def depth(self) -> int | None:
        """Hidden layers (fc, cnn, cnn-gap) or residual blocks (resnet); None for a user's triple."""
        return self.options.get("depth")

    @property
    def activation(self) -> str | None:
        return self.options.get("act")

    @property
    def pooled(self) -> bool:
        """Global average pooling before the readout (its kernel keeps one number per pair of pixels)."""
        return self.name in ("cnn-gap", "resnet")

    @property
    def width_key(self) -> str | None:
        """The option that sets the finite width (``"width"``, ``"k"`` for resnet), None for a user's triple."""
        return _BUILDERS[self.name][3] if self.name in _BUILDERS else None

    def with_width(self, width: int) -> Architecture:
        """The same architecture with ``width`` units (channels; ``k`` for resnet) in its finite network."""
        if self.width_key is None:
            raise SpecError(f"{self.spec!r} is not a kernelscale spec, so its width cannot be changed; "
                            "width experiments need a spec such as fc:depth=3.")
        if not (isinstance(width, int) and width >= 1):
            raise SpecError(f"width must be an integer >= 1, got {width!r}.")
        return build_architecture(self.name, {**self.options, self.width_key: width})

    def finite_network(self, outputs: int, *, zero_readout: bool = True) -> tuple[Callable, Callable]:
        """``(init_fn, apply_fn)`` of the finite network with a readout of ``outputs`` units (NTK parameterization).

        ``zero_readout`` initialises the readout's weights and bias at zero, so the network's initial function is 0
        and its parameters are ``(body_params, (W, b))``.
        """
        if self.body is None:
            raise SpecError(f"{self.spec!r} has no known readout layer; a trained network needs a kernelscale spec "
                            "(fc, cnn, cnn-gap, resnet).")
        body_init, body_apply = self.body
        readout_init, readout_apply, _ = stax.Dense(outputs, W_std=self.readout_std[0], b_std=self.readout_std[1])

        def init_fn(key, input_shape):
            body_key, readout_key = jax.random.split(key)
            shape, body_params = body_init(body_key, input_shape)
            shape, readout_params = readout_init(readout_key, shape)
            if zero_readout:
                readout_params = jax.tree_util.tree_map(jnp.zeros_like, readout_params)
            return shape, (body_params, readout_params)

        def apply_fn(params, x, **kwargs):
            return readout_apply(params[1], body_apply(params[0], x, **kwargs))

        return init_fn, apply_fn


def _activation(name: str) -> tuple:
    if name not in ACTIVATIONS:
        raise SpecError(f"unknown activation act={name!r}; valid activations: {', '.join(sorted(ACTIVATIONS))}.")
    return ACTIVATIONS[name]()


def _check_positive(options: dict[str, Any], keys: tuple[str, ...], spec: str) -> None:
    for key in keys:
        if options[key] < 1:
            raise SpecError(f"architecture spec {spec!r}: {key} must be >= 1, got {options[key]}.")
    for key in ("w_std", "b_std"):
        if not options[key] >= 0:
            raise SpecError(f"architecture spec {spec!r}: {key} must be >= 0, got {options[key]}.")


def _readout(o: dict[str, Any]) -> tuple:
    return stax.Dense(1, W_std=o["w_std"], b_std=o["b_std"])


def _fc(o: dict[str, Any]) -> list:
    layers = []
    for _ in range(o["depth"]):
        layers += [stax.Dense(o["width"], W_std=o["w_std"], b_std=o["b_std"]), _activation(o["act"])]
    return layers


def _conv_stack(o: dict[str, Any]) -> list:
    layers = []
    for _ in range(o["depth"]):
        conv = stax.Conv(o["width"], (o["filter"], o["filter"]), padding="SAME", W_std=o["w_std"], b_std=o["b_std"])
        layers += [conv, _activation(o["act"])]
    return layers


def _cnn(o: dict[str, Any]) -> list:
    return [*_conv_stack(o), stax.Flatten()]


def _cnn_gap(o: dict[str, Any]) -> list:
    return [*_conv_stack(o), stax.GlobalAvgPool()]


def _resnet(o: dict[str, Any]) -> list:
    channels = 16 * o["k"]

    def conv():
        return stax.Conv(channels, (3, 3), padding="SAME", W_std=o["w_std"], b_std=o["b_std"])

    def block():
        main = stax.serial(_activation(o["act"]), conv(), _activation(o["act"]), conv())
        return stax.serial(stax.FanOut(2), stax.parallel(main, stax.Identity()), stax.FanInSum())

    return [conv(), *[block() for _ in range(o["depth"])], _activation(o["act"]), stax.GlobalAvgPool()]


# name -> (body layers before the linear readout, input kind, keys that must be >= 1, the key that sets the width)
_BUILDERS = {"fc": (_fc, "flat", ("depth", "width"), "width"),
             "cnn": (_cnn, "image", ("depth", "width", "filter"), "width"),
             "cnn-gap": (_cnn_gap, "image", ("depth", "width", "filter"), "width"),
             "resnet": (_resnet, "image", ("depth", "k"), "k")}


def parse_architecture(spec: str) -> Architecture:
    """Build an :class:`Architecture` from a spec string such as ``"fc:depth=3,act=relu,w_std=1.41,b_std=0.05"``."""
    name, options = parse_spec(spec, SCHEMAS, what="architecture")
    return build_architecture(name, options)


def build_architecture(name: str, options: dict[str, Any]) -> Architecture:
    """The :class:`Architecture` of a registered ``name`` with parsed ``options`` (every key of its schema)."""
    builder, input_kind, positive_keys, _ = _BUILDERS[name]
    _check_positive(options, positive_keys, format_spec(name, options))
    _activation(options["act"])
    body = stax.serial(*builder(options))
    init_fn, apply_fn, kernel_fn = stax.serial(body, _readout(options))
    return Architecture(name, dict(options), init_fn, apply_fn, kernel_fn, input_kind, body=body[:2],
                        readout_std=(options["w_std"], options["b_std"]))


# layers at the end of each body that a readout feature depends on beyond the lower layers: the last hidden layer
# (linear layer, activation) and, for the convolutional networks, the Flatten or pooling after it
_TOP_LAYERS = {"fc": 2, "cnn": 3, "cnn-gap": 3}


@dataclasses.dataclass(frozen=True)
class LayerSplit:
    """A body split below its last hidden layer (docs/theory.md, "Width"): given the realized lower layers of a finite
    network,
    its readout features are i.i.d. random features (one per unit of the last hidden layer) of the kernel
    ``K_c = w_std^2 T_phi(w_std^2 K_hat + b_std^2) + b_std^2``, K_hat the kernel of the lower layers' outputs.

    Attributes:
      lower_count: number of layers (entries of the body's parameter list) below the last hidden layer; 0 when
        the last hidden layer is the first (depth 1: K_hat is the input kernel, K_c the NNGP).
      lower_apply: ``lower_apply(body_params[:lower_count], x)``, the lower layers' outputs.
      top: the last hidden layer and the readout as an :class:`Architecture`; its NNGP on the lower layers'
        outputs is K_c.
    """

    lower_count: int
    lower_apply: Callable
    top: Architecture


def split_below_last_hidden_layer(arch: Architecture) -> LayerSplit:
    """The :class:`LayerSplit` of a kernelscale ``fc``, ``cnn`` or ``cnn-gap`` spec (its body's parameters are a list
    of per-layer entries, so the lower layers of a network initialised from the whole body are its first
    ``lower_count`` entries)."""
    if arch.body is None:
        raise SpecError(f"{arch.spec!r} is a user's stax triple; the finite-width check needs a kernelscale spec.")
    if arch.name not in _TOP_LAYERS:
        raise SpecError(f"the finite-width check supports {', '.join(_TOP_LAYERS)} networks, not {arch.name!r} (its "
                        "residual blocks have no single last hidden layer).")
    layers = _BUILDERS[arch.name][0](arch.options)
    lower_count = len(layers) - _TOP_LAYERS[arch.name]
    lower_apply = stax.serial(*layers[:lower_count])[1] if lower_count else (lambda params, x, **kwargs: x)
    top = from_stax(stax.serial(*layers[lower_count:], _readout(arch.options)), input_kind=arch.input_kind)
    return LayerSplit(lower_count, lower_apply, top)


@validated
def from_stax(triple: tuple, *, name: str | None = None, input_kind: str = "auto") -> Architecture:
    """Wrap a user's neural-tangents stax triple ``(init_fn, apply_fn, kernel_fn)``.

    Give a ``name`` to let kernelscale cache its kernels on disk; the cache key also holds a fingerprint of the network
    (:func:`kernelscale.kernels.network_fingerprint`), so an edited network under the same name is recomputed.
    ``input_kind`` ``"auto"`` (the default) gives the network the data in its own shape: image data (a 4-D array, or
    a built-in image data set) as (n, H, W, C), anything else flat; ``"flat"`` or ``"image"`` fix it.
    """
    if not (isinstance(triple, tuple) and len(triple) == 3 and all(callable(f) for f in triple)):
        raise SpecError("from_stax expects the (init_fn, apply_fn, kernel_fn) triple returned by stax.serial(...).")
    return Architecture("stax", {}, *triple, input_kind=input_kind, cacheable=name is not None, label=name)


def as_architecture(arch: str | Architecture | tuple) -> Architecture:
    """Accept a spec string, an :class:`Architecture`, or a stax triple."""
    if isinstance(arch, Architecture):
        return arch
    if isinstance(arch, str):
        return parse_architecture(arch)
    if isinstance(arch, tuple):
        return from_stax(arch)
    raise SpecError(f"arch must be a spec string, an Architecture or a stax triple; got {type(arch).__name__}.")
