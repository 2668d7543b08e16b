"""Chapter 07's comparisons, each over several seeds: cnnutils/course/results/alexnet.json.

    python experiments/alexnet.py                     # everything, seeds 0 1 2 (make execute)
    python experiments/alexnet.py --only invariance --seeds 0 --out /tmp/a.json
    python experiments/alexnet.py --merge a.json b.json --out ab.json   # join seeds

Five studies of the small AlexNet on synthetic shapes, all with the recipe of
``cnnutils.course.experiments`` (Adam on a one-cycle schedule, 20 epochs unless said otherwise:
until the validation accuracy has stopped moving):

- ``activation``: the paper's Figure 1 in small: a four-layer network (layers 1, 2, 5 and 8, no
  LRN, no dropout) trained with SGD and momentum 0.9 at one learning rate, with ReLUs or with
  tanh units; the epochs until the training error over an epoch drops below 25%.
- ``ingredients``: the paper's network, without LRN, with intra-channel LRN, and with
  non-overlapping 2×2/2 pooling (the maps have odd sizes, so both poolings give the same sizes).
- ``ablation``: the paper's network without layer 7, layers 6 and 7, layers 3 and 4, or all four.
- ``overfitting``: 250 training images for 40 epochs, with neither, either or both of dropout and
  the paper's augmentation (crops, flips, PCA colour jitter).
- ``invariance``: for translation, scale and rotation, a network trained on images where that
  factor is fixed (centred, one size, upright), with and without augmentation along it, probed
  on shifted, rescaled or rotated images.

Each run is one seed; the seed draws the initial weights, the order of the images and the
augmentations (the images themselves are the same for every seed). The chapter reads the JSON,
shows means and standard deviations over the seeds, and asserts each claim with a margin that
holds for every seed. The seeds run in parallel processes (``--jobs``, 3 by default: one per
seed), one thread each; the whole script needs about twenty minutes of CPU time, about ten
minutes on two quiet cores. ``--keep FOLDER`` saves every finished run, so that an interrupted
call resumes.
tests/book/test_experiment_scripts.py re-runs a reduced version and checks the direction of
the clearest effect.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import numpy as np
import torch

from cnnutils import (
    evaluate,
    fit,
    invariance_probe,
    load_results,
    pca_colour_basis,
    pca_colour_jitter,
    random_affine,
    random_crop,
    random_flip,
    results_path,
    save_results,
    shapes_data,
    small_alexnet,
    train_small_alexnet,
)
from cnnutils._files import atomic_write

SEEDS = (0, 1, 2)
EPOCHS = 20
OVERFIT_EPOCHS, OVERFIT_IMAGES = 40, 250
STUDIES = ("activation", "ingredients", "ablation", "overfitting", "invariance")
RACE = {"target": 0.25, "max_epochs": 15, "lr": 0.03, "batch_size": 50}

INGREDIENTS = {
    "paper (LRN, 3×3/2 pools)": {},
    "no LRN": {"lrn": False},
    "intra-channel LRN": {"lrn_mode": "intra"},
    "2×2/2 pools": {"overlapping_pooling": False},
}
ABLATIONS = {
    "full": (),
    "without 7": (7,),
    "without 6, 7": (6, 7),
    "without 3, 4": (3, 4),
    "without 3, 4, 6, 7": (3, 4, 6, 7),
}
# factor: (the fixed value of the training images, the augmentation, the probe's values)
INVARIANCE = {
    "shift": (0.0, {"translate": (-0.4, 0.4)}, np.linspace(-0.4, 0.4, 9)),
    "scale": (0.6, {"scale": (0.5, 1.5)}, np.linspace(0.3, 0.9, 7)),
    "rotation": (0.0, {"degrees": (0.0, 360.0)}, np.linspace(0.0, 360.0, 25)),
}


def data() -> tuple:
    """The chapter's 1,200 training and 500 validation shapes."""
    return shapes_data(1200, seed=0), shapes_data(500, seed=1)


def run(model, train, val, *, epochs, seed, augment=None, label="") -> dict:
    """Train, and return what the chapter shows of the run."""
    history = train_small_alexnet(
        model, train, val, epochs=epochs, augment=augment, seed=seed, device="cpu"
    )
    print(f"  {label} seed {seed}: validation accuracy {history.val_accuracy[-1]:.3f}", flush=True)
    return {
        "val_accuracy": history.val_accuracy,
        "train_accuracy": history.train_accuracy,
        "final": history.val_accuracy[-1],
        "parameters": sum(p.numel() for p in model.parameters()),
    }


