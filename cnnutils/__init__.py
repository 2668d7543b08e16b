"""cnnutils: the code behind the CNN lecture book, one module per lecture concept."""

from cnnutils.runtime import get_device, in_colab, seed_everything

__all__ = ["get_device", "in_colab", "seed_everything"]
__version__ = "0.1.0"
