"""The networks of the lecture, each in its own module, built by a keyword-only function."""

from cnnutils.models.alexnet import AlexNet, alexnet
from cnnutils.models.lenet5 import LeNet5, lenet5

__all__ = ["AlexNet", "LeNet5", "alexnet", "lenet5"]
