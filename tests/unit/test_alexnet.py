"""Tests of cnnutils.models.alexnet: both variants' layouts and counts, the options, the towers."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnutils.models.alexnet import AlexNet, AlexNetConfig, alexnet
from cnnutils.models.lenet5 import lenet5
from cnnutils.models.summary import layer_summary
from cnnutils.ops.lrn import LocalResponseNorm
from cnnutils.training.parallel import GroupsOnDevices, split_grouped_conv

SMALL = {"num_classes": 5, "width": 1 / 8, "input_size": 32, "stem": (3, 1, 1)}


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def meta(**kwargs) -> AlexNet:
    with torch.device("meta"):
        return alexnet(**kwargs)


def test_original_layer_by_layer():
    """The paper's shapes (227×227 input) and our computed parameter and multiply-add counts."""
    rows = {r.layer: r for r in layer_summary(meta()) if r.layer is not None}
    shapes = {1: (96, 55, 55), 2: (256, 27, 27), 3: (384, 13, 13), 4: (384, 13, 13),
              5: (256, 13, 13), 6: (4096,), 7: (4096,), 8: (1000,)}  # fmt: skip
    params = {1: 34_944, 2: 307_456, 3: 885_120, 4: 663_936, 5: 442_624,
              6: 37_752_832, 7: 16_781_312, 8: 4_097_000}  # fmt: skip
    assert {k: r.out_shape for k, r in rows.items()} == shapes
    assert {k: r.parameters for k, r in rows.items()} == params
    assert rows[2].parameters == 256 * (48 * 5 * 5) + 256  # groups=2: each filter sees 48 maps
    assert rows[3].parameters == 384 * (256 * 3 * 3) + 384  # layer 3 connects across towers
    assert sum(params.values()) == 60_965_224
    assert sum(r.multiply_adds for r in rows.values()) == 724_406_816
    assert rows[1].multiply_adds == 55 * 55 * 96 * 3 * 11 * 11


def test_torchvision_counts_and_layout():
    net = meta(variant="torchvision")
    rows = layer_summary(net)
    assert sum(r.parameters for r in rows) == 61_100_840 == n_params(net)
    assert sum(r.multiply_adds for r in rows) == 714_188_480
    with torch.device("meta"):
        reference = torchvision.models.alexnet(weights=None)
    assert [(k, v.shape) for k, v in net.state_dict().items()] == [
        (k, v.shape) for k, v in reference.state_dict().items()
    ]
    # the same modules, plus our parameter-free nn.Flatten (torchvision calls torch.flatten)
    flatten = "  (flatten): Flatten(start_dim=1, end_dim=-1)\n"
    assert flatten in repr(net)
    ours = repr(net).replace("AlexNet", "").replace(flatten, "")
    assert ours == repr(reference).replace("AlexNet", "")


def test_torchvision_weights_load_unchanged_and_give_the_same_outputs():
    torch.manual_seed(0)
    reference = torchvision.models.alexnet(weights=None).eval()
    net = alexnet(variant="torchvision").eval()
    net.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(net(x), reference(x))
        torch.testing.assert_close(net(x[:, :, :200, :180]), reference(x[:, :, :200, :180]))


def test_original_groups_and_lrn():
    net = meta()
    convs = [m for m in net.features if isinstance(m, nn.Conv2d)]
    assert [c.groups for c in convs] == [1, 2, 1, 2, 2]
    assert [c.out_channels for c in convs] == [96, 256, 384, 384, 256]
    lrns = [m for m in net.features if isinstance(m, LocalResponseNorm)]
    assert [(m.size, m.alpha, m.beta, m.k, m.mode) for m in lrns] == [
        (5, 1e-4, 0.75, 2.0, "inter")
    ] * 2
    # order after layers 1 and 2: conv, ReLU, LRN, pool
    kinds = [type(m).__name__ for m in net.features[:8]]
    assert kinds == ["Conv2d", "ReLU", "LocalResponseNorm", "MaxPool2d"] * 2
    pools = [m for m in net.features if isinstance(m, nn.MaxPool2d)]
    assert [(p.kernel_size, p.stride) for p in pools] == [(3, 2)] * 3
    drops = [m.p for m in net.classifier if isinstance(m, nn.Dropout)]
    assert drops == [0.5, 0.5]


def test_224_does_not_fit_the_original():
    net = alexnet(**SMALL)
    with pytest.raises(ValueError, match=r"AlexNet: expected input of shape \(N, C, 32, 32\)"):
        net(torch.zeros(1, 3, 31, 31))
    rows = layer_summary(meta(input_size=224))  # builds, but 224 floors to 54, not 55
    assert rows[0].out_shape == (96, 54, 54)
    assert (224 - 11) / 4 + 1 == 54.25 and (227 - 11) / 4 + 1 == 55


