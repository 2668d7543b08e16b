"""Tests of cnnutils.training.transfer: freezing, heads, parameter groups, probes, weights."""

from __future__ import annotations

import copy
import io
import os
from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn

from cnnutils import alexnet, lenet5
from cnnutils.data.datasets import ImageDataset
from cnnutils.training.loop import fit
from cnnutils.training.transfer import (
    FrozenBatchNorm,
    ProbeResult,
    WeightsUnavailableError,
    _model_with_state,
    extract_features,
    find_head,
    freeze,
    linear_probe,
    load_pretrained,
    norm_only,
    param_groups,
    replace_head,
    unfreeze,
    weights_info,
)


def modern() -> nn.Module:
    torch.manual_seed(0)
    return lenet5(variant="modern", batch_norm=True)


def trainable(model: nn.Module) -> list[str]:
    return [n for n, p in model.named_parameters() if p.requires_grad]


# --- freeze / unfreeze ------------------------------------------------------------------------


def test_freeze_returns_changed_names_and_unfreeze_undoes():
    net = modern()
    names = [n for n, _ in net.named_parameters()]
    frozen = freeze(net, "features")
    assert frozen == [n for n in names if n.startswith("features.")]
    assert trainable(net) == [n for n in names if n.startswith("classifier.")]
    assert freeze(net, "features") == []  # already frozen: nothing changes
    assert unfreeze(net, ["features.0", "features.1"]) == [
        "features.0.weight",
        "features.1.weight",
        "features.1.bias",
    ]
    assert unfreeze(net) == frozen[3:]
    assert trainable(net) == names


def test_prefix_matches_whole_components():
    net = nn.Module()
    net.a = nn.Linear(1, 1)
    net.ab = nn.Linear(1, 1)
    assert freeze(net, "a") == ["a.weight", "a.bias"]
    assert trainable(net) == ["ab.weight", "ab.bias"]


def test_frozen_parameters_get_no_gradient_and_do_not_move():
    net = modern()
    freeze(net, "features")
    before = copy.deepcopy(net.state_dict())
    opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.1)
    net(torch.randn(4, 1, 32, 32)).sum().backward()
    opt.step()
    assert net.features[0].weight.grad is None
    assert torch.equal(net.features[0].weight, before["features.0.weight"])
    assert not torch.equal(net.classifier[1].weight, before["classifier.1.weight"])


def test_frozen_batch_norm_still_updates_running_stats_without_bn_eval():
    """The caveat: requires_grad=False does not stop the running statistics."""
    net = modern()
    freeze(net, "features")
    mean = net.features[1].running_mean.clone()
    net.train()(torch.randn(8, 1, 32, 32) + 3.0)
    assert not torch.equal(net.features[1].running_mean, mean)


def test_bn_eval_keeps_frozen_batch_norm_in_eval_mode_through_train_and_fit():
    net = modern()
    freeze(net, "features", bn_eval=True)
    stats = {k: v.clone() for k, v in net.state_dict().items() if "running" in k}
    net.train()  # what fit() does every epoch
    net(torch.randn(8, 1, 32, 32) + 3.0)
    data = ImageDataset(torch.rand(16, 1, 32, 32), torch.arange(16) % 10, tuple("0123456789"))
    opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.1)
    fit(net, data, epochs=1, optimizer=opt, batch_size=8, device="cpu", progress=False)
    after = net.state_dict()
    for key, value in stats.items():
        if key.startswith("features."):
            assert torch.equal(after[key], value), key
        else:  # the classifier's batch norm is not frozen: it keeps learning its statistics
            assert not torch.equal(after[key], value), key
    assert net.classifier[2].training
    # unfreezing gives the layers back to the model's mode
    unfreeze(net, "features")
    net.train()
    net(torch.randn(8, 1, 32, 32))
    assert net.features[1].training
    assert not torch.equal(net.features[1].running_mean, stats["features.1.running_mean"])


