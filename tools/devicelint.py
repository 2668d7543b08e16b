"""Device rules for the chapters' code cells, checked statically, without a GPU.

Every code cell of ``notebooks/*.ipynb`` is parsed and walked in order, with a
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

    python tools/devicelint.py [NOTEBOOK ...]   print the violations (exit 1 if any)

Without paths it checks every ``notebooks/*.ipynb``. ``tests/book/test_device_robust.py`` runs it
over the chapters; ``tests/unit/test_devicelint.py`` tests each rule on small made-up cells.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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


def check_cells(*cells: str, host_callables: set[str] | None = None) -> list[str]:
    """Run the rules on made-up code cells; ``"cell:line:rule"`` for each violation."""
    analysis = _Analysis("cells.ipynb", host_callables or set())
    for i, source in enumerate(cells):
        analysis.run_cell(i, {"cell_type": "code", "source": source, "metadata": {}, "id": f"c{i}"})
    return [f"{v.cell}:{v.line}:{v.rule}" for v in analysis.violations]


def main(argv: list[str] | None = None) -> int:
    paths = [Path(p) for p in (sys.argv[1:] if argv is None else argv)] or NOTEBOOKS
    host = _cnnutils_host_callables()
    found = [v for path in paths for v in notebook_violations(path, host)]
    for violation in found:
        print(violation)
    print(f"{len(found)} violation(s) in {len(paths)} notebooks")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
