"""The exercise self-checks: unsolved stubs are reported as unsolved (with a hint), never crash.

That the worked solutions pass is proven by nbval: each check cell's committed output is the
"✓ ... solved" line, and nbval re-executes the notebook and compares it. Here we prove the other
half for every registered exercise, and that every exercise is checked in exactly one notebook.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cnnutils.course.exercises import (
    CheckResult,
    Unsolved,
    check,
    evaluate,
    exercise,
    exercise_ids,
    expect,
    get_exercise,
    need,
)

ROOT = Path(__file__).resolve().parents[2]
CHECK_CALL = re.compile(r"""check\(\s*["'](\d{2}\.\d+)["']\s*,\s*globals\(\)\s*\)""")
IDS = exercise_ids()


def _raises(*args, **kwargs):
    raise NotImplementedError("write this function")


def _returns_none(*args, **kwargs):
    return None


def _stubs(entry, function_stub):
    return {name: (function_stub if name in entry.functions else ...) for name in entry.names}


def test_every_chapter_with_exercises_has_checks():
    chapters = {i.split(".")[0] for i in IDS}
    assert {"01"} <= chapters
    assert IDS == sorted(IDS, key=lambda i: tuple(int(p) for p in i.split(".")))


@pytest.mark.parametrize("exercise_id", IDS)
def test_empty_namespace_is_unsolved_with_a_hint(exercise_id):
    result = evaluate(exercise_id, {})
    assert isinstance(result, CheckResult) and not result
    assert str(result).startswith(f"✗ Exercise {exercise_id} is not solved yet. Hint: ")
    assert any(f"`{name}`" in result.message for name in get_exercise(exercise_id).names)


@pytest.mark.parametrize("function_stub", [_raises, _returns_none], ids=["raises", "none"])
@pytest.mark.parametrize("exercise_id", IDS)
def test_stub_is_unsolved_not_a_crash(exercise_id, function_stub):
    entry = get_exercise(exercise_id)
    result = evaluate(exercise_id, _stubs(entry, function_stub))
    assert not result, result
    assert "Traceback" not in result.message and result.message


@pytest.mark.parametrize("exercise_id", IDS)
def test_stub_values_of_the_wrong_type_are_unsolved(exercise_id):
    entry = get_exercise(exercise_id)
    namespace = {name: (_returns_none if name in entry.functions else None) for name in entry.names}
    assert not evaluate(exercise_id, namespace)
    if entry.functions:
        namespace = {name: 42 for name in entry.names}
        result = evaluate(exercise_id, namespace)
        assert not result and "should be a function" in result.message


def test_check_prints_one_line(capsys):
    check(IDS[0], {})
    out = capsys.readouterr().out
    assert out.startswith("✗") and out.count("\n") == 1


def test_each_exercise_is_checked_in_exactly_one_notebook_and_passes_there():
    seen: dict[str, list[str]] = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        chapter = path.name[:2]
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            for exercise_id in CHECK_CALL.findall("".join(cell["source"])):
                seen.setdefault(exercise_id, []).append(path.name)
                assert exercise_id.startswith(chapter + "."), (path.name, exercise_id)
                text = "".join(
                    "".join(o.get("text", ""))
                    for o in cell["outputs"]
                    if o["output_type"] == "stream"
                )
                assert f"✓ Exercise {exercise_id} solved" in text, (path.name, exercise_id, text)
    assert sorted(seen) == IDS, f"registered but unchecked, or checked but unknown: {seen}"
    assert all(len(files) == 1 for files in seen.values()), seen


def test_core_helpers_and_bad_ids():
    assert need({"a": 1, "b": 2}, "a", "b") == (1, 2)
    with pytest.raises(Unsolved, match="define `a` first"):
        need({"a": ...}, "a")
    with pytest.raises(Unsolved, match="too small"):
        expect(False, "too small")
    with pytest.raises(ValueError, match=r'must look like "04.1", got \'4.1\''):
        get_exercise("4.1")
    with pytest.raises(ValueError, match=r"no exercise '01.99'; chapter 01 has 01.1"):
        get_exercise("01.99")
    with pytest.raises(ValueError, match=r"no exercise '77\.1'; chapter 77 has none"):
        get_exercise("77.1")
    with pytest.raises(TypeError, match="namespace must be a mapping"):
        evaluate(IDS[0], [1, 2])
    with pytest.raises(ValueError, match="names must be non-empty"):
        exercise("99.1", names=())


def test_an_exception_in_the_readers_code_is_a_hint(monkeypatch):
    def checker(ns):
        return ns["f"]()

    def boom():
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("cnnutils.course.exercises._REGISTRY", {})
    monkeypatch.setattr("cnnutils.course.exercises.importlib.import_module", lambda name: None)
    exercise("98.1", names=("f",), functions=("f",))(checker)
    result = evaluate("98.1", {"f": boom})
    assert not result
    assert result.message.startswith("your code raised ZeroDivisionError: division by zero.")
    assert evaluate("98.1", {"f": lambda: "fine"}).passed
