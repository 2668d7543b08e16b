"""The from-scratch ops against ``torch.nn.functional`` on every device this machine has.

The CPU oracles in the other unit tests check the maths in float64 and many geometries; here
each op runs on every device this machine has (CPU, and CUDA where it exists) in float32, the
result must stay on that device, and it must match torch's op on the same device. Tolerances
allow TensorFloat-32 matrix products on Ampere and later GPUs (about 1e-3 relative).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import cnnutils

TOL = {"rtol": 2e-3, "atol": 2e-3}
# CPU always, CUDA where a device is visible: the list is built from what exists, so a CPU-only
# machine runs the CPU half and reports no skipped CUDA half.
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request) -> torch.device:
    return torch.device(request.param)


def _rand(*shape: int, device: torch.device, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g).to(device)


@pytest.mark.parametrize("method", ["naive", "unfold", "fft"])
@pytest.mark.parametrize(
    "geometry",
    [
        {"stride": 1, "padding": 0, "dilation": 1, "groups": 1},
        {"stride": 2, "padding": 1, "dilation": 1, "groups": 1},
        {"stride": 1, "padding": 2, "dilation": 2, "groups": 2},
    ],
    ids=["plain", "strided-padded", "dilated-grouped"],
)
def test_conv2d_matches_torch_on_device(device, method, geometry):
    x = _rand(2, 4, 11, 9, device=device)
    w = _rand(6, 4 // geometry["groups"], 3, 3, device=device, seed=1)
    b = _rand(6, device=device, seed=2)
    ours = cnnutils.conv2d(x, w, b, **geometry, method=method)
    assert ours.device.type == device.type
    torch.testing.assert_close(ours, F.conv2d(x, w, b, **geometry), **TOL)


def test_conv2d_gradients_match_torch_on_device(device):
    x = _rand(2, 3, 8, 8, device=device).requires_grad_()
    w = _rand(5, 3, 3, 3, device=device, seed=1).requires_grad_()
    ours = torch.autograd.grad(cnnutils.conv2d(x, w, padding=1).square().sum(), (x, w))
    theirs = torch.autograd.grad(F.conv2d(x, w, padding=1).square().sum(), (x, w))
    for a, b in zip(ours, theirs, strict=True):
        assert a.device.type == device.type
        torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize(
    "args", [(2, 2, 0, 1, False), (3, 2, 1, 1, True), (3, 1, 1, 2, False)], ids=str
)
def test_max_pool2d_values_and_indices_match_torch_on_device(device, args):
    kernel, stride, padding, dilation, ceil = args
    x = _rand(2, 3, 9, 10, device=device)
    ours, ours_idx = cnnutils.max_pool2d(x, kernel, stride, padding, dilation, ceil, True)
    theirs, theirs_idx = F.max_pool2d(x, kernel, stride, padding, dilation, ceil, True)
    assert ours.device.type == device.type
    torch.testing.assert_close(ours, theirs)
    assert torch.equal(ours_idx, theirs_idx)


@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_matches_torch_on_device(device, count_include_pad):
    x = _rand(2, 3, 9, 10, device=device)
    ours = cnnutils.avg_pool2d(x, 3, 2, 1, count_include_pad=count_include_pad)
    theirs = F.avg_pool2d(x, 3, 2, 1, count_include_pad=count_include_pad)
    assert ours.device.type == device.type
    torch.testing.assert_close(ours, theirs)


def test_adaptive_avg_pool2d_matches_torch_on_device(device):
    x = _rand(2, 3, 13, 10, device=device)
    ours = cnnutils.adaptive_avg_pool2d(x, (4, 3))
    assert ours.device.type == device.type
    torch.testing.assert_close(ours, F.adaptive_avg_pool2d(x, (4, 3)))


@pytest.mark.parametrize("size", [3, 4, 5])
def test_local_response_norm_matches_torch_on_device(device, size):
    x = _rand(2, 8, 5, 5, device=device)
    ours = cnnutils.local_response_norm(x, size, alpha=1e-2, beta=0.75, k=2.0)
    assert ours.device.type == device.type
    torch.testing.assert_close(ours, F.local_response_norm(x, size, 1e-2, 0.75, 2.0))


def test_locally_connected2d_equals_a_convolution_when_weights_are_shared(device):
    # with the same filter at every position, a locally connected layer is a convolution
    x = _rand(2, 3, 7, 7, device=device)
    kernel = _rand(4, 3, 3, 3, device=device, seed=1)
    weight = kernel[None, None].expand(5, 5, 4, 3, 3, 3).contiguous()
    ours = cnnutils.locally_connected2d(x, weight)
    assert ours.device.type == device.type
    torch.testing.assert_close(ours, F.conv2d(x, kernel), **TOL)


@pytest.mark.parametrize("builder", ["lenet5", "alexnet"])
def test_networks_run_on_device_and_agree_with_the_cpu(device, builder):
    cnnutils.seed_everything(0)
    if builder == "lenet5":
        model, x = cnnutils.lenet5(), _rand(2, 1, 32, 32, device=torch.device("cpu"))
    else:
        model = cnnutils.alexnet(num_classes=10)
        x = _rand(1, 3, 227, 227, device=torch.device("cpu"))
    model.eval()
    expected = model(x)
    got = model.to(device)(x.to(device))
    assert got.device.type == device.type
    torch.testing.assert_close(got.cpu(), expected, **TOL)
