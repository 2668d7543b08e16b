"""cnnutils: the code behind the CNN lecture book, one module per lecture concept."""

from cnnutils.conv import (
    ReceptiveField,
    conv2d,
    conv_output_size,
    convolve2d,
    correlate2d,
    receptive_field,
)
from cnnutils.filters import (
    filter2d,
    gabor_kernel,
    gradient_magnitude_orientation,
    orientation_histogram,
    sobel_kernels,
)
from cnnutils.plotting import show_images, show_orientation_histograms
from cnnutils.runtime import get_device, in_colab, seed_everything
from cnnutils.volumes import (
    ConvCost,
    conv2d_cost,
    untouched_indices,
    volume_conv_animation,
    volume_conv_frame,
    window_taps,
)

__all__ = [
    "ConvCost",
    "ReceptiveField",
    "conv2d",
    "conv2d_cost",
    "conv_output_size",
    "convolve2d",
    "correlate2d",
    "filter2d",
    "gabor_kernel",
    "get_device",
    "gradient_magnitude_orientation",
    "in_colab",
    "orientation_histogram",
    "receptive_field",
    "seed_everything",
    "show_images",
    "show_orientation_histograms",
    "sobel_kernels",
    "untouched_indices",
    "volume_conv_animation",
    "volume_conv_frame",
    "window_taps",
]
__version__ = "0.1.0"
