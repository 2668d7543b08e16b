"""The machine a benchmark runs on, printed beside its numbers so that each can be traced.

Two machines "of the same kind" can differ where it matters: the instruction set the virtual
CPU exposes (AVX2 or AVX-512 decides which kernels MKL and oneDNN pick), the caches, the
threads, and the load from other work. ``describe()`` gives all of it as comment lines;
``load()`` the load average now, for a line of results.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import torch

from cnnutils import _machine


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of ``/proc/cpuinfo`` (Linux), else an empty dict."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in text.split("\n\n")[0].splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def _mib(size: int | None) -> str:
    if size is None:
        return "unknown"
    if size >= 2**30:
        return f"{size / 2**30:.1f} GiB"
    return f"{size / 2**20:g} MiB" if size >= 2**20 else f"{size // 2**10} KiB"


def load() -> str:
    """The 1- and 5-minute load averages, e.g. ``"load 0.66/0.80"`` (``"load n/a"`` if unknown)."""
    if not hasattr(os, "getloadavg"):
        return "load n/a"
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f}"


def facts() -> dict[str, str]:
    """What the machine and the PyTorch build are, as short strings."""
    info = _cpuinfo()
    flags = set(info.get("flags", "").split())
    model = info.get("model name", "unknown CPU")
    if "cpu family" in info:
        model += f" (family {info['cpu family']}, model {info.get('model', '?')})"
    if "hypervisor" in flags:
        model += ", virtual"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    config = torch.__config__.show()
    blas = re.search(r"Math Kernel Library Version ([\w.]+)", config)
    onednn = re.search(r"MKL-DNN v([\d.]+)", config)
    mkl_threads = re.search(r"mkl_get_max_threads\(\) : (\d+)", torch.__config__.parallel_info())
    caches = _machine.cache_bytes()
    thp = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    try:
        hugepages = re.search(r"\[(\w+)\]", thp.read_text()).group(1)
    except (OSError, AttributeError):
        hugepages = "unknown"
    try:
        from cnnutils.ops.conv import _column_block_bytes

        block = _mib(_column_block_bytes())
    except ImportError:  # a version of the package from before the block came from the machine
        block = "a constant"
    return {
        "cpu": model,
        "cpus": f"{usable} usable of {os.cpu_count()}",
        "isa": f"torch kernels {torch.backends.cpu.get_cpu_capability()}, "
        f"avx512f {'yes' if 'avx512f' in flags else 'no'}",
        "caches": ", ".join(f"{k} {_mib(v)}" for k, v in caches.items()) or "unknown",
        "memory": _mib(_machine.memory_bytes()),
        "transparent huge pages": hugepages,
        "torch": torch.__version__,
        "blas": f"MKL {blas.group(1)}" if blas else "not MKL (see torch.__config__.show())",
        "onednn": onednn.group(1) if onednn else "none",
        "threads": f"torch {torch.get_num_threads()}, "
        f"MKL {mkl_threads.group(1) if mkl_threads else '?'}, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}",
        "unfold column block": block,
    }


def describe() -> str:
    """:func:`facts` and the load now, as ``# key: value`` lines."""
    lines = [f"# {key}: {value}" for key, value in facts().items()]
    return "\n".join([*lines, f"# {load()} (1 and 5 minutes)"])