def test_small_network_trains_forward_and_backward():
    torch.manual_seed(0)
    net = alexnet(**SMALL)
    x = torch.randn(4, 3, 32, 32)
    out = net(x)
    assert out.shape == (4, 5)
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    assert n_params(net) == 449_589


@pytest.mark.parametrize(
    ("kwargs", "check"),
    [
        ({"activation": "tanh"}, lambda n: any(isinstance(m, nn.Tanh) for m in n.modules())),
        ({"lrn": False}, lambda n: not any(isinstance(m, LocalResponseNorm) for m in n.modules())),
        (
            {"lrn_mode": "intra"},
            lambda n: (
                [m.mode for m in n.modules() if isinstance(m, LocalResponseNorm)] == ["intra"] * 2
            ),
        ),
        (
            {"overlapping_pooling": False},
            lambda n: all(m.kernel_size == 2 for m in n.modules() if isinstance(m, nn.MaxPool2d)),
        ),
        (
            {"dropout": 0.0},
            lambda n: all(m.p == 0 for m in n.modules() if isinstance(m, nn.Dropout)),
        ),
        (
            {"groups": False},
            lambda n: all(m.groups == 1 for m in n.modules() if isinstance(m, nn.Conv2d)),
        ),
    ],
)
def test_options(kwargs, check):
    net = alexnet(**SMALL, **kwargs)
    assert check(net)
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 5)


@pytest.mark.parametrize(
    ("remove", "convs", "linears"),
    [((), 5, 3), ((7,), 5, 2), ((6, 7), 5, 1), ((3, 4), 3, 3), ((3, 4, 6, 7), 3, 1), ((5,), 4, 3)],
)
def test_remove_layers(remove, convs, linears):
    net = alexnet(**SMALL, remove=remove)
    modules = list(net.modules())
    assert sum(isinstance(m, nn.Conv2d) for m in modules) == convs
    assert sum(isinstance(m, nn.Linear) for m in modules) == linears
    assert sorted(net.layer_index.values()) == [k for k in range(1, 9) if k not in remove]
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 5)
    assert sum(isinstance(m, nn.MaxPool2d) for m in modules) == 3


def test_width_and_non_overlapping_pooling_at_full_size():
    rows = layer_summary(meta(overlapping_pooling=False))  # 2×2/2 gives the same sizes at 227
    assert [r.out_shape for r in rows if r.kind == "MaxPool2d"] == [
        (96, 27, 27), (256, 13, 13), (256, 6, 6)
    ]  # fmt: skip
    half = meta(width=0.5)
    assert [m.out_channels for m in half.features if isinstance(m, nn.Conv2d)] == [
        48, 128, 192, 192, 128
    ]  # fmt: skip
    assert half.classifier[0].out_features == 2048


def test_layer_summary_leaves_the_model_alone():
    net = alexnet(**SMALL)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    rows = layer_summary(net)
    assert all(p.device.type == "cpu" for p in net.parameters())
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert sum(r.parameters for r in rows) == n_params(net)
    assert rows[-1].out_shape == (5,) and rows[-1].neurons == 5


