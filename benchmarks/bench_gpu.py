"""Full-size AlexNet training steps on a GPU: fp32 vs bf16 autocast, NCHW vs channels_last.

    python benchmarks/bench_alexnet_gpu.py [--variant original] [--batch-size 128] [--steps 30]
                                           [--peak-tflops BF16 TF32 FP32] [--no-tf32]

Needs CUDA: without a GPU it exits at once with a message (status 1). The data are synthetic
and live on the device (random 227×227 or 224×224 images and labels), so the loop measures the
network, not a data pipeline. Each configuration runs ``--warmup`` steps, then ``--steps`` timed
training steps (forward, cross-entropy, backward, SGD with momentum), synchronised with the GPU.

Printed per configuration: milliseconds per step, images per second, and the achieved
multiply-add rate as a fraction of the device's peak. Multiply-adds per image come from
``cnnutils.models.alexnet.layer_summary`` (``torch.utils.flop_counter``); a training step costs
about three times the forward pass (forward, gradient with respect to the inputs, gradient with
respect to the weights). Peaks (dense, no sparsity) are looked up by device name for H100/H200
and A100, or given with ``--peak-tflops`` as three numbers: bf16, tf32, fp32 in TFLOP/s
(1 multiply-add = 2 FLOPs). PyTorch lets cuDNN use TF32 for fp32 convolutions by default on
Ampere and newer GPUs, so fp32 rows are compared with the TF32 peak (``--no-tf32`` turns TF32
off and compares with the fp32 peak).
This script prints; it asserts nothing (benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import sys
import time

import torch
import torch.nn.functional as F

from cnnutils.models.alexnet import alexnet, layer_summary

# dense peak TFLOP/s (bf16 tensor cores, tf32 tensor cores, fp32 CUDA cores), from the vendors'
# data sheets; matched against torch.cuda.get_device_name() in this order
PEAKS = (
    ("H100 PCIe", (756.0, 378.0, 51.0)),
    ("H100", (989.4, 494.7, 66.9)),
    ("H200", (989.4, 494.7, 66.9)),
    ("A100", (312.0, 156.0, 19.5)),
)


def peak_for(name: str, given: list[float] | None) -> tuple[float, float, float] | None:
    if given:
        return tuple(given)
    for key, peak in PEAKS:
        if key in name:
            return peak
    return None


def time_steps(model, x, y, *, steps: int, warmup: int, bf16: bool) -> float:
    """Mean seconds per training step over ``steps`` steps, after ``warmup`` untimed ones."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step() -> None:
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=["original", "torchvision"], default="original")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--peak-tflops", type=float, nargs=3, metavar=("BF16", "TF32", "FP32"))
    parser.add_argument("--no-tf32", action="store_true", help="fp32 convolutions without TF32")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit(
            "bench_alexnet_gpu.py needs a CUDA GPU, and torch.cuda.is_available() is False "
            "here; run it on a GPU machine (the CPU chapter trains a small AlexNet instead)"
        )
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = not args.no_tf32
    device = torch.device("cuda")
    name = torch.cuda.get_device_name(device)
    peak = peak_for(name, args.peak_tflops)

    with torch.device("meta"):
        meta = alexnet(variant=args.variant)
    size = meta.input_size
    macs_per_image = sum(r.multiply_adds for r in layer_summary(meta))
    g = torch.Generator().manual_seed(0)
    x = torch.randn(args.batch_size, 3, size, size, generator=g).to(device)
    y = torch.randint(0, 1000, (args.batch_size,), generator=g).to(device)
    print(
        f"AlexNet ({args.variant}, {size}×{size}), batch {args.batch_size}, on {name}; torch "
        f"{torch.__version__}, cuDNN TF32 {'on' if torch.backends.cudnn.allow_tf32 else 'off'}"
    )
    print(f"forward multiply-adds per image: {macs_per_image:,} (a training step: ~3×)")
    print(f"{'configuration':<28} {'ms/step':>8} {'images/s':>9} {'TMAC/s':>7} {'of peak':>8}")
    for label, bf16, channels_last in (
        ("fp32, NCHW", False, False),
        ("fp32, channels_last", False, True),
        ("bf16 autocast, NCHW", True, False),
        ("bf16 autocast, channels_last", True, True),
    ):
        torch.manual_seed(0)
        model = alexnet(variant=args.variant).to(device)
        inputs = x
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
            inputs = x.contiguous(memory_format=torch.channels_last)
        seconds = time_steps(model, inputs, y, steps=args.steps, warmup=args.warmup, bf16=bf16)
        images = args.batch_size / seconds
        mac_rate = 3 * macs_per_image * images
        if peak is None:
            share = "n/a"
        else:
            tflops = peak[0] if bf16 else (peak[1] if torch.backends.cudnn.allow_tf32 else peak[2])
            share = f"{2 * mac_rate / (tflops * 1e12):.1%}"
        print(
            f"{label:<28} {seconds * 1e3:>8.1f} {images:>9,.0f} {mac_rate / 1e12:>7.2f} {share:>8}",
            flush=True,
        )
        del model
        torch.cuda.empty_cache()
    if peak is None:
        print(f"(no peak known for {name!r}: pass --peak-tflops BF16 TF32 FP32)")


if __name__ == "__main__":
    main()
