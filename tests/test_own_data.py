"""A researcher's own arrays and network (#25, item 2): image arrays work by their shape; an FC network gets them
flattened (the same kernel as flat arrays); a convolutional network given flat inputs gets a kernelscale error that
says what to pass."""

import numpy as np
import pytest
from helpers import moons

import kernelscale as ks
from kernelscale import stax


@pytest.fixture(scope="module")
def digit_images():
    data = ks.load_dataset("digits", n_samples=600, seed=0, input_kind="image")
    return data.x, data.y.argmax(axis=1)


def test_image_arrays_are_images_by_their_shape(digit_images):
    x, labels = digit_images
    images = ks.dataset_from_arrays(x, labels)
    assert images.is_image and images.x.shape == (600, 8, 8, 1)
    flat = ks.dataset_from_arrays(x.reshape(600, -1), labels)
    assert not flat.is_image
    grey = ks.dataset_from_arrays(x[..., 0], labels, input_kind="image")
    assert grey.is_image and np.allclose(grey.x, images.x, rtol=1e-12, atol=1e-12)
    cnn = ks.compute_kernel("cnn:depth=1,width=8", images.x[:40], use_cache=False)
    network = ks.from_stax(stax.serial(stax.Conv(8, (3, 3), padding="SAME"), stax.Relu(), stax.Flatten(),
                                       stax.Dense(1)))
    assert network.input_kind == "auto"
    assert ks.compute_kernel(network, images.x[:40], use_cache=False).matrix.shape == (40, 40)
    assert cnn.matrix.shape == (40, 40)


def test_a_fully_connected_network_gets_image_arrays_flattened(digit_images):
    x, labels = digit_images
    on_images = ks.predict("fc:depth=2", ks.dataset_from_arrays(x, labels), intrinsic=False, use_cache=False)
    on_flat = ks.predict("fc:depth=2", ks.dataset_from_arrays(x.reshape(600, -1), labels), intrinsic=False,
                         use_cache=False)
    assert on_images.alpha_K == on_flat.alpha_K and on_images.alpha_D == on_flat.alpha_D


def test_flat_inputs_to_a_convolutional_network_say_what_to_pass(digit_images):
    x, labels = digit_images
    flat = ks.dataset_from_arrays(x.reshape(600, -1), labels)
    with pytest.raises(ks.DataError, match=r"needs image inputs of shape \(n, H, W, C\).*x.reshape\(-1, H, W, C\)"):
        ks.predict("cnn:depth=1,width=8", flat)
    network = ks.from_stax(stax.serial(stax.Conv(8, (3, 3), padding="SAME"), stax.Relu(), stax.Flatten(),
                                       stax.Dense(1)), input_kind="flat")
    with pytest.raises(ks.KernelError, match=r"could not be computed on inputs of shape \(64,\).*\(n, H, W, C\)"):
        ks.compute_kernel(network, flat.x[:40], use_cache=False)


def test_an_edited_network_under_the_same_name_never_reads_the_old_kernel():
    """#25 (item 3): the notebook workflow, edit a cell and rerun under the same name. The cache key holds a fingerprint
    of the network (its kernels on fixed probe points), not only its name."""
    x = ks.load_dataset("sphere:dim=3", n_samples=60, seed=0).x
    erf = ks.from_stax(stax.serial(stax.Dense(64, W_std=1.5, b_std=0.1), stax.Erf(), stax.Dense(1, W_std=1.5)),
                       name="mynet")
    relu = ks.from_stax(stax.serial(stax.Dense(64, W_std=1.5, b_std=0.1), stax.Relu(), stax.Dense(1, W_std=1.5)),
                        name="mynet")
    first = ks.compute_kernel(erf, x)
    edited = ks.compute_kernel(relu, x)
    assert not first.from_cache and not edited.from_cache
    assert not np.allclose(first.matrix, edited.matrix)
    again = ks.compute_kernel(ks.from_stax(stax.serial(stax.Dense(64, W_std=1.5, b_std=0.1), stax.Erf(),
                                                       stax.Dense(1, W_std=1.5)), name="mynet"), x)
    assert again.from_cache and np.array_equal(again.matrix, first.matrix)  # the same network still hits the cache


def test_messages_about_a_users_network_name_the_argument_that_fixes_them():
    """#25 item 10: compare and measure with a stax network say which argument runs what a kernel alone gives; the
    argument they name works."""
    net = ks.from_stax(stax.serial(stax.Dense(64, W_std=1.5, b_std=0.1), stax.Relu(), stax.Dense(1, W_std=1.5)),
                       input_kind="flat")
    with pytest.raises(ks.DataError, match="pass width=False"):
        ks.compare(net, "digits", n_samples=600)
    with pytest.raises(ks.DataError, match=r"Pass regimes=\('data',\)"):
        ks.measure(net, "digits", n_samples=600, regimes=("data", "width"))
    c = ks.compare(net, "digits", n_samples=600, repeats=2, width=False)
    assert [row.quantity for row in c.rows] == ["alpha_D"] * 3


