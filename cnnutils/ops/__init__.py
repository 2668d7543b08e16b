"""Operations, computed from scratch and tested against ``torch.nn.functional``: convolution,
pooling, local response normalisation, locally connected layers, classic filters, shifts.

Compute only: no plotting, no training, no data.

**The op contract.** A function of this package named like one in ``torch.nn.functional``
(:func:`~cnnutils.ops.conv.conv2d`, :func:`~cnnutils.ops.pooling.max_pool2d`,
:func:`~cnnutils.ops.pooling.avg_pool2d`, :func:`~cnnutils.ops.pooling.adaptive_avg_pool2d`,
:func:`~cnnutils.ops.lrn.local_response_norm`), and a layer named like one in ``torch.nn``
(:class:`~cnnutils.ops.pooling.MaxPool2d`, :class:`~cnnutils.ops.lrn.LocalResponseNorm`):

1. takes torch's arguments, in torch's order, with torch's defaults, under torch's names,
   except the first tensor, which is ``x`` here (``input`` in torch, a name that shadows a
   Python builtin; pass it by position, as everyone does);
2. gives torch's result for them, up to floating-point rounding (max pooling: exactly, with
   the same indices);
3. adds its own arguments only after torch's, keyword-only (``conv2d``'s ``method``, LRN's
   ``mode``), with defaults that keep torch's result;
4. where the lecture's maths differs from torch's, asks for the lecture's by such a keyword
   and defaults to torch's: LRN's ``convention="paper"`` gives the paper's α (torch divides
   it by the window size ``n``) and its window of ``n // 2`` channels on each side (torch:
   ``n`` channels, which differs for even ``n``). Where a keyword is not enough, the function
   has another name (:func:`~cnnutils.ops.pooling.disk_pool2d`,
   :func:`~cnnutils.ops.pooling.max_pool2d_forward`).

A bad argument raises ``TypeError`` (wrong type) or ``ValueError`` (bad value) whose message
starts with the name of the function or layer you called (layers check at construction);
torch would raise a ``RuntimeError`` for some of these. ``tests/unit/test_contract.py``
compares every signature with torch's and the results on inputs passed by position and by
keyword.

Modules: :mod:`cnnutils.ops.conv`, :mod:`cnnutils.ops.equivariance`,
:mod:`cnnutils.ops.filters`, :mod:`cnnutils.ops.locally_connected`, :mod:`cnnutils.ops.lrn`,
:mod:`cnnutils.ops.pooling`. Their public names are re-exported by :mod:`cnnutils`.
"""

__all__: list[str] = []  # import from the modules, or from cnnutils itself
