"""kernelscale: predict neural scaling exponents from infinite-width kernel spectra, without training.

The public names below are imported on first use (``kernelscale.predict`` imports the prediction stages, JAX and
neural-tangents then), so ``import kernelscale`` and the command line's option checks stay fast. ``stax`` is
neural-tangents' layer library, made importable on current JAX (:mod:`kernelscale._compat`).
"""

import importlib as _importlib
import importlib.metadata as _metadata
import sys as _sys
import types as _types
from typing import TYPE_CHECKING as _TYPE_CHECKING

# public name -> the module that defines it
_EXPORTS = {
    **dict.fromkeys(("allocate", "fit_loss_model"), "allocation"),
    **dict.fromkeys(("Architecture", "from_stax", "parse_architecture"), "architectures"),
    "compare": "compare",
    "predict_allocation": "compute_optimal",
    **dict.fromkeys(("PredictedCurve", "predict_curve"), "curves"),
    **dict.fromkeys(("Dataset", "dataset_from_arrays", "load_dataset"), "data"),
    **dict.fromkeys(("DataError", "KernelError", "KernelscaleError", "MemoryPlanError", "ParameterError",
                     "SpecError", "SpectrumError"), "errors"),
    **dict.fromkeys(("Basis", "CurveStatus", "Estimate", "FitStatus", "Verdict"), "estimates"),
    **dict.fromkeys(("CurveFit", "PowerLawFit", "TailFit", "fit_curve", "fit_power_law", "fit_tail_exponent"),
                    "fit"),
    **dict.fromkeys(("IntrinsicDimension", "intrinsic_dimension"), "intrinsic"),
    **dict.fromkeys(("KernelMatrix", "compute_kernel"), "kernels"),
    **dict.fromkeys(("MemoryPlan", "plan_memory"), "memory"),
    **dict.fromkeys(("measure", "measure_loss_surface"), "measure"),
    "compare_pool": "pool",
    "predict": "predict",
    "print_result": "report",
    **dict.fromkeys(("Allocation", "Comparison", "ComparisonRow", "CostModel", "Curve", "LossModel", "LossModelFit",
                     "Measurement", "PoolComparison", "PoolRow", "Prediction", "RowKind", "SpectralAllocation", "Sweep",
                     "SweepPoint", "FrontierCheck"),
                    "results"),
    **dict.fromkeys(("EigensolverChoice", "Spectrum", "choose_eigensolver", "eigendecompose",
                     "eigenvalues_and_powers", "eigenvalues_and_projections", "spectrum"), "spectrum"),
    "sweep": "sweep",
    **dict.fromkeys(("PoolExtrapolation", "TheoryCurve", "WidthCurve", "eigenlearning_curve",
                     "extrapolate_to_infinite_pool", "learning_curve", "random_feature_bias_variance",
                     "random_feature_curve", "width_curve"), "theory"),
    **dict.fromkeys(("TrainedNetwork", "TrainingSettings", "train_network"), "training"),
    "stax": "_compat",
}
__all__ = sorted(_EXPORTS)


