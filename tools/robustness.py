"""Robustness sweep of cnnutils: a randomized differential run and a malformed-argument run.

Not a test: it prints counts, for a person to read.

1. **Differential run**: for each public op that has a ``torch.nn.functional`` twin, ``--configs``
   random configurations (geometry, stride, padding, dilation, ceil mode, float32/float64,
   non-contiguous and channels-last inputs), called with torch's arguments, compared with torch:
   matches and mismatches, split by finite inputs and inputs holding NaN or ±inf. torch's side
   gets a contiguous copy: ``F.conv2d`` of torch 2.14 crashes the process (segmentation fault)
   on some channels-last inputs, e.g. ``(2, 3, 6, 1)`` with a 1×1 kernel, stride 3, padding 2.
2. **Malformed-argument sweep**: every public callable of ``cnnutils`` is called with a valid set
   of arguments in which one argument at a time is replaced by a malformed value (a wrong type,
   a bool or float where an int goes, a negative or zero size, an unknown option). Each call is
   classified: *good* (TypeError or ValueError whose message starts with the callable's name),
   *unclear* (TypeError or ValueError without it), *raw crash* (any other exception) or
   *silently accepted* (no exception). NumPy integers in place of ints must be *accepted*.

Usage: ``PYTHONPATH=. python tools/robustness.py [--configs 2000] [--seed 0] [--verbose]``.
"""

from __future__ import annotations

import argparse
import inspect
import math
import random
import time
import warnings
from collections import Counter, defaultdict

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import cnnutils

# --- differential run -------------------------------------------------------------------------


def _tensor(rng: random.Random, shape, dtype, special: bool, layout: str) -> torch.Tensor:
    g = torch.Generator().manual_seed(rng.randrange(2**31))
    if rng.random() < 0.3:  # small integers: ties in max pooling
        x = torch.randint(-3, 4, shape, generator=g).to(dtype)
    else:
        x = torch.randn(shape, generator=g, dtype=dtype)
    if special and x.numel():
        flat = x.view(-1)
        for _ in range(rng.randint(1, 3)):
            flat[rng.randrange(flat.numel())] = rng.choice([math.nan, math.inf, -math.inf])
    if layout == "channels_last" and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    elif layout == "transposed" and x.dim() == 4:
        x = x.transpose(-1, -2).contiguous().transpose(-1, -2)  # same values, other strides
    return x


def _same(ours: torch.Tensor, ref: torch.Tensor, exact: bool) -> bool:
    if ours.shape != ref.shape:
        return False
    if exact:
        return torch.equal(ours.nan_to_num(nan=1234.5), ref.nan_to_num(nan=1234.5))
    tol = 1e-9 if ref.dtype == torch.float64 else 1e-4
    return torch.allclose(ours, ref, rtol=tol, atol=tol, equal_nan=True)


