"""The scripts behind the chapters' longer comparisons (experiments/), and their committed results.

experiments/alexnet.py trains sixty networks (about ten minutes on two cores); `make execute`
runs it and commits its JSON to cnnutils/course/results/, which chapter 07 reads. Here a reduced
run (one seed, fewer epochs) must give results of the same form as the committed ones and
reproduce the direction of the chapter's clearest effect, on whatever PyTorch this runs on
(`make test-oldest` runs this file on the oldest supported one).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnutils.course.experiments import load_results

ROOT = Path(__file__).resolve().parents[2]


def _script(name: str):
    path = ROOT / "experiments" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"experiment_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _form(value):
    """The form of a result: keys and list lengths, not the numbers."""
    if isinstance(value, dict):
        return {k: _form(v) for k, v in value.items()}
    if isinstance(value, list | np.ndarray):
        return [_form(value[0]), len(value)] if len(value) else []
    return "number" if isinstance(value, int | float) else type(value).__name__


def test_committed_alexnet_results_have_the_scripts_form():
    script = _script("alexnet")
    committed = load_results("alexnet")
    seeds = committed["settings"]["seeds"]
    assert len(seeds) >= 3 and committed["settings"]["epochs"] == script.EPOCHS
    results = committed["results"]
    assert list(results) == list(script.STUDIES)
    assert list(results["ingredients"]) == list(script.INGREDIENTS)
    assert list(results["ablation"]) == list(script.ABLATIONS)
    for runs in results["activation"].values():  # ReLU, tanh: epochs to 25% training error
        assert len(runs) == len(seeds)
        assert all(len(r["train_error"]) == r["epochs"] <= script.RACE["max_epochs"] for r in runs)
    for study in ("ingredients", "ablation", "overfitting"):
        for runs in results[study].values():
            assert len(runs) == len(seeds)
            assert all(len(r["val_accuracy"]) == len(r["train_accuracy"]) for r in runs)
    for runs in results["ingredients"].values():
        assert all(len(r["val_accuracy"]) == script.EPOCHS for r in runs)
    for factor, (fixed, _, values) in script.INVARIANCE.items():
        study = results["invariance"][factor]
        assert study["fixed"] == fixed and study["values"] == pytest.approx(values.tolist())
        for label in ("without", "with augmentation"):
            assert len(study[label]) == len(seeds)
            assert all(len(r["probability"]) == len(values) for r in study[label])


def test_merging_seeds_joins_the_runs():
    script = _script("alexnet")
    one = {"ablation": {"full": [{"final": 0.9}]}, "invariance": {"shift": {
        "values": [0.0, 0.1], "fixed": 0.0, "without": [{"final": 0.5}]}}}  # fmt: skip
    two = {"ablation": {"full": [{"final": 0.8}]}, "invariance": {"shift": {
        "values": [0.0, 0.1], "fixed": 0.0, "without": [{"final": 0.6}]}}}  # fmt: skip
    merged = script.merge([one, two])
    assert [r["final"] for r in merged["ablation"]["full"]] == [0.9, 0.8]
    shift = merged["invariance"]["shift"]
    assert shift["values"] == [0.0, 0.1] and [r["final"] for r in shift["without"]] == [0.5, 0.6]


def test_reduced_invariance_run_reproduces_the_effect():
    """One seed, sixteen epochs of the script's twenty (at eight the augmented network has not
    learnt enough): trained on upright shapes with rotation augmentation, the network keeps the
    right class more probable under rotation than trained on them without, and the result has
    the committed form."""
    script = _script("alexnet")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the script: faster for these small networks
    try:
        reduced = script.invariance([0], epochs=16, factors=["rotation"])
    finally:
        torch.set_num_threads(threads)
    committed = load_results("alexnet")["results"]["invariance"]["rotation"]
    assert _form(reduced["rotation"])["without"][0] == _form(committed)["without"][0]
    rotation = reduced["rotation"]
    p = {k: np.mean(rotation[k][0]["probability"]) for k in ("without", "with augmentation")}
    assert p["with augmentation"] > p["without"] + 0.1, p