# Runs already done by an earlier, interrupted call for the same seed (--keep): "study/label/seed"
_kept_runs: dict[str, dict] = {}
_keep_file: Path | None = None


def kept(key: str, compute: Callable[[], dict]) -> dict:
    """``compute()``, or its result from an earlier call with the same key (see ``--keep``)."""
    if key not in _kept_runs:
        _kept_runs[key] = json.loads(json.dumps(compute()))  # plain lists and numbers
        if _keep_file is not None:
            with atomic_write(_keep_file, "w") as f:
                f.write(json.dumps(_kept_runs))
    return _kept_runs[key]


PAPER = "paper (LRN, 3×3/2 pools)"


def activation(seeds: Sequence[int], max_epochs: int = RACE["max_epochs"]) -> dict:
    """Epochs (and the training error after each) until the training error, measured over the
    epoch, drops below 25%: ReLU against tanh, the same network, seed and learning rate."""
    train, _ = data()

    def one(seed, act):
        model = small_alexnet(seed, activation=act, lrn=False, dropout=0.0, remove=(3, 4, 6, 7))
        optimizer = torch.optim.SGD(model.parameters(), lr=RACE["lr"], momentum=0.9)
        errors = []
        for epoch in range(max_epochs):
            history = fit(
                model, train, epochs=1, optimizer=optimizer, batch_size=RACE["batch_size"],
                seed=100 * seed + epoch, device="cpu", progress=False,
            )  # fmt: skip
            errors.append(1 - history.train_accuracy[-1])
            if errors[-1] < RACE["target"]:
                break
        print(f"  {act} seed {seed}: {len(errors)} epochs, training error {errors[-1]:.3f}")
        return {"epochs": len(errors), "train_error": errors}

    return {
        act: [kept(f"activation/{act}/{seed}", partial(one, seed, act)) for seed in seeds]
        for act in ("relu", "tanh")
    }


def ingredients(seeds: Sequence[int], epochs: int = EPOCHS) -> dict:
    train, val = data()
    out = {label: [] for label in INGREDIENTS}
    for seed in seeds:
        for label, options in INGREDIENTS.items():
            model = partial(small_alexnet, seed, **options)
            out[label].append(
                kept(
                    f"ingredients/{label}/{seed}",
                    lambda m=model, label=label, seed=seed: run(
                        m(), train, val, epochs=epochs, seed=seed, label=label
                    ),
                )
            )
    return out


def ablation(seeds: Sequence[int], epochs: int = EPOCHS) -> dict:
    """The full network is the paper's of :func:`ingredients`: the same network, trained the
    same way (run once when both studies run)."""
    train, val = data()
    out = {label: [] for label in ABLATIONS}
    for seed in seeds:
        for label, remove in ABLATIONS.items():
            key = f"ingredients/{PAPER}/{seed}" if label == "full" else f"ablation/{label}/{seed}"
            model = partial(small_alexnet, seed, remove=remove)
            out[label].append(
                kept(
                    key,
                    lambda m=model, label=label, seed=seed: run(
                        m(), train, val, epochs=epochs, seed=seed, label=label
                    ),
                )
            )
    return out


def overfitting(seeds: Sequence[int], epochs: int = OVERFIT_EPOCHS) -> dict:
    train, val = data()
    small = train.subset(slice(0, OVERFIT_IMAGES))
    eigenvalues, eigenvectors = pca_colour_basis(small.x)

    def augment(x, g):  # the paper's: random crops (here of the image padded by 4), flips, colour
        x = random_flip(random_crop(x, 32, padding=4, generator=g), generator=g)
        return pca_colour_jitter(x, eigenvalues, eigenvectors, std=0.1, generator=g)

    regimes = {
        "neither": (0.0, None),
        "dropout": (0.5, None),
        "augmentation": (0.0, augment),
        "both": (0.5, augment),
    }

    def one(seed, label, dropout, aug):
        model = small_alexnet(seed, dropout=dropout)
        result = run(model, small, val, epochs=epochs, seed=seed, augment=aug, label=label)
        # accuracy on the training images themselves, in evaluation mode
        result["clean_train"] = evaluate(model, small, device="cpu").accuracy
        return result

    out = {label: [] for label in regimes}
    for seed in seeds:
        for label, (dropout, aug) in regimes.items():
            out[label].append(
                kept(f"overfitting/{label}/{seed}", partial(one, seed, label, dropout, aug))
            )
    return out


