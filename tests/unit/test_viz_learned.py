"""Top-activating patches and activation maximisation, on networks whose answer is known."""

from __future__ import annotations

import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from cnnutils import (
    History,
    ReceptiveField,
    lenet5,
    maximise_activation,
    plot_runs,
    receptive_field,
    top_patches,
)


def _box_net() -> nn.Sequential:
    """A 3×3 box sum, 2×2 max pooling, a 3×3 box sum: the field is 8×8, 2 apart."""
    net = nn.Sequential(nn.Conv2d(1, 1, 3, bias=False), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3))
    nn.init.constant_(net[0].weight, 1.0)
    nn.init.constant_(net[2].weight, 1.0)
    nn.init.constant_(net[2].bias, 0.0)
    return net


def test_top_patch_is_the_receptive_field_of_the_strongest_unit():
    g = torch.Generator().manual_seed(0)
    images = torch.rand(20, 1, 16, 16, generator=g)
    images[13, 0, 6:14, 4:12] += 5.0  # one 8×8 bright block, aligned with a field
    net = _box_net()
    top = top_patches(net, images, 0, k=3)
    assert top.image_index[0] == 13
    assert top.patches.shape == (3, 1, 8, 8)
    r, c = top.top_left[0].tolist()
    assert (r, c) == (6, 4)
    assert torch.equal(top.patches[0], images[13, :, 6:14, 4:12])
    # each patch's corner follows from the unit's position and the field
    field = receptive_field(net)[-1]
    assert torch.equal(top.top_left, top.position * field.jump)
    # values are the unit's activations, in descending order, and match a forward pass
    with torch.no_grad():
        out = net(images[top.image_index])
    for i, (row, col) in enumerate(top.position.tolist()):
        assert out[i, 0, row, col] == pytest.approx(top.values[i].item())
    assert torch.all(top.values[:-1] >= top.values[1:])


def test_patches_reaching_into_the_padding_are_filled():
    net = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, bias=False))
    nn.init.constant_(net[0].weight, 1.0)
    images = torch.zeros(2, 1, 5, 5)
    images[1, 0, 0, 0] = 1.0  # a corner pixel: the strongest unit sees past the edge
    top = top_patches(net, images, 0, k=1, fill=-7.0)
    assert top.image_index.tolist() == [1]
    patch = top.patches[0, 0]
    assert patch.shape == (3, 3) and (patch == -7.0).sum() >= 5
    assert patch.max() == 1.0


def test_top_patches_on_lenet_leave_its_mode_alone():
    model = lenet5(variant="modern", batch_norm=True)  # training mode
    images = torch.randn(30, 1, 32, 32, generator=torch.Generator().manual_seed(1))
    c3 = model.features[:7]
    top = top_patches(c3, images, 5, k=4)
    assert top.patches.shape == (4, 1, 14, 14)
    assert model.training and all(m.training for m in model.modules())


def test_explicit_field_and_errors():
    net = _box_net()
    images = torch.rand(4, 1, 16, 16)
    field = ReceptiveField(8, 2, 3.5)
    assert torch.equal(
        top_patches(net, images, 0, k=2, field=field).patches,
        top_patches(net, images, 0, k=2).patches,
    )
    with pytest.raises(ValueError, match="top_patches: k = 5 is more than the 4 images"):
        top_patches(net, images, 0, k=5)
    with pytest.raises(ValueError, match=r"top_patches: channel 1 is not in 0\.\.0"):
        top_patches(net, images, 1, k=1)
    with pytest.raises(ValueError, match="square receptive field"):
        top_patches(net, images, 0, k=2, field=ReceptiveField((8, 6), 2, 3.5))
    with pytest.raises(ValueError, match=r"images must be a \(N, C, H, W\) tensor"):
        top_patches(net, images[0], 0, k=1)


def test_activation_maximisation_finds_the_filter():
    """For a linear 5×5 filter, ascent with an L2 penalty converges to a multiple of it."""
    conv = nn.Conv2d(1, 1, 5, bias=False)
    weight = torch.randn(1, 1, 5, 5, generator=torch.Generator().manual_seed(2))
    conv.weight.data.copy_(weight)
    result = maximise_activation(conv, [0], (1, 5, 5), steps=300, lr=0.05, l2=1.0)
    image = result.images[0, 0]
    cosine = torch.nn.functional.cosine_similarity(image.flatten(), weight.flatten(), dim=0)
    assert cosine > 0.99
    assert result.final[0] > result.start[0] == 0.0


def test_activation_maximisation_of_classes_keeps_bounds_and_model():
    torch.manual_seed(0)
    model = lenet5(variant="modern", batch_norm=True)
    weights = [p.detach().clone() for p in model.parameters()]
    result = maximise_activation(
        model, [3, 7], (1, 32, 32), steps=15, lr=0.1, l2=0.5, start=0.2, bounds=(-0.5, 1.0)
    )
    assert result.images.shape == (2, 1, 32, 32)
    assert result.images.min() >= -0.5 and result.images.max() <= 1.0
    assert torch.all(result.final > result.start)
    assert model.training
    assert all(torch.equal(a, b) for a, b in zip(weights, model.parameters(), strict=True))
    assert all(p.grad is None for p in model.parameters())


def test_activation_maximisation_errors():
    net = nn.Conv2d(1, 2, 3)
    with pytest.raises(ValueError, match="maximise_activation: targets must be a non-empty"):
        maximise_activation(net, [], (1, 5, 5))
    with pytest.raises(ValueError, match=r"input_shape must be \(C, H, W\)"):
        maximise_activation(net, [0], (5, 5))
    with pytest.raises(ValueError, match="steps"):
        maximise_activation(net, [0], (1, 5, 5), steps=0)


def _history(acc: list[float]) -> History:
    n = len(acc)
    return History([1.0] * n, acc, [1.0] * n, acc, list(range(n)), [0.1] * n)


def test_plot_runs_draws_mean_and_runs():
    runs = {"a": [_history([0.5, 0.7]), _history([0.6, 0.9])], "b": [_history([0.2, 0.4])]}
    fig = plot_runs(runs)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["a (2 seeds)", "b (1 seed)"]
    means = [line for line in ax.lines if line.get_label() == "a (2 seeds)"]
    assert means[0].get_ydata().tolist() == pytest.approx([0.55, 0.8])
    assert len([line for line in ax.lines if line.get_label() == "_seed"]) == 3  # each run
    with pytest.raises(ValueError, match="different numbers of epochs"):
        plot_runs({"a": [_history([0.5]), _history([0.5, 0.6])]})
    with pytest.raises(ValueError, match="metric must be one of"):
        plot_runs(runs, metric="accuracy")
    with pytest.raises(TypeError, match="non-empty"):
        plot_runs({})
