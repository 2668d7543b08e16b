"""cnnutils: the code behind the CNN lecture book, one module per lecture concept."""

from cnnutils.conv import (
    ReceptiveField,
    conv2d,
    conv_output_size,
    convolve2d,
    correlate2d,
    receptive_field,
)
from cnnutils.runtime import get_device, in_colab, seed_everything

__all__ = [
    "ReceptiveField",
    "conv2d",
    "conv_output_size",
    "convolve2d",
    "correlate2d",
    "get_device",
    "in_colab",
    "receptive_field",
    "seed_everything",
]
__version__ = "0.1.0"
