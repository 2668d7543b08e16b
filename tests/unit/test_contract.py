"""The op contract of cnnutils.ops, checked against torch itself.

A function named like one in ``torch.nn.functional`` (a layer named like one in ``torch.nn``)
takes torch's arguments in torch's order with torch's defaults and names, the first tensor
excepted (``x`` here, ``input`` there); its own arguments come after, keyword-only; and it gives
torch's result, called by position or by keyword. The contract is written out in the docstring
of :mod:`cnnutils.ops`.
"""

from __future__ import annotations

import ast
import inspect
import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import cnnutils
from cnnutils.ops import conv, equivariance, filters, locally_connected, lrn, pooling

OPS_MODULES = (conv, equivariance, filters, locally_connected, lrn, pooling)
# Our name -> (ours, torch's). The first test makes sure none is missing.
TWINS = {
    "conv2d": (cnnutils.conv2d, F.conv2d),
    "max_pool2d": (cnnutils.max_pool2d, F.max_pool2d),
    "avg_pool2d": (cnnutils.avg_pool2d, F.avg_pool2d),
    "adaptive_avg_pool2d": (cnnutils.adaptive_avg_pool2d, F.adaptive_avg_pool2d),
    "local_response_norm": (cnnutils.local_response_norm, F.local_response_norm),
    "MaxPool2d": (cnnutils.MaxPool2d, nn.MaxPool2d),
    "LocalResponseNorm": (cnnutils.LocalResponseNorm, nn.LocalResponseNorm),
}
EMPTY = inspect.Parameter.empty
FIRST = {"input": "x"}  # torch's name of the first tensor -> ours


def _doc_signature(fn) -> list[tuple[str, object]]:
    """``[(name, default)]`` from the first line of a builtin's docstring, e.g.
    ``"conv2d(input, weight, bias=None, stride=1, ...) -> Tensor"``."""
    first = (fn.__doc__ or "").strip().splitlines()[0]
    match = re.fullmatch(rf"{fn.__name__}\((.*)\)(?: -> .*)?", first)
    assert match, f"cannot read the signature of {fn.__name__} from {first!r}"
    params = []
    for part in match.group(1).split(", "):
        name, _, default = part.partition("=")
        params.append((name, ast.literal_eval(default) if default else EMPTY))
    return params


def torch_params(fn) -> list[tuple[str, object]]:
    """torch's parameters in order, ``(name, default)``; ``self`` left out for classes."""
    target = fn.__init__ if isinstance(fn, type) else fn
    try:
        sig = inspect.signature(target)
    except ValueError:  # a builtin such as F.conv2d: no signature, but a documented one
        return _doc_signature(fn)
    params = [p for p in sig.parameters.values() if p.name != "self"]
    if any(p.kind is p.VAR_POSITIONAL for p in params):  # F.max_pool2d's dispatcher
        return _doc_signature(fn)
    return [(p.name, p.default) for p in params]


def test_every_op_named_like_torch_is_checked():
    public = {name for module in OPS_MODULES for name in module.__all__}
    named_like_torch = {n for n in public if hasattr(F, n) or hasattr(nn, n)}
    assert named_like_torch == set(TWINS)
    assert all(getattr(cnnutils, name) is TWINS[name][0] for name in TWINS)


@pytest.mark.parametrize("name", sorted(TWINS))
def test_signature_is_torchs_then_keyword_only_extras(name):
    ours, theirs = TWINS[name]
    expected = [(FIRST.get(n, n), default) for n, default in torch_params(theirs)]
    params = list(inspect.signature(ours).parameters.values())
    positional = [p for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert [(p.name, p.default) for p in positional] == expected
    extras = params[len(positional) :]
    assert all(p.kind is p.KEYWORD_ONLY and p.default is not EMPTY for p in extras), extras


def _data(*shape, seed=0, dtype=torch.float64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


X = _data(2, 4, 9, 8)
# name -> [(args after x, as torch takes them by position)], each with every argument given
CALLS = {
    "conv2d": [
        (_data(6, 2, 3, 2), _data(6), (2, 1), (1, 2), (1, 2), 2),
        (_data(3, 4, 1, 3), None, 1, "same", 2, 1),
    ],
    "max_pool2d": [(3, 2, 1, 1, True, True), ((2, 3), (1, 2), (1, 0), (2, 1), False, False)],
    "avg_pool2d": [(3, 2, 1, True, False, None), ((2, 3), 1, (1, 1), False, True, 5)],
    "adaptive_avg_pool2d": [((3, 5),), ((None, 4),)],
    "local_response_norm": [(3, 0.3, 0.6, 1.5), (4, 1e-2, 0.75, 2.0)],
}


def _assert_same(ours, theirs):
    if isinstance(theirs, tuple):  # max pooling's (out, indices)
        for a, b in zip(ours, theirs, strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
    else:
        torch.testing.assert_close(ours, theirs)


@pytest.mark.parametrize(
    ("name", "args"),
    [(n, a) for n, calls in CALLS.items() for a in calls],
    ids=[f"{n}-{i}" for n, calls in CALLS.items() for i in range(len(calls))],
)
def test_same_result_by_position_and_by_keyword(name, args):
    ours, theirs = TWINS[name]
    names = [n for n, _ in torch_params(theirs)][1 : 1 + len(args)]
    want = theirs(X, *args)
    _assert_same(ours(X, *args), want)
    _assert_same(ours(X, **dict(zip(names, args, strict=True))), want)
    _assert_same(ours(x=X, **dict(zip(names, args, strict=True))), want)


def test_defaults_give_torchs_result():
    w = _data(5, 4, 3, 3)
    torch.testing.assert_close(cnnutils.conv2d(X, w), F.conv2d(X, w))
    torch.testing.assert_close(cnnutils.max_pool2d(X, 2), F.max_pool2d(X, 2))
    torch.testing.assert_close(cnnutils.avg_pool2d(X, 3), F.avg_pool2d(X, 3))
    torch.testing.assert_close(cnnutils.local_response_norm(X, 3), F.local_response_norm(X, 3))


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("MaxPool2d", (3, 2, 1, 1, True, True)),  # nn.MaxPool2d's order: return_indices first
        ("MaxPool2d", (2,)),
        ("LocalResponseNorm", (4, 0.1, 0.5, 1.5)),
        ("LocalResponseNorm", (3,)),
    ],
)
def test_layers_give_torchs_result(name, args):
    ours, theirs = TWINS[name]
    _assert_same(ours(*args)(X), theirs(*args)(X))


def test_extras_are_keyword_only_and_keep_torchs_result_by_default():
    w = _data(5, 4, 3, 3)
    for method in ("naive", "unfold", "fft"):
        torch.testing.assert_close(
            cnnutils.conv2d(X, w, None, 1, 1, method=method), F.conv2d(X, w, None, 1, 1)
        )
    with pytest.raises(TypeError):
        cnnutils.conv2d(X, w, None, 1, 1, 1, 1, "fft")  # method is keyword-only
    paper = cnnutils.local_response_norm(X, 5, 1e-4, 0.75, 2.0, convention="paper")
    torch.testing.assert_close(paper, F.local_response_norm(X, 5, 5e-4, 0.75, 2.0))
    with pytest.raises(TypeError):
        cnnutils.local_response_norm(X, 5, 1e-4, 0.75, 2.0, "intra")  # mode is keyword-only