def test_bn_eval_swaps_in_frozen_batch_norm_that_the_model_shows():
    net = modern()
    bns = {n: m for n, m in net.named_modules() if isinstance(m, nn.BatchNorm2d)}
    keys, params = list(net.state_dict()), [id(p) for p in net.parameters()]
    x = torch.randn(4, 1, 32, 32)
    want = net.eval()(x)
    freeze(net, "features", bn_eval=True)
    swapped = {n: m for n, m in net.named_modules() if isinstance(m, FrozenBatchNorm)}
    assert sorted(swapped) == sorted(n for n in bns if n.startswith("features."))
    assert "FrozenBatchNorm(6, eps=1e-05, of BatchNorm2d)" in repr(net)
    assert not any(m._forward_pre_hooks for m in net.modules())  # nothing hidden
    # the same tensors under the same names: state_dict, optimisers and counts are unchanged
    assert list(net.state_dict()) == keys and [id(p) for p in net.parameters()] == params
    net.train().classifier.eval()  # the frozen features normalise as in evaluation mode
    torch.testing.assert_close(net(x), want)
    net.double()  # moved or cast after freezing: unfreeze gives back the converted tensors
    unfreeze(net)
    for name, bn in bns.items():
        assert net.get_submodule(name) is bn and bn.training
        assert bn.running_mean.dtype == torch.float64 and bn.weight.requires_grad


def test_frozen_batch_norm_of_any_rank_and_without_affine():
    for bn, shape in (
        (nn.BatchNorm1d(3, affine=False), (5, 3)),
        (nn.BatchNorm3d(3), (2, 3, 2, 2, 2)),
    ):
        bn(torch.randn(*shape))  # some running statistics
        frozen = FrozenBatchNorm(bn)
        x = torch.randn(*shape)
        torch.testing.assert_close(frozen.train()(x), bn.eval()(x))
        assert frozen.thaw() is bn
    with pytest.raises(TypeError, match=r"FrozenBatchNorm: bn must be a batch-norm layer, got"):
        FrozenBatchNorm(nn.LayerNorm(3))
    with pytest.raises(ValueError, match=r"FrozenBatchNorm: bn must track running statistics"):
        FrozenBatchNorm(nn.BatchNorm2d(3, track_running_stats=False))


def test_bn_eval_survives_deepcopy():
    net = modern()
    freeze(net, "features", bn_eval=True)
    clone = copy.deepcopy(net).train()
    mean = clone.features[1].running_mean.clone()
    clone(torch.randn(4, 1, 32, 32) + 3.0)
    assert torch.equal(clone.features[1].running_mean, mean)
    unfreeze(clone)
    clone.train()(torch.randn(4, 1, 32, 32) + 3.0)
    assert not torch.equal(clone.features[1].running_mean, mean)


def test_freeze_errors():
    net = modern()
    with pytest.raises(ValueError, match=r"freeze: prefix 'feature' matches no parameter"):
        freeze(net, "feature")
    with pytest.raises(ValueError, match=r"unfreeze: prefix 'head' matches no parameter"):
        unfreeze(net, ["features", "head"])
    with pytest.raises(TypeError, match=r"freeze: model must be a torch.nn.Module, got str"):
        freeze("net", "features")
    with pytest.raises(TypeError, match=r"freeze: each prefix must be a str, got int"):
        freeze(net, [0])
    with pytest.raises(TypeError, match=r"freeze: prefixes must be a str or an iterable"):
        freeze(net, 3)
    with pytest.raises(TypeError, match=r"freeze: bn_eval must be a bool, got 1"):
        freeze(net, "features", bn_eval=1)
    with pytest.raises(ValueError, match=r"freeze: bn_eval=True replaces batch-norm layers"):
        freeze(nn.BatchNorm2d(2), bn_eval=True)


# --- heads ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("builder", "head", "input_shape"),
    [
        (lambda: lenet5(), "classifier.3", (1, 32, 32)),
        (lambda: lenet5(variant="modern", batch_norm=True), "classifier.4", (1, 32, 32)),
        (lambda: alexnet(variant="torchvision"), "classifier.6", (3, 224, 224)),
        (lambda: torchvision.models.resnet18(weights=None), "fc", (3, 64, 64)),
        (lambda: torchvision.models.alexnet(weights=None), "classifier.6", (3, 64, 64)),
        (lambda: torchvision.models.vgg11(weights=None), "classifier.6", (3, 32, 32)),
        (lambda: torchvision.models.mobilenet_v3_small(weights=None), "classifier.3", (3, 64, 64)),
    ],
)
def test_replace_head(builder, head, input_shape):
    torch.manual_seed(0)
    net = builder()
    assert find_head(net) == head
    old = net.get_submodule(head)
    freeze(net)
    assert replace_head(net, 5) == head
    new = net.get_submodule(head)
    assert new is not old and new.out_features == 5 and new.in_features == old.in_features
    assert trainable(net) == [f"{head}.weight", f"{head}.bias"]
    assert net.eval()(torch.zeros(1, *input_shape)).shape == (1, 5)


