"""The value types every stage returns: :class:`Estimate` (a number and its 95% interval) and the enumerations of
statuses, verdicts and bases, each member carrying the message that explains it.

The enumerations are string enumerations: a member equals its string value (``FitStatus.OK == "ok"``) and is
written to JSON as that string.
"""

from __future__ import annotations

import dataclasses
import enum


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A number with its 95% interval ``ci = (low, high)`` (None when no interval could be given).

    In JSON a field ``x`` holding an Estimate is written as ``"x": value`` and ``"x_ci": [low, high]``.
    """

    value: float
    ci: tuple[float, float] | None = None

    def __post_init__(self):
        object.__setattr__(self, "value", float(self.value))
        if self.ci is not None:
            object.__setattr__(self, "ci", (float(self.ci[0]), float(self.ci[1])))

    @property
    def low(self) -> float | None:
        return None if self.ci is None else self.ci[0]

    @property
    def high(self) -> float | None:
        return None if self.ci is None else self.ci[1]

    def contains(self, x: float) -> bool:
        """Whether ``x`` lies in the interval (False without one)."""
        return self.ci is not None and self.ci[0] <= x <= self.ci[1]

    def shifted(self, offset: float) -> Estimate:
        """The same estimate plus ``offset`` (value and both ends)."""
        return Estimate(self.value + offset, None if self.ci is None else (self.ci[0] + offset, self.ci[1] + offset))


class Described(enum.StrEnum):
    """A string enumeration whose members carry a ``meaning``: ``NAME = ("value", "what it means")``."""

    def __new__(cls, value: str, meaning: str = ""):
        member = str.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member


class FitStatus(Described):
    """Status of a spectrum's tail fit (:func:`kernelscale.fit.fit_tail_exponent`)."""

    OK = ("ok", "the tail is a power law and its local exponent has settled within the tolerance")
    NOT_CONVERGED = ("not_converged", "the local exponent still moves at the largest reliable index: the interval "
                                      "is widened in the direction of the drift; a larger n narrows it")
    NOT_POWER_LAW = ("not_power_law", "the local exponents over the usable range differ by more than a factor 3: "
                                      "no exponent is reported")
    TOO_FEW_EIGENVALUES = ("too_few_eigenvalues", "too few indices are above the noise floor with a trusted "
                                                  "finite-n correction: no exponent is reported")

    @classmethod
    def worst(cls, statuses) -> FitStatus:
        """The most severe of ``statuses`` (ok < not_converged < no exponent), in declaration order."""
        order = list(cls)
        return max(statuses, key=order.index)


class CurveStatus(Described):
    """Status of a measured curve's power-law fit (:func:`kernelscale.fit.fit_curve`)."""

    OK = ("ok", "one power law over the measured range")
    NOT_POSITIVE = ("not_positive", "the loss (gap) is not positive everywhere: noise dominates somewhere")
    FLATTENS = ("flattens", "the local exponent of the upper half is below half that of the lower half: something "
                            "else limits the loss at the upper end")
    OUTLIER = ("outlier", "one repeat dominates the mean at some x: the exponent follows that one draw")


class Verdict(Described):
    """Predicted against measured (:func:`kernelscale.stats.verdict`)."""

    AGREE = ("agree", "the gap is at most 1.96 combined sigma (the facing 95% half-widths in quadrature)")
    DISAGREE = ("disagree", "the gap is more than 1.96 combined sigma")
    NOT_AVAILABLE = ("n/a", "one side is missing")


class Basis(Described):
    """What a recommended exponent rests on."""

    LEARNING_CURVE = ("learning-curve", "the local exponent of the predicted curve (L(D) for alpha_D, L(P) for "
                                        "alpha_W) at the size asked for")
    TASK_AWARE = ("task-aware", "the asymptote of the target's and the kernel's decays: min(a - 1, 2b) for alpha_D, "
                                "min(a - 1, b) for alpha_W")
    KERNEL_ONLY = ("kernel-only", "the duality asymptote alpha_K, which assumes the target weighs every "
                                  "eigen-direction equally")
