"""Exceptions raised by kernelscale. Each message says what was wrong and what to do."""

from __future__ import annotations


class KernelscaleError(Exception):
    """Base class: every error kernelscale raises on purpose derives from it."""


class SpecError(KernelscaleError, ValueError):
    """A malformed or unknown architecture or data spec string."""


class DataError(KernelscaleError, ValueError):
    """Missing, malformed or non-finite data, or a sample size the dataset cannot supply."""


class KernelError(KernelscaleError, ValueError):
    """A kernel matrix that is not finite, not symmetric or not positive semi-definite."""


class MemoryPlanError(KernelscaleError, MemoryError):
    """The requested computation will not fit in the memory available; raised before allocating."""



class ParameterError(DataError):
    """A function argument or command-line option outside its allowed values or range
    (:mod:`kernelscale.options`)."""


class SpectrumError(KernelscaleError, ValueError):
    """A spectrum or target the theory cannot use: mismatched shapes, or too few positive eigenvalues for the sizes
    or feature counts asked for."""
