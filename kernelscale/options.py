"""Every public parameter's allowed values, declared once and checked once, at the boundary.

:data:`PARAMETERS` maps a parameter name to its :class:`Rule`; every public function that takes that name is
:func:`validated` against it (a function may narrow or widen a rule for itself, as ``load_dataset`` does for
``n_samples``). A value outside its rule raises :class:`~kernelscale.errors.ParameterError` naming the parameter, the
rule and the value, before any computation. Calls made from inside a validated call are not checked again (as
scikit-learn's ``validate_params`` skips nested validation).

This module imports neither JAX nor NumPy, so the command line checks its options here before the slow imports.
Rules that depend on the data (sizes up to n/4, a sample no larger than the dataset) are checked by the stage that
knows the data.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

from .errors import ParameterError

KERNELS = ("ntk", "nngp")
DEVICES = ("cpu", "gpu")
EIGENSOLVERS = ("auto", "full", "topk")
ALLOCATION_REGIMES = ("one-pass-sgd", "fixed-data")
REGIMES = ("data", "width", "linear_rf", "data_variance", "width_variance", "trained_width", "trained_data")
INPUT_KINDS = ("flat", "image", "auto")
# the tail fit needs a usable range of at least MIN_INDEX * WINDOW_RATIO^2 = 64 indices on half-samples, and usable
# ranges end near n/4 on smooth spectra: 8 * 64 (kernelscale.fit; a test checks the two agree)
MIN_SAMPLES = 512


class Rule:
    """What a parameter accepts: ``accepts(value)`` and the words ``describe()`` that say so."""

    optional = False

    def accepts(self, value: Any) -> bool:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def example_violation(self) -> Any:
        """A value this rule rejects (for the tests that drive every public function with bad arguments)."""
        raise NotImplementedError

    def check(self, name: str, value: Any) -> None:
        if value is None and self.optional:
            return
        if not self.accepts(value):
            raise ParameterError(f"{name} must be {self.describe()}{' (or None)' if self.optional else ''}; "
                                 f"got {value!r}.")


class OneOf(Rule):
    def __init__(self, values: Sequence[str], *, optional: bool = False):
        self.values, self.optional = tuple(values), optional

    def accepts(self, value):
        return isinstance(value, str) and value in self.values

    def describe(self):
        return f"one of {', '.join(self.values)}"

    def example_violation(self):
        return "not-" + self.values[0]


def _is_integer(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


class Integer(Rule):
    def __init__(self, low: int, *, optional: bool = False):
        self.low, self.optional = low, optional

    def accepts(self, value):
        return _is_integer(value) and value >= self.low

    def describe(self):
        return f"an integer >= {self.low}"

    def example_violation(self):
        return self.low - 1


class Number(Rule):
    """A finite real number ``>= low`` (``> low`` when ``strict``)."""

    def __init__(self, low: float, *, strict: bool = False, optional: bool = False):
        self.low, self.strict, self.optional = low, strict, optional

    def accepts(self, value):
        return (isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
                and (value > self.low if self.strict else value >= self.low))

    def describe(self):
        return f"a finite number {'>' if self.strict else '>='} {self.low:g}"

    def example_violation(self):
        return float("nan")


class Flag(Rule):
    def accepts(self, value):
        return isinstance(value, bool)

    def describe(self):
        return "True or False"

    def example_violation(self):
        return "yes"


class Integers(Rule):
    """A sequence of integers >= ``low`` (its range against the data is the stage's to check)."""

    def __init__(self, low: int = 1, *, optional: bool = True):
        self.low, self.optional = low, optional

    def accepts(self, value):
        return (isinstance(value, Sequence) and not isinstance(value, str) and len(value) > 0
                and all(_is_integer(v) and v >= self.low for v in value))

    def describe(self):
        return f"a non-empty sequence of integers >= {self.low}"

    def example_violation(self):
        return [self.low - 1, self.low]


class SubsetOf(Rule):
    def __init__(self, values: Sequence[str]):
        self.values = tuple(values)

    def accepts(self, value):
        return (isinstance(value, Sequence) and not isinstance(value, str) and len(value) > 0
                and all(isinstance(v, str) and v in self.values for v in value))

    def describe(self):
        return f"a non-empty subset of {', '.join(self.values)}"

    def example_violation(self):
        return ("nothing",)


class Callback(Rule):
    def accepts(self, value):
        return callable(value)

    def describe(self):
        return "a function progress(stage, done, total)"

    def example_violation(self):
        return 3


PARAMETERS: dict[str, Rule] = {
    "kernel": OneOf(KERNELS),
    "kind": OneOf(KERNELS),
    "width_kernel": OneOf(KERNELS),
    "device": OneOf(DEVICES, optional=True),
    "eigensolver": OneOf(EIGENSOLVERS),
    "input_kind": OneOf(INPUT_KINDS, optional=True),
    "regimes": SubsetOf(REGIMES),
    "seed": Integer(0),
    "n_samples": Integer(MIN_SAMPLES, optional=True),
    "n_halves": Integer(1),
    "n_eigs": Integer(2, optional=True),
    "repeats": Integer(2),
    "pool": Integer(2, optional=True),
    "at": Integer(1, optional=True),
    "at_features": Integer(1, optional=True),
    "n_test": Integer(1, optional=True),
    "devices": Integer(1, optional=True),
    "batch_size": Integer(1, optional=True),
    "variance_width": Integer(1),
    "variance_size": Integer(2),
    "trained_width": Integer(1),
    "width": Integer(1),  # a finite network's width (compare's flag ``width`` declares itself a Flag)
    "ridge": Number(0.0),
    "noise": Number(0.0),
    "compute": Number(0.0, strict=True),
    "regime": OneOf(ALLOCATION_REGIMES),
    "learning_rate": Number(0.0, strict=True),
    "batch": Integer(1),
    "draws": Integer(1),
    "check": Flag(),
    "check_widths": Integers(2),
    "sizes": Integers(1),
    "features": Integers(1),
    "widths": Integers(1),
    "variance_sizes": Integers(1),
    "variance_widths": Integers(1),
    "trained_widths": Integers(1),
    "trained_sizes": Integers(1),
    "use_cache": Flag(),
    "intrinsic": Flag(),
    "finite_width": Flag(),
    "trained": Flag(),
    "with_compare": Flag(),
    "progress": Callback(),
}

_INSIDE = contextvars.ContextVar("kernelscale_validated_call", default=False)


def check(name: str, value: Any, rule: Rule | None = None) -> None:
    """Raise :class:`ParameterError` unless ``value`` satisfies ``rule`` (default: the declaration of ``name``)."""
    (rule or PARAMETERS[name]).check(name, value)


def validated(function: Callable | None = None, **overrides: Rule) -> Callable:
    """Decorator: check every argument of ``function`` declared in :data:`PARAMETERS` (or in ``overrides``) on each
    call from outside kernelscale's validated functions, before the function runs."""
    if function is None:
        return functools.partial(validated, **overrides)
    signature = inspect.signature(function)
    rules = {name: overrides.get(name) or PARAMETERS[name] for name in signature.parameters
             if name in overrides or name in PARAMETERS}

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if _INSIDE.get():
            return function(*args, **kwargs)
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise ParameterError(f"{function.__name__}(): {exc}.") from None
        for name, value in bound.arguments.items():
            if name in rules:
                rules[name].check(name, value)
        token = _INSIDE.set(True)
        try:
            return function(*args, **kwargs)
        finally:
            _INSIDE.reset(token)

    wrapper.rules = rules
    return wrapper
