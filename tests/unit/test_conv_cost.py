"""What keeps conv2d(method="unfold") within its targets against F.conv2d, counted, not timed.

On a CPU the unfold convolution's time against ``F.conv2d`` hangs on three counts
(benchmarks/README.md): the GEMMs it runs, the other operations that pass over a whole tensor
of the layer (each is a multi-threaded region, which waits for a descheduled thread when the
machine is busy), and the memory it allocates per call (fresh memory is page-faulted in, which
cost as much as the GEMM). Wall time is flaky on a shared machine; these counts are not. They
are taken on the benchmark's layer (N=8, 64→64, 56×56, 3×3, padding 1, float32).
"""

from __future__ import annotations

import math
import threading
from collections import Counter

import pytest
import torch
import torch.nn.functional as F
from torch.profiler import profile
from torch.testing import assert_close
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

import cnnutils.ops.conv as conv
from cnnutils import _machine
from cnnutils.ops.conv import conv2d

GEMMS = {"mm", "bmm", "addmm", "baddbmm", "addbmm", "matmul"}
N, C, HW, K = 8, 64, 56, 3
INPUT = N * C * HW * HW  # elements of x, of the output and of each gradient
COLUMNS = N * C * K * K * HW * HW  # elements of the column matrix of the whole batch


class OpLedger(TorchDispatchMode):
    """Counts the GEMMs, and the other operations that pass over at least ``big`` elements."""

    def __init__(self, big: int) -> None:
        super().__init__()
        self.big, self.gemms, self.passes = big, 0, Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        name = func.overloadpacket.__name__
        if name in GEMMS:
            self.gemms += 1
        elif not func.is_view and not name.startswith(("empty", "new_empty")):
            tensors = [t for t in tree_leaves((args, kwargs, out)) if isinstance(t, torch.Tensor)]
            if tensors and max(t.numel() for t in tensors) >= self.big:
                self.passes[name] += 1
        return out


def allocated_bytes(fn, repeats: int = 3) -> int:
    """Bytes that ``fn()`` asks the CPU allocator for, frees not subtracted: the least of
    ``repeats`` calls. A call allocates the same every time, but the profiler of older PyTorch
    versions sometimes files one allocation under both an operator and the one it calls
    (``new_empty`` and ``empty``), most often on a busy machine: it can count too much, never
    too little."""
    counts = []
    for _ in range(repeats):
        with profile(profile_memory=True) as prof:
            fn()
        events = (e for e in prof.events() if e.name != "[memory]")
        counts.append(sum(max(e.self_cpu_memory_usage, 0) for e in events))
    return min(counts)


@pytest.fixture
def layer():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(N, C, HW, HW, generator=gen)
    weight = torch.randn(C, C, K, K, generator=gen) * 0.05
    bias = torch.randn(C, generator=gen)
    grad = torch.randn(N, C, HW, HW, generator=gen)
    return x, weight, bias, grad


@pytest.fixture
def machine_block():
    """The block size from this machine's facts, recomputed (and forgotten afterwards)."""
    conv._column_block_bytes.cache_clear()
    yield conv._column_block_bytes()
    conv._column_block_bytes.cache_clear()


