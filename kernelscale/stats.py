"""The verdict statistics, in one place: how far a prediction is from a measurement, in combined sigma, and whether
they agree.

Both sides are :class:`~kernelscale.estimates.Estimate` s with 95% intervals. The combined sigma is
``sqrt(hp^2 + hm^2) / 1.96``, hp and hm the half-widths of the two intervals on the sides that face each other (the
predicted interval's lower half when the prediction is above the measurement, and the measured interval's upper
half); they "agree" when the gap is at most 1.96 combined sigma, i.e. ``|p - m| <= sqrt(hp^2 + hm^2)``.
"""

from __future__ import annotations

import math

from .estimates import Estimate, Verdict

Z95 = 1.959963984540054  # a 95% interval's half-width in standard deviations


def gap_sigma(predicted: Estimate | None, measured: Estimate | None) -> float | None:
    """``|p - m| / sigma`` with ``sigma = sqrt(hp^2 + hm^2) / 1.96`` (module docstring); None when either side or its
    interval is missing (inf for two exact, different values)."""
    if predicted is None or measured is None or predicted.ci is None or measured.ci is None:
        return None
    p, m = predicted.value, measured.value
    if p >= m:
        spread = math.hypot(p - predicted.ci[0], measured.ci[1] - m)
    else:
        spread = math.hypot(predicted.ci[1] - p, m - measured.ci[0])
    gap = abs(p - m)
    return gap / (spread / Z95) if spread > 0 else (0.0 if gap == 0 else math.inf)


def verdict(predicted: Estimate | None, measured: Estimate | None) -> Verdict:
    """:attr:`Verdict.AGREE` when the gap is at most 1.96 combined sigma (:func:`gap_sigma`), ``DISAGREE``
    otherwise, ``NOT_AVAILABLE`` when either side is missing."""
    sigma = gap_sigma(predicted, measured)
    if sigma is None:
        return Verdict.NOT_AVAILABLE
    return Verdict.AGREE if sigma <= Z95 * (1 + 1e-12) else Verdict.DISAGREE


def log_estimate(estimate: Estimate) -> Estimate:
    """The estimate of a positive quantity in log space (losses are compared on log scale)."""
    return Estimate(math.log(estimate.value), None if estimate.ci is None else
                    (math.log(estimate.ci[0]), math.log(estimate.ci[1])))
