"""Figure helpers of the first chapters: labelled matrices, connection diagrams, the player."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from cnnutils.geometry import receptive_field
from cnnutils.viz.animation import animation_html, sliding_window_animation
from cnnutils.viz.diagrams import (
    connections_figure,
    dense_vs_local_figure,
    depends_on,
    reached_from,
    show_matrices,
)

matplotlib.use("Agg")


def band(n: int, width: int = 3) -> torch.Tensor:
    """The connections of a 1-D convolution of kernel ``width`` with 'same' zero padding,
    read off the layer itself (its Jacobian is its weight matrix)."""
    kernel = torch.ones(1, 1, width, dtype=torch.float64)

    def layer(x: torch.Tensor) -> torch.Tensor:
        return F.conv1d(x.view(1, 1, -1), kernel, padding=width // 2).flatten()

    return torch.autograd.functional.jacobian(layer, torch.zeros(n, dtype=torch.float64))


def test_helpers_leave_pyplot_alone():
    before = plt.get_fignums()
    figures = [
        show_matrices(torch.eye(3)),
        connections_figure([[band(4)]], names=["x", "s"]),
        dense_vs_local_figure(),
    ]
    assert all(isinstance(f, Figure) for f in figures)
    assert plt.get_fignums() == before


def test_show_matrices_labels_colour_bars_and_titles():
    fig = show_matrices(
        [torch.arange(6.0).reshape(2, 3), np.ones((12, 4))],
        ["a", "b"],
        xlabel="input j",
        ylabel="output i",
        colorbar_label="weight",
    )
    panels, bars = fig.axes[:2], fig.axes[2:]
    assert [ax.get_title() for ax in panels] == ["a", "b"]
    assert all(ax.get_xlabel() == "input j" and ax.get_ylabel() == "output i" for ax in panels)
    assert len(bars) == 2 and all(bar.get_ylabel() == "weight" for bar in bars)
    # Small matrices get one tick per index; every panel shows its matrix unchanged.
    assert list(panels[0].get_xticks()) == [0, 1, 2]
    assert np.array_equal(panels[0].images[0].get_array(), np.arange(6.0).reshape(2, 3))


def test_show_matrices_colour_scales():
    signed = torch.tensor([[-1.0, 3.0], [0.5, 2.0]])
    sym, plain = show_matrices([signed, signed], symmetric=[True, False]).axes[:2]
    assert sym.images[0].get_clim() == (-3.0, 3.0)
    assert plain.images[0].get_clim() == (-1.0, 3.0)
    shared = show_matrices([signed, 2 * signed], shared_scale=True)
    assert len(shared.axes) == 3  # two panels, one colour bar
    assert [ax.images[0].get_clim() for ax in shared.axes[:2]] == [(-6.0, 6.0)] * 2
    mixed = show_matrices([signed, signed], symmetric=[False, True], cmap=["magma", None])
    assert [ax.images[0].get_cmap().name for ax in mixed.axes[:2]] == ["magma", "RdBu_r"]


def test_show_matrices_annotations():
    impulse = torch.zeros(5, 5)
    impulse[2, 2] = 7
    texts = show_matrices(impulse).axes[0].texts
    assert len(texts) == 25 and {t.get_text() for t in texts} == {"0", "7"}
    sparse = show_matrices(impulse, annotate_zeros=False).axes[0].texts
    assert [t.get_text() for t in sparse] == ["7"]
    assert len(show_matrices(torch.rand(9, 9)).axes[0].texts) == 0  # large: no numbers
    assert len(show_matrices(torch.rand(9, 9), annotate=True).axes[0].texts) == 81
    labels = [
        t.get_text() for t in show_matrices(torch.tensor([[0.125, -2.0, -1e-4]])).axes[0].texts
    ]
    assert labels == ["0.12", "-2", "0.00"]


def test_show_matrices_accepts_stacks_and_rejects_bad_input():
    assert len(show_matrices(torch.rand(3, 4, 4), ncols=2).axes) == 6
    with pytest.raises(ValueError, match="titles must have one entry per matrix"):
        show_matrices([torch.eye(2)], ["a", "b"])
    with pytest.raises(ValueError, match="symmetric must be a bool or one bool"):
        show_matrices([torch.eye(2)], symmetric=[True, False])
    with pytest.raises(ValueError, match="non-empty 2-D matrix"):
        show_matrices([torch.ones(3)])
    with pytest.raises(ValueError, match=r"shape \(N, H, W\) or \(H, W\)"):
        show_matrices(torch.ones(1, 1, 2, 2))
    with pytest.raises(TypeError, match="must be a tensor or an array"):
        show_matrices([[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="no matrices"):
        show_matrices([])
    with pytest.raises(ValueError, match="cmap must be a name or one entry per matrix"):
        show_matrices([torch.eye(2)], cmap=["gray", "magma"])
    with pytest.raises(ValueError, match="ncols must be a positive int"):
        show_matrices(torch.eye(2), ncols=0)


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_depends_on_is_the_receptive_field(depth):
    n = 21
    stack = [band(n)] * depth
    cone = depends_on(stack, n // 2)
    field = receptive_field([(3, 1)] * depth)[-1].size
    assert len(cone[0]) == field == 2 * depth + 1
    assert cone[0] == set(range(n // 2 - depth, n // 2 + depth + 1))
    assert [len(level) for level in cone] == [2 * (depth - level) + 1 for level in range(depth + 1)]


def test_reached_from_goes_up_the_transposed_stack():
    generator = torch.Generator().manual_seed(0)
    stack = [
        (torch.rand(4, 6, generator=generator) > 0.6).double(),
        (torch.rand(3, 4, generator=generator) > 0.5).double(),
    ]
    for j in range(6):
        up = reached_from(stack, j)
        down = depends_on([m.T for m in reversed(stack)], j)
        assert up == list(reversed(down))
    # On five units the border cuts the cone of three width-3 layers (chapter 3's picture).
    assert [len(u) for u in depends_on([band(5)] * 3, 2)] == [5, 5, 3, 1]


def test_connections_figure_draws_every_non_zero_weight():
    conv, dense = band(5), torch.ones(5, 5)
    marked = [reached_from([conv], 2), None]
    fig = connections_figure([[conv], [dense]], names=["x", "s"], marked=marked, titles=["c", "d"])
    conv_ax, dense_ax = fig.axes
    assert len(conv_ax.lines) == int((conv != 0).sum()) == 13
    assert len(dense_ax.lines) == 25
    orange = [line for line in conv_ax.lines if line.get_color() == "tab:orange"]
    assert len(orange) == 3  # x_3 reaches s_2, s_3 and s_4
    assert [t.get_text() for t in conv_ax.texts][:2] == ["$x_{1}$", "$x_{2}$"]
    assert [ax.get_title() for ax in fig.axes] == ["c", "d"]


def test_connections_figure_rejects_bad_stacks():
    with pytest.raises(ValueError, match="do not chain"):
        connections_figure([[torch.ones(3, 4), torch.ones(2, 2)]], names=["x", "h", "s"])
    with pytest.raises(ValueError, match="one letter per level"):
        connections_figure([[torch.ones(3, 4)]], names=["x"])
    with pytest.raises(ValueError, match="one entry per panel"):
        connections_figure([[torch.ones(3, 4)]], names=["x", "s"], titles=["a", "b"])


def test_dense_vs_local_figure():
    fig = dense_vs_local_figure(side=6, window=3)
    assert [len(ax.lines) for ax in fig.axes] == [36, 9, 18]
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [
        "fully connected: 36 weights",
        "local window: 9 weights",
        "convolution: 9 shared weights",
    ]
    # The two convolution windows use the same nine colours, in the same order.
    colours = [line.get_color() for line in fig.axes[2].lines]
    assert colours[:9] == colours[9:]
    with pytest.raises(ValueError, match="smaller than side"):
        dense_vs_local_figure(side=3, window=3)
    with pytest.raises(ValueError, match="window must be an int"):
        dense_vs_local_figure(window=0)


def test_animation_html_adds_escaped_alt_text_once():
    anim = sliding_window_animation(torch.arange(9.0).reshape(3, 3), torch.ones(2, 2))
    player = animation_html(anim, alt='a "2 × 2" window <slides>')
    assert player.count("<img") == player.count('alt="a &quot;2 × 2&quot; window &lt;slides&gt;"')
    assert player.count("<img") >= 1
    assert "https://" not in player and player.count("data:image/png") == 4
    with pytest.raises(ValueError, match="alt must be a non-empty"):
        animation_html(anim, alt="  ")
