"""JSON round trips for the frozen result dataclasses: ``cls.from_dict(r.to_dict()) == r``, driven by the field
annotations (tuples become lists and back; nested results become dicts and back; enumerations their values).

Two rules keep the JSON as users' scripts read it:

* a field holding an :class:`~kernelscale.estimates.Estimate` ``x`` is written as ``"x": value`` and
  ``"x_ci": [low, high]`` (the second key's name can be set with ``metadata={"ci_key": ...}``); a tuple of
  Estimates as two lists;
* a result lists in ``JSON_DERIVED`` the properties derived from its fields that the JSON also carries; they are
  written after the fields (an Estimate-valued one, by its return annotation, as two keys) and ignored when
  reading.

Top-level results carry ``"schema_version"`` (:data:`SCHEMA_VERSION`).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from typing import Any, ClassVar

from .estimates import Estimate

# 1: the keys written before the schema had a version; 2: the same keys, with "schema_version" and, beside them,
# new keys only (Prediction's eigensolver_reason, preprocessing, resumed_blocks and trivial_loss; IntrinsicDimension's
# subsampled_from; a predicted curve's continuation_law, asymptote and convergence_rate; a comparison row's kind and
# note); 3: Prediction's alpha_W is the recommended width exponent, the local exponent of L(P) at the new
# "alpha_W_at" (as alpha_D is of L(D)), on the new "width_kernel" (the NNGP by default); the asymptote it replaced
# is "alpha_W_asymptote" (with "alpha_W_basis", "width_kernel_fit" and "width_target_fit"); "alpha_W_local" and
# "width_features" are gone (their range ran past the reliable range P <= n/8 the curve states)
SCHEMA_VERSION = 3
REMOVED_IN_3 = ("alpha_W_local", "alpha_W_local_ci", "width_features")


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (types.UnionType, typing.Union):
        return next(a for a in typing.get_args(annotation) if a is not type(None))
    return annotation


def _estimate_kind(annotation: Any) -> str | None:
    """"one" for ``Estimate | None``, "many" for ``tuple[Estimate, ...]``, else None."""
    annotation = _strip_optional(annotation)
    if annotation is Estimate:
        return "one"
    if typing.get_origin(annotation) is tuple and typing.get_args(annotation)[:1] == (Estimate,):
        return "many"
    return None


def _ci_key(field: dataclasses.Field) -> str:
    return field.metadata.get("ci_key", f"{field.name}_ci")


def _flatten(name: str, ci_key: str, value: Any, kind: str) -> dict[str, Any]:
    if kind == "one":
        return {name: None if value is None else value.value, ci_key: None if value is None else _plain(value.ci)}
    return {name: [e.value for e in value], ci_key: [_plain(e.ci) for e in value]}


def _plain(value: Any) -> Any:
    """Tuples -> lists, numpy scalars -> Python numbers, enumerations -> values, nested dataclasses -> dicts."""
    if dataclasses.is_dataclass(value):
        return _plain_dataclass(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "item"):
        return value.item()
    return value


def _plain_dataclass(value: Any) -> dict[str, Any]:
    hints = typing.get_type_hints(type(value))
    out: dict[str, Any] = {}
    for field in dataclasses.fields(value):
        if not field.metadata.get("json", True):
            continue
        kind = _estimate_kind(hints[field.name])
        if kind:
            out.update(_flatten(field.name, _ci_key(field), getattr(value, field.name), kind))
        else:
            out[field.name] = _plain(getattr(value, field.name))
    for name in getattr(type(value), "JSON_DERIVED", ()):
        kind = _estimate_kind(typing.get_type_hints(getattr(type(value), name).fget).get("return"))
        derived = getattr(value, name)
        out.update(_flatten(name, f"{name}_ci", derived, kind) if kind else {name: _plain(derived)})
    return out


def _decode(annotation: Any, value: Any) -> Any:
    """Rebuild a value of type ``annotation`` from its JSON form: lists -> tuples, dicts -> dataclasses."""
    if value is None:
        return None
    annotation = _strip_optional(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v) for v in value)
        return tuple(_decode(a, v) for a, v in zip(args, value))
    if origin is dict:
        return {k: _decode(args[1], v) for k, v in value.items()}
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return annotation(value)
    if dataclasses.is_dataclass(annotation):
        return from_plain(annotation, value)
    return value


def _decode_field(field: dataclasses.Field, annotation: Any, data: dict[str, Any]) -> Any:
    kind = _estimate_kind(annotation)
    if kind == "one":
        value = data[field.name]
        ci = data.get(_ci_key(field))
        return None if value is None else Estimate(value, None if ci is None else tuple(ci))
    if kind == "many":
        return tuple(Estimate(v, None if ci is None else tuple(ci))
                     for v, ci in zip(data[field.name], data[_ci_key(field)]))
    return _decode(annotation, data[field.name])


def from_plain(cls: type, data: dict[str, Any]) -> Any:
    """Inverse of :func:`_plain` for dataclass ``cls``, driven by its field annotations; fields marked
    ``metadata={"json": False}`` take their defaults, and derived keys are ignored."""
    hints = typing.get_type_hints(cls)
    return cls(**{f.name: _decode_field(f, hints[f.name], data) for f in dataclasses.fields(cls)
                  if f.metadata.get("json", True)})


class JsonResult:
    """Mixin for frozen result dataclasses: ``to_dict``, ``to_json``, ``from_dict``, ``from_json`` round trips."""

    __dataclass_fields__: ClassVar[dict]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with ``schema_version``: tuples as lists, nested results as dicts, Estimates as value and
        interval keys, derived values beside the fields; fields with ``json=False`` metadata left out."""
        return {"schema_version": SCHEMA_VERSION, **_plain(self)}

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        return from_plain(cls, data)

    @classmethod
    def from_json(cls, text: str):
        return cls.from_dict(json.loads(text))
