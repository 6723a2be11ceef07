import gzip
import pickle

import numpy as np
import pytest

from helpers import tol
from kernelscale import DataError, SpecError, dataset_from_arrays, load_dataset
from kernelscale.data import load_sample, read_idx


def test_sphere_points_are_normalized_to_the_fan_in_sphere():
    data = load_dataset("sphere:dim=5", n_samples=50, seed=3)
    assert data.x.shape == (50, 5) and data.y is None
    np.testing.assert_allclose(np.sum(data.x**2, axis=1), 5.0, **tol())
    again = load_dataset("sphere:dim=5", n_samples=50, seed=3)
    np.testing.assert_array_equal(data.x, again.x)  # same seed -> same sample


def test_digits_and_mnist5k_are_real_built_in_data():
    digits = load_dataset("digits", n_samples=300, seed=0, input_kind="image")
    assert digits.x.shape == (300, 8, 8, 1) and digits.y.shape == (300, 10)
    np.testing.assert_allclose(digits.y.sum(axis=1), 1.0, **tol())
    flat = load_dataset("digits", n_samples=300, seed=0)
    assert flat.x.shape == (300, 64)
    mnist = load_dataset("mnist5k", n_samples=200, seed=0)
    assert mnist.x.shape == (200, 784) and mnist.metadata["classes"] == 10


def test_centring_happens_before_normalizing():
    x = np.random.default_rng(0).random((40, 6)) + 3.0
    data = dataset_from_arrays(x, None, center=True, normalize=True)
    np.testing.assert_allclose(np.sum(data.x**2, axis=1), 6.0, **tol())
    centred = x - x.mean(0)
    np.testing.assert_allclose(data.x, centred * np.sqrt(6) / np.linalg.norm(centred, axis=1, keepdims=True), **tol())


def test_npz_with_integer_labels_and_real_targets(tmp_path, rng):
    path = tmp_path / "d.npz"
    np.savez(path, x=rng.standard_normal((30, 4)), y=rng.integers(0, 3, 30))
    data = load_dataset(f"npz:path={path}", n_samples=20)
    assert data.y.shape == (20, 3)
    np.savez(path, x=rng.standard_normal((30, 4)), y=rng.standard_normal(30))
    assert load_dataset(f"npz:path={path}", n_samples=20).y.shape == (20, 1)


def _write_cifar(folder, names, labels_key, classes):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in names:
        batch = {b"data": rng.integers(0, 256, (12, 3072), dtype=np.uint8),
                 labels_key: list(rng.integers(0, classes, 12))}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)


def test_cifar10_python_pickles(tmp_path):
    _write_cifar(tmp_path / "cifar-10-batches-py", ["data_batch_1", "data_batch_2", "test_batch"], b"labels", 10)
    data = load_dataset(f"cifar10:root={tmp_path}", n_samples=20, input_kind="image")
    assert data.x.shape == (20, 32, 32, 3) and data.y.shape == (20, 10)
    test = load_dataset(f"cifar10:root={tmp_path},split=test", n_samples=12)
    assert test.x.shape == (12, 3072)


def test_cifar100_coarse_and_fine_labels(tmp_path):
    folder = tmp_path / "c100"
    folder.mkdir()
    rng = np.random.default_rng(1)
    batch = {b"data": rng.integers(0, 256, (10, 3072), dtype=np.uint8), b"fine_labels": list(range(10)),
             b"coarse_labels": [i % 4 for i in range(10)]}
    with open(folder / "train", "wb") as f:
        pickle.dump(batch, f)
    coarse = load_dataset(f"cifar100:root={folder},label=coarse", n_samples=10)
    fine = load_dataset(f"cifar100:root={folder},label=fine", n_samples=10)
    assert coarse.y.shape == (10, 20) and fine.y.shape == (10, 100)