def invariance(
    seeds: Sequence[int], epochs: int = EPOCHS, factors: Sequence[str] = tuple(INVARIANCE)
) -> dict:
    val = shapes_data(500, seed=1)

    def one(seed, factor, label, train, augmentation, values):
        augment = None
        if augmentation is not None:
            augment = partial(_affine, **augmentation)
        model = small_alexnet(seed)
        result = run(
            model, train, val, epochs=epochs, seed=seed, augment=augment,
            label=f"{factor} {label}",
        )  # fmt: skip
        distance, probability = invariance_probe(model, factor, values)
        return {
            "final": result["final"],
            "distance": distance.tolist(),
            "probability": probability.tolist(),
        }

    out = {}
    for factor in factors:
        fixed, augmentation, values = INVARIANCE[factor]
        train = shapes_data(1200, seed=0, **{factor: fixed})
        out[factor] = {"values": values, "fixed": fixed, "augmentation": augmentation}
        for label, aug in (("without", None), ("with augmentation", augmentation)):
            out[factor][label] = [
                kept(
                    f"invariance/{factor}/{label}/{seed}",
                    partial(one, seed, factor, label, train, aug, values),
                )
                for seed in seeds
            ]
    return out


def _affine(x, g, **amounts):
    return random_affine(x, generator=g, **amounts)


def one_seed(seed: int, studies: Sequence[str] = STUDIES, keep: Path | None = None) -> dict:
    """Every study for one seed (what one worker process computes).

    ``keep``: a JSON file of this seed's finished runs, written after each run and read at the
    start, so that an interrupted call resumes where it stopped.
    """
    global _keep_file
    torch.set_num_threads(1)  # these small networks train faster on one thread than on two
    _keep_file = keep
    if keep is not None and keep.is_file():
        _kept_runs.update(json.loads(keep.read_text()))
    results = {}
    for name in studies:
        start = time.perf_counter()
        results[name] = globals()[name]([seed])
        print(f"seed {seed}, {name}: {time.perf_counter() - start:.0f} s", flush=True)
    return results


def merge(parts: Sequence[dict]) -> dict:
    """The results of several seeds (in the order given) as one: every list of runs joined."""
    merged: dict = {}
    for part in parts:
        for name, study in part.items():
            target = merged.setdefault(name, {})
            for key, value in study.items():
                if isinstance(value, list):  # runs of one variant
                    target.setdefault(key, []).extend(value)
                else:  # invariance: one factor, with its settings and two lists of runs
                    factor = target.setdefault(key, {})
                    for k, v in value.items():
                        if isinstance(v, list) and k != "values":
                            factor.setdefault(k, []).extend(v)
                        else:
                            factor[k] = v
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--only", nargs="+", choices=STUDIES, default=list(STUDIES))
    parser.add_argument("--jobs", type=int, default=3, help="processes, one seed each")
    parser.add_argument("--out", type=Path, default=results_path("alexnet"))
    parser.add_argument(
        "--merge", type=Path, nargs="+", help="join the seeds of these result files instead"
    )
    parser.add_argument(
        "--keep", type=Path, help="a folder for each seed's finished studies, to resume from"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.merge:
        documents = [load_results(path) for path in args.merge]
        seeds = [seed for d in documents for seed in d["settings"]["seeds"]]
        results = merge([d["results"] for d in documents])
    else:
        seeds = args.seeds
        with multiprocessing.get_context("spawn").Pool(min(args.jobs, len(seeds))) as pool:
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
            keep = [args.keep / f"seed{seed}.json" if args.keep else None for seed in seeds]
            jobs = [(seed, args.only, k) for seed, k in zip(seeds, keep, strict=True)]
            parts = pool.starmap(one_seed, jobs)
        results = merge(parts)
    save_results(
        args.out, results, seeds=seeds, epochs=EPOCHS, overfit_epochs=OVERFIT_EPOCHS,
        overfit_images=OVERFIT_IMAGES, race=RACE,
    )  # fmt: skip
    print(f"wrote {args.out} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