def test_replace_head_errors():
    with pytest.raises(ValueError, match=r"replace_head: Sequential has no nn.Linear layer"):
        replace_head(nn.Sequential(nn.Conv2d(1, 1, 1)), 3)
    with pytest.raises(ValueError, match=r"find_head: Sequential has no nn.Linear layer"):
        find_head(nn.Sequential(nn.Conv2d(1, 1, 1)))
    with pytest.raises(ValueError, match=r"replace_head: num_classes must be >= 1, got 0"):
        replace_head(lenet5(), 0)
    with pytest.raises(TypeError, match=r"replace_head: num_classes must be an int, got 2.0"):
        replace_head(lenet5(), 2.0)
    with pytest.raises(ValueError, match=r"replace_head: LeNet5 has no layer named 'fc'"):
        replace_head(lenet5(), 2, head="fc")
    with pytest.raises(TypeError, match=r"layer 'features.0' must be an nn.Linear, got Conv2d"):
        replace_head(lenet5(), 2, head="features.0")


# --- parameter groups -------------------------------------------------------------------------


def test_param_groups_longest_prefix_wins_and_frozen_are_left_out():
    net = modern()
    freeze(net, "features.0")
    groups = param_groups(
        net, {"features": 1e-3, "classifier": 1e-2, "classifier.4": 0.1}, default_lr=0.5
    )
    by_prefix = {g["prefix"]: g for g in groups}
    assert set(by_prefix) == {"features", "classifier", "classifier.4"}  # no default left
    ids = [id(p) for g in groups for p in g["params"]]
    assert len(ids) == len(set(ids))  # exactly one group each
    assert sorted(ids) == sorted(id(p) for p in net.parameters() if p.requires_grad)
    assert id(net.features[0].weight) not in ids
    assert by_prefix["classifier.4"]["params"] == list(net.classifier[4].parameters())
    assert by_prefix["classifier.4"]["lr"] == 0.1


@pytest.mark.parametrize("optimizer", [torch.optim.SGD, torch.optim.Adam])
def test_param_groups_work_with_optimizers(optimizer):
    net = modern()
    groups = param_groups(net, {"classifier": 0.01}, default_lr=0.001)
    opt = optimizer(groups, lr=1.0)
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.001]
    net(torch.randn(4, 1, 32, 32)).sum().backward()
    opt.step()
    # without default_lr the default group takes the optimizer's lr
    opt = optimizer(param_groups(net, {"classifier": 0.01}), lr=0.3)
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.3]


def test_param_groups_errors():
    net = modern()
    with pytest.raises(ValueError, match=r"param_groups: prefix 'head' matches no parameter"):
        param_groups(net, {"head": 0.1})
    with pytest.raises(ValueError, match=r"param_groups: the lr of 'features' must be >= 0"):
        param_groups(net, {"features": -1.0})
    with pytest.raises(TypeError, match=r"param_groups: lrs must be a mapping"):
        param_groups(net, [("features", 0.1)])
    freeze(net)
    with pytest.raises(ValueError, match=r"param_groups: LeNet5 has no trainable parameter"):
        param_groups(net, {"features": 0.1})


# --- norm_only --------------------------------------------------------------------------------


def test_norm_only_trains_norm_affine_parameters_and_head():
    net = modern()
    names = norm_only(net)
    bn = [
        f"{n}.{p}"
        for n, m in net.named_modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm)
        for p in ("weight", "bias")
    ]
    assert names == [*bn, "classifier.4.weight", "classifier.4.bias"]
    assert trainable(net) == names
    assert norm_only(modern(), head="") == bn


def test_norm_only_torchvision_resnet():
    net = torchvision.models.resnet18(weights=None)
    names = norm_only(net)
    assert names[-2:] == ["fc.weight", "fc.bias"]
    assert all("bn" in n or "downsample.1" in n for n in names[:-2])


def test_norm_only_needs_norm_layers():
    with pytest.raises(ValueError, match=r"norm_only: LeNet5 has no normalisation layer"):
        norm_only(lenet5())


# --- features and probes ----------------------------------------------------------------------


def test_extract_features_traced_model_matches_manual_and_restores_mode():
    torch.manual_seed(0)
    net = torchvision.models.resnet18(weights=None, num_classes=3).train()
    x = torch.randn(5, 3, 32, 32)
    feats = extract_features(net, x, "avgpool", batch_size=2, device="cpu")
    assert feats.shape == (5, 512) and not feats.requires_grad
    assert net.training
    net.eval()
    trunk = nn.Sequential(*list(net.children())[:-1])
    torch.testing.assert_close(feats, trunk(x).flatten(1), rtol=1e-4, atol=1e-5)
    assert not net.training  # eval stays eval


