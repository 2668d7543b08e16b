"""Device rules for the chapters, checked without a GPU.

Static part: every code cell of ``notebooks/*.ipynb`` is parsed and walked in order, with a
small flow-sensitive analysis that tracks which names may hold a tensor or module on
``device`` (assigned from ``.to(device)``, ``device=device``, or computed from such a name).
The rules, each chosen to have few false positives:

``rng-generator``
    ``torch.rand/randn/randint/randperm/normal/bernoulli/multinomial/poisson`` and the in-place
    ``.uniform_()/.normal_()/...`` pass ``generator=``: numbers drawn from the seeded CPU
    generator are the same on every machine. (``*_like`` draws on its argument's device.)
``rng-device``
    no random draw with ``device=`` (other than ``"cpu"``): CUDA's generator gives other numbers.
``cuda-literal``
    no ``.cuda()``, ``.to("cuda")``, ``device="cuda"`` or ``torch.device("cuda")``: use
    ``.to(device)``, so that ``CNNUTILS_DEVICE`` decides.
``numpy-on-device``
    no ``.numpy()``, ``np.asarray()``/``np.array()`` or a matplotlib plotting call on a value
    that may be on the device without ``.cpu()`` first (it raises on CUDA).
``print-device-tensor``
    no ``print()``, f-string without a format spec, or cell display of a value that may be a
    device tensor: its repr says ``device='cuda:0'`` on a GPU, so the output differs.
``print-device``
    no ``print()`` of ``device`` or ``x.device`` itself ("cpu" here, "cuda" on a GPU).
``print-device-float``
    no unrounded ``t.item()`` / ``float(t)`` of a device value in ``print()`` (an f-string
    field without a format spec, or a bare argument): its last digits differ between CPU and
    GPU (TF32, other summation orders). Integers (comparisons, ``argmax``, ``.long()``...) are
    exact and pass. Cells tagged ``nbval-ignore-output`` are exempt from the three print rules.

A line may opt out with a trailing ``# device: ok`` comment (say why in the comment).

Runtime part: the cnnutils functions the chapters call are run on tensors on the ``meta``
device and must return tensors on that device with the shapes the CPU gives. A function that
creates a tensor on the CPU and mixes it with its input (the bug that breaks on CUDA) raises
there, so this catches on a CPU what would fail on a GPU.

Run ``python tests/test_device_robust.py`` for the list of violations.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

RANDOM_FACTORIES = {
    "rand", "randn", "randint", "randperm", "normal", "bernoulli", "multinomial", "poisson",
}  # fmt: skip
RANDOM_LIKE = {"rand_like", "randn_like", "randint_like"}
RANDOM_INPLACE = {
    "uniform_", "normal_", "random_", "bernoulli_", "exponential_", "cauchy_", "geometric_",
    "log_normal_",
}  # fmt: skip
# results that live on the host whatever the receiver's device
HOST_METHODS = {
    "cpu", "item", "tolist", "numpy", "size", "dim", "ndimension", "numel", "nelement",
    "stride", "element_size", "is_contiguous", "get_device", "data_ptr", "is_floating_point",
    "is_complex", "parameters", "named_parameters", "state_dict", "keys", "items", "values",
}  # fmt: skip
HOST_ATTRIBUTES = {"shape", "dtype", "device", "ndim", "requires_grad", "is_cuda", "is_leaf"}
HOST_FUNCTIONS = {
    "float", "int", "bool", "len", "round", "str", "repr", "type", "isinstance", "range",
    "print", "sorted", "enumerate", "zip", "id", "hash", "format", "any", "all",
}  # fmt: skip
HOST_TORCH = {"allclose", "equal", "is_tensor", "numel", "is_floating_point", "Size", "device"}
PLOT_METHODS = {
    "imshow", "plot", "hist", "scatter", "bar", "barh", "matshow", "contour", "contourf",
    "pcolormesh", "quiver", "errorbar", "fill_between", "step", "semilogy", "semilogx",
    "loglog", "stem", "boxplot", "violinplot",
}  # fmt: skip
EXACT_METHODS = {
    "argmax", "argmin", "long", "int", "count_nonzero", "numel", "eq", "ne", "nonzero", "bool",
    "round", "floor", "ceil", "shape", "size",
}  # fmt: skip
OPT_OUT = re.compile(r"#\s*device:\s*ok\b")


@dataclass(frozen=True)
class Violation:
    notebook: str
    cell: int  # index in the notebook's cell list, 0-based, as nbformat counts
    cell_id: str
    line: int  # 1-based line within the cell
    rule: str
    code: str

    def __str__(self) -> str:
        return (
            f"{self.notebook} cell {self.cell} (id {self.cell_id}) line {self.line}: "
            f"[{self.rule}] {self.code}"
        )


def cell_python(source: str) -> str:
    """The cell's source with IPython magics and shell lines turned into ``pass``."""
    if source.lstrip().startswith("%%"):
        return ""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        lines.append(indent + "pass" if stripped.startswith(("%", "!")) else line)
    return "\n".join(lines)


