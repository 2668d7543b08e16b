"""Tests of cnnutils.models.lenet5: the paper's architecture, its parameter counts, the C3 table."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnutils.models.lenet5 import (
    C3_TABLE,
    C3Connections,
    LeNet5,
    LeNet5Config,
    ScaledTanh,
    Subsampling,
    lenet5,
)

# Table I of LeCun et al. (1998), copied from the paper: rows are S2 maps, columns C3 maps.
PAPER_TABLE_I = """
X...XXX..XXXX.XX
XX...XXX..XXXX.X
XXX...XXX..X.XXX
.XXX..XXXX..X.XX
..XXX..XXXX.XX.X
...XXX..XXXX.XXX
"""


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def test_c3_table_is_table_one_of_the_paper():
    rows = PAPER_TABLE_I.split()
    mask = torch.tensor([[c == "X" for c in row] for row in rows])  # (6, 16)
    assert torch.equal(C3Connections().connection_mask(), mask.T)
    assert sum(len(column) for column in C3_TABLE) == 60


def test_parameter_counts_of_the_paper():
    """C1 to F6 of the classic variant hold the paper's 60,000 trainable parameters."""
    net = lenet5(variant="classic")
    f, c = net.features, net.classifier
    layers = {
        "C1": f[0], "S2": f[2], "C3": f[4], "S4": f[6], "C5": f[8], "F6": c[1], "output": c[3],
    }  # fmt: skip
    counts = {name: n_params(layer) for name, layer in layers.items()}
    assert counts == {
        "C1": 6 * (25 + 1),  # 156
        "S2": 6 * 2,  # 12
        "C3": 60 * 25 + 16,  # 1,516
        "S4": 16 * 2,  # 32
        "C5": 120 * (16 * 25 + 1),  # 48,120
        "F6": 84 * (120 + 1),  # 10,164
        "output": 10 * (84 + 1),  # 850: a linear layer instead of the paper's fixed RBF units
    }
    assert sum(counts.values()) - counts["output"] == 60_000
    assert n_params(net) == 60_850


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"variant": "classic"}, 60_850),
        ({"variant": "classic", "c3_table": False}, 61_750),  # full C3: 2,416 instead of 1,516
        ({"variant": "modern"}, 61_706),  # no subsampling coefficients (-44), full C3 (+900)
        ({"variant": "modern", "c3_table": True}, 60_806),
        ({"variant": "modern", "num_classes": 5, "in_channels": 3}, 61_706 - 5 * 85 + 2 * 150),
        # batch norm: 2 per channel (6 + 16 + 120 + 84), minus the 226 biases it replaces
        ({"variant": "modern", "batch_norm": True}, 61_706 + 2 * 226 - 226),
    ],
)
def test_parameter_counts_of_the_variants(kwargs, expected):
    assert n_params(lenet5(**kwargs)) == expected


def test_shapes_layer_by_layer():
    net = lenet5(variant="classic")
    x = torch.zeros(2, 1, 32, 32)
    shapes = []
    for layer in net.features:
        x = layer(x)
        shapes.append(tuple(x.shape[1:]))
    assert shapes == [
        (6, 28, 28), (6, 28, 28),  # C1, tanh
        (6, 14, 14), (6, 14, 14),  # S2, tanh
        (16, 10, 10), (16, 10, 10),  # C3, tanh
        (16, 5, 5), (16, 5, 5),  # S4, tanh
        (120, 1, 1), (120, 1, 1),  # C5, tanh
    ]  # fmt: skip
    assert net.classifier(x).shape == (2, 10)


def test_variants_choose_their_layers():
    classic, modern = lenet5(variant="classic"), lenet5(variant="modern")
    assert isinstance(classic, LeNet5)
    kinds = {type(m) for m in classic.modules()}
    assert {ScaledTanh, Subsampling, C3Connections} <= kinds
    assert not kinds & {nn.ReLU, nn.MaxPool2d}
    kinds = {type(m) for m in modern.modules()}
    assert {nn.ReLU, nn.MaxPool2d} <= kinds
    assert not kinds & {ScaledTanh, Subsampling, C3Connections}
    mixed = lenet5(variant="classic", activation="relu", pooling="avg", c3_table=False)
    kinds = {type(m) for m in mixed.modules()}
    assert {nn.ReLU, nn.AvgPool2d} <= kinds and not kinds & {ScaledTanh, Subsampling}
    assert nn.Tanh in {type(m) for m in lenet5(activation="tanh").modules()}