def test_extract_features_untraceable_model_falls_back_to_hook():
    net = modern().train()
    data = ImageDataset(torch.randn(7, 1, 32, 32), torch.arange(7) % 10, tuple("0123456789"))
    mean = net.features[1].running_mean.clone()
    feats = extract_features(net, data, "features", batch_size=3, device="cpu")
    assert feats.shape == (7, 120) and net.training
    assert torch.equal(net.features[1].running_mean, mean)  # evaluated in eval mode
    torch.testing.assert_close(feats, net.eval().features(data.x).flatten(1))
    assert extract_features(net, data, "classifier.2", device="cpu").shape == (7, 84)


def test_extract_features_errors():
    net = modern()
    with pytest.raises(ValueError, match=r"extract_features: LeNet5 has no layer named 'fc'"):
        extract_features(net, torch.zeros(2, 1, 32, 32), "fc", device="cpu")
    with pytest.raises(ValueError, match=r"extract_features: ResNet: .*nodes"):
        extract_features(
            torchvision.models.resnet18(weights=None), torch.zeros(2, 3, 32, 32), "nope"
        )
    with pytest.raises(TypeError, match=r"extract_features: data must be an ImageDataset"):
        extract_features(net, [1, 2], "features")
    with pytest.raises(ValueError, match=r"extract_features: batch_size must be >= 1, got 0"):
        extract_features(net, torch.zeros(2, 1, 32, 32), "features", batch_size=0)
    with pytest.raises(ValueError, match=r"extract_features: data must hold at least one image"):
        extract_features(net, torch.zeros(0, 1, 32, 32), "features", device="cpu")
    with pytest.raises(ValueError, match=r"extract_features: data must be \(N, C, H, W\) images"):
        extract_features(net, torch.zeros(1, 32, 32), "features", device="cpu")


def test_linear_probe_separable_and_random():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(200) % 4
    centres = torch.randn(4, 10, generator=g) * 5
    x = centres[y] + torch.randn(200, 10, generator=g)
    result = linear_probe(x[:100], y[:100], x[100:], y[100:])
    assert isinstance(result, ProbeResult) and result.accuracy == 1.0
    assert result.estimator.predict(x[:3].numpy()).tolist() == y[:3].tolist()
    noise = torch.randn(200, 10, generator=g)
    assert linear_probe(noise[:100], y[:100], noise[100:], y[100:]).accuracy < 0.5


def test_linear_probe_errors():
    x, y = torch.zeros(4, 2), torch.tensor([0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"linear_probe: train_features must have 2 dim"):
        linear_probe(torch.zeros(4), y, x, y)
    with pytest.raises(ValueError, match=r"linear_probe: features and labels must have the same"):
        linear_probe(x, y[:3], x, y)
    with pytest.raises(ValueError, match=r"linear_probe: train and test features must have"):
        linear_probe(x, y, torch.zeros(4, 3), y)
    with pytest.raises(ValueError, match=r"linear_probe: train_y must hold at least 2 classes"):
        linear_probe(x, torch.zeros(4, dtype=torch.long), x, y)


# --- pretrained weights -----------------------------------------------------------------------


def test_weights_info_is_metadata_only():
    (row,) = weights_info("alexnet")
    assert row == {
        "weights": "IMAGENET1K_V1",
        "num_params": 61_100_840,
        "acc@1": 56.522,
        "acc@5": 79.066,
        "file_size_mb": 233.087,
        "file": "alexnet-owt-7be5be79.pth",
        "min_size": (63, 63),
    }
    assert len(weights_info("resnet50")) == 2


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty torch.hub cache: nothing cached, so loading must go to the (blocked) network."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    return tmp_path


@pytest.fixture(scope="module")
def resnet18_weights(tmp_path_factory) -> tuple[dict[str, torch.Tensor], Path]:
    """Random weights for torchvision's ResNet-18 (batch norm buffers included) and a file
    holding them, made once."""
    with torch.device("meta"):  # shapes and dtypes, without initialising the weights
        meta = torchvision.models.resnet18().state_dict()
    generator = torch.Generator().manual_seed(1)
    state = {
        k: torch.rand(v.shape, generator=generator)
        if v.is_floating_point()
        else torch.ones_like(v, device="cpu")
        for k, v in meta.items()
    }
    path = tmp_path_factory.mktemp("weights") / "resnet18.pth"
    torch.save(state, path)
    return state, path


def test_load_pretrained_from_the_cache(torch_home, resnet18_weights):
    state, file = resnet18_weights
    folder = torch_home / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    (folder / "resnet18-f37072fd.pth").symlink_to(file)
    net = load_pretrained("resnet18", weights="IMAGENET1K_V1")
    assert not net.training
    loaded = net.state_dict()
    assert loaded.keys() == state.keys()
    assert all(torch.equal(loaded[k], v) and loaded[k].dtype == v.dtype for k, v in state.items())
    assert all(p.requires_grad and p.device.type == "cpu" for p in net.parameters())
    assert net(torch.rand(1, 3, 32, 32)).shape == (1, 1000)


def test_load_pretrained_from_a_path(torch_home, resnet18_weights):
    state, file = resnet18_weights
    net = load_pretrained("resnet18", path=file)
    assert torch.equal(net.conv1.weight, state["conv1.weight"])
    with pytest.raises(FileNotFoundError, match=r"load_pretrained: no weights file at"):
        load_pretrained("resnet18", path=file.with_name("missing.pth"))


def test_a_network_with_buffers_the_file_lacks_is_built_for_real():
    """Non-persistent buffers are not in a state dict: such a network is not left on meta."""

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)
            self.register_buffer("scale", torch.full((2,), 3.0), persistent=False)

    state = Net().state_dict()
    net = _model_with_state(lambda name, weights: Net(), "net", state)
    assert net.scale.tolist() == [3.0, 3.0]
    assert torch.equal(net.fc.weight, state["fc.weight"])


