"""The memory plan (kernelscale.memory): a pair of points' cost counted from a spec and measured by tracing a user's
stax network agree; blocks are chosen to fit; a run that cannot fit stops before allocating, naming what would."""

import numpy as np
import pytest

import kernelscale as ks
from kernelscale import MemoryPlanError, KernelError, from_stax, parse_architecture, plan_memory, stax
from kernelscale import memory
from kernelscale.kernels import select_device

CPU = select_device("cpu")


@pytest.mark.parametrize("spec", ["cnn:depth=1", "cnn-gap:depth=2", "resnet"])
def test_traced_pair_count_agrees_with_the_architectures_count(spec):
    arch = parse_architecture(spec)
    assert memory.traced_pair_numbers(arch.kernel_fn, (8, 8, 1)) == memory.pair_numbers(arch, (8, 8, 1))


def test_a_users_pooled_network_on_mnist_sized_images_counts_pixel_pairs():
    """The network of the reported out-of-memory kill: Conv -> Relu -> GlobalAvgPool -> Dense on 28 x 28 images
    keeps 784^2 numbers per pair of images; with Flatten instead, 784."""
    pooled = stax.serial(stax.Conv(16, (3, 3), padding="SAME"), stax.Relu(), stax.GlobalAvgPool(), stax.Dense(1))
    flat = stax.serial(stax.Conv(16, (3, 3), padding="SAME"), stax.Relu(), stax.Flatten(), stax.Dense(1))
    assert memory.traced_pair_numbers(pooled[2], (28, 28, 1)) == 784**2
    assert memory.traced_pair_numbers(flat[2], (28, 28, 1)) == 784
    x = np.zeros((600, 28, 28, 1))
    gib = 2**30
    plan = plan_memory(from_stax(pooled), x, device=CPU, host_available=24 * gib, device_available=24 * gib)
    assert plan.counted.startswith("traced") and plan.pair_numbers == 784**2
    assert plan.block_bytes <= 24 * gib / 4 and plan.batch_size >= 1
    assert plan.batch_size**2 * 784**2 <= memory.MAX_BLOCK_PIXEL_ENTRIES  # the CPU cap on image blocks


def test_a_block_that_cannot_fit_stops_before_allocating_with_the_largest_that_would():
    pooled = from_stax(stax.serial(stax.Conv(4, (3, 3), padding="SAME"), stax.Relu(), stax.GlobalAvgPool(),
                                   stax.Dense(1)))
    x = np.zeros((100, 28, 28, 1))
    per_pair = 784**2 * memory.INTERMEDIATES * memory.BYTES
    with pytest.raises(MemoryPlanError, match=r"batch_size <= 3\b"):
        plan_memory(pooled, x, device=CPU, batch_size=10, host_available=2**30, device_available=10 * per_pair)
    with pytest.raises(MemoryPlanError, match="not even one pair"):
        plan_memory(pooled, x, device=CPU, host_available=2**30, device_available=per_pair // 2)


def test_compute_kernel_refuses_before_writing_anything(monkeypatch, tmp_path):
    monkeypatch.setenv("KERNELSCALE_CACHE", str(tmp_path))
    monkeypatch.setattr(memory, "available_device_memory", lambda device: 1000)
    arch = from_stax(stax.serial(stax.Conv(4, (3, 3), padding="SAME"), stax.Relu(), stax.GlobalAvgPool(),
                                 stax.Dense(1)), name="pooled")
    x = np.random.default_rng(0).standard_normal((20, 8, 8, 1))
    with pytest.raises(MemoryPlanError, match="GiB are free"):
        ks.compute_kernel(arch, x)
    assert not any(tmp_path.rglob("*.npy"))


def test_a_network_whose_kernel_keeps_pixel_axes_is_a_clear_error():
    """A fully connected stax network given images applies its Dense layers per pixel, so its kernel is one number
    per pair of pixels, not per pair of images; this used to fail in numpy's broadcasting."""
    per_pixel = from_stax(stax.serial(stax.Dense(8), stax.Relu(), stax.Dense(1)))
    with pytest.raises(KernelError, match="input_kind='flat'"):
        ks.compute_kernel(per_pixel, np.ones((6, 4, 4, 1)), use_cache=False)
