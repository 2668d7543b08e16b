"""Training: the loop, metrics, transfer learning, and parallelism (data and model).

Modules: :mod:`cnnutils.training.loop`, :mod:`cnnutils.training.metrics`,
:mod:`cnnutils.training.parallel`, :mod:`cnnutils.training.transfer`. Their public names are re-
exported by :mod:`cnnutils`.
"""

__all__: list[str] = []  # import from the modules, or from cnnutils itself