def _dotted(node: ast.AST) -> str:
    """``torch.nn.functional.conv2d`` for an attribute chain of names, else ``""``."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def _is_cuda_literal(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith("cuda")
    )


def _is_cpu_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and node.value == "cpu":
        return True
    return (
        isinstance(node, ast.Call)
        and _dotted(node.func) == "torch.device"
        and bool(node.args)
        and _is_cpu_literal(node.args[0])
    )


def _mentions_device(node: ast.AST) -> bool:
    """A device expression that is not the CPU: the name ``device``, ``x.device``, ``"cuda"``."""
    if _is_cpu_literal(node):
        return False
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id == "device":
            return True
        if isinstance(sub, ast.Attribute) and sub.attr == "device":
            return True
        if _is_cuda_literal(sub):
            return True
    return False


class _Analysis:
    """Walks one notebook's cells in order, tracking names that may live on ``device``."""

    def __init__(self, notebook: str, host_callables: set[str]) -> None:
        self.notebook = notebook
        self.tainted: set[str] = set()
        self.host_callables = set(host_callables)  # functions known to return host values
        self.violations: list[Violation] = []
        self.cell = 0
        self.cell_id = ""
        self.lines: list[str] = []
        self.ignore_output = False

    # ---------------------------------------------------------------- taint of expressions
    def tainted_expr(self, node: ast.AST | None) -> bool:
        if node is None:
            return False
        if isinstance(node, ast.Name):
            return node.id in self.tainted
        if isinstance(node, ast.Constant | ast.JoinedStr | ast.Lambda):
            return False
        if isinstance(node, ast.Attribute):
            if node.attr in HOST_ATTRIBUTES:
                return False
            return self.tainted_expr(node.value)
        if isinstance(node, ast.Subscript):
            return self.tainted_expr(node.value)
        if isinstance(node, ast.Starred):
            return self.tainted_expr(node.value)
        if isinstance(node, ast.BinOp):
            return self.tainted_expr(node.left) or self.tainted_expr(node.right)
        if isinstance(node, ast.UnaryOp):
            return self.tainted_expr(node.operand)
        if isinstance(node, ast.BoolOp):
            return any(self.tainted_expr(v) for v in node.values)
        if isinstance(node, ast.Compare):
            return any(self.tainted_expr(v) for v in [node.left, *node.comparators])
        if isinstance(node, ast.IfExp):
            return self.tainted_expr(node.body) or self.tainted_expr(node.orelse)
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return any(self.tainted_expr(e) for e in node.elts)
        if isinstance(node, ast.Dict):
            return any(self.tainted_expr(v) for v in node.values)
        if isinstance(node, ast.ListComp | ast.GeneratorExp | ast.SetComp):
            return self.tainted_expr(node.elt) or any(
                self.tainted_expr(g.iter) for g in node.generators
            )
        if isinstance(node, ast.DictComp):
            return self.tainted_expr(node.value) or any(
                self.tainted_expr(g.iter) for g in node.generators
            )
        if isinstance(node, ast.Call):
            return self.tainted_call(node)
        return False

    def tainted_call(self, node: ast.Call) -> bool:
        func = node.func
        name = _dotted(func)
        if isinstance(func, ast.Attribute):
            if func.attr in HOST_METHODS:
                return False
            if func.attr in ("to", "cuda"):
                targets = [*node.args, *(k.value for k in node.keywords if k.arg == "device")]
                if func.attr == "cuda" or any(_mentions_device(a) for a in targets):
                    return True
                if any(_is_cpu_literal(a) for a in targets):
                    return False
                return self.tainted_expr(func.value)
            if name.startswith("torch.") and func.attr in HOST_TORCH:
                return False
            if name.startswith(("np.", "numpy.", "math.", "plt.", "scipy.")):
                return False
        elif isinstance(func, ast.Name) and (
            func.id in HOST_FUNCTIONS or func.id in self.host_callables
        ):
            return False
        if any(k.arg == "device" and _mentions_device(k.value) for k in node.keywords):
            return True
        if self.tainted_expr(func):
            return True
        args = [*node.args, *(k.value for k in node.keywords)]
        return any(self.tainted_expr(a) for a in args)

    # ---------------------------------------------------------------- reporting
    def report(self, node: ast.AST, rule: str) -> None:
        line = getattr(node, "lineno", 1)
        code = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        if OPT_OUT.search(code):
            return
        self.violations.append(
            Violation(self.notebook, self.cell, self.cell_id, line, rule, code[:120])
        )

    def check_expr(self, node: ast.AST) -> None:
        """Rules that look at calls anywhere inside an expression."""
        for sub in ast.walk(node):
            if not isinstance(sub, ast.Call):
                continue
            func, name = sub.func, _dotted(sub.func)
            keywords = {k.arg: k.value for k in sub.keywords}
            short = name.removeprefix("torch.")
            if name.startswith("torch.") and short in RANDOM_FACTORIES | RANDOM_LIKE:
                if short in RANDOM_LIKE or "generator" not in keywords:
                    self.report(sub, "rng-generator")
                if "device" in keywords and not _is_cpu_literal(keywords["device"]):
                    self.report(sub, "rng-device")
            elif isinstance(func, ast.Attribute) and func.attr in RANDOM_INPLACE:
                if "generator" not in keywords and not name.startswith(("np.", "rng.")):
                    self.report(sub, "rng-generator")
            if isinstance(func, ast.Attribute) and func.attr == "cuda":
                self.report(sub, "cuda-literal")
            elif isinstance(func, ast.Attribute) and func.attr == "to" and sub.args:
                if _is_cuda_literal(sub.args[0]):
                    self.report(sub, "cuda-literal")
            if _is_cuda_literal(keywords.get("device")) or (
                name == "torch.device" and sub.args and _is_cuda_literal(sub.args[0])
            ):
                self.report(sub, "cuda-literal")
            if isinstance(func, ast.Attribute) and func.attr == "numpy" and not sub.args:
                if self.tainted_expr(func.value):
                    self.report(sub, "numpy-on-device")
            elif name in ("np.asarray", "np.array", "numpy.asarray", "numpy.array") and sub.args:
                if self.tainted_expr(sub.args[0]):
                    self.report(sub, "numpy-on-device")
            elif isinstance(func, ast.Attribute) and func.attr in PLOT_METHODS:
                if any(self.tainted_expr(a) for a in sub.args):
                    self.report(sub, "numpy-on-device")
            if name in ("print", "display") and not self.ignore_output:
                for arg in sub.args:
                    if self.shows_device_tensor(arg):
                        self.report(sub, "print-device-tensor")
                        break
                    if self.shows_device_name(arg):
                        self.report(sub, "print-device")
                        break
                    if self.shows_unrounded_device_float(arg):
                        self.report(sub, "print-device-float")
                        break

    @staticmethod
    def shows_device_name(node: ast.AST) -> bool:
        """``device`` or ``x.device`` printed as it is: "cpu" here, "cuda:0" on a GPU."""

        def is_device(value: ast.AST) -> bool:
            return (isinstance(value, ast.Name) and value.id == "device") or (
                isinstance(value, ast.Attribute) and value.attr == "device"
            )

        if isinstance(node, ast.JoinedStr):
            return any(
                isinstance(v, ast.FormattedValue) and is_device(v.value) for v in node.values
            )
        return is_device(node)

    def device_float(self, node: ast.AST) -> bool:
        """``t.item()`` or ``float(t)`` of a device value that is not an exact integer."""
        if not isinstance(node, ast.Call):
            return False
        if isinstance(node.func, ast.Attribute) and node.func.attr == "item" and not node.args:
            inner = node.func.value
        elif isinstance(node.func, ast.Name) and node.func.id == "float" and node.args:
            inner = node.args[0]
        else:
            return False
        if not self.tainted_expr(inner):
            return False
        for sub in ast.walk(inner):  # counts and indices are exact on every device
            if isinstance(sub, ast.Compare):
                return False
            if isinstance(sub, ast.Attribute) and sub.attr in EXACT_METHODS:
                return False
        return True

    @staticmethod
    def _shows(node: ast.AST, predicate) -> bool:
        """Whether printing ``node`` shows a value ``predicate`` flags: the node itself, or an
        f-string field without a format spec."""
        if isinstance(node, ast.JoinedStr):
            return any(
                isinstance(v, ast.FormattedValue) and v.format_spec is None and predicate(v.value)
                for v in node.values
            )
        return predicate(node)

    def shows_unrounded_device_float(self, node: ast.AST) -> bool:
        return self._shows(node, self.device_float)

    def shows_device_tensor(self, node: ast.AST) -> bool:
        return self._shows(node, self.tainted_expr)

    # ---------------------------------------------------------------- statements
    def assign(self, target: ast.AST, tainted: bool, value: ast.AST | None = None) -> None:
        if isinstance(target, ast.Name):
            (self.tainted.add if tainted else self.tainted.discard)(target.id)
        elif isinstance(target, ast.Tuple | ast.List):
            if isinstance(value, ast.Tuple | ast.List) and len(value.elts) == len(target.elts):
                for t, v in zip(target.elts, value.elts, strict=True):
                    self.assign(t, self.tainted_expr(v), v)
            else:
                for t in target.elts:
                    self.assign(t, tainted)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, tainted)

    def returns_host(self, node: ast.FunctionDef) -> bool:
        """A function whose every ``return`` gives a host value (``.item()``, ``float()``...)."""
        returns = [n for n in ast.walk(node) if isinstance(n, ast.Return)]
        if not returns:
            return True
        saved = self.tainted
        self.tainted = set(saved) | {a.arg for a in node.args.args + node.args.kwonlyargs}
        try:
            return all(r.value is not None and not self.tainted_expr(r.value) for r in returns)
        finally:
            self.tainted = saved

    def statements(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self.statement(stmt)

    def statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            for deco in stmt.decorator_list:
                self.check_expr(deco)
            if self.returns_host(stmt):
                self.host_callables.add(stmt.name)
            else:
                self.host_callables.discard(stmt.name)
            saved = set(self.tainted)
            params = [*stmt.args.posonlyargs, *stmt.args.args, *stmt.args.kwonlyargs]
            self.tainted -= {a.arg for a in params}
            self.statements(stmt.body)
            self.tainted = saved
            return
        if isinstance(stmt, ast.ClassDef):
            saved = set(self.tainted)
            self.statements(stmt.body)
            self.tainted = saved
            return
        if isinstance(stmt, ast.Assign):
            self.check_expr(stmt.value)
            taint = self.tainted_expr(stmt.value)
            for target in stmt.targets:
                self.assign(target, taint, stmt.value)
            return
        if isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self.check_expr(stmt.value)
                self.assign(stmt.target, self.tainted_expr(stmt.value), stmt.value)
            return
        if isinstance(stmt, ast.AugAssign):
            self.check_expr(stmt.value)
            if self.tainted_expr(stmt.value):
                self.assign(stmt.target, True)
            return
        if isinstance(stmt, ast.For | ast.AsyncFor):
            self.check_expr(stmt.iter)
            self.assign(stmt.target, self.tainted_expr(stmt.iter))
            for _ in range(2):  # a second pass sees what the first iteration moved
                self.statements(stmt.body)
            self.statements(stmt.orelse)
            return
        if isinstance(stmt, ast.While):
            self.check_expr(stmt.test)
            self.statements(stmt.body)
            self.statements(stmt.orelse)
            return
        if isinstance(stmt, ast.If):
            self.check_expr(stmt.test)
            self.statements(stmt.body)
            self.statements(stmt.orelse)
            return
        if isinstance(stmt, ast.With | ast.AsyncWith):
            for item in stmt.items:
                self.check_expr(item.context_expr)
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, self.tainted_expr(item.context_expr))
            self.statements(stmt.body)
            return
        if isinstance(stmt, ast.Try):
            for block in (stmt.body, *(h.body for h in stmt.handlers), stmt.orelse):
                self.statements(block)
            self.statements(stmt.finalbody)
            return
        if isinstance(stmt, ast.Expr):
            self.check_expr(stmt.value)
            call = stmt.value
            # model.to(device) as a statement moves a module in place
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr in ("to", "cuda")
                and isinstance(call.func.value, ast.Name)
                and self.tainted_call(call)
            ):
                self.tainted.add(call.func.value.id)
            return
        for child in ast.iter_child_nodes(stmt):
            if isinstance(child, ast.expr):
                self.check_expr(child)

    def run_cell(self, index: int, cell: dict) -> None:
        source = "".join(cell["source"])
        self.cell, self.cell_id = index, cell.get("id", "")
        self.lines = source.splitlines()
        self.ignore_output = "nbval-ignore-output" in cell.get("metadata", {}).get("tags", [])
        try:
            tree = ast.parse(cell_python(source))
        except SyntaxError as error:
            self.violations.append(
                Violation(self.notebook, index, self.cell_id, error.lineno or 1, "syntax", "")
            )
            return
        self.statements(tree.body)
        last = tree.body[-1] if tree.body else None
        if (
            isinstance(last, ast.Expr)
            and not self.ignore_output
            and not isinstance(last.value, ast.Call | ast.Constant)
            and self.tainted_expr(last.value)
        ):
            self.report(last, "print-device-tensor")