def test_batch_norm_replaces_biases():
    net = lenet5(variant="modern", batch_norm=True)
    norms = [m for m in net.modules() if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d)]
    assert [m.num_features for m in norms] == [6, 16, 120, 84]
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    assert [m.bias is None for m in convs] == [True, True, True, True, False]
    c3 = next(m for m in lenet5(batch_norm=True).modules() if isinstance(m, C3Connections))
    assert c3.bias is None


def test_scaled_tanh_is_the_papers_function():
    x = torch.linspace(-4, 4, 41, dtype=torch.float64)
    torch.testing.assert_close(ScaledTanh()(x), 1.7159 * torch.tanh(2 * x / 3))
    torch.testing.assert_close(ScaledTanh()(torch.tensor([1.0])), torch.tensor([1.0]), atol=1e-4,
                               rtol=0)  # fmt: skip


def test_subsampling_adds_each_window_then_scales_and_shifts():
    layer = Subsampling(3).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([1.0, -2.0, 0.5]))
        layer.bias.copy_(torch.tensor([0.0, 1.0, -1.0]))
    x = torch.randn(2, 3, 6, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    window_sums = x.view(2, 3, 3, 2, 2, 2).sum(dim=(3, 5))  # (N, C, 3, 2)
    expected = window_sums * layer.weight.view(1, 3, 1, 1) + layer.bias.view(1, 3, 1, 1)
    torch.testing.assert_close(layer(x), expected)
    fresh = Subsampling(3)  # starts as 2x2 average pooling
    torch.testing.assert_close(fresh(x.float()), F.avg_pool2d(x.float(), 2))


def test_c3_matches_a_convolution_per_output_map():
    c3 = C3Connections().double()
    x = torch.randn(3, 6, 14, 14, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    dense = c3.dense_weight()
    for o, column in enumerate(C3_TABLE):
        reference = F.conv2d(x[:, list(column)], dense[o : o + 1, list(column)], c3.bias[o : o + 1])
        torch.testing.assert_close(c3(x)[:, o : o + 1], reference)
    torch.testing.assert_close(c3(x), F.conv2d(x, dense, c3.bias))
    assert torch.all(dense[~c3.connection_mask()] == 0)


def test_c3_disconnected_input_maps_have_no_effect():
    c3 = C3Connections()
    g = torch.Generator().manual_seed(2)
    x = torch.randn(2, 6, 14, 14, generator=g)
    mask = c3.connection_mask()  # (16, 6)
    for i in range(6):
        changed = x.clone()
        changed[:, i] += torch.randn(2, 14, 14, generator=g)
        moved = (c3(changed) - c3(x)).abs().amax(dim=(0, 2, 3)) > 0  # (16,)
        assert torch.equal(moved, mask[:, i]), f"input map {i}"


def test_c3_gradients_are_those_of_the_masked_dense_convolution():
    c3 = C3Connections().double()
    x = torch.randn(2, 6, 14, 14, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    c3(x).square().sum().backward()
    dense = c3.dense_weight().detach().requires_grad_(True)
    F.conv2d(x, dense, c3.bias.detach()).square().sum().backward()
    mask = c3.connection_mask()
    # connection c is row c3.rows[c] of the dense weight viewed as (16 * 6, 5, 5)
    torch.testing.assert_close(c3.weight.grad, dense.grad.view(96, 5, 5)[c3.rows])
    assert torch.equal(dense.grad.view(96, 5, 5)[c3.rows].ne(0).any(dim=(1, 2)), mask[mask])
    # the disconnected kernels are constants: a step of any optimizer leaves them at zero
    torch.optim.SGD(c3.parameters(), lr=1.0).step()
    assert torch.all(c3.dense_weight()[~mask] == 0)

    def layer(inp, weight):
        return torch.func.functional_call(c3, {"weight": weight, "bias": c3.bias}, (inp,))

    small = x[:1, :, :7, :7].clone().requires_grad_(True)
    assert torch.autograd.gradcheck(layer, (small, c3.weight.detach().clone().requires_grad_()))


def test_c3_initialisation_follows_each_maps_fan_in():
    torch.manual_seed(0)
    c3 = C3Connections()
    mask = c3.connection_mask()
    dense = c3.dense_weight().detach()
    for o in range(16):
        bound = (mask[o].sum().item() * 25) ** -0.5
        assert dense[o][mask[o]].abs().max() <= bound
        assert abs(c3.bias[o].item()) <= bound


def test_c3_custom_table_and_errors():
    layer = C3Connections(((0,), (0, 1)), in_channels=2, kernel_size=3, bias=False)
    assert n_params(layer) == 3 * 9 and layer.bias is None
    assert layer(torch.zeros(1, 2, 5, 5)).shape == (1, 2, 3, 3)
    assert "connections=3" in repr(layer)
    with pytest.raises(ValueError, match=r"C3Connections: .*distinct input maps in \[0, 2\)"):
        C3Connections(((0, 2),), in_channels=2)
    with pytest.raises(ValueError, match="got \\(0, 0\\)"):
        C3Connections(((0, 0),), in_channels=2)


def test_train_step_changes_every_parameter():
    torch.manual_seed(0)
    for variant in ("classic", "modern"):
        net = lenet5(variant=variant)
        before = [p.detach().clone() for p in net.parameters()]
        x = torch.randn(8, 1, 32, 32, generator=torch.Generator().manual_seed(0))
        F.cross_entropy(net(x), torch.arange(8)).backward()
        torch.optim.SGD(net.parameters(), lr=0.1).step()
        assert all(not torch.equal(b, p) for b, p in zip(before, net.parameters(), strict=True))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"variant": "vgg"}, r"lenet5: variant must be one of \('classic', 'modern'\), got 'vgg'"),
        ({"activation": "gelu"}, r"lenet5: activation must be one of .*got 'gelu'"),
        ({"pooling": "lp"}, r"lenet5: pooling must be one of .*got 'lp'"),
        ({"num_classes": 0}, r"lenet5: num_classes must be >= 1, got 0"),
    ],
)
def test_builder_rejects_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        lenet5(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"in_channels": True}, r"lenet5: in_channels must be an int, got True"),
        ({"num_classes": 10.0}, r"lenet5: num_classes must be an int, got 10.0"),
        (
            {"activation": nn.ReLU},
            r"lenet5: activation must be one of \('scaled_tanh', .*got <class",
        ),
        ({"c3_table": 1}, r"lenet5: c3_table must be a bool, got 1"),
        ({"batch_norm": None}, r"lenet5: batch_norm must be a bool, got None"),
    ],
)
def test_builder_rejects_options_of_the_wrong_type(kwargs, match):
    with pytest.raises(TypeError, match=match):
        lenet5(**kwargs)


def test_the_class_builds_from_a_config_like_the_builder():
    torch.manual_seed(0)
    built = lenet5(variant="modern", batch_norm=True, num_classes=5)
    torch.manual_seed(0)
    direct = LeNet5(LeNet5Config(variant="modern", batch_norm=True, num_classes=5))
    assert (
        built.config
        == direct.config
        == LeNet5Config(
            "modern", 5, 1, activation="relu", pooling="max", c3_table=False, batch_norm=True
        )
    )
    assert repr(built) == repr(direct)
    after = direct.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in built.state_dict().items())
    assert (
        LeNet5().config
        == lenet5().config
        == LeNet5Config(activation="scaled_tanh", pooling="subsample", c3_table=True)
    )
    with pytest.raises(TypeError, match="LeNet5: config must be a LeNet5Config, got str"):
        LeNet5("classic")


def test_builder_is_keyword_only():
    with pytest.raises(TypeError):
        lenet5("classic")


def test_forward_rejects_other_input_sizes():
    with pytest.raises(ValueError, match=r"LeNet5: expected input of shape \(N, C, 32, 32\), got "
                       r"\(2, 1, 28, 28\); pad 28×28"):  # fmt: skip
        lenet5()(torch.zeros(2, 1, 28, 28))
