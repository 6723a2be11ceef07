"""``predict``: architecture + data sample -> kernel -> spectrum -> fits -> :class:`Prediction`."""

from __future__ import annotations

import time
from collections.abc import Callable

from .architectures import Architecture, as_architecture
from .data import Dataset, load_dataset, sample_gp_target
from .errors import DataError
from .fit import MIN_INDEX, WINDOW_RATIO, TailFit, fit_tail_exponent
from .kernels import KINDS, compute_kernel
from .results import Prediction
from .spectrum import eigendecompose, spectrum
from .theory import task_aware_exponent, task_aware_interval

# The fit needs a usable range of at least MIN_INDEX * WINDOW_RATIO^2 indices on half-samples; usable ranges end
# near n/4 on smooth spectra, so smaller samples cannot give an exponent with an uncertainty.
MIN_SAMPLES = int(8 * MIN_INDEX * WINDOW_RATIO**2)


def _recommend(kernel_fit: TailFit, target_fit: TailFit | None, has_target: bool) -> tuple[str, str]:
    if not has_target:
        return "kernel-only", ("no target in this data: the duality alpha_D = alpha_K assumes the target has "
                               "equal weight on every eigen-direction (a = b).")
    if target_fit is None or not target_fit.ok:
        reason = target_fit.message if target_fit is not None else "no target fit."
        return "kernel-only", f"the target's decay could not be fitted ({reason}); falling back to the duality."
    if not kernel_fit.ok:
        return "task-aware", "the kernel exponent could not be fitted; the target decay alone bounds alpha_D."
    assert kernel_fit.ci is not None and target_fit.ci is not None
    overlap = kernel_fit.ci[0] <= target_fit.ci[1] and target_fit.ci[0] <= kernel_fit.ci[1]
    detail = (f"the target tail decays with a - 1 = {target_fit.exponent:.3f} against alpha_K = "
              f"{kernel_fit.exponent:.3f}")
    if overlap:
        return "task-aware", detail + ": the target is spread about evenly (a ~ b), so both estimates agree."
    return "task-aware", (detail + ": the target is not spread evenly over the eigen-directions, so the "
                          "kernel-only duality estimate would mislead; min(a - 1, 2b) follows the target.")


def predict(
    arch: str | Architecture | tuple,
    data: str | Dataset,
    *,
    n_samples: int = 2000,
    kernel: str = "ntk",
    seed: int = 0,
    device: str | None = None,
    use_cache: bool = True,
    n_halves: int = 2,
    progress: Callable[[str, int, int], None] | None = None,
) -> Prediction:
    """Predict alpha_K, alpha_D and alpha_W of ``arch`` on ``n_samples`` points of ``data``, without training.

    Args:
      arch: spec string (``"fc:depth=3,act=relu"``), :class:`Architecture`, or a neural-tangents stax triple.
      data: data spec string (``"digits"``, ``"sphere:dim=4,target=gp"``...) or a :class:`Dataset`
        (its own size is used; ``n_samples`` is ignored).
      n_samples: sample size n; the kernel is (n, n).
      kernel: ``"ntk"`` (trained network) or ``"nngp"`` (random features / Bayesian network).
      seed: seed of the sample, of GP targets and of the half-samples.
      device: ``"cpu"``, ``"gpu"`` or None (JAX's default device) for the kernel.
      use_cache: reuse kernels cached on disk.
      n_halves: half-samples for the finite-n correction and the resampling uncertainty (>= 1).
      progress: called as ``progress(stage, done, total)``.

    Returns:
      :class:`Prediction`; exponents are None (with ``status`` and ``message``) when a fit fails.
    """
    start = time.perf_counter()
    arch = as_architecture(arch)
    if kernel not in KINDS:
        raise DataError(f"kernel must be one of {', '.join(KINDS)}; got {kernel!r}.")
    if n_halves < 1:
        raise DataError(f"n_halves must be >= 1 (the finite-n correction needs a half-sample); got {n_halves}.")
    if isinstance(data, Dataset):
        dataset = data
    else:
        if not isinstance(n_samples, int) or n_samples < MIN_SAMPLES:
            raise DataError(f"n={n_samples!r} is too small: fitting a spectrum with an uncertainty needs "
                            f"n >= {MIN_SAMPLES}.")
        dataset = load_dataset(data, n_samples=n_samples, seed=seed, input_kind=arch.input_kind)
    if dataset.n < MIN_SAMPLES:
        raise DataError(f"the dataset has {dataset.n} points; fitting a spectrum needs n >= {MIN_SAMPLES}.")
    kernel_progress = (lambda done, total: progress("kernel", done, total)) if progress else None
    matrix = compute_kernel(arch, dataset.x, kind=kernel, device=device, use_cache=use_cache,
                            progress=kernel_progress)
    eigh_start = time.perf_counter()
    if progress:
        progress("eigendecomposition", 0, 1)
    decomposition = eigendecompose(matrix.matrix)
    y = dataset.y
    if dataset.metadata.get("target") == "gp":
        y = sample_gp_target(*decomposition, seed=seed)
    spec = spectrum(matrix.matrix, y, n_halves=n_halves, seed=seed, decomposition=decomposition)
    eigh_seconds = time.perf_counter() - eigh_start
    if progress:
        progress("eigendecomposition", 1, 1)
    kernel_fit = fit_tail_exponent(spec.eigenvalues, spec.half_eigenvalues, noise_floor=spec.noise_floor,
                                   what="eigenvalue")
    target_fit = None
    if y is not None:
        target_fit = fit_tail_exponent(spec.target_powers, spec.half_target_powers, what="target",
                                       extrapolate=False)
    basis, recommendation = _recommend(kernel_fit, target_fit, y is not None)

    alpha_K, alpha_K_ci = kernel_fit.exponent, kernel_fit.ci
    task, task_ci = None, None
    if target_fit is not None and target_fit.ok and kernel_fit.ok:
        task = task_aware_exponent(alpha_K, target_fit.exponent)
        task_ci = task_aware_interval(alpha_K_ci, target_fit.ci)
    elif target_fit is not None and target_fit.ok:
        task, task_ci = target_fit.exponent, target_fit.ci
    alpha_D, alpha_D_ci = (task, task_ci) if basis == "task-aware" else (alpha_K, alpha_K_ci)
    target_ok = target_fit is not None and target_fit.ok
    return Prediction(
        arch=arch.spec, data=dataset.name, kernel=kernel, n=dataset.n, seed=seed,
        alpha_K=alpha_K, alpha_K_ci=alpha_K_ci,
        target_decay=target_fit.exponent + 1 if target_ok else None,
        target_decay_ci=(target_fit.ci[0] + 1, target_fit.ci[1] + 1) if target_ok else None,
        alpha_D_kernel_only=alpha_K, alpha_D_kernel_only_ci=alpha_K_ci,
        alpha_D_task_aware=task, alpha_D_task_aware_ci=task_ci,
        alpha_D=alpha_D, alpha_D_ci=alpha_D_ci, alpha_D_basis=basis,
        alpha_W=alpha_D, alpha_W_ci=alpha_D_ci, recommendation=recommendation,
        fit_window=kernel_fit.window, kernel_fit=kernel_fit, target_fit=target_fit,
        status=kernel_fit.status, message=kernel_fit.message,
        device=matrix.device, seconds=time.perf_counter() - start, kernel_seconds=matrix.seconds,
        eigh_seconds=eigh_seconds, from_cache=matrix.from_cache, spectrum=spec,
    )