def _cnnutils_host_callables() -> set[str]:
    """cnnutils' public functions whose return annotation holds no tensor or module."""
    import inspect

    import cnnutils

    names = set()
    for name in cnnutils.__all__:
        obj = getattr(cnnutils, name)
        if not inspect.isfunction(obj):
            continue
        ret = str(inspect.signature(obj).return_annotation)
        if ret != str(inspect.Signature.empty) and not re.search(r"Tensor|Module|Net|Alex", ret):
            names.add(name)
    return names


def notebook_violations(path: Path, host_callables: set[str] | None = None) -> list[Violation]:
    """Every rule broken in one notebook, in cell order."""
    nb = json.loads(path.read_text())
    analysis = _Analysis(path.name, host_callables or set())
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            analysis.run_cell(index, cell)
    return analysis.violations


def all_violations() -> list[Violation]:
    host = _cnnutils_host_callables()
    return [v for path in NOTEBOOKS for v in notebook_violations(path, host)]


# ------------------------------------------------------------------------------------------
# The analysis itself, on small made-up cells


def _check(*cells: str) -> list[str]:
    path_cells = [
        {"cell_type": "code", "source": src, "metadata": {}, "id": f"c{i}"}
        for i, src in enumerate(cells)
    ]
    analysis = _Analysis("t.ipynb", {"evaluate"})
    for i, cell in enumerate(path_cells):
        analysis.run_cell(i, cell)
    return [f"{v.cell}:{v.line}:{v.rule}" for v in analysis.violations]


