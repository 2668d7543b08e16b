"""Data: in-memory image datasets, synthetic shapes and batched augmentations, all offline by
default.

Modules: :mod:`cnnutils.data.augment`, :mod:`cnnutils.data.datasets`,
:mod:`cnnutils.data.shapes`. Their public names are re-exported by :mod:`cnnutils`.
"""

__all__: list[str] = []  # import from the modules, or from cnnutils itself
