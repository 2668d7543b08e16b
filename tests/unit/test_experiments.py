"""Tests of cnnutils.course.experiments: results over seeds, their margins, files and plot, and
the AlexNet chapter's recipe."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cnnutils import plot_over_seeds
from cnnutils.course.experiments import (
    PROBE_BASE,
    SMALL_ALEXNET,
    invariance_probe,
    load_results,
    mean_std,
    over_seeds,
    results_path,
    save_results,
    shapes_data,
    small_alexnet,
    worst_margin,
)


def test_over_seeds_and_mean_std():
    values = over_seeds(lambda seed: 0.8 + seed / 100, [0, 1, 2])
    assert values.tolist() == pytest.approx([0.80, 0.81, 0.82])
    summary = mean_std(values)
    assert summary.n == 3 and summary.mean == pytest.approx(0.81)
    assert summary.std == pytest.approx(np.std([0.80, 0.81, 0.82]))
    assert format(summary, ".1%") == "81.0% ± 0.8%"
    assert format(summary, ">16.1%") == "    81.0% ± 0.8%"  # the width pads the pair
    assert format(mean_std([-0.5, 0.5]), "+.1f") == "+0.0 ± 0.5"  # the sign is the mean's
    with pytest.raises(ValueError, match="at least one seed"):
        over_seeds(lambda seed: 0.0, [])
    with pytest.raises(ValueError, match="non-empty 1-D"):
        mean_std([])


def test_worst_margin_is_the_smallest_lead():
    a, b = [0.90, 0.80, 0.85], [0.70, 0.79, 0.80]
    assert worst_margin(a, b) == pytest.approx(0.01)  # seed 1
    assert worst_margin(a, b, paired=False) == pytest.approx(0.80 - 0.80)
    assert worst_margin(b, a) == pytest.approx(-0.20)
    with pytest.raises(ValueError, match="same seeds"):
        worst_margin([1.0, 2.0], [1.0])


def test_save_and_load_round_trip(tmp_path):
    path = tmp_path / "r.json"
    results = {"a": np.array([0.1234567, 1.0]), "b": {"c": np.float32(2.5)}}
    written = save_results(path, results, seeds=[0, 1])
    loaded = load_results(path)
    assert loaded == json.loads(path.read_text()) == written
    assert loaded["results"] == {"a": [0.123457, 1.0], "b": {"c": 2.5}}
    assert loaded["settings"] == {"seeds": [0, 1]} and "torch" in loaded["versions"]
    with pytest.raises(FileNotFoundError, match="make execute"):
        load_results(tmp_path / "missing.json")
    with pytest.raises(ValueError, match="plain file stem"):
        results_path("../x")
    assert results_path("alexnet").is_file()  # shipped with the package


def test_plot_over_seeds_draws_a_mean_and_a_band():
    fig = plot_over_seeds({"a": [[0.0, 1.0], [1.0, 1.0]], "b": [[0.5, 0.5], [0.5, 0.5]]}, [1, 2])
    ax = fig.axes[0]
    assert ax.get_lines()[0].get_ydata().tolist() == [0.5, 1.0]
    assert len(ax.collections) == 2  # one band per curve
    assert ax.get_lines()[0].get_label() == "a (2 seeds)"
    with pytest.raises(ValueError, match=r"\(seeds, points\)"):
        plot_over_seeds({"a": [0.1, 0.2]})
    with pytest.raises(ValueError, match="'a' has 2 points but x has 3"):
        plot_over_seeds({"a": [[0.1, 0.2]]}, [1, 2, 3])
    with pytest.raises(TypeError, match="non-empty"):
        plot_over_seeds([[0.1, 0.2]])


def test_small_alexnet_has_odd_maps_so_both_poolings_match():
    sizes = {}
    for overlapping in (True, False):
        net = small_alexnet(overlapping_pooling=overlapping)
        x = torch.zeros(1, 3, SMALL_ALEXNET["input_size"], SMALL_ALEXNET["input_size"])
        pooled = []
        for module in net.features:
            x = module(x)
            if isinstance(module, torch.nn.MaxPool2d):
                pooled.append(x.shape[-1])
        sizes[overlapping] = pooled
    assert sizes[True] == sizes[False] == [7, 3, 1]
    assert sum(p.numel() for p in small_alexnet().parameters()) == 319_093
    first = [small_alexnet(3).features[0].weight for _ in range(2)]
    torch.testing.assert_close(*first)  # the seed fixes the initial weights


def test_shapes_data_and_the_probe():
    data = shapes_data(10, seed=1, rotation=0.0)
    assert data.x.shape == (10, 3, 32, 32) and data.factors["rotation"].abs().max() == 0
    train = shapes_data(1200, seed=0)
    assert train.x.mean(dim=(0, 2, 3)).abs().max() < 1e-4  # standardised with its own statistics
    distances, probabilities = invariance_probe(small_alexnet(), "rotation", [0.0, 90.0], n=10)
    assert distances.shape == probabilities.shape == (2,)
    assert distances[0] == pytest.approx(0.0, abs=1e-6)  # the untransformed image itself
    assert ((probabilities > 0) & (probabilities < 1)).all()
    assert set(PROBE_BASE) == {"scale", "shift", "rotation"}
    with pytest.raises(ValueError, match="factor must be one of"):
        invariance_probe(small_alexnet(), "colour", [0.0])