def _write_idx(path, array, code):
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as f:
        f.write(header + array.astype(">u1").tobytes())


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_idx_files(tmp_path, name):
    rng = np.random.default_rng(0)
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (15, 28, 28)), 0x08)
    _write_idx(tmp_path / "train-labels-idx1-ubyte", rng.integers(0, 10, 15), 0x08)
    data = load_dataset(f"{name}:root={tmp_path}", n_samples=15, input_kind="image")
    assert data.x.shape == (15, 28, 28, 1)
    np.testing.assert_array_equal(read_idx(tmp_path / "train-labels-idx1-ubyte").shape, (15,))


def test_malformed_idx_file_is_reported(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x01\x02\x03")
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + (5).to_bytes(4, "big") + b"\x01" * 5)
    with pytest.raises(DataError, match="not an IDX file"):
        load_dataset(f"mnist:root={tmp_path}", n_samples=2)


@pytest.mark.parametrize("spec, error, match", [
    ("imagenet", SpecError, "valid names: .*digits"),
    ("sphere:dimension=3", SpecError, "valid options: .*dim"),
    ("sphere:dim=three", SpecError, "not an integer"),
    ("sphere:dim", SpecError, "key=value"),
    ("npz", SpecError, "path=FILE"),
    ("npz:path=/nonexistent/file.npz", DataError, "does not exist"),
    ("cifar10", SpecError, "root=DIR"),
    ("cifar10:root=/nonexistent", DataError, "not a folder"),
])
def test_bad_data_specs(spec, error, match):
    with pytest.raises(error, match=match):
        load_dataset(spec, n_samples=10)


def test_sample_larger_than_dataset():
    with pytest.raises(DataError, match="use n <= 1797"):
        load_dataset("digits", n_samples=5000)


def test_nan_and_wrong_shapes_are_reported(tmp_path):
    x = np.ones((10, 3)); x[2, 1] = np.nan
    path = tmp_path / "nan.npz"
    np.savez(path, x=x, y=np.arange(10))
    with pytest.raises(DataError, match="NaN or infinite"):
        load_dataset(f"npz:path={path}", n_samples=5 * 2)
    np.savez(path, x=np.ones((10, 3)), y=np.arange(7))
    with pytest.raises(DataError, match="shape"):
        load_dataset(f"npz:path={path}", n_samples=5)
    np.savez(path, inputs=np.ones((10, 3)))
    with pytest.raises(DataError, match="lacks array"):
        load_dataset(f"npz:path={path}", n_samples=5)
    (tmp_path / "bad.npz").write_text("not a zip")
    with pytest.raises(DataError, match="is not a .npz archive"):
        load_dataset(f"npz:path={tmp_path / 'bad.npz'}", n_samples=5)


def test_convolutional_architecture_needs_image_data():
    with pytest.raises(DataError, match="no image shape"):
        load_dataset("sphere:dim=3", n_samples=10, input_kind="image")


def test_teacher_manifold_has_real_targets():
    data = load_dataset("teacher:dim=2,embed=16,noise=0.1", n_samples=64, seed=0)
    assert data.x.shape == (64, 16) and data.y.shape == (64, 1)
    assert np.all(np.isfinite(data.y)) and data.y.std() > 0


class _RunsCode:
    def __reduce__(self):
        return (print, ("a pickle ran code",))


