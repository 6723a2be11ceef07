"""``sweep``: predict (and optionally compare) over a family of variants of one architecture or data option.

The variants of the dataset experiments of Bahri et al. are data options (:mod:`kernelscale.data`): ``classes``
(grouping classes into superclasses) and ``input_noise`` (Gaussian input noise); the architecture's ``depth``,
``act``, ``width`` ... are architecture options. Every point uses the same sample size, kernel and seed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from . import architectures
from . import data as data_module
from ._compat import precise_function
from .compare import compare
from .errors import SpecError
from .options import validated
from .predict import predict
from .progress import Progress, no_progress
from .results import Sweep, SweepPoint
from .specs import parse_spec, split_spec, with_option


def resolve_option(parameter: str, arch: str, data: str) -> tuple[str, str]:
    """Which spec ``parameter`` belongs to: ``("arch" | "data", key)``. ``arch.KEY`` or ``data.KEY`` picks one
    explicitly; a bare key must belong to exactly one of the two specs' schemas."""
    target, dot, key = parameter.partition(".")
    if dot and target in ("arch", "data"):
        return target, key.lower()
    key = parameter.lower()
    arch_name, _ = split_spec(arch, what="architecture")
    data_name, _ = split_spec(data, what="data")
    in_arch = key in architectures.SCHEMAS.get(arch_name, {})
    in_data = key in data_module.SCHEMAS.get(data_name, {})
    if in_arch and in_data:
        raise SpecError(f"{key!r} is an option of both the architecture {arch_name!r} and the data {data_name!r}; "
                        f"write arch.{key} or data.{key}.")
    if not (in_arch or in_data):
        valid = sorted(set(architectures.SCHEMAS.get(arch_name, {})) | set(data_module.SCHEMAS.get(data_name, {})))
        raise SpecError(f"{key!r} is not an option of {arch_name!r} or {data_name!r}; valid options: "
                        f"{', '.join(valid)}.")
    return ("arch" if in_arch else "data"), key


@validated
@precise_function
def sweep(
    arch: str,
    data: str,
    *,
    parameter: str,
    values: Sequence,
    n_samples: int | None = None,
    kernel: str = "ntk",
    seed: int = 0,
    with_compare: bool = False,
    repeats: int = 5,
    device: str | None = None,
    use_cache: bool = True,
    progress: Progress = no_progress,
) -> Sweep:
    """Run :func:`kernelscale.predict` (or :func:`kernelscale.compare` when ``with_compare``) for each value of
    ``parameter`` set in the ``arch`` or ``data`` spec (see :func:`resolve_option`).

    Example: ``sweep("fc:depth=3", "digits", parameter="classes", values=[10, 5, 2], n_samples=1000)``.
    """
    start = time.perf_counter()
    applies_to, key = resolve_option(parameter, arch, data)
    values = [str(v).strip() for v in values]
    if len(values) < 2 or len(set(values)) != len(values):
        raise SpecError(f"a sweep needs at least 2 distinct values of {key!r}; got {values}.")
    variants = []
    for value in values:  # parse every variant before computing anything, so a bad value fails fast
        variant_arch = with_option(arch, key, value, what="architecture") if applies_to == "arch" else arch
        variant_data = with_option(data, key, value, what="data") if applies_to == "data" else data
        architectures.parse_architecture(variant_arch)
        parse_spec(variant_data, data_module.SCHEMAS, what="data")
        variants.append((value, variant_arch, variant_data))
    points = []
    for i, (value, variant_arch, variant_data) in enumerate(variants):
        progress(f"sweep {key}", i, len(variants))
        if with_compare:
            comparison = compare(variant_arch, variant_data, n_samples=n_samples, kernel=kernel, seed=seed,
                                 repeats=repeats, width=False, device=device, use_cache=use_cache)
            prediction = comparison.prediction
        else:
            comparison = None
            prediction = predict(variant_arch, variant_data, n_samples=n_samples, kernel=kernel, seed=seed,
                                 device=device, use_cache=use_cache)
        points.append(SweepPoint(value, prediction, comparison))
    progress(f"sweep {key}", len(variants), len(variants))
    return Sweep(parameter=key, applies_to=applies_to, points=tuple(points), seconds=time.perf_counter() - start)
