"""The architecture diagram writes the shapes PyTorch computes, and fits the page."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from cnnutils import alexnet, draw_architecture, layer_summary, lenet5


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def _hwc(shape: tuple[int, ...]) -> str:
    return str(shape[0]) if len(shape) == 1 else f"{shape[1]}×{shape[2]}×{shape[0]}"


def _lenet_layers() -> list[tuple[str, tuple[int, ...], str | None]]:
    rows = {r.name: r.out_shape for r in layer_summary(lenet5(variant="classic"))}
    names = {
        "C1": ("features.0", "conv\n5×5"),
        "S2": ("features.2", "pool\n2×2"),
        "C3": ("features.4", "conv\n5×5"),
        "S4": ("features.6", "pool\n2×2"),
        "C5": ("features.8", "conv\n5×5"),
        "F6": ("classifier.1", "full"),
        "output": ("classifier.3", "full"),
    }
    return [("input", (1, 32, 32), None)] + [
        (name, rows[module], op) for name, (module, op) in names.items()
    ]


def test_lenet_diagram_writes_the_shapes_of_the_model():
    layers = _lenet_layers()
    before = plt.get_fignums()
    fig = draw_architecture(layers)
    assert isinstance(fig, Figure) and plt.get_fignums() == before
    texts = _texts(fig)
    for name, shape, op in layers:
        assert name in texts and _hwc(shape) in texts
        assert op is None or op in texts
    # the shapes of the model are the paper's
    assert [_hwc(s) for _, s, _ in layers] == [
        "32×32×1", "28×28×6", "14×14×6", "10×10×16", "5×5×16", "1×1×120", "84", "10",
    ]  # fmt: skip


def _assert_fits_without_overlaps(fig: Figure) -> None:
    renderer = FigureCanvasAgg(fig).get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].texts]
    page = fig.bbox
    for box in boxes:  # every label inside the figure
        assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1
        assert page.y0 - 1 <= box.y0 and box.y1 <= page.y1 + 1
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), "two labels overlap"


def test_diagram_fits_the_page_and_no_labels_overlap():
    fig = draw_architecture(_lenet_layers(), width=8.2, dpi=90)
    assert fig.get_size_inches()[0] == pytest.approx(8.2)
    _assert_fits_without_overlaps(fig)
    names = [t for t in fig.axes[0].texts if t.get_text() in {n for n, _, _ in _lenet_layers()}]
    assert len({t.get_position()[1] for t in names}) == 1, "one row by default"


def _alexnet_layers() -> list[tuple[str, tuple[int, ...], str | None]]:
    with torch.device("meta"):
        rows = {r.name: r.out_shape for r in layer_summary(alexnet())}
    stages = [
        ("conv1", "features.0", "conv 11×11\nstride 4"),
        ("pool1", "features.3", "LRN,\nmax pool"),
        ("conv2", "features.4", "conv\n5×5"),
        ("pool2", "features.7", "LRN,\nmax pool"),
        ("conv3", "features.8", "conv\n3×3"),
        ("conv4", "features.10", "conv\n3×3"),
        ("conv5", "features.12", "conv\n3×3"),
        ("pool5", "features.14", "max pool"),
        ("fc6", "classifier.0", "full"),
        ("fc7", "classifier.3", "full"),
        ("fc8", "classifier.6", "full"),
    ]
    return [("input", (3, 227, 227), None)] + [(n, rows[m], op) for n, m, op in stages]


def test_two_rows_give_room_for_large_text():
    # AlexNet's twelve volumes at 10 pt in the 8.2 in (738 px) code column: the page shows the
    # figure at its own size, so the text is read at 10 pt. One row has no room for that.
    layers = _alexnet_layers()
    with pytest.raises(ValueError, match="do not fit"):
        draw_architecture(layers, width=8.2, fontsize=10)
    fig = draw_architecture(layers, width=8.2, fontsize=10, rows=2)
    assert fig.get_size_inches()[0] == pytest.approx(8.2)
    assert min(t.get_fontsize() for t in fig.axes[0].texts) == 10
    _assert_fits_without_overlaps(fig)
    texts = {t.get_text(): t for t in fig.axes[0].texts}
    for name, shape, op in layers:
        assert name in texts and _hwc(shape) in texts
        assert op is None or op in texts
    # the first six volumes in the top row, the other six in the row under it, left to right
    height = {name: texts[name].get_position()[1] for name, _, _ in layers}
    top, bottom = [name for name, _, _ in layers[:6]], [name for name, _, _ in layers[6:]]
    assert len({height[n] for n in top}) == 1 and len({height[n] for n in bottom}) == 1
    assert height["input"] > height["conv4"]
    across = [texts[n].get_position()[0] for n in bottom]
    assert across == sorted(across) and across[0] < texts["conv1"].get_position()[0]
    # the op into conv4 starts the second row, on an arrow from the left edge
    lower = [
        t.get_position()[0]
        for t in fig.axes[0].texts
        if t.get_text() == "conv\n3×3" and t.get_position()[1] < height["conv4"]
    ]
    assert len(lower) == 2 and min(lower) < across[0]
    # one arrow between each pair of volumes, the one from conv3 to conv4 drawn in two halves:
    # out of the first row and into the second
    arrows = [p for p in fig.axes[0].patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == len(layers) - 1 + 1


def test_alexnet_from_its_layer_summary():
    with torch.device("meta"):
        rows = {r.name: r.out_shape for r in layer_summary(alexnet())}
    layers = [
        ("input", (3, 227, 227), None),
        ("conv1", rows["features.0"], "conv 11×11\nstride 4"),
        ("conv2", rows["features.4"], "pool, conv\n5×5"),
        ("conv5", rows["features.12"], "pool, conv\n3×3 (×3)"),
        ("fc6", rows["classifier.0"], "pool, full"),
        ("fc8", rows["classifier.6"], "full (×2)"),
    ]
    texts = _texts(draw_architecture(layers))
    for expected in ("55×55×96", "27×27×256", "13×13×256", "4096", "1000", "227×227×3"):
        assert expected in texts


def test_too_many_layers_for_the_width_is_an_error():
    layers = [(f"layer {i}", (8, 4, 4), "convolution") for i in range(30)]
    with pytest.raises(ValueError, match="draw_architecture: 30 layers do not fit"):
        draw_architecture(layers, width=4)


@pytest.mark.parametrize(
    ("layers", "error", "match"),
    [
        ([], TypeError, "non-empty list"),
        ([("a", (1, 2, 3))], TypeError, r"layers\[0\] must be \(name, shape, op\)"),
        ([("a", (1, 2), None)], ValueError, r"shape must be \(C, H, W\) or \(F,\)"),
        ([("a", (0,), None)], ValueError, "positive ints"),
    ],
)
def test_bad_layers(layers, error, match):
    with pytest.raises(error, match=match):
        draw_architecture(layers)


def test_bad_width():
    with pytest.raises(ValueError, match=r"draw_architecture: width must be > 0, got 0"):
        draw_architecture([("a", (3,), None)], width=0)
    with pytest.raises(TypeError, match="draw_architecture: dpi must be a number"):
        draw_architecture([("a", (3,), None)], dpi="90")


@pytest.mark.parametrize(
    ("rows", "error", "match"),
    [
        (0, ValueError, r"rows must be in \[1, 3\], got 0"),
        (4, ValueError, r"rows must be in \[1, 3\], got 4"),
        (1.5, TypeError, "rows must be an int"),
        (True, TypeError, "rows must be an int"),
    ],
)
def test_bad_rows(rows, error, match):
    layers = [("a", (3,), None), ("b", (4,), "x"), ("c", (5,), "y")]
    with pytest.raises(error, match=match):
        draw_architecture(layers, rows=rows)


def test_as_many_rows_as_layers():
    layers = [("a", (3, 8, 8), None), ("b", (4, 4, 4), "conv"), ("c", (5,), "full")]
    fig = draw_architecture(layers, rows=3)
    _assert_fits_without_overlaps(fig)
    names = [t for t in fig.axes[0].texts if t.get_text() in "abc"]
    assert len({t.get_position()[1] for t in names}) == 3
