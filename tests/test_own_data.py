"""A researcher's own arrays and network (#25, item 2): image arrays work by their shape; an FC network gets them
flattened (the same kernel as flat arrays); a convolutional network given flat inputs gets a kernelscale error that
says what to pass."""

import numpy as np
import pytest

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
