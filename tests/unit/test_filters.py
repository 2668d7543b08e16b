"""Tests of cnnutils.ops.filters against scipy and scikit-image, in float64."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.ndimage as ndi
import scipy.signal
import skimage.feature
import skimage.filters
import torch
from torch.testing import assert_close

from cnnutils.ops.filters import (
    box_kernel,
    filter2d,
    gabor_kernel,
    gaussian_kernel,
    gradient_magnitude_orientation,
    laplacian_kernel,
    orientation_histogram,
    sharpen_kernel,
    sobel_kernels,
)

SCIPY_MODE = {"reflect": "mirror", "replicate": "nearest", "zeros": "constant", "circular": "wrap"}


def random_image(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# --- Sobel -------------------------------------------------------------------------------------


def test_sobel_kernels_values_and_dtype():
    kx, ky = sobel_kernels(dtype=torch.float64)
    assert kx.shape == ky.shape == (3, 3)
    assert kx.dtype == ky.dtype == torch.float64
    assert_close(kx, torch.tensor([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=torch.float64))
    assert_close(ky, kx.T)
    assert kx.sum() == 0 and ky.sum() == 0  # no response to a flat image


@pytest.mark.parametrize("axis", [0, 1])
def test_sobel_matches_scipy_ndimage_sobel(axis):
    image = random_image(23, 31)
    kx, ky = sobel_kernels(dtype=torch.float64)
    ours = filter2d(image, ky if axis == 0 else kx)
    expected = ndi.sobel(image.numpy(), axis=axis, mode="mirror")
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_sobel_sign_convention():
    # Brighter to the right and downwards: both responses positive inside the image.
    y, x = torch.meshgrid(torch.arange(9.0), torch.arange(11.0), indexing="ij")
    image = 2.0 * x + 3.0 * y
    kx, ky = sobel_kernels()
    assert_close(filter2d(image, kx)[1:-1, 1:-1] / 8, torch.full((7, 9), 2.0))
    assert_close(filter2d(image, ky)[1:-1, 1:-1] / 8, torch.full((7, 9), 3.0))


def test_sobel_kernels_rejects_integer_dtype():
    with pytest.raises(TypeError, match=r"sobel_kernels: dtype must be a floating dtype"):
        sobel_kernels(dtype=torch.int64)


# --- Gabor -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sigma", "theta", "lambd", "gamma", "psi"),
    [
        (2.0, 0.0, 4.0, 1.0, 0.0),
        (3.0, math.pi / 6, 6.0, 0.5, 0.0),
        (2.5, 2.0, 5.0, 0.7, -math.pi / 2),
        (1.5, -0.7, 3.5, 2.0, 1.0),
    ],
)
def test_gabor_matches_skimage_under_the_parameter_mapping(sigma, theta, lambd, gamma, psi):
    # skimage: exp(-x'^2/(2 sx^2) - y'^2/(2 sy^2)) exp(i (2 pi f x' + offset)) / (2 pi sx sy),
    # same axes (x = columns, y = rows downwards) and the same rotation. Ours is the real part
    # with f = 1/lambd, sx = sigma, sy = sigma/gamma, offset = psi, without the normalisation.
    sigma_x, sigma_y = sigma, sigma / gamma
    reference = skimage.filters.gabor_kernel(
        frequency=1 / lambd, theta=theta, sigma_x=sigma_x, sigma_y=sigma_y, offset=psi
    )
    ours = gabor_kernel(
        sigma=sigma,
        theta=theta,
        lambd=lambd,
        gamma=gamma,
        psi=psi,
        size=reference.shape,
        dtype=torch.float64,
    )
    expected = reference.real * (2 * math.pi * sigma_x * sigma_y)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_gabor_default_size_covers_three_sigmas():
    assert gabor_kernel(sigma=2.0, theta=0.0, lambd=4.0).shape == (13, 13)
    # gamma < 1 stretches the envelope along the stripes: sigma / gamma = 4 -> half-size 12.
    assert gabor_kernel(sigma=2.0, theta=0.3, lambd=4.0, gamma=0.5).shape == (25, 25)
    assert gabor_kernel(sigma=2.0, theta=0.0, lambd=4.0, size=(5, 7)).shape == (5, 7)


def test_gabor_orientation_selects_matching_stripes():
    # theta = 0: the carrier runs along x, the kernel's stripes are vertical, so it answers
    # vertical stripes of its wavelength far more than horizontal ones, and vice versa.
    lambd = 6.0
    cols = torch.cos(2 * math.pi * torch.arange(60.0, dtype=torch.float64) / lambd)
    vertical = cols.repeat(60, 1)  # varies along x only
    horizontal = vertical.T.contiguous()
    k0 = gabor_kernel(sigma=3.0, theta=0.0, lambd=lambd, dtype=torch.float64)
    k90 = gabor_kernel(sigma=3.0, theta=math.pi / 2, lambd=lambd, dtype=torch.float64)

    def energy(image, kernel):
        return filter2d(image, kernel)[15:-15, 15:-15].abs().mean()

    assert energy(vertical, k0) > 20 * energy(horizontal, k0)
    assert energy(horizontal, k90) > 20 * energy(vertical, k90)
    assert_close(k90, k0.T)  # theta = pi/2 is theta = 0 transposed, for gamma = 1


def test_gabor_pi_over_4_stripes_run_bottom_left_to_top_right():
    k = gabor_kernel(sigma=4.0, theta=math.pi / 4, lambd=8.0, dtype=torch.float64)
    c = k.shape[0] // 2
    # Along the anti-diagonal (up and to the right) x' = (x + y)/sqrt 2 stays 0: the carrier
    # is at its crest, so the kernel only follows the envelope; along the diagonal it oscillates.
    assert k[c - 2, c + 2] > 0.5 and k[c + 2, c - 2] > 0.5
    assert k[c + 2, c + 2] < 0 and k[c - 2, c - 2] < 0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"sigma": 0.0}, ValueError, r"gabor_kernel: sigma must be > 0, got 0.0"),
        ({"lambd": -1.0}, ValueError, r"gabor_kernel: lambd must be > 0, got -1.0"),
        ({"gamma": "1"}, TypeError, r"gabor_kernel: gamma must be a number, got '1'"),
        ({"size": 4}, ValueError, r"gabor_kernel: size must be odd and positive, got 4"),
        ({"size": (3, 3, 3)}, TypeError, r"gabor_kernel: size must be an int or a pair"),
        ({"dtype": torch.int32}, TypeError, r"gabor_kernel: dtype must be a floating dtype"),
    ],
)
def test_gabor_errors(kwargs, error, match):
    params = {"sigma": 2.0, "theta": 0.0, "lambd": 4.0, **kwargs}
    with pytest.raises(error, match=match):
        gabor_kernel(**params)


# --- filter2d ----------------------------------------------------------------------------------


@pytest.mark.parametrize("padding", ["reflect", "replicate", "zeros", "circular"])
@pytest.mark.parametrize("kernel_shape", [(3, 3), (5, 2), (4, 7), (1, 1)])
def test_filter2d_matches_scipy_ndimage_correlate(padding, kernel_shape):
    image = random_image(17, 20, seed=1)
    kernel = random_image(*kernel_shape, seed=2) - 0.5
    ours = filter2d(image, kernel, padding=padding)
    expected = ndi.correlate(image.numpy(), kernel.numpy(), mode=SCIPY_MODE[padding], cval=0.0)
    assert ours.shape == image.shape
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_filter2d_matches_scipy_signal_correlate2d_with_zero_padding():
    image = random_image(12, 15, seed=3)
    kernel = random_image(5, 3, seed=4)
    expected = scipy.signal.correlate2d(image.numpy(), kernel.numpy(), mode="same")
    np.testing.assert_allclose(filter2d(image, kernel, padding="zeros").numpy(), expected)


def test_filter2d_is_cross_correlation_not_convolution():
    impulse = torch.zeros(7, 7, dtype=torch.float64)
    impulse[3, 3] = 1.0
    kernel = torch.arange(9.0, dtype=torch.float64).reshape(3, 3)
    # Cross-correlating an impulse gives the kernel flipped; convolving would give it unflipped.
    assert_close(filter2d(impulse, kernel, padding="zeros")[2:5, 2:5], kernel.flip(0, 1))


def test_filter2d_shapes_channels_and_banks():
    image = random_image(3, 10, 12, seed=5)
    bank = random_image(4, 3, 5, seed=6)
    out = filter2d(image, bank)
    assert out.shape == (3, 4, 10, 12)
    for c in range(3):
        for k in range(4):
            expected = ndi.correlate(image[c].numpy(), bank[k].numpy(), mode="mirror")
            np.testing.assert_allclose(out[c, k].numpy(), expected, rtol=1e-12, atol=1e-12)
    assert filter2d(image[0], bank).shape == (4, 10, 12)
    assert filter2d(image, bank[0]).shape == (3, 10, 12)


def test_filter2d_non_contiguous_input_and_kernel_cast():
    image = random_image(14, 9, seed=7).T  # (9, 14), not contiguous
    assert not image.is_contiguous()
    kernel = torch.tensor([[1.0, -2.0, 1.0]])  # float32, cast to the image's float64
    out = filter2d(image, kernel)
    assert out.dtype == torch.float64
    expected = ndi.correlate(image.numpy(), kernel.double().numpy(), mode="mirror")
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_filter2d_backpropagates_to_the_kernel():
    image = random_image(6, 6, seed=8)
    kernel = random_image(3, 3, seed=9).requires_grad_()
    assert torch.autograd.gradcheck(lambda k: filter2d(image, k), (kernel,))


@pytest.mark.parametrize(
    ("image", "kernel", "kwargs", "error", "match"),
    [
        (np.zeros((4, 4)), torch.ones(3, 3), {}, TypeError, r"filter2d: image must be a torch"),
        (torch.zeros(4, 4), [[1.0]], {}, TypeError, r"filter2d: kernel must be a torch.Tensor"),
        (
            torch.zeros(4, 4, dtype=torch.uint8),
            torch.ones(3, 3),
            {},
            TypeError,
            r"filter2d: image must have a floating dtype, got torch.uint8",
        ),
        (
            torch.zeros(1, 1, 4, 4),
            torch.ones(3, 3),
            {},
            ValueError,
            r"filter2d: image must be 2-D or 3-D \(H, W\) or \(C, H, W\), got shape \(1, 1, 4, 4\)",
        ),
        (
            torch.zeros(4, 4),
            torch.ones(3),
            {},
            ValueError,
            r"filter2d: kernel must be 2-D or 3-D \(kH, kW\)",
        ),
        (
            torch.zeros(4, 4),
            torch.ones(3, 3),
            {"padding": "same"},
            ValueError,
            r"filter2d: padding must be one of .*, got 'same'",
        ),
        (
            torch.zeros(4, 4),
            torch.ones(9, 9),
            {},
            ValueError,
            r"filter2d: reflect padding needs the image larger than half the kernel",
        ),
    ],
)
def test_filter2d_errors(image, kernel, kwargs, error, match):
    with pytest.raises(error, match=match):
        filter2d(image, kernel, **kwargs)


# --- gradients and orientation histograms ------------------------------------------------------


def test_gradient_central_matches_skimage_hog_gradient():
    image = random_image(13, 16, seed=10)
    a = image.numpy()
    g_row, g_col = np.zeros_like(a), np.zeros_like(a)
    g_row[1:-1] = a[2:] - a[:-2]  # skimage.feature._hog._hog_channel_gradient
    g_col[:, 1:-1] = a[:, 2:] - a[:, :-2]
    magnitude, orientation = gradient_magnitude_orientation(image, operator="central")
    np.testing.assert_allclose(magnitude.numpy(), np.hypot(g_row, g_col), atol=1e-12)
    np.testing.assert_allclose(orientation.numpy(), np.arctan2(g_row, g_col), atol=1e-12)


def test_gradient_sobel_is_slope_per_pixel_and_orientation_convention():
    y, x = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing="ij")
    magnitude, orientation = gradient_magnitude_orientation(y.double())  # brighter downwards
    assert_close(magnitude[1:-1, 1:-1], torch.ones(6, 6, dtype=torch.float64))
    assert_close(orientation[1:-1, 1:-1], torch.full((6, 6), math.pi / 2, dtype=torch.float64))
    _, orientation = gradient_magnitude_orientation(-x.double())  # brighter to the left
    assert_close(orientation[1:-1, 1:-1], torch.full((6, 6), math.pi, dtype=torch.float64))


def test_gradient_rejects_unknown_operator():
    with pytest.raises(ValueError, match=r"gradient_magnitude_orientation: operator must be"):
        gradient_magnitude_orientation(torch.zeros(4, 4), operator="prewitt")


@pytest.mark.parametrize(("shape", "cell_size", "bins"), [((64, 48), 8, 9), ((37, 50), 6, 8)])
def test_orientation_histogram_matches_skimage_hog_with_one_cell_blocks(shape, cell_size, bins):
    # skimage averages over the cell (divides by its area) and, with one-cell blocks and L1,
    # divides each histogram by (its sum + 1e-5). Redo both on ours and compare.
    image = random_image(*shape, seed=11)
    reference = skimage.feature.hog(
        image.numpy(),
        orientations=bins,
        pixels_per_cell=(cell_size, cell_size),
        cells_per_block=(1, 1),
        block_norm="L1",
        feature_vector=False,
    )  # (cells_y, cells_x, 1, 1, bins)
    ours = orientation_histogram(image, cell_size=cell_size, bins=bins) / cell_size**2
    ours = ours / (ours.sum(dim=-1, keepdim=True) + 1e-5)
    assert ours.shape == (shape[0] // cell_size, shape[1] // cell_size, bins)
    np.testing.assert_allclose(ours.numpy(), reference[:, :, 0, 0, :], rtol=1e-6, atol=1e-9)


def brute_force_histogram(image, cell_size, bins, signed):
    """One pixel at a time, straight from the definition (central differences)."""
    a = np.pad(image.numpy(), 1, mode="reflect")
    period = 360.0 if signed else 180.0
    cells_y, cells_x = image.shape[0] // cell_size, image.shape[1] // cell_size
    hist = np.zeros((cells_y, cells_x, bins))
    for r in range(cells_y * cell_size):
        for c in range(cells_x * cell_size):
            gx = a[r + 1, c + 2] - a[r + 1, c]
            gy = a[r + 2, c + 1] - a[r, c + 1]
            angle = math.degrees(math.atan2(gy, gx)) % period
            b = min(int(angle // (period / bins)), bins - 1)
            hist[r // cell_size, c // cell_size, b] += math.hypot(gx, gy)
    return hist


@pytest.mark.parametrize("signed", [False, True])
def test_orientation_histogram_matches_brute_force(signed):
    image = random_image(21, 26, seed=12)
    ours = orientation_histogram(image, cell_size=5, bins=8, signed=signed)
    expected = brute_force_histogram(image, 5, 8, signed)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_orientation_histogram_known_orientations():
    stripes = torch.tensor([0.0, 0.0, 1.0, 1.0], dtype=torch.float64).repeat(32, 8)  # vertical
    hist = orientation_histogram(stripes, cell_size=8, bins=9)
    assert hist.shape == (4, 4, 9)
    assert (hist[..., 1:] == 0).all() and (hist[..., 0] > 0).all()  # gradients at 0° and 180°
    # Horizontal stripes: gradients at ±90°, the bin [80°, 100°).
    hist = orientation_histogram(stripes.T.contiguous(), cell_size=8, bins=9)
    assert (hist.argmax(dim=-1) == 4).all() and hist[..., 4].sum() == hist.sum()
    # Signed: dark-to-bright (0°) and bright-to-dark (180°) edges land in opposite bins.
    hist = orientation_histogram(stripes, cell_size=8, bins=4, signed=True)
    assert hist[..., 1].sum() == 0 and hist[..., 3].sum() == 0
    assert_close(hist[1:-1, 1:-1, 0], hist[1:-1, 1:-1, 2])


def test_orientation_histogram_total_is_total_magnitude():
    image = random_image(40, 40, seed=13)
    magnitude, _ = gradient_magnitude_orientation(image, operator="central")
    assert_close(orientation_histogram(image, cell_size=8).sum(), magnitude.sum())


@pytest.mark.parametrize(
    ("image", "kwargs", "error", "match"),
    [
        ([[0.0]], {}, TypeError, r"orientation_histogram: image must be a torch.Tensor, got list"),
        (
            torch.zeros(3, 16, 16),
            {},
            ValueError,
            r"orientation_histogram: image must be 2-D \(H, W\), got shape \(3, 16, 16\)",
        ),
        (torch.zeros(16, 16), {"cell_size": 0}, ValueError, r"cell_size must be >= 1, got 0"),
        (torch.zeros(16, 16), {"bins": 2.0}, TypeError, r"bins must be an int, got 2.0"),
        (
            torch.zeros(16, 4),
            {},
            ValueError,
            r"orientation_histogram: image of shape \(16, 4\) is smaller than one cell of size 8",
        ),
    ],
)
def test_orientation_histogram_errors(image, kwargs, error, match):
    with pytest.raises(error, match=match):
        orientation_histogram(image, **kwargs)


# --- classic kernels: box, Gaussian, Laplacian, sharpen -------------------------------------


@pytest.mark.parametrize("size", [1, 3, 4, (3, 5), (2, 1)])
def test_box_kernel_matches_scipy_uniform_filter(size):
    kernel = box_kernel(size, dtype=torch.float64)
    kh, kw = (size, size) if isinstance(size, int) else size
    assert kernel.shape == (kh, kw)
    assert_close(kernel.sum(), torch.tensor(1.0, dtype=torch.float64))
    image = random_image(15, 18, seed=20)
    expected = ndi.uniform_filter(image.numpy(), size=(kh, kw), mode="mirror")
    np.testing.assert_allclose(filter2d(image, kernel).numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("sigma", [0.5, 1.0, 1.7, 3.0])
def test_gaussian_kernel_matches_scipy_gaussian_filter(sigma):
    kernel = gaussian_kernel(sigma, dtype=torch.float64)
    radius = int(4.0 * sigma + 0.5)  # scipy's default truncate=4.0
    assert kernel.shape == (2 * radius + 1, 2 * radius + 1)
    # scipy's weights: filter a centred impulse (the kernel is symmetric, so no flip shows).
    impulse = np.zeros((2 * radius + 1, 2 * radius + 1))
    impulse[radius, radius] = 1.0
    weights = ndi.gaussian_filter(impulse, sigma, mode="constant")
    np.testing.assert_allclose(kernel.numpy(), weights, rtol=1e-12, atol=1e-15)
    image = random_image(40, 37, seed=21)
    expected = ndi.gaussian_filter(image.numpy(), sigma, mode="mirror")
    np.testing.assert_allclose(filter2d(image, kernel).numpy(), expected, rtol=1e-10, atol=1e-12)


def test_gaussian_kernel_given_size_and_separability():
    kernel = gaussian_kernel(1.5, size=(3, 7), dtype=torch.float64)
    assert kernel.shape == (3, 7)
    assert_close(kernel.sum(), torch.tensor(1.0, dtype=torch.float64))
    assert torch.linalg.matrix_rank(kernel) == 1  # an outer product of two 1-D Gaussians
    assert_close(kernel, kernel.flip(0).flip(1))
    assert kernel.argmax() == 1 * 7 + 3  # the centre


@pytest.mark.parametrize("diagonals", [False, True])
def test_laplacian_kernel(diagonals):
    kernel = laplacian_kernel(diagonals=diagonals, dtype=torch.float64)
    assert kernel.shape == (3, 3) and kernel.sum() == 0
    y, x = torch.meshgrid(torch.arange(9.0), torch.arange(11.0), indexing="ij")
    paraboloid = (x**2 + y**2).double()  # Laplacian 4 everywhere
    inner = filter2d(paraboloid, kernel)[1:-1, 1:-1]
    assert_close(inner, torch.full_like(inner, 12.0 if diagonals else 4.0))


def test_laplacian_kernel_matches_scipy_laplace():
    image = random_image(19, 23, seed=22)
    expected = ndi.laplace(image.numpy(), mode="mirror")
    ours = filter2d(image, laplacian_kernel(dtype=torch.float64))
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("amount", [0.0, 1.0, 0.3])
def test_sharpen_kernel_is_image_minus_laplacian(amount):
    kernel = sharpen_kernel(amount, dtype=torch.float64)
    assert_close(kernel.sum(), torch.tensor(1.0, dtype=torch.float64))
    image = random_image(16, 14, seed=23)
    expected = image.numpy() - amount * ndi.laplace(image.numpy(), mode="mirror")
    ours = filter2d(image, kernel)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_sharpen_classic_values_and_checkerboard_gain():
    assert_close(sharpen_kernel(), torch.tensor([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]).float())
    checkerboard = (-1.0) ** (torch.arange(8)[:, None] + torch.arange(8)[None, :]).double()
    out = filter2d(checkerboard, sharpen_kernel(2.0, dtype=torch.float64), padding="circular")
    assert_close(out, 17.0 * checkerboard)  # gain 1 + 8 amount at the highest frequency


def test_classic_kernels_dtype_and_device():
    for make in (
        lambda **kw: box_kernel(3, **kw),
        lambda **kw: gaussian_kernel(1.0, **kw),
        lambda **kw: laplacian_kernel(**kw),
        lambda **kw: sharpen_kernel(**kw),
    ):
        k = make(dtype=torch.float64, device="cpu")
        assert k.dtype == torch.float64 and k.device.type == "cpu"
        assert make().dtype == torch.float32


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: box_kernel(0), ValueError, r"box_kernel: size must be >= 1, got 0"),
        (lambda: box_kernel(2.5), TypeError, r"box_kernel: size must be an int or a pair"),
        (
            lambda: box_kernel(3, dtype=torch.int64),
            TypeError,
            r"box_kernel: dtype must be a floating dtype, got torch.int64",
        ),
        (lambda: gaussian_kernel(0.0), ValueError, r"gaussian_kernel: sigma must be > 0, got 0.0"),
        (lambda: gaussian_kernel("1"), TypeError, r"gaussian_kernel: sigma must be a number"),
        (
            lambda: gaussian_kernel(float("inf")),
            ValueError,
            r"gaussian_kernel: sigma must be finite",
        ),
        (
            lambda: gaussian_kernel(1.0, size=4),
            ValueError,
            r"gaussian_kernel: size must be odd and positive, got 4",
        ),
        (
            lambda: laplacian_kernel(dtype=torch.int32),
            TypeError,
            r"laplacian_kernel: dtype must be a floating dtype",
        ),
        (
            lambda: sharpen_kernel(-1.0),
            ValueError,
            r"sharpen_kernel: amount must be >= 0, got -1.0",
        ),
        (lambda: sharpen_kernel(None), TypeError, r"sharpen_kernel: amount must be a number"),
    ],
)
def test_classic_kernel_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
