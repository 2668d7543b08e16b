"""The networks of the book: builders only, and a layer-by-layer summary of any of them."""

from cnnutils.models.alexnet import AlexNet, alexnet
from cnnutils.models.lenet5 import C3_TABLE, C3Connections, LeNet5, ScaledTanh, Subsampling, lenet5
from cnnutils.models.summary import LayerSummary, layer_summary

__all__ = [
    "C3_TABLE",
    "AlexNet",
    "C3Connections",
    "LayerSummary",
    "LeNet5",
    "ScaledTanh",
    "Subsampling",
    "alexnet",
    "layer_summary",
    "lenet5",
]
