"""Parsing of ``NAME:key=value,key=value`` spec strings against a declared schema.

Both architecture specs (``fc:depth=3,act=relu``) and data specs (``sphere:dim=4,target=gp``) use this form. A schema
maps each allowed key to its default value; the default's type is the type the value is parsed to (a default of
``None`` means "string, optional"). Errors list the valid names or keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import SpecError


def split_spec(spec: str, *, what: str) -> tuple[str, dict[str, str]]:
    """``"fc:depth=3,act=relu"`` -> ``("fc", {"depth": "3", "act": "relu"})``. Raises SpecError if malformed."""
    if not isinstance(spec, str) or not spec.strip():
        raise SpecError(f"{what} spec must be a non-empty string like 'name:key=value,...'; got {spec!r}.")
    name, _, rest = spec.strip().partition(":")
    name = name.strip().lower()
    if not name:
        raise SpecError(f"{what} spec {spec!r} has no name before ':'.")
    options: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))) if rest.strip() else []:
        key, eq, value = item.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not eq or not key or not value:
            raise SpecError(f"{what} spec {spec!r}: option {item!r} is not of the form key=value.")
        if key in options:
            raise SpecError(f"{what} spec {spec!r}: option {key!r} is given twice.")
        options[key] = value
    return name, options


def _convert(raw: str, default: Any, *, key: str, spec: str) -> Any:
    if isinstance(default, bool):
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise SpecError(f"spec {spec!r}: {key}={raw!r} is not a boolean (use true or false).")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise SpecError(f"spec {spec!r}: {key}={raw!r} is not an integer.") from None
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError:
            raise SpecError(f"spec {spec!r}: {key}={raw!r} is not a number.") from None
    return raw


def parse_spec(
    spec: str, schemas: Mapping[str, Mapping[str, Any]], *, what: str
) -> tuple[str, dict[str, Any]]:
    """Parse ``spec`` and fill defaults from ``schemas[name]``.

    Returns ``(name, options)`` with every key of the schema present and typed like its default.
    """
    name, raw_options = split_spec(spec, what=what)
    if name not in schemas:
        raise SpecError(f"unknown {what} {name!r} in spec {spec!r}; valid names: {', '.join(sorted(schemas))}.")
    schema = schemas[name]
    unknown = sorted(set(raw_options) - set(schema))
    if unknown:
        valid = ", ".join(sorted(schema)) or "(none)"
        raise SpecError(f"unknown option(s) {', '.join(unknown)} for {what} {name!r}; valid options: {valid}.")
    options = {key: default for key, default in schema.items()}
    for key, raw in raw_options.items():
        options[key] = _convert(raw, schema[key], key=key, spec=spec)
    return name, options


def format_spec(name: str, options: Mapping[str, Any]) -> str:
    """Canonical spec string: every option, sorted by key (used as a cache key and in reports)."""
    if not options:
        return name
    return name + ":" + ",".join(f"{key}={options[key]}" for key in sorted(options))


def with_option(spec: str, key: str, value: Any, *, what: str) -> str:
    """``spec`` with ``key=value`` set (added, or replacing the value given): ``("fc:depth=3", "act", "erf")`` ->
    ``"fc:depth=3,act=erf"``. The result is not validated here; parse it with its schema."""
    name, options = split_spec(spec, what=what)
    options[key.lower()] = str(value)
    return name + (":" + ",".join(f"{k}={v}" for k, v in options.items()) if options else "")


def display_spec(spec: str, schemas: Mapping[str, Mapping[str, Any]], *, keep: tuple[str, ...] = (),
                 hide: tuple[str, ...] = ()) -> str:
    """A short spec for titles: the name, the options that differ from the defaults and those in ``keep`` (the
    defaults that matter), without those in ``hide``; numbers to 3 significant digits. ``"fc:act=relu,b_std=0.05,
    depth=3,w_std=1.4142135623730951,width=512"`` -> ``"fc:act=relu,depth=3"``. Specs of an unknown name come back
    unchanged (a user's stax triple)."""
    try:
        name, options = parse_spec(spec, schemas, what="spec")
    except SpecError:
        return spec
    schema = schemas[name]
    shown = []
    for key in sorted(options):
        value = options[key]
        if key in hide or (key not in keep and value == schema[key]):
            continue
        if isinstance(value, float):
            value = f"{value:.3g}"
        shown.append(f"{key}={value}")
    return name + (":" + ",".join(shown) if shown else "")