def test_rules_on_examples():
    assert _check("x = torch.randn(3, generator=generator).to(device)") == []
    assert _check("x = torch.randn(3)") == ["0:1:rng-generator"]
    assert _check("x = torch.rand(3, generator=g, device=device)") == ["0:1:rng-device"]
    assert _check("w = torch.empty(3).normal_()") == ["0:1:rng-generator"]
    assert _check("y = torch.randn_like(x)") == ["0:1:rng-generator"]
    assert _check("x = x.cuda()") == ["0:1:cuda-literal"]
    assert _check('x = x.to("cuda")') == ["0:1:cuda-literal"]
    assert _check('x = torch.zeros(3, device="cuda:0")') == ["0:1:cuda-literal"]
    assert _check('d = torch.device("cuda" if ok else "cpu")') == []
    # flow-sensitive: a name is on the device only after it is moved, until it is reassigned
    assert _check("a = t.numpy()", "t = t.to(device)", "b = t.numpy()") == ["2:1:numpy-on-device"]
    assert _check("t = t.to(device)", "t = t.cpu()", "b = t.numpy()") == []
    assert _check("t = t.to(device)", "b = t.detach().cpu().numpy()") == []
    assert _check("t = t.to(device)", "y = net(t)[0]", "np.asarray(y)") == ["2:1:numpy-on-device"]
    assert _check("net.to(device)", "out = net(x)", "out") == ["2:1:print-device-tensor"]
    assert _check("t = t.to(device)", "ax.imshow(t[0])") == ["1:1:numpy-on-device"]
    assert _check("t = t.to(device)", "print(t)", "print(t.shape, round(t.sum().item(), 3))") == [
        "1:1:print-device-tensor"
    ]
    assert _check("t = t.to(device)", 'print(f"{t.sum():.3f} {t}")') == ["1:1:print-device-tensor"]
    assert _check('print(f"on {device}")', "print(x.device)") == [
        "0:1:print-device",
        "1:1:print-device",
    ]
    floats = 'print(f"{t.sum().item()} {t.mean().item():.3f} {(t > 0).sum().item()}")'
    assert _check("t = t.to(device)", floats, "print(float(t.max()))") == [
        "1:1:print-device-float",
        "2:1:print-device-float",
    ]
    # host values: .item(), float(), helpers that return floats, annotated cnnutils functions
    src = "def err(a, b):\n    return ((a - b).norm() / b.norm()).item()\n"
    assert _check("t = t.to(device)", src, "e = err(t, t)", "e", "evaluate(net, t)") == []
    assert _check("t = t.to(device)", "t.numpy()  # device: ok (never on CUDA)") == []
    assert _check("%matplotlib inline\nif x:\n    %pip install y\n") == []