def samples_per_block(block_bytes: int) -> int:
    per_sample = C * ((HW + 2) ** 2 + K * K * HW * HW) * 4  # padded input and columns, float32
    return max(1, min(N, block_bytes // per_sample))


@pytest.mark.parametrize("budget", ["machine", "2 samples"])
def test_forward_is_one_gemm_per_block_and_allocates_only_its_output(
    layer, machine_block, monkeypatch, budget
):
    x, weight, bias, _ = layer
    if budget == "2 samples":
        monkeypatch.setattr(conv, "_column_block_bytes", lambda: 2**24)  # 16 MiB: 2 samples
    blocks = math.ceil(N / samples_per_block(conv._column_block_bytes()))
    assert budget == "2 samples" or blocks == math.ceil(N / samples_per_block(machine_block))
    expected = F.conv2d(x, weight, bias, padding=1)
    assert_close(conv2d(x, weight, bias, padding=1), expected, rtol=1e-4, atol=1e-4)

    ledger = OpLedger(big=INPUT // 16)
    with ledger:
        conv2d(x, weight, bias, padding=1)
    assert ledger.gemms == blocks
    # per block: the padded copy of x and the im2col copy; once: the bias
    assert ledger.passes == Counter({"copy_": 2 * blocks, "add_": 1})

    # The scratch buffer is kept from the call above: this call allocates its output alone,
    # where a column matrix per call would be 9 times more.
    assert allocated_bytes(lambda: conv2d(x, weight, bias, padding=1)) == INPUT * 4


def test_forward_and_backward_are_three_gemms_per_block_without_fresh_columns(layer, machine_block):
    x, weight, bias, grad = layer
    blocks = math.ceil(N / samples_per_block(machine_block))
    leaves = [t.clone().requires_grad_() for t in (x, weight, bias)]

    def step():
        for t in leaves:
            t.grad = None
        conv2d(*leaves, padding=1).backward(grad)

    step()
    ledger = OpLedger(big=INPUT // 16)
    with ledger:
        step()
    assert ledger.gemms == 3 * blocks  # forward; the weights' gradient; the columns' gradient
    passes = dict(ledger.passes)
    # col2im: one strided addition per tap (9), then the bias; nothing scattered element-wise
    assert passes.pop("add_") == K * K * blocks + 1
    assert passes.pop("copy_") == 4 * blocks  # padded copy and im2col, forward and backward
    assert passes.pop("sum") == blocks + 1  # the weights' gradient over samples; the bias
    assert passes.pop("zeros", 0) + passes.pop("new_zeros", 0) + passes.pop("zero_", 0) <= 1
    assert passes == {}, f"unexpected passes over the layer's tensors: {passes}"

    # output, x's gradient and the weights' per-sample gradients, never a column matrix
    allocated = allocated_bytes(step)
    assert allocated <= 2 * INPUT * 4 + 2 * N * C * C * K * K * 4 + 2**16
    assert allocated < COLUMNS * 4 // 4


def test_scratch_buffer_is_kept_per_thread_and_dtype():
    x = torch.randn(2, 3, 9, 9)
    weight = torch.randn(4, 3, 3, 3)
    conv2d(x, weight, padding=1)
    first = conv._scratch_buffer(10, x).data_ptr()
    conv2d(x, weight, padding=1)
    assert conv._scratch_buffer(10, x).data_ptr() == first
    assert conv._scratch_buffer(10, x.double()).data_ptr() != first

    other = []
    thread = threading.Thread(target=lambda: other.append(conv._scratch_buffer(10, x).data_ptr()))
    thread.start()
    thread.join()
    assert other[0] != first


def test_scratch_buffer_made_in_inference_mode_serves_autograd_later():
    conv._scratch.__dict__.clear()  # the next buffer is created under inference_mode
    x, weight = torch.randn(2, 3, 8, 7), torch.randn(4, 3, 3, 2)
    with torch.inference_mode():
        inferred = conv2d(x, weight, padding=1)
    leaf = weight.clone().requires_grad_()
    out = conv2d(x, leaf, padding=1)
    out.sum().backward()
    assert_close(out.detach(), inferred)
    assert_close(leaf.grad, torch.autograd.grad(F.conv2d(x, leaf, padding=1).sum(), leaf)[0])


@pytest.mark.parametrize(
    ("memory", "block"),
    [(None, 64 * 2**20), (2**29, 16 * 2**20), (2**33, 2**27), (2**40, 2**28)],
    ids=["unknown", "512 MiB", "8 GiB", "1 TiB"],
)
def test_block_bytes_come_from_the_machines_memory(monkeypatch, memory, block):
    conv._column_block_bytes.cache_clear()
    monkeypatch.setattr(_machine, "memory_bytes", lambda: memory)
    try:
        assert conv._column_block_bytes() == block
    finally:
        conv._column_block_bytes.cache_clear()


def test_cache_sizes_are_read_from_sysfs(monkeypatch, tmp_path):
    for index, (level, kind, size) in enumerate(
        [("1", "Data", "32K"), ("1", "Instruction", "32K"), ("2", "Unified", "1024K"),
         ("3", "Unified", "32768K")]
    ):  # fmt: skip
        folder = tmp_path / f"index{index}"
        folder.mkdir()
        for name, value in (("level", level), ("type", kind), ("size", size)):
            (folder / name).write_text(value + "\n")
    monkeypatch.setattr(_machine, "_CACHE_DIR", tmp_path)
    _machine.cache_bytes.cache_clear()
    try:
        assert _machine.cache_bytes() == {"L1d": 2**15, "L2": 2**20, "L3": 2**25}
    finally:
        _machine.cache_bytes.cache_clear()