class _Package(_types.ModuleType):
    """The package module: a submodule imported under a public function's name (``kernelscale.predict``, the module,
    beside ``kernelscale.predict``, the function) does not replace the function as an attribute of the package."""

    def __setattr__(self, name, value):
        if isinstance(value, _types.ModuleType) and _EXPORTS.get(name) == name:
            return
        super().__setattr__(name, value)

    def __getattr__(self, name):
        if name not in _EXPORTS:
            raise AttributeError(f"module 'kernelscale' has no attribute {name!r}")
        value = getattr(_importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        super().__setattr__(name, value)
        return value

    def __dir__(self):
        return sorted({*super().__dir__(), *_EXPORTS})


_sys.modules[__name__].__class__ = _Package

try:
    __version__ = _metadata.version("kernelscale")
except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

if _TYPE_CHECKING:  # the same names, for type checkers and editors
    from ._compat import stax as stax
    from .allocation import allocate as allocate
    from .allocation import fit_loss_model as fit_loss_model
    from .architectures import Architecture as Architecture
    from .architectures import from_stax as from_stax
    from .architectures import parse_architecture as parse_architecture
    from .compare import compare as compare
    from .compute_optimal import predict_allocation as predict_allocation
    from .curves import PredictedCurve as PredictedCurve
    from .curves import predict_curve as predict_curve
    from .data import Dataset as Dataset
    from .data import dataset_from_arrays as dataset_from_arrays
    from .data import load_dataset as load_dataset
    from .errors import DataError as DataError
    from .errors import KernelError as KernelError
    from .errors import KernelscaleError as KernelscaleError
    from .errors import MemoryPlanError as MemoryPlanError
    from .errors import ParameterError as ParameterError
    from .errors import SpecError as SpecError
    from .errors import SpectrumError as SpectrumError
    from .estimates import Basis as Basis
    from .estimates import CurveStatus as CurveStatus
    from .estimates import Estimate as Estimate
    from .estimates import FitStatus as FitStatus
    from .estimates import Verdict as Verdict
    from .fit import CurveFit as CurveFit
    from .fit import PowerLawFit as PowerLawFit
    from .fit import TailFit as TailFit
    from .fit import fit_curve as fit_curve
    from .fit import fit_power_law as fit_power_law
    from .fit import fit_tail_exponent as fit_tail_exponent
    from .intrinsic import IntrinsicDimension as IntrinsicDimension
    from .intrinsic import intrinsic_dimension as intrinsic_dimension
    from .kernels import KernelMatrix as KernelMatrix
    from .kernels import compute_kernel as compute_kernel
    from .memory import MemoryPlan as MemoryPlan
    from .memory import plan_memory as plan_memory
    from .measure import measure as measure
    from .measure import measure_loss_surface as measure_loss_surface
    from .pool import compare_pool as compare_pool
    from .predict import predict as predict
    from .report import print_result as print_result
    from .results import Allocation as Allocation
    from .results import Comparison as Comparison
    from .results import ComparisonRow as ComparisonRow
    from .results import CostModel as CostModel
    from .results import Curve as Curve
    from .results import FrontierCheck as FrontierCheck
    from .results import LossModel as LossModel
    from .results import LossModelFit as LossModelFit
    from .results import Measurement as Measurement
    from .results import PoolComparison as PoolComparison
    from .results import PoolRow as PoolRow
    from .results import Prediction as Prediction
    from .results import RowKind as RowKind
    from .results import SpectralAllocation as SpectralAllocation
    from .results import Sweep as Sweep
    from .results import SweepPoint as SweepPoint
    from .spectrum import EigensolverChoice as EigensolverChoice
    from .spectrum import Spectrum as Spectrum
    from .spectrum import choose_eigensolver as choose_eigensolver
    from .spectrum import eigendecompose as eigendecompose
    from .spectrum import eigenvalues_and_powers as eigenvalues_and_powers
    from .spectrum import eigenvalues_and_projections as eigenvalues_and_projections
    from .spectrum import spectrum as spectrum
    from .sweep import sweep as sweep
    from .theory import PoolExtrapolation as PoolExtrapolation
    from .theory import TheoryCurve as TheoryCurve
    from .theory import WidthCurve as WidthCurve
    from .theory import eigenlearning_curve as eigenlearning_curve
    from .theory import extrapolate_to_infinite_pool as extrapolate_to_infinite_pool
    from .theory import learning_curve as learning_curve
    from .theory import random_feature_bias_variance as random_feature_bias_variance
    from .theory import random_feature_curve as random_feature_curve
    from .theory import width_curve as width_curve
    from .training import TrainedNetwork as TrainedNetwork
    from .training import TrainingSettings as TrainingSettings
    from .training import train_network as train_network
