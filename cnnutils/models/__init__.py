"""The networks of the book: builders only, and a layer-by-layer summary of any of them.

Modules: :mod:`cnnutils.models.alexnet`, :mod:`cnnutils.models.lenet5`,
:mod:`cnnutils.models.summary`. Their public names are re-exported by :mod:`cnnutils`.
"""

__all__: list[str] = []  # import from the modules, or from cnnutils itself