def _pool_geometry(rng: random.Random, dilation: bool):
    k = (rng.randint(1, 5), rng.randint(1, 5))
    s = (rng.randint(1, 4), rng.randint(1, 4))
    p = tuple(rng.randint(0, kk // 2) for kk in k)
    d = (rng.randint(1, 3), rng.randint(1, 3)) if dilation else (1, 1)
    span = [dd * (kk - 1) + 1 for dd, kk in zip(d, k, strict=True)]
    h = rng.randint(max(1, span[0] - 2 * p[0]), max(1, span[0] - 2 * p[0]) + 8)
    w = rng.randint(max(1, span[1] - 2 * p[1]), max(1, span[1] - 2 * p[1]) + 8)
    as_int = rng.random() < 0.3
    pick = (lambda v: v[0]) if as_int else (lambda v: v)
    if as_int:
        k, s, p, d = ((v[0], v[0]) for v in (k, s, p, d))
        span = [d[0] * (k[0] - 1) + 1] * 2
        h, w = max(h, span[0] - 2 * p[0]), max(w, span[0] - 2 * p[0])
    return pick(k), pick(s), pick(p), pick(d), h, w


def _case_conv(rng, method):
    groups = rng.choice([1, 1, 2, 3])
    c_in, c_out = groups * rng.randint(1, 3), groups * rng.randint(1, 3)
    k = (rng.randint(1, 4), rng.randint(1, 4))
    d = (rng.randint(1, 3), rng.randint(1, 3))
    span = [dd * (kk - 1) + 1 for dd, kk in zip(d, k, strict=True)]
    padding = rng.choice(["int", "pair", "same", "valid"])
    s = (rng.randint(1, 3), rng.randint(1, 3)) if padding != "same" else (1, 1)
    pads = {"int": rng.randint(0, 2), "pair": (rng.randint(0, 2), rng.randint(0, 2))}
    p = pads.get(padding, padding)
    pp = (p, p) if isinstance(p, int) else p if isinstance(p, tuple) else (0, 0)
    h = rng.randint(max(1, span[0] - 2 * pp[0]), 10)
    w = rng.randint(max(1, span[1] - 2 * pp[1]), 10)
    return (rng.randint(0, 3), c_in, h, w), (c_out, c_in // groups, *k), s, p, d, groups


def _differential(name: str, rng: random.Random, special: bool):
    dtype = rng.choice([torch.float32, torch.float64])
    layout = rng.choice(["contiguous", "channels_last", "transposed"])
    if name.startswith("conv2d"):
        method = name[len("conv2d[") : -1]
        xs, ws, s, p, d, g = _case_conv(rng, method)
        x = _tensor(rng, xs, dtype, special, layout)
        w = _tensor(rng, ws, dtype, False, "contiguous")
        b = _tensor(rng, (ws[0],), dtype, False, "contiguous") if rng.random() < 0.5 else None
        kw = {"stride": s, "padding": p, "dilation": d, "groups": g}
        return (
            lambda: cnnutils.conv2d(x, w, b, **kw, method=method),
            lambda: F.conv2d(x.contiguous(), w, b, **kw),
            False,
        )
    if name == "max_pool2d":
        k, s, p, d, h, w = _pool_geometry(rng, True)
        x = _tensor(rng, (rng.randint(1, 2), rng.randint(1, 3), h, w), dtype, special, layout)
        c = rng.random() < 0.5
        args = (k, s, p, d, c)
        return (
            lambda: cnnutils.max_pool2d(x, *args),
            lambda: F.max_pool2d(x.contiguous(), *args),
            True,
        )
    if name == "avg_pool2d":
        k, s, p, _, h, w = _pool_geometry(rng, False)
        x = _tensor(rng, (rng.randint(1, 2), rng.randint(1, 3), h, w), dtype, special, layout)
        c, cip = rng.random() < 0.5, rng.random() < 0.5
        args = [k, s, p, c, cip]
        if "divisor_override" in inspect.signature(cnnutils.avg_pool2d).parameters:
            args.append(rng.choice([None, rng.randint(1, 7)]))
        return (
            lambda: cnnutils.avg_pool2d(x, *args),
            lambda: F.avg_pool2d(x.contiguous(), *args),
            False,
        )
    if name == "adaptive_avg_pool2d":
        h, w = rng.randint(1, 12), rng.randint(1, 12)
        x = _tensor(rng, (rng.randint(1, 2), rng.randint(1, 3), h, w), dtype, special, layout)
        pair = (rng.randint(1, 8), rng.choice([None, rng.randint(1, 8)]))
        out = rng.choice([rng.randint(1, 8), pair])
        return (
            lambda: cnnutils.adaptive_avg_pool2d(x, out),
            lambda: F.adaptive_avg_pool2d(x.contiguous(), out),
            False,
        )
    if name == "local_response_norm":
        shape = (rng.randint(1, 2), rng.randint(1, 8), *[rng.randint(1, 4)] * rng.randint(1, 2))
        x = _tensor(rng, shape, dtype, special, layout)
        size = rng.randint(1, 7)
        alpha, beta, k = rng.uniform(1e-4, 1.0), rng.uniform(0.1, 1.0), rng.uniform(0.5, 2.0)
        if "convention" not in inspect.signature(cnnutils.local_response_norm).parameters:
            # an older cnnutils with the paper's α only: torch's α/n, comparable for odd n
            size = 2 * (size // 2) + 1
            return (
                lambda: cnnutils.local_response_norm(x, size, alpha / size, beta, k),
                lambda: F.local_response_norm(x.contiguous(), size, alpha, beta, k),
                False,
            )
        return (
            lambda: cnnutils.local_response_norm(x, size, alpha, beta, k),
            lambda: F.local_response_norm(x.contiguous(), size, alpha, beta, k),
            False,
        )
    raise KeyError(name)


DIFFERENTIAL_OPS = (
    "conv2d[naive]", "conv2d[unfold]", "conv2d[fft]", "max_pool2d", "avg_pool2d",
    "adaptive_avg_pool2d", "local_response_norm",
)  # fmt: skip


def run_differential(configs: int, seed: int, verbose: bool) -> None:
    print(f"Differential run against torch.nn.functional, {configs} configurations per op")
    head = f"{'finite: match':>14} {'mismatch':>9} {'non-finite: match':>18} {'mismatch':>9}"
    print(f"{'op':24} {head}")
    for name in DIFFERENTIAL_OPS:
        rng = random.Random(f"{seed}-{name}")
        counts = Counter()
        for i in range(configs):
            special = i % 5 == 4  # one configuration in five holds NaN or ±inf
            ours_fn, ref_fn, exact = _differential(name, rng, special)
            kind = "special" if special else "finite"
            try:
                ref = ref_fn()
            except Exception:  # torch rejects it too: not a comparison
                counts["torch rejects"] += 1
                continue
            try:
                ok = _same(ours_fn(), ref, exact)
            except Exception as error:
                ok = False
                if verbose:
                    print(f"  {name}: raised {type(error).__name__}: {error}")
            counts[(kind, ok)] += 1
        print(
            f"{name:24} {counts[('finite', True)]:>14} {counts[('finite', False)]:>9} "
            f"{counts[('special', True)]:>18} {counts[('special', False)]:>9}"
            + (f"  (torch rejected {counts['torch rejects']})" if counts["torch rejects"] else "")
        )


# --- malformed-argument sweep -------------------------------------------------------------------

X4 = torch.rand(2, 3, 8, 8)
IMG = torch.rand(8, 8)
W = torch.rand(4, 3, 3, 3)


def _net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(2, 3))


def _dataset() -> cnnutils.ImageDataset:
    return cnnutils.ImageDataset(torch.rand(6, 1, 3, 3), torch.tensor([0, 1, 2, 0, 1, 2]), "abc")


def _cache():
    return cnnutils.max_pool2d_forward(X4, 2)[1]


# Valid arguments per callable: (args, kwargs) factories. Callables left out are skipped (slow,
# networked or stateful: fit, launch, loaders, animations, widgets).
VALID = {
    "C3Connections": lambda: ((), {}),
    "LocalResponseNorm": lambda: ((5,), {}),
    "LocallyConnected2d": lambda: ((3, 4, 3, 8), {}),
    "MaxPool2d": lambda: ((2,), {}),
    "adaptive_avg_pool2d": lambda: ((X4, 2), {}),
    "alexnet": lambda: ((), {"num_classes": 10, "input_size": 67}),
    "avg_pool2d": lambda: ((X4, 2), {}),
    "box_kernel": lambda: ((3,), {}),
    "channel_stats": lambda: ((X4,), {}),
    "confusion_matrix": lambda: ((torch.tensor([0, 1]), torch.tensor([1, 1]), 2), {}),
    "conv2d": lambda: ((X4, W), {}),
    "conv2d_cost": lambda: (((3, 8, 8), 4, 3), {}),
    "conv_explorer_html": lambda: ((), {}),
    "conv_output_size": lambda: ((8, 3), {}),
    "convolve2d": lambda: ((IMG, torch.rand(3, 3)), {}),
    "correlate2d": lambda: ((IMG, torch.rand(3, 3)), {}),
    "disk_footprint": lambda: ((2,), {}),
    "disk_pool2d": lambda: ((X4, 1), {}),
    "equivariance_error": lambda: ((lambda t: t, X4, 1, 1), {}),
    "evaluate": lambda: ((_net(), _dataset()), {"device": "cpu"}),
    "extract_features": lambda: ((_net(), torch.rand(2, 1, 3, 3), "1"), {"device": "cpu"}),
    "filter2d": lambda: ((IMG, torch.rand(3, 3)), {}),
    "find_head": lambda: ((_net(),), {}),
    "freeze": lambda: ((_net(),), {}),
    "gabor_kernel": lambda: ((), {"sigma": 2.0, "theta": 0.0, "lambd": 4.0}),
    "gaussian_kernel": lambda: ((1.0,), {}),
    "global_avg_pool2d": lambda: ((X4,), {}),
    "global_max_pool2d": lambda: ((X4,), {}),
    "gradient_magnitude_orientation": lambda: ((IMG,), {}),
    "invariance_error": lambda: ((lambda t: t, X4, 1, 1), {}),
    "laplacian_kernel": lambda: ((), {}),
    "layer_summary": lambda: ((cnnutils.lenet5(),), {}),
    "lenet5": lambda: ((), {}),
    "linear_probe": lambda: (
        (torch.rand(4, 2), torch.tensor([0, 1, 0, 1]), torch.rand(2, 2), torch.tensor([0, 1])),
        {},
    ),
    "local_response_norm": lambda: ((X4, 5), {}),
    "locally_connected2d": lambda: ((X4, torch.rand(6, 6, 4, 3, 3, 3)), {}),
    "make_shapes": lambda: ((4,), {"size": 16}),
    "max_pool2d": lambda: ((X4, 2), {}),
    "max_pool2d_backward": lambda: ((torch.rand(2, 3, 4, 4), _cache()), {}),
    "max_pool2d_forward": lambda: ((X4, 2), {}),
    "norm_only": lambda: ((_net(),), {}),
    "orientation_histogram": lambda: ((torch.rand(16, 16),), {}),
    "output_length": lambda: ((8, 3), {}),
    "param_groups": lambda: ((_net(), {"0": 0.1}), {}),
    "pca_colour_basis": lambda: ((X4,), {}),
    "pca_colour_jitter": lambda: ((X4, torch.rand(3), torch.eye(3)), {}),
    "pool_output_size": lambda: ((8, 2, 2), {}),
    "predict": lambda: ((_net(), torch.rand(2, 1, 3, 3)), {"device": "cpu"}),
    "random_crop": lambda: ((X4, 4), {}),
    "random_flip": lambda: ((X4,), {}),
    "random_shift": lambda: ((X4, 1), {}),
    "receptive_field": lambda: (([(3,), (3,)],), {}),
    "replace_head": lambda: ((_net(), 5), {}),
    "seed_everything": lambda: ((0,), {}),
    "sharpen_kernel": lambda: ((), {}),
    "shift": lambda: ((X4, 1, 1), {}),
    "sobel_kernels": lambda: ((), {}),
    "split_grouped_conv": lambda: ((nn.Conv2d(4, 4, 3, groups=2),), {}),
    "stratified_split": lambda: ((_dataset(), 1), {}),
    "unfreeze": lambda: ((_net(),), {}),
    "untouched_indices": lambda: ((8, 3), {}),
    "window_taps": lambda: ((8, 3), {}),
    "ImageDataset": lambda: ((torch.rand(2, 1, 3, 3), torch.tensor([0, 1]), ("a", "b")), {}),
    "get_device": lambda: ((), {}),
    "conv_explorer": lambda: ((), {}),
    "demo_problem": lambda: ((), {"images": 8, "size": 8}),
    "load_digits": lambda: ((), {}),
    "load_photo": lambda: (("camera", 32), {}),
    "load_photos": lambda: ((["camera"],), {"size": 32}),
    "plot_confusion_matrix": lambda: ((torch.eye(2, dtype=torch.long), ("a", "b")), {}),
    "plot_history": lambda: ((cnnutils.History([1.0], [0.5], [1.0], [0.5], [1.0], [0.1]),), {}),
    "render_convolution": lambda: ((), {"size": 32}),
    "show_images": lambda: (([IMG, IMG],), {}),
    "sliding_window_animation": lambda: ((torch.rand(4, 4), torch.rand(2, 2)), {}),
    "train_steps": lambda: (
        (nn.Linear(4, 2), torch.rand(8, 4), torch.tensor([0, 1] * 4)),
        {"steps": 1, "batch_size": 4},
    ),
    "volume_conv_animation": lambda: ((2, 5, 5, 3), {}),
    "volume_conv_frame": lambda: ((2, 5, 5, 3), {}),
    "weights_info": lambda: ((), {}),
}
SKIPPED_BECAUSE = "slow, networked, stateful or drawing"

POSITIVE = {
    "size", "kernel_size", "stride", "dilation", "groups", "radius", "num_classes", "batch_size",
    "cell_size", "bins", "in_channels", "out_channels", "input_size", "n", "max_shift",
    "output_size", "max_iter", "height", "width",
}  # fmt: skip
CHOICES = {"mode", "method", "padding", "operator", "variant", "activation", "pooling", "layer"}
TENSOR_LIKE = ("Tensor", "ndarray", "ImageLike")


def _malformed(param: inspect.Parameter, name: str) -> list[tuple[str, object]]:
    """Wrong values for one parameter, from its annotation and its name."""
    ann = str(param.annotation)
    out: list[tuple[str, object]] = []
    if any(t in ann for t in TENSOR_LIKE):
        out += [("a list", [[1.0, 2.0]]), ("a str", "x"), ("a 1-D tensor", torch.zeros(3))]
    elif "Module" in ann or ann == "AlexNet":
        out += [("a str", "net"), ("a tensor", torch.zeros(3))]
    elif "int" in ann and "float" not in ann:
        out += [("a float", 1.5), ("a str", "2")]
        if "bool" not in ann:
            out.append(("a bool", True))
        if name in POSITIVE:
            out += [("a negative int", -3), ("a zero", 0)]
        if name == "padding":
            out.append(("a negative int", -1))
    elif "float" in ann:
        out += [("a str", "0.5"), ("a list", [0.5])]
        if "bool" not in ann and "int" not in ann:
            out.append(("a bool", True))
    elif ann == "bool":
        out += [("a str", "yes"), ("an int", 2)]
    elif ann.startswith("str"):
        out.append(("an int", 3))
        if name in CHOICES:
            out.append(("an unknown option", "no-such-option"))
    return out


def _close_figures() -> None:
    import matplotlib.pyplot as plt

    plt.close("all")


def _classify(fn_name: str, call) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call()
    except (TypeError, ValueError) as error:
        message = str(error)
        public = {fn_name, fn_name.split(".")[0]}
        return "good" if any(message.startswith(p) for p in public) else "unclear"
    except Exception:
        return "raw crash"
    return "silently accepted"


def _with(fn_name: str, obj, sig: inspect.Signature, pname: str, value: object):
    """A call of ``obj`` with fresh valid arguments, ``pname`` replaced by ``value``."""

    def call():
        args, kwargs = VALID[fn_name]()
        bound = sig.bind_partial(*args, **kwargs)
        bound.arguments[pname] = value
        return obj(*bound.args, **bound.kwargs)

    return call


def run_sweep(verbose: bool) -> None:
    totals, per_fn, examples = Counter(), defaultdict(Counter), defaultdict(list)
    numpy_ok, numpy_total = 0, 0
    skipped = []
    for fn_name in cnnutils.__all__:
        obj = getattr(cnnutils, fn_name)
        if not callable(obj) or fn_name not in VALID:
            if callable(obj) and not (isinstance(obj, type) and issubclass(obj, tuple)):
                skipped.append(fn_name)
            continue
        sig = inspect.signature(obj)
        args, kwargs = VALID[fn_name]()
        bound = sig.bind_partial(*args, **kwargs)
        for pname, param in sig.parameters.items():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            for label, bad in _malformed(param, pname):
                verdict = _classify(fn_name, _with(fn_name, obj, sig, pname, bad))
                _close_figures()
                totals[verdict] += 1
                per_fn[fn_name][verdict] += 1
                if verdict != "good":
                    examples[fn_name].append(f"{pname}={label}: {verdict}")
            # numpy ints where ints go must be accepted
            ann = str(param.annotation)
            value = bound.arguments.get(pname, param.default)
            if "int" in ann and type(value) is int and value > 0:
                numpy_total += 1
                call = _with(fn_name, obj, sig, pname, np.int64(value))
                if _classify(fn_name, call) == "silently accepted":
                    numpy_ok += 1
                else:
                    examples[fn_name].append(f"{pname}=np.int64({value}): rejected")
    n = sum(totals.values())
    print(f"\nMalformed-argument sweep: {n} calls over {len(per_fn)} callables")
    for verdict in ("good", "unclear", "raw crash", "silently accepted"):
        print(f"  {verdict:18} {totals[verdict]:5}  ({100 * totals[verdict] / max(n, 1):.1f}%)")
    print(f"  numpy ints accepted: {numpy_ok} of {numpy_total}")
    print(f"  not swept ({SKIPPED_BECAUSE}): {', '.join(skipped)}")
    if verbose:
        for fn_name, lines in examples.items():
            print(f"  {fn_name}: " + "; ".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--skip-differential", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")  # torch's own warnings (padding="same", ...) are not ours
    import matplotlib

    matplotlib.use("Agg")
    start = time.perf_counter()
    if not args.skip_differential:
        run_differential(args.configs, args.seed, args.verbose)
    run_sweep(args.verbose)
    print(f"\n({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