def test_notebooks_follow_the_device_rules():
    violations = all_violations()
    assert not violations, "device rules broken (see tests/test_device_robust.py):\n" + "\n".join(
        map(str, violations)
    )


# ------------------------------------------------------------------------------------------
# Runtime: cnnutils on the meta device (a tensor created on the CPU inside a function and
# mixed with the input raises there, as it would on CUDA)


def _meta_and_cpu(fn: Callable[[torch.device], object]) -> tuple[object, object]:
    return fn(torch.device("meta")), fn(torch.device("cpu"))


def _tensors(value: object) -> Iterator[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _tensors(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _tensors(v)
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            yield from _tensors(getattr(value, name))


def _recipes() -> dict[str, Callable[[torch.device], object]]:
    """One call per cnnutils function the chapters use on tensors, on a given device."""
    import torch.nn.functional as F

    import cnnutils
    from cnnutils.models.lenet5 import C3Connections, ScaledTanh
    from cnnutils.ops import conv, filters, pooling
    from cnnutils.ops.locally_connected import LocallyConnected2d
    from cnnutils.training.parallel import split_grouped_conv

    def x(d: torch.device, *shape: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(0)
        return torch.randn(*shape, generator=g, dtype=torch.float64).to(d)

    def module_on(d: torch.device, build: Callable[[], nn.Module], *shape: int) -> torch.Tensor:
        torch.manual_seed(0)
        return build().double().to(d)(x(d, *shape))

    recipes: dict[str, Callable[[torch.device], object]] = {
        **{
            f"conv2d[{m}]": lambda d, m=m: conv.conv2d(
                x(d, 2, 4, 9, 8), x(d, 6, 2, 3, 3), x(d, 6), padding=1, groups=2, method=m
            )
            for m in ("naive", "unfold", "fft")
        },
        "convolve2d": lambda d: conv.convolve2d(x(d, 9, 8), x(d, 3, 2), mode="same"),
        "correlate2d": lambda d: conv.correlate2d(x(d, 9, 8), x(d, 3, 2), mode="valid"),
        "filter2d": lambda d: filters.filter2d(
            x(d, 1, 12, 12), filters.sobel_kernels(dtype=torch.float64, device=d)[0]
        ),
        **{
            f"{name}(device=)": lambda d, name=name, kw=kw: getattr(filters, name)(**kw, device=d)
            for name, kw in (
                ("box_kernel", {"size": 3}),
                ("gaussian_kernel", {"sigma": 1.0}),
                ("laplacian_kernel", {}),
                ("sharpen_kernel", {}),
                ("sobel_kernels", {}),
                ("gabor_kernel", {"sigma": 2.0, "theta": 0.5, "lambd": 4.0}),
            )
        },
        "shift": lambda d: cnnutils.ops.equivariance.shift(x(d, 1, 1, 6, 6), 1, 2, mode="zeros"),
        "local_response_norm": lambda d: cnnutils.local_response_norm(x(d, 2, 8, 5, 5), 5),
        "local_response_norm[intra]": lambda d: cnnutils.local_response_norm(
            x(d, 2, 8, 5, 5), 4, mode="intra"
        ),
        "local_response_norm[paper]": lambda d: cnnutils.local_response_norm(
            x(d, 2, 8, 5, 5), 4, 1e-4, 0.75, 2.0, convention="paper"
        ),
        "LocallyConnected2d": lambda d: module_on(
            d, lambda: LocallyConnected2d(2, 3, 3, input_size=6), 2, 2, 6, 6
        ),
        "max_pool2d": lambda d: pooling.max_pool2d(x(d, 2, 3, 7, 6), 3, 2, padding=1),
        "MaxPool2d": lambda d: module_on(d, lambda: pooling.MaxPool2d(2), 2, 3, 8, 8),
        "avg_pool2d": lambda d: pooling.avg_pool2d(x(d, 2, 3, 7, 6), 3, 2, padding=1),
        "adaptive_avg_pool2d": lambda d: pooling.adaptive_avg_pool2d(x(d, 2, 3, 7, 6), (3, 2)),
        "global_avg_pool2d": lambda d: pooling.global_avg_pool2d(x(d, 2, 3, 7, 6)),
        "global_max_pool2d": lambda d: pooling.global_max_pool2d(x(d, 2, 3, 7, 6)),
        "disk_pool2d": lambda d: pooling.disk_pool2d(x(d, 1, 2, 9, 9), 2, padding=2),
        "lenet5": lambda d: module_on(d, lambda: cnnutils.lenet5(), 2, 1, 32, 32),
        "lenet5[modern]": lambda d: module_on(
            d, lambda: cnnutils.lenet5(variant="modern"), 2, 1, 32, 32
        ),
        "C3Connections": lambda d: module_on(d, C3Connections, 2, 6, 14, 14),
        "ScaledTanh": lambda d: module_on(d, ScaledTanh, 2, 3),
        "alexnet[small]": lambda d: module_on(
            d,
            lambda: cnnutils.alexnet(num_classes=5, width=1 / 8, input_size=32, stem=(3, 1, 1)),
            2,
            3,
            32,
            32,
        ),
        "split_grouped_conv": lambda d: [
            t(part)
            for t, part in zip(
                split_grouped_conv(nn.Conv2d(4, 6, 3, groups=2).double().to(d)),
                x(d, 1, 4, 5, 5).chunk(2, dim=1),
                strict=True,
            )
        ],
        "channel_stats": lambda d: cnnutils.channel_stats(x(d, 4, 3, 5, 5)),
        "F.conv2d (reference)": lambda d: F.conv2d(x(d, 1, 2, 5, 5), x(d, 3, 2, 3, 3)),
    }
    return recipes


RECIPES = _recipes()
# Used by the chapters on tensors but data-dependent (Python numbers, random indices, training
# loops): the meta device has no values. Their own tests cover them on the CPU; on CUDA, the
# GPU run of the notebooks does.
NOT_ON_META = {
    "equivariance_error", "invariance_error", "orientation_histogram", "random_crop",
    "random_flip", "random_shift", "pca_colour_jitter", "confusion_matrix", "fit", "evaluate",
    "predict", "extract_features", "linear_probe", "train_steps", "GroupsOnDevices",
    "disk_footprint", "max_pool2d_forward", "max_pool2d_backward",
    "pca_colour_basis",
}  # fmt: skip


# Make CPU data or draw figures from tensors (and move them to the CPU themselves).
HOST_ONLY = {
    "ImageDataset", "demo_problem", "load_photo", "plot_confusion_matrix",
    "sliding_window_animation", "show_images", "show_orientation_histograms", "animation_html",
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_cnnutils_on_the_meta_device(name):
    on_meta, on_cpu = _meta_and_cpu(RECIPES[name])
    meta_tensors, cpu_tensors = list(_tensors(on_meta)), list(_tensors(on_cpu))
    assert meta_tensors, f"{name}: no tensor in the result"
    assert all(t.device.type == "meta" for t in meta_tensors), f"{name}: left the meta device"
    assert [t.shape for t in meta_tensors] == [t.shape for t in cpu_tensors]
    assert [t.dtype for t in meta_tensors] == [t.dtype for t in cpu_tensors]


def _cnnutils_names_in_notebooks() -> dict[str, str]:
    """``{name: module}`` for every name the chapters import from cnnutils."""
    used = {}
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            try:
                tree = ast.parse(cell_python("".join(cell["source"])))
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cnnutils"):
                    used.update({a.name: node.module for a in node.names})
    return used


def _takes_or_makes_tensors(obj: object) -> bool:
    import inspect

    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return False
    annotations = [str(p.annotation) for p in sig.parameters.values()]
    return any(re.search(r"\bTensor\b", a) for a in [*annotations, str(sig.return_annotation)])


def test_every_tensor_function_the_chapters_use_is_covered():
    """A chapter that starts using another cnnutils tensor function gets a recipe above."""
    import importlib

    covered = {key.split("[")[0].split("(")[0] for key in RECIPES} | NOT_ON_META | HOST_ONLY
    missing = []
    for name, module in sorted(_cnnutils_names_in_notebooks().items()):
        obj = getattr(importlib.import_module(module), name, None)
        if callable(obj) and _takes_or_makes_tensors(obj) and name not in covered:
            missing.append(f"{module}.{name}")
    assert not missing, f"add a meta-device recipe (or a NOT_ON_META entry) for {missing}"


def test_random_helpers_keep_the_input_device():
    """Augmentations draw from a CPU generator and move only the draws (CPU round trip)."""
    import cnnutils

    g = torch.Generator().manual_seed(0)
    images = torch.rand(4, 3, 8, 8, generator=g, dtype=torch.float64)
    for fn, kwargs in (
        (cnnutils.random_crop, {"size": 6, "padding": 1}),
        (cnnutils.random_flip, {}),
        (cnnutils.random_shift, {"max_shift": 2}),
    ):
        out_a = fn(images, **kwargs, generator=torch.Generator().manual_seed(1))
        out_b = fn(images.clone(), **kwargs, generator=torch.Generator().manual_seed(1))
        assert out_a.device == images.device and torch.equal(out_a, out_b), fn.__name__


if __name__ == "__main__":
    found = all_violations()
    for violation in found:
        print(violation)
    print(f"{len(found)} violation(s) in {len(NOTEBOOKS)} notebooks")
