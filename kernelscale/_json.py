"""JSON round trips for the frozen result dataclasses: ``cls.from_dict(r.to_dict()) == r``, driven by the field
annotations (tuples become lists and back; nested results become dicts and back)."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any, ClassVar


def _plain(value: Any) -> Any:
    """Tuples -> lists, numpy scalars -> Python numbers, nested dataclasses -> dicts."""
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if f.metadata.get("json", True)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "item"):
        return value.item()
    return value


def _decode(annotation: Any, value: Any) -> Any:
    """Rebuild a value of type ``annotation`` from its JSON form: lists -> tuples, dicts -> dataclasses."""
    if value is None:
        return None
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (types.UnionType, typing.Union):
        return _decode(next(a for a in args if a is not type(None)), value)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v) for v in value)
        return tuple(_decode(a, v) for a, v in zip(args, value))
    if origin is dict:
        return {k: _decode(args[1], v) for k, v in value.items()}
    if dataclasses.is_dataclass(annotation):
        return from_plain(annotation, value)
    return value


def from_plain(cls: type, data: dict[str, Any]) -> Any:
    """Inverse of :func:`_plain` for dataclass ``cls``, driven by its field annotations; fields marked
    ``metadata={"json": False}`` take their defaults."""
    hints = typing.get_type_hints(cls)
    return cls(**{f.name: _decode(hints[f.name], data[f.name]) for f in dataclasses.fields(cls)
                  if f.metadata.get("json", True)})


class JsonResult:
    """Mixin for frozen result dataclasses: ``to_dict``, ``to_json``, ``from_dict``, ``from_json`` round trips."""

    __dataclass_fields__: ClassVar[dict]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: tuples as lists, nested results as dicts; fields with ``json=False`` metadata left out."""
        return _plain(self)

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        return from_plain(cls, data)

    @classmethod
    def from_json(cls, text: str):
        return cls.from_dict(json.loads(text))
