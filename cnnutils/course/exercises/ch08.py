"""Self-checks for chapter 08, Transfer learning."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from cnnutils._checks import _is_int
from cnnutils.course.exercises import exercise, expect, need
from cnnutils.models.lenet5 import lenet5
from cnnutils.training.transfer import norm_only, replace_head

__all__: list[str] = []

# exercise 08.1: C1 (its convolution and its batch norm) frozen, the rest of features mild, the
# classifier aggressive
_C1 = ("features.0.", "features.1.")
_RATES = {"C1": 0.0, "features": 0.001, "classifier": 0.01}


def _part(name: str) -> str:
    if name.startswith(_C1):
        return "C1"
    return "features" if name.startswith("features.") else "classifier"


def _group_rates(groups: Any, by_id: Mapping[int, str]) -> dict[int, float]:
    """``{id(parameter): lr}`` from a list of optimiser groups; raises Unsolved on a bad list."""
    expect(
        isinstance(groups, (list, tuple))
        and len(groups) > 0
        and all(isinstance(g, Mapping) and "params" in g for g in groups),
        f"groups_b should be the list of dicts that param_groups returns, each with 'params' "
        f"and 'lr', got {type(groups).__name__}.",
    )
    rates: dict[int, float] = {}
    for group in groups:
        params = group["params"]
        params = [params] if isinstance(params, torch.Tensor) else list(params)
        label = group.get("prefix", "?")
        if "lr" not in group and label is None and params and id(params[0]) in by_id:
            expect(
                False,
                f"{by_id[id(params[0])]} matches none of your prefixes, so it landed in a "
                "default group without 'lr' (it would take the optimiser's): add its prefix, "
                "e.g. 'classifier': 0.01.",
            )
        expect(
            "lr" in group,
            f"the group of prefix {label!r} has no 'lr': it would silently take the optimiser's "
            "default; give every prefix its rate in param_groups.",
        )
        for p in params:
            expect(
                id(p) in by_id,
                f"the group of prefix {label!r} holds a parameter that is not net_b's: build "
                "the groups from net_b itself (param_groups(net_b, ...)).",
            )
            expect(
                id(p) not in rates,
                f"{by_id[id(p)]} is in two groups (torch.optim refuses that); let param_groups "
                "sort the parameters, it puts each in the group of its longest matching prefix.",
            )
            rates[id(p)] = float(group["lr"])
    return rates


@exercise("08.1", names=("net_b", "groups_b"))
def _learning_rates_per_layer(ns: Mapping[str, Any]) -> str:
    net, groups = need(ns, "net_b", "groups_b")
    expect(isinstance(net, nn.Module), f"net_b should be a network, got {type(net).__name__}.")
    with torch.device("meta"):
        reference = lenet5(variant="modern", batch_norm=True, num_classes=5)
    names = [n for n, _ in net.named_parameters()]
    expect(
        names == [n for n, _ in reference.named_parameters()],
        "net_b should be a copy of the setting-B network, copy.deepcopy(pretrained['B']) (a "
        "modern LeNet-5 with batch norm and 5 classes).",
    )
    pretrained = ns.get("pretrained")
    expect(
        not (isinstance(pretrained, Mapping) and pretrained.get("B") is net),
        "net_b is pretrained['B'] itself: copy.deepcopy it, or fine-tuning it would change h_S.",
    )
    by_id = {id(p): n for n, p in net.named_parameters()}
    rates = _group_rates(groups, by_id)
    sizes = dict.fromkeys(_RATES, 0)
    for name, p in net.named_parameters():
        part = _part(name)
        want = _RATES[part]
        sizes[part] += p.numel()
        if id(p) not in rates:
            expect(
                want == 0.0 and not p.requires_grad,
                f"{name} is in no group: param_groups leaves out only frozen parameters "
                "(did you freeze it?).",
            )
            continue
        got = rates[id(p)]
        hint = ""
        if part == "C1" and got == _RATES["features"]:
            hint = (
                f" ({name[:10]} is part of C1: add the prefix {name[:10]!r} with rate 0; the "
                "longest matching prefix wins over 'features')"
            )
        elif part == "features" and got == 0.0:
            hint = " (only C1, features.0 and features.1, is frozen: is a prefix too short?)"
        elif got == _RATES["features"] / 10 or got == _RATES["classifier"] * 10:
            hint = " (a factor of 10 off: the rates are 0, 0.001 and 0.01)"
        expect(got == want, f"{name} has the learning rate {got:g}, expected {want:g}{hint}.")
    torch.optim.SGD(groups, lr=0.01)  # the groups are what an optimiser accepts
    return (
        f"{sizes['C1']:,} parameters at 0, {sizes['features']:,} at 0.001, "
        f"{sizes['classifier']:,} at 0.01."
    )


@exercise("08.2", names=("norm_only_resnet18", "resnet18_total"))
def _norm_only_at_scale(ns: Mapping[str, Any]) -> str:
    from torchvision.models import resnet18

    with torch.device("meta"):
        model = resnet18()
    original_total = sum(p.numel() for p in model.parameters())
    old_head = sum(p.numel() for p in model.fc.parameters())
    replace_head(model, 10)
    head = sum(p.numel() for p in model.fc.parameters())
    norm_only(model)
    want = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    norms = want - head
    buffers = sum(b.numel() for n, b in model.named_buffers() if not n.endswith("batches_tracked"))

    got = need(ns, "resnet18_total")
    expect(_is_int(got), f"resnet18_total should be an integer, got {type(got).__name__}.")
    hint = " (that is with the 1,000-class head: count after replace_head(model, 10))"
    expect(
        got == total,
        f"resnet18_total = {got:,}, expected {total:,}{hint if got == original_total else ''}.",
    )
    got = need(ns, "norm_only_resnet18")
    expect(_is_int(got), f"norm_only_resnet18 should be an integer, got {type(got).__name__}.")
    hints = {
        norms: " (the batch-norm layers alone: norm_only also trains the new head, 512·10 + 10)",
        norms + old_head: " (the head still has 1,000 outputs: replace_head(model, 10) first)",
        want + buffers: " (running means and variances are buffers, not trained parameters)",
        total: " (count only the parameters with requires_grad=True)",
    }
    expect(got == want, f"norm_only_resnet18 = {got:,}, expected {want:,}{hints.get(got, '')}.")
    return f"{want:,} of {total:,} parameters trainable ({want / total:.2%})."
