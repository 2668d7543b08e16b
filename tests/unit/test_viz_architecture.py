"""The architecture diagram writes the shapes PyTorch computes, and fits the page."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

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


def test_diagram_fits_the_page_and_no_labels_overlap():
    fig = draw_architecture(_lenet_layers(), width=8.2, dpi=90)
    assert fig.get_size_inches()[0] == pytest.approx(8.2)
    renderer = FigureCanvasAgg(fig).get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].texts]
    page = fig.bbox
    for box in boxes:  # every label inside the figure
        assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1
        assert page.y0 - 1 <= box.y0 and box.y1 <= page.y1 + 1
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), "two labels overlap"


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
    with pytest.raises(ValueError, match="width must be a positive number"):
        draw_architecture([("a", (3,), None)], width=0)