def test_the_smaller_problems_of_item_12(tmp_path, monkeypatch):
    """#25 (item 12): a folder as the npz path, --n-eigs with the full eigensolver, a missing loss-model option, and a
    GPU asked for on a machine without one each get their own clear error, before anything is computed."""
    import importlib

    from typer.testing import CliRunner

    from kernelscale.cli import app

    with pytest.raises(ks.DataError, match="is a folder; path= names the .npz file itself"):
        ks.load_dataset(f"npz:path={tmp_path}", n_samples=None)
    with pytest.raises(ks.ParameterError, match="n_eigs=300 is for the top-k eigensolver"):
        ks.predict("fc", "digits", n_samples=600, eigensolver="full", n_eigs=300)
    result = CliRunner().invoke(app, ["allocate", "--compute", "1e20", "--A", "1", "--alpha", "0.3", "--beta", "0.3"])
    assert result.exit_code == 2 and result.output.startswith("Error: --B: the loss model needs --A, --B")
    if not any(d.platform == "gpu" for d in __import__("jax").devices()):
        data = importlib.import_module("kernelscale.data")
        monkeypatch.setattr(data, "load_dataset", lambda *a, **k: pytest.fail("loaded before the device check"))
        with pytest.raises(ks.KernelError, match="no GPU"):
            ks.predict("fc", "digits", n_samples=600, device="gpu")


def test_kernelscale_cache_shows_and_clears_the_cache():
    """#25 (item 12): `kernelscale cache` says what the cache holds; --clear-partial removes what interrupted
    computations left, --clear everything kernelscale wrote there."""
    from typer.testing import CliRunner

    from kernelscale.cache import cache_dir
    from kernelscale.cli import app

    runner = CliRunner()
    ks.compute_kernel("fc:depth=2", ks.load_dataset("sphere:dim=3", n_samples=50).x)
    partial = cache_dir() / "kernel-0123.partial-b100"
    partial.mkdir()
    (partial / "block-0-0.npy").write_bytes(b"x" * 1000)
    (cache_dir() / "notes.txt").write_text("mine")
    shown = runner.invoke(app, ["cache"])
    assert shown.exit_code == 0 and "1 kernel(s)" in shown.stdout and "1 partial folder(s)" in shown.stdout
    assert "1 block file(s)" in shown.stdout
    cleared = runner.invoke(app, ["cache", "--clear-partial"])
    assert "1 kernel(s)" in cleared.stdout and "0 partial folder(s)" in cleared.stdout and not partial.exists()
    cleared = runner.invoke(app, ["cache", "--clear"])
    assert "0 kernel(s)" in cleared.stdout and sorted(p.name for p in cache_dir().iterdir()) == ["notes.txt"]


def test_preprocessing_keeps_the_radius_of_low_dimensional_inputs_and_says_what_ran():
    """#25 (item 1): scaling each 2-D point to |x|^2 = F keeps only its angle (alpha_D 0.12 against 1.17 measured here
    with the radius kept); normalize=auto scales low-dimensional inputs by one factor instead, each point per point
    only from 16 features on (digits: unchanged) or when the norms are equal anyway (the sphere: unchanged)."""
    from rich.console import Console

    from kernelscale.report import print_prediction

    x, y = moons(1000)
    auto = ks.dataset_from_arrays(x, y)
    assert "one factor" in auto.metadata["preprocessing"]
    norms = np.linalg.norm(auto.x, axis=1)
    assert np.mean(norms**2) == pytest.approx(2.0, rel=1e-12) and np.ptp(norms) > 0.5  # radii kept
    point = ks.dataset_from_arrays(x, y, normalize=True)
    assert np.allclose(np.linalg.norm(point.x, axis=1), np.sqrt(2.0), rtol=1e-12)
    kept = ks.predict("fc:depth=3", auto, intrinsic=False)
    angles = ks.predict("fc:depth=3", point, intrinsic=False)
    assert kept.alpha_D.value > 1.0 and angles.alpha_D.value < 0.3
    # neither target's decay is a power law, so neither curve bends toward the kernel-only alpha_K (for the angles
    # alone, whose labels the angle does not fix, that would read 0.71 at 10 n)
    assert not angles.target_fit.ok and angles.learning_curve.continuation_law == "constant"
    assert "each point scaled" in ks.load_dataset("digits", n_samples=600).metadata["preprocessing"]
    assert "each point scaled" in ks.load_dataset("sphere:dim=3", n_samples=600).metadata["preprocessing"]
    console = Console(width=80, record=True)
    with console.capture() as captured:
        print_prediction(kept, console)
    assert "preprocessing: centred per feature; all points scaled by one factor" in " ".join(captured.get().split())
    with pytest.raises(ks.SpecError, match="normalize='maybe'; valid: auto, true, false"):
        ks.load_dataset("digits:normalize=maybe", n_samples=600)