def test_load_pretrained_offline_error_names_the_path(torch_home, capsys):
    expected = os.path.join(str(torch_home), "hub", "checkpoints", "alexnet-owt-7be5be79.pth")
    with pytest.raises(WeightsUnavailableError) as info:
        load_pretrained("alexnet")
    message = str(info.value)
    assert capsys.readouterr() == ("", "")  # torch.hub's "Downloading: ..." line is silenced
    assert "\n" not in message
    assert expected in message
    assert "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth" in message
    if os.environ.get("PYTHONPATH", "").find("netguard") >= 0:
        assert "network access is blocked" in message


def corrupt_weights(kind: str) -> bytes:
    """The bytes of a weights file gone wrong."""
    buffer = io.BytesIO()
    torch.save(
        {"w": torch.zeros(100_000)} if kind == "truncated" else {"w": torch.zeros(3)}, buffer
    )
    data = buffer.getvalue()
    return {
        "empty": b"",
        "truncated": data[: len(data) // 2],  # an interrupted download
        "a web page": b"<html>please log in</html>",  # what a captive portal serves
        "other weights": data,
    }[kind]


@pytest.mark.parametrize("kind", ["empty", "truncated", "a web page", "other weights"])
def test_load_pretrained_names_an_unreadable_cached_file_and_the_fix(torch_home, kind):
    """Not "Ran out of input" or a miniz error: the file, and what to do about it."""
    folder = torch_home / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    cached = folder / "alexnet-owt-7be5be79.pth"
    cached.write_bytes(corrupt_weights(kind))
    with pytest.raises(WeightsUnavailableError) as info:
        load_pretrained("alexnet")
    message = str(info.value)
    assert message.startswith("load_pretrained: ") and "\n" not in message
    assert str(cached) in message
    assert "delete it and call load_pretrained('alexnet') again" in message
    assert "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth" in message
    assert info.value.__cause__ is not None
    if kind == "other weights":
        assert "does not hold the alexnet IMAGENET1K_V1 weights" in message
    else:
        assert "cannot be read" in message and "incomplete, corrupt" in message
    path = torch_home / "my_weights.pth"
    cached.rename(path)
    expected = r"load_pretrained: .*my_weights.pth .*replace it with a good copy of https://"
    with pytest.raises(WeightsUnavailableError, match=expected):
        load_pretrained("alexnet", path=path)


def test_load_pretrained_errors():
    with pytest.raises(ValueError, match=r"load_pretrained: unknown model name 'lenet'"):
        load_pretrained("lenet")
    with pytest.raises(
        ValueError, match=r"load_pretrained: alexnet has no weights 'IMAGENET1K_V2'"
    ):
        load_pretrained("alexnet", weights="IMAGENET1K_V2")
    with pytest.raises(TypeError, match=r"load_pretrained: name must be a str, got int"):
        load_pretrained(3)
    with pytest.raises(ValueError, match=r"weights_info: unknown model name 'lenet'"):
        weights_info("lenet")