def test_split_grouped_conv_and_groups_on_devices():
    torch.manual_seed(0)
    conv = nn.Conv2d(8, 6, (3, 2), stride=(2, 1), padding=1, groups=2).double()
    x = torch.randn(3, 8, 9, 7, dtype=torch.float64)
    towers = split_grouped_conv(conv)
    out = torch.cat([t(p) for t, p in zip(towers, x.chunk(2, 1), strict=True)], 1)
    torch.testing.assert_close(out, conv(x))
    torch.testing.assert_close(GroupsOnDevices(conv, ["cpu", "cpu"])(x), conv(x))
    ungrouped = nn.Conv2d(4, 4, 3)
    assert len(split_grouped_conv(ungrouped)) == 1
    with pytest.raises(ValueError, match=r"GroupsOnDevices: need an nn\.Conv2d and one device"):
        GroupsOnDevices(conv, ["cpu"])
    with pytest.raises(TypeError, match=r"split_grouped_conv: conv must be an nn\.Conv2d"):
        split_grouped_conv(nn.Linear(2, 2))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"variant": "caffe"},
            r"alexnet: variant must be one of \('original', 'torchvision'\), got 'caffe'",
        ),
        ({"num_classes": 0}, "alexnet: num_classes must be >= 1, got 0"),
        ({"activation": "sigmoid"}, "alexnet: activation must be one of"),
        ({"lrn_mode": "cross"}, r"alexnet: lrn_mode must be one of \('inter', 'intra'\)"),
        ({"dropout": 1.0}, r"alexnet: dropout must be a number in \[0, 1\), got 1.0"),
        ({"remove": (1,)}, r"alexnet: remove may hold layers \[3, 4, 5, 6, 7\]"),
        ({"width": 0}, "alexnet: width must be a positive number"),
        ({"input_size": 32}, "alexnet: input_size 32 is too small for this network"),
        ({"input_size": 0}, "alexnet: input_size must be >= 1, got 0"),
        ({"stem": (3, 0, 1)}, "alexnet: stem's stride must be >= 1, got 0"),
        ({"stem": (3, 1, -1)}, "alexnet: stem's padding must be >= 0, got -1"),
    ],
)
def test_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        meta(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"stem": (3, 1)}, r"alexnet: stem must be a tuple \(kernel, stride, padding\) of three "
         r"ints, got \(3, 1\)"),
        ({"stem": (3.0, 1, 1)}, r"alexnet: stem must be a tuple .* got \(3.0, 1, 1\)"),
        ({"num_classes": 5.0}, "alexnet: num_classes must be an int, got 5.0"),
        ({"in_channels": True}, "alexnet: in_channels must be an int, got True"),
        ({"input_size": "32"}, "alexnet: input_size must be an int, got '32'"),
        ({"variant": None}, r"alexnet: variant must be one of \('original', .*, got None"),
        ({"lrn": "yes"}, "alexnet: lrn must be a bool, got 'yes'"),
        ({"dropout": "0.5"}, "alexnet: dropout must be a number, got '0.5'"),
        ({"width": None}, "alexnet: width must be a number, got None"),
        ({"remove": 3}, "alexnet: remove must be a sequence of layer numbers, got 3"),
        ({"remove": (3.0,)}, r"alexnet: remove must hold layer numbers \(ints\), got \[3.0\]"),
    ],
)  # fmt: skip
def test_type_errors(kwargs, match):
    with pytest.raises(TypeError, match=match):
        meta(**kwargs)


def test_the_class_builds_from_a_config_like_the_builder():
    options = {"num_classes": 5, "width": 1 / 8, "input_size": 32, "stem": (5, 2, 2), "remove": [7]}
    torch.manual_seed(0)
    built = alexnet(**options)
    torch.manual_seed(0)
    direct = AlexNet(AlexNetConfig(**options))
    assert built.config == direct.config
    assert built.config.remove == (7,) and built.config.lrn and built.config.groups
    assert built.layer_index == direct.layer_index and repr(built) == repr(direct)
    after = direct.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in built.state_dict().items())
    with torch.device("meta"):
        assert (
            AlexNet().config
            == alexnet().config
            == AlexNetConfig(lrn=True, groups=True, input_size=227, stem=(11, 4, 0))
        )
    with pytest.raises(TypeError, match="AlexNet: config must be an AlexNetConfig, got dict"):
        AlexNet(options)
    with pytest.raises(ValueError, match="AlexNet: input_size 32 is too small"):
        AlexNet(AlexNetConfig(input_size=32))


def test_layer_summary_errors():
    with pytest.raises(TypeError, match=r"layer_summary: model must be an nn\.Module, got str"):
        layer_summary("alexnet")
    with pytest.raises(ValueError, match="layer_summary: pass input_size: Linear has no"):
        layer_summary(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="layer_summary: pass in_channels: Linear has no"):
        layer_summary(nn.Linear(2, 2), 4)


def test_layer_summary_of_any_network():
    with torch.device("meta"):
        net = torchvision.models.resnet18(weights=None)
    lenet = lenet5()  # small: built on the CPU, summarised on a meta copy
    rows = layer_summary(net, 224)
    assert sum(r.parameters for r in rows) == n_params(net)
    with FlopCounterMode(display=False) as counter:
        net(torch.zeros(1, 3, 224, 224, device="meta"))
    assert sum(r.multiply_adds for r in rows) == counter.get_total_flops() // 2
    assert rows[0].name == "conv1" and rows[0].out_shape == (64, 112, 112)
    assert rows[-1].name == "fc" and rows[-1].out_shape == (1000,)
    assert [r.layer for r in rows] == [None] * len(rows)
    lenet_rows = layer_summary(lenet)
    assert lenet_rows[-1].out_shape == (10,)
    assert sum(r.parameters for r in lenet_rows) == n_params(lenet)


def test_layer_summary_of_a_network_in_training_mode_with_batch_norm():
    # one image and 1×1 maps: batch norm in training mode would refuse them
    net = lenet5(variant="modern", batch_norm=True)
    assert net.training
    rows = layer_summary(net)
    assert rows[-1].out_shape == (10,)
    assert net.training and all(m.training for m in net.modules()), "modes left as they were"
