"""Operations, computed from scratch and tested against ``torch.nn.functional``: convolution,
pooling, local response normalisation, locally connected layers, classic filters, shifts.

Compute only: no plotting, no training, no data.

Modules: :mod:`cnnutils.ops.conv`, :mod:`cnnutils.ops.equivariance`,
:mod:`cnnutils.ops.filters`, :mod:`cnnutils.ops.locally_connected`, :mod:`cnnutils.ops.lrn`,
:mod:`cnnutils.ops.pooling`. Their public names are re-exported by :mod:`cnnutils`.
"""

__all__: list[str] = []  # import from the modules, or from cnnutils itself
