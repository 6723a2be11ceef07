"""kernelscale: predict neural scaling exponents from infinite-width kernel spectra, without training."""

import importlib.metadata as _metadata

from . import _compat as _compat  # neural-tangents on current JAX, float64: before anything touches JAX
from .allocation import Allocation as Allocation
from .allocation import CostModel as CostModel
from .allocation import LossModel as LossModel
from .allocation import LossModelFit as LossModelFit
from .allocation import allocate as allocate
from .allocation import fit_loss_model as fit_loss_model
from .api import measure as measure
from .api import measure_loss_surface as measure_loss_surface
from .intrinsic import IntrinsicDimension as IntrinsicDimension
from .intrinsic import intrinsic_dimension as intrinsic_dimension
from .api import predict as predict
from .compare import compare as compare
from .curves import PredictedCurve as PredictedCurve
from .curves import predict_curve as predict_curve
from .pool import PoolComparison as PoolComparison
from .pool import compare_pool as compare_pool
from .architectures import Architecture as Architecture
from .architectures import from_stax as from_stax
from .architectures import parse_architecture as parse_architecture
from .data import Dataset as Dataset
from .data import dataset_from_arrays as dataset_from_arrays
from .data import load_dataset as load_dataset
from .errors import DataError as DataError
from .errors import KernelError as KernelError
from .errors import KernelscaleError as KernelscaleError
from .errors import MemoryPlanError as MemoryPlanError
from .errors import SpecError as SpecError
from .fit import CurveFit as CurveFit
from .fit import PowerLawFit as PowerLawFit
from .fit import fit_curve as fit_curve
from .fit import TailFit as TailFit
from .fit import fit_power_law as fit_power_law
from .fit import fit_tail_exponent as fit_tail_exponent
from .kernels import KernelMatrix as KernelMatrix
from .kernels import compute_kernel as compute_kernel
from .kernels import compute_kernel_share as compute_kernel_share
from .kernels import plan_memory as plan_memory
from .results import Comparison as Comparison
from .results import ComparisonRow as ComparisonRow
from .results import Curve as Curve
from .results import Measurement as Measurement
from .results import Prediction as Prediction
from .results import Sweep as Sweep
from .results import SweepPoint as SweepPoint
from .spectrum import Spectrum as Spectrum
from .spectrum import eigendecompose as eigendecompose
from .spectrum import eigenvalues_and_powers as eigenvalues_and_powers
from .spectrum import eigenvalues_and_projections as eigenvalues_and_projections
from .spectrum import spectrum as spectrum
from .sweep import sweep as sweep
from .theory import TheoryCurve as TheoryCurve
from .theory import WidthCurve as WidthCurve
from .theory import PoolExtrapolation as PoolExtrapolation
from .theory import eigenlearning_curve as eigenlearning_curve
from .theory import extrapolate_to_infinite_pool as extrapolate_to_infinite_pool
from .theory import learning_curve as learning_curve
from .theory import random_feature_bias_variance as random_feature_bias_variance
from .theory import random_feature_curve as random_feature_curve
from .theory import width_curve as width_curve
from .training import TrainedNetwork as TrainedNetwork
from .training import TrainingSettings as TrainingSettings
from .training import train_network as train_network

try:
    __version__ = _metadata.version("kernelscale")
except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