def _bad_files(tmp_path):
    """(spec, file to corrupt, its bytes or None to leave, message) for each way a file can be wrong."""
    import io
    import zipfile

    npz = tmp_path / "npz"
    npz.mkdir()
    good = io.BytesIO()
    np.savez(good, x=np.ones((6, 2)), y=np.arange(6))
    objects = io.BytesIO()
    np.savez(objects, x=np.array([[1, "a"]] * 6, dtype=object), y=np.arange(6))
    cases = [
        ("npz", b"not a zip at all", "starts with b'not '"),
        ("npz", pickle.dumps({"x": np.ones((6, 2)), "y": np.arange(6)}), "instead of a zip header"),
        ("npz", good.getvalue()[:60], "may be truncated"),
        ("npz", objects.getvalue(), "stored as Python objects"),
    ]
    out = []
    for i, (kind, payload, message) in enumerate(cases):
        path = npz / f"bad{i}.npz"
        path.write_bytes(payload)
        out.append((f"npz:path={path}", message))
    with zipfile.ZipFile(npz / "empty.npz", "w"):
        pass
    out.append((f"npz:path={npz / 'empty.npz'}", "lacks array"))
    cifar = tmp_path / "cifar"
    for name, payload, message in (
            ("keys", pickle.dumps({b"pixels": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]}), "no 'data' entry"),
            ("labels", pickle.dumps({b"data": np.zeros((2, 3072), np.uint8)}), "no 'labels' entry"),
            ("text", b"this is not a pickle", "is not a CIFAR python batch"),
            ("code", pickle.dumps({b"data": _RunsCode()}), "refers to builtins.print"),
            ("list", pickle.dumps([1, 2]), "holds a list")):
        folder = cifar / name / "cifar-10-batches-py"
        folder.mkdir(parents=True)
        (folder / "data_batch_1").write_bytes(payload)
        out.append((f"cifar10:root={cifar / name}", message))
    idx = tmp_path / "idx"
    for name, payload, message in (("magic", b"\x00\x01\x08\x01" + (3).to_bytes(4, "big") + b"abc", "magic number"),
                                   ("short", b"\x00\x00\x08\x03\x00\x00", "truncated IDX header")):
        folder = idx / name
        folder.mkdir(parents=True)
        (folder / "train-images-idx3-ubyte").write_bytes(payload)
        (folder / "train-labels-idx1-ubyte").write_bytes(payload)
        out.append((f"mnist:root={folder}", message))
    folder = idx / "gz"
    folder.mkdir(parents=True)
    _write_idx(folder / "train-images-idx3-ubyte.gz", np.zeros((3, 28, 28)), 0x08)
    truncated = (folder / "train-images-idx3-ubyte.gz").read_bytes()[:20]
    (folder / "train-images-idx3-ubyte.gz").write_bytes(truncated)
    out.append((f"mnist:root={folder}", "could not read"))
    return out


def test_files_that_are_not_what_their_spec_says_get_kernelscale_errors(tmp_path, capsys):
    """Each error names the file and the format expected, never numpy's advice to unpickle; a CIFAR batch that
    refers to a function is refused before anything in it runs."""
    for spec, message in _bad_files(tmp_path):
        with pytest.raises(DataError) as info:
            load_dataset(spec, n_samples=2)
        text = str(info.value)
        assert message in text and "allow_pickle" not in text, (spec, text)
        assert str(tmp_path) in text, (spec, text)
    assert "a pickle ran code" not in capsys.readouterr().out


def test_digits_are_scikit_learns_without_importing_it():
    from sklearn.datasets import load_digits

    from kernelscale.data import _load_digits

    raw, bunch = _load_digits({}), load_digits()
    np.testing.assert_array_equal(raw.x[..., 0], bunch.images / 16.0)
    np.testing.assert_array_equal(raw.y, bunch.target)


def test_default_n_is_capped_by_the_data_with_a_note_and_too_large_an_n_is_an_error_on_every_path():
    import kernelscale as ks

    data = load_dataset("digits", n_samples=None)
    assert data.n == 1797 and "fewer than the default 2000" in data.metadata["notes"][0]
    assert load_dataset("sphere:dim=3", n_samples=None).n == 2000 and not load_dataset("sphere:dim=3",
                                                                                      n_samples=None).metadata["notes"]
    x = np.random.default_rng(0).standard_normal((700, 4))
    arrays = ks.dataset_from_arrays(x, (x[:, 0] > 0).astype(int))
    for data_given in ("digits", arrays):
        with pytest.raises(DataError, match="is larger than the dataset"):
            load_sample(data_given, n_samples=5000, seed=0)
    drawn = load_sample(arrays, n_samples=600, seed=3)
    again = load_sample(arrays, n_samples=600, seed=3)
    assert drawn.n == 600 and np.array_equal(drawn.x, again.x) and "drawn with seed 3" in drawn.metadata["notes"][-1]
    assert load_sample(arrays, n_samples=None, seed=0) is arrays
