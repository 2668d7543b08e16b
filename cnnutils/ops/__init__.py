"""Operations, computed from scratch and tested against ``torch.nn.functional``: convolution,
pooling, local response normalisation, locally connected layers, classic filters, shifts.

Compute only: no plotting, no training, no data.
"""

from cnnutils.ops.conv import conv2d, convolve2d, correlate2d
from cnnutils.ops.equivariance import equivariance_error, invariance_error, shift
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
from cnnutils.ops.locally_connected import LocallyConnected2d, locally_connected2d
from cnnutils.ops.lrn import LocalResponseNorm, local_response_norm
from cnnutils.ops.pooling import (
    MaxPool2d,
    MaxPoolCache,
    adaptive_avg_pool2d,
    avg_pool2d,
    disk_footprint,
    disk_pool2d,
    global_avg_pool2d,
    global_max_pool2d,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_forward,
)

__all__ = [
    "LocalResponseNorm",
    "LocallyConnected2d",
    "MaxPool2d",
    "MaxPoolCache",
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "box_kernel",
    "conv2d",
    "convolve2d",
    "correlate2d",
    "disk_footprint",
    "disk_pool2d",
    "equivariance_error",
    "filter2d",
    "gabor_kernel",
    "gaussian_kernel",
    "global_avg_pool2d",
    "global_max_pool2d",
    "gradient_magnitude_orientation",
    "invariance_error",
    "laplacian_kernel",
    "local_response_norm",
    "locally_connected2d",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool2d_forward",
    "orientation_histogram",
    "sharpen_kernel",
    "shift",
    "sobel_kernels",
]
