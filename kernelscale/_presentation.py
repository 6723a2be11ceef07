"""Results in a notebook: a repr of one screen, pandas tables and matplotlib figures.

A result class lists the fields and properties its repr shows (``REPR_FIELDS``), names its figure (``PLOT``, a
function of :mod:`kernelscale.plots`, the layer above, loaded by name when a figure is asked for) and gives its
table's rows (``frame_records()``, one dict per row, an Estimate as three columns ``x``, ``x_low``, ``x_high``).
pandas is optional: kernelscale does not require it, and ``to_frame()`` says how to get it.
"""

from __future__ import annotations

import enum
import importlib
import os
from typing import Any, ClassVar

from .estimates import Estimate

HINT = "print_result(r) prints the tables; r.to_frame() gives a pandas DataFrame; r.plot() the figure"


def estimate_columns(name: str, estimate: Estimate | None) -> dict[str, float | None]:
    """``{name: value, name_low: low, name_high: high}`` (None where missing)."""
    ci = None if estimate is None else estimate.ci
    return {name: None if estimate is None else estimate.value, f"{name}_low": None if ci is None else ci[0],
            f"{name}_high": None if ci is None else ci[1]}


def short(value: Any) -> str:
    """One value of a repr: an Estimate (an exponent) as the tables print it, ``0.551 [0.521, 0.590]``; an enumeration
    as its value; text quoted."""
    if isinstance(value, Estimate):
        return f"{value.value:.3f}" + ("" if value.ci is None else f" [{value.ci[0]:.3f}, {value.ci[1]:.3f}]")
    if isinstance(value, enum.Enum):
        return repr(value.value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):  # one entry per line
        return "{\n" + "".join(f"    {k}: {short(v)},\n" for k, v in value.items()) + "  }"
    return repr(value)


class Presentable:
    """Mixin: ``repr`` of one screen, ``to_frame()`` (pandas) and ``plot(path=None)`` (a matplotlib Figure)."""

    REPR_FIELDS: ClassVar[tuple[str, ...]] = ()
    PLOT: ClassVar[str] = ""

    def __repr__(self) -> str:
        lines = [f"  {name}={short(getattr(self, name))}," for name in self.REPR_FIELDS]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + f"\n)  # {HINT}"

    def frame_records(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def to_frame(self):
        """The result's rows as a pandas DataFrame (pandas is optional: ``pip install pandas``)."""
        try:
            import pandas
        except ImportError:
            raise ImportError("to_frame() needs pandas, which kernelscale does not require: pip install pandas (or "
                              "read r.to_dict()).") from None
        return pandas.DataFrame.from_records(self.frame_records())

    def plot(self, path: str | os.PathLike | None = None):
        """The command line's figure of this result as a matplotlib ``Figure``; written to ``path`` when given (its
        extension names the format: .png, .pdf, .svg)."""
        # the figures are a layer above the results (they import them); as pandas' DataFrame.plot loads its
        # plotting backend, the method loads that layer by name when called, so the results do not import it
        plots = importlib.import_module("kernelscale.plots")
        return getattr(plots, self.PLOT)(self, path)
