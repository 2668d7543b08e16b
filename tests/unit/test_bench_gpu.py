"""benchmarks/bench_gpu.py and benchmarks/gpu_check.sh cannot rot before they meet a GPU.

The benchmark's ``--smoke`` mode runs every code path (every section, every precision and
memory format, the torch.compile row) on the CPU with tiny shapes; here it runs in this process
and its JSON must hold every section. The numbers themselves mean nothing on a CPU. The shell
script is checked for syntax, with shellcheck where it is installed, and in its ``--dry-run``.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks" / "bench_gpu.py"
CHECK = ROOT / "benchmarks" / "gpu_check.sh"


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench_gpu", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> tuple[int, dict, str]:
    path = tmp_path_factory.mktemp("bench") / "bench.json"
    threads = torch.get_num_threads()
    rc = bench.main(["--smoke", "--json", str(path)])
    assert torch.get_num_threads() == threads, "main() must restore the thread count"
    return rc, json.loads(path.read_text()), str(path)


def test_smoke_run_succeeds_with_every_section(smoke):
    rc, result, _ = smoke
    assert rc == 0 and result["errors"] == []
    assert result["skipped"] == []
    for key in ("meta", "matmul", "bandwidth", "conv", "unfold", "alexnet", "targets"):
        assert result[key], key
    assert result["meta"]["smoke"] is True and result["meta"]["device"] == "cpu"
    assert {r["precision"] for r in result["matmul"]} == {"bf16", "fp16", "tf32", "fp32"}


def test_smoke_covers_every_mode_and_configuration(smoke):
    _, result, _ = smoke
    modes = {r["mode"] for r in result["conv"]}
    assert modes == {"fp32", "tf32", "tf32+CL", "bf16", "bf16+CL"}
    shapes = {r["shape"] for r in result["conv"]}
    assert {"AlexNet conv1", "AlexNet conv2"} <= shapes and any("3×3" in s for s in shapes)
    assert any(r["groups"] == 2 for r in result["conv"])  # the towers' grouped convolution
    unfold = result["unfold"]
    assert {(r["precision"], r["pass"]) for r in unfold} == {
        (p, q) for p in ("fp32", "tf32", "bf16") for q in ("fwd", "fwd+bwd")
    }
    assert all(r["rel_error_fp32"] < 1e-5 for r in unfold)
    rows = result["alexnet"]
    assert {r["precision"] for r in rows} == {"fp32", "tf32", "bf16"}
    assert any(r["channels_last"] for r in rows) and any(not r["channels_last"] for r in rows)
    assert {r["variant"] for r in rows} == {"original", "torchvision"}
    compiled = [r for r in rows if r.get("compile")]
    assert len(compiled) == 1 and compiled[0]["first_step_s"] > 0
    assert "speedup_vs_eager" in compiled[0]
    assert set(result["targets"]) == {"unfold_vs_cudnn", "alexnet_share_of_peak"}


def _linear_multiply_adds(cfg) -> int:
    with torch.device("meta"):
        model = bench.alexnet(**cfg.alexnet_kwargs)
    return sum(
        m.in_features * m.out_features for m in model.classifier if hasattr(m, "in_features")
    )


def test_multiply_adds_match_the_model_tests():
    """The counts the benchmark divides by: tests/test_alexnet.py's, and the flop counter's."""
    full = bench.config(smoke=False)
    shapes = bench.alexnet_conv_shapes(full)
    assert [s["out_shape"][1:] for s in shapes] == [
        (96, 55, 55), (256, 27, 27), (384, 13, 13), (384, 13, 13), (256, 13, 13),
    ]  # fmt: skip
    per_image = sum(bench.conv_multiply_adds(s) for s in shapes) // full.conv_batch
    assert per_image + _linear_multiply_adds(full) == 724_406_816
    small = bench.config(smoke=True)
    counted = bench.forward_multiply_adds("original", small, torch.device("cpu"))
    shapes = bench.alexnet_conv_shapes(small)
    by_shapes = sum(bench.conv_multiply_adds(s) for s in shapes) // small.conv_batch
    assert counted == by_shapes + _linear_multiply_adds(small)


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("NVIDIA H100 80GB HBM3", "H100 SXM5"),
        ("NVIDIA H100 PCIe", "H100 PCIe"),
        ("NVIDIA H200", "H200 SXM"),
        ("NVIDIA A100-SXM4-80GB", "A100"),
        ("NVIDIA A100 80GB PCIe", "A100"),
        ("NVIDIA L4", "L4"),
        ("Tesla T4", "T4"),
        ("NVIDIA H100 NVL", None),
        ("NVIDIA H200 NVL", None),
        ("NVIDIA GH200 480GB", None),
        ("NVIDIA L40S", None),
    ],
)
def test_peak_table(name, label):
    peak = bench.peak_for(name)
    assert (peak and peak["label"]) == label
    if peak:
        assert peak["tflops"]["fp32"] < peak["tflops"].get("tf32", 1e9)
        assert peak["source"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a CPU-only machine")
def test_without_cuda_it_says_so(capsys):
    assert bench.main([]) == 2
    assert "--smoke" in capsys.readouterr().err


def test_gpu_check_script_parses_and_dry_runs():
    assert subprocess.run(["bash", "-n", str(CHECK)], check=False).returncode == 0
    if shutil.which("shellcheck"):
        done = subprocess.run(["shellcheck", str(CHECK)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout
    done = subprocess.run(
        ["bash", str(CHECK), "--dry-run"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "OUT": "/nonexistent/gpu_check_dry_run"},
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "--nbval-lax" in out and "CNNUTILS_DEVICE=cuda" in out
    assert out.count("-m pytest -p nbval.plugin notebooks/") == len(
        list((ROOT / "notebooks").glob("*.ipynb"))
    )
    assert "--no-index" in out and "benchmarks/bench_gpu.py --json" in out
