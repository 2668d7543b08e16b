"""Self-checks for the chapters' coding exercises: a clear pass or fail with a hint, no traceback.

Each coding exercise of chapter ``NN`` has a checker in ``cnnutils.course.exercises.chNN``,
registered under the id ``"NN.k"`` with :func:`exercise`. A notebook calls
``check("NN.k", globals())`` after the reader's (or the hidden worked) solution; the checker
looks the names it needs up in that namespace and compares them with a reference, usually
PyTorch. Whatever goes wrong, a missing name, a stub left as ``...``, a wrong value or an
exception raised by the reader's function, comes back as "not solved yet" plus a hint, never
as a traceback.

Writing a checker::

    @exercise("04.1", names=("out_224",))
    def _alexnet_width(ns):
        out_224 = need(ns, "out_224")
        expect(out_224 == 54, f"out_224 is {out_224!r}; use the floor formula ...")
        return "the output width matches the floor formula"
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CheckResult",
    "Exercise",
    "Unsolved",
    "check",
    "evaluate",
    "exercise",
    "exercise_ids",
    "expect",
    "get_exercise",
    "need",
    "parameter_count",
    "whole_number",
]

_ID = re.compile(r"^(\d{2})\.(\d+)$")
_REGISTRY: dict[str, Exercise] = {}

Checker = Callable[[Mapping[str, Any]], str]


class Unsolved(Exception):
    """Raised by a checker when the solution is missing or wrong; the message is the hint."""


@dataclass(frozen=True)
class Exercise:
    """A registered exercise.

    Attributes:
        id: ``"NN.k"``, chapter ``NN``, exercise ``k``.
        names: the names the reader's solution must define (values or functions).
        functions: the subset of ``names`` that must be functions.
        checker: takes the namespace, returns a success message or raises :class:`Unsolved`.
    """

    id: str
    names: tuple[str, ...]
    functions: tuple[str, ...]
    checker: Checker


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check; true when the exercise is solved."""

    exercise: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        if self.passed:
            return f"✓ Exercise {self.exercise} solved: {self.message}"
        return f"✗ Exercise {self.exercise} is not solved yet. Hint: {self.message}"


def exercise(
    exercise_id: str, *, names: tuple[str, ...], functions: tuple[str, ...] = ()
) -> Callable[[Checker], Checker]:
    """Register ``checker`` as the self-check of exercise ``exercise_id`` (``"NN.k"``).

    Args:
        exercise_id: ``"NN.k"``; the checker must live in ``cnnutils.course.exercises.chNN``.
        names: every name the reader defines (the stub test sets each to ``...``).
        functions: those of ``names`` that are functions.

    Returns:
        a decorator that registers the checker and returns it unchanged.

    Example:
        >>> "01.1" in exercise_ids()
        True
    """
    if not isinstance(exercise_id, str) or not _ID.match(exercise_id):
        raise ValueError(f'exercise: exercise_id must look like "04.1", got {exercise_id!r}')
    if not names or not set(functions) <= set(names):
        raise ValueError(
            f"exercise {exercise_id}: names must be non-empty and contain functions, "
            f"got names={names!r}, functions={functions!r}"
        )

    def register(checker: Checker) -> Checker:
        if exercise_id in _REGISTRY and _REGISTRY[exercise_id].checker is not checker:
            raise ValueError(f"exercise {exercise_id} is registered twice")
        _REGISTRY[exercise_id] = Exercise(exercise_id, tuple(names), tuple(functions), checker)
        return checker

    return register


def _chapter_module(chapter: str) -> str:
    return f"{__name__}.ch{chapter}"


def get_exercise(exercise_id: str) -> Exercise:
    """The registered :class:`Exercise` with this id (its chapter module is imported on demand).

    Raises:
        ValueError: for a malformed or unknown id; the message lists the chapter's exercises.
    """
    match = _ID.match(exercise_id) if isinstance(exercise_id, str) else None
    if match is None:
        raise ValueError(f'get_exercise: exercise_id must look like "04.1", got {exercise_id!r}')
    try:
        importlib.import_module(_chapter_module(match.group(1)))
    except ModuleNotFoundError as error:
        if error.name != _chapter_module(match.group(1)):
            raise
    if exercise_id not in _REGISTRY:
        known = sorted(i for i in _REGISTRY if i.startswith(match.group(1) + "."))
        raise ValueError(
            f"get_exercise: no exercise {exercise_id!r}; chapter {match.group(1)} has "
            f"{', '.join(known) if known else 'none'}"
        )
    return _REGISTRY[exercise_id]


def exercise_ids() -> list[str]:
    """Every registered exercise id, in chapter order (all chapter modules are imported).

    Returns:
        the ids ``"NN.k"``, sorted by chapter, then by exercise number.
    """
    for info in pkgutil.iter_modules(__path__):
        if re.fullmatch(r"ch\d{2}", info.name):
            importlib.import_module(f"{__name__}.{info.name}")
    return sorted(_REGISTRY, key=lambda i: tuple(int(p) for p in i.split(".")))


def need(namespace: Mapping[str, Any], *names: str) -> Any:
    """Look ``names`` up in the reader's namespace; one name gives its value, several a tuple.

    Args:
        namespace: the reader's namespace.
        *names: the names to look up.

    Returns:
        the value of the one name, or a tuple of values for several.

    Raises:
        Unsolved: when a name is missing or still the stub ``...``.
    """
    values = []
    for name in names:
        value = namespace.get(name, ...)
        if value is ...:
            raise Unsolved(f"define `{name}` first (it is missing or still `...`).")
        values.append(value)
    return values[0] if len(values) == 1 else tuple(values)


def expect(condition: Any, hint: str) -> None:
    """Raise :class:`Unsolved` with ``hint`` unless ``condition`` is true.

    Args:
        condition: what a correct solution satisfies.
        hint: what to tell the reader when it does not.
    """
    if not condition:
        raise Unsolved(hint)


def whole_number(value: Any, name: str) -> int:
    """The reader's ``value`` as an ``int``; a whole float or a one-element tensor is fine.

    Args:
        value: what the reader computed.
        name: its name, for the hint.

    Returns:
        the value as a Python ``int``.

    Raises:
        Unsolved: when it is not a whole number.
    """
    if hasattr(value, "numel") and value.numel() == 1:
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unsolved(f"`{name}` should be a whole number, got {value!r}.")
    return value


def parameter_count(module: Any) -> int:
    """Every parameter of a ``torch.nn.Module`` (works on the ``meta`` device).

    Args:
        module: the module.

    Returns:
        the number of scalars in its parameters.
    """
    return sum(p.numel() for p in module.parameters())


def evaluate(exercise_id: str, namespace: Mapping[str, Any]) -> CheckResult:
    """Run the checker of ``exercise_id`` on ``namespace`` and return the outcome; never raises
    for the reader's mistakes (an unknown id is a ``ValueError``: that is the notebook's bug).

    Args:
        exercise_id: ``"NN.k"``.
        namespace: where the reader's solution lives, usually ``globals()``.

    Returns:
        a :class:`CheckResult`, true when solved; its message is the hint otherwise.

    Example:
        >>> result = evaluate("01.1", {})
        >>> result.passed, "dense_params" in result.message
        (False, True)
    """
    if not isinstance(namespace, Mapping):
        raise TypeError(
            f"evaluate: namespace must be a mapping such as globals(), got "
            f"{type(namespace).__name__}"
        )
    entry = get_exercise(exercise_id)
    for name in entry.functions:
        value = namespace.get(name, ...)
        if value is not ... and not callable(value):
            return CheckResult(
                exercise_id, False, f"`{name}` should be a function, got {type(value).__name__}."
            )
    try:
        message = entry.checker(namespace)
    except Unsolved as unsolved:
        return CheckResult(exercise_id, False, str(unsolved))
    except Exception as error:  # the reader's code raised: report it, do not crash
        return CheckResult(
            exercise_id,
            False,
            f"your code raised {type(error).__name__}: {error}".rstrip(": ")
            + ". Run it on a small input and compare with the exercise text.",
        )
    return CheckResult(exercise_id, True, message)


def check(exercise_id: str, namespace: Mapping[str, Any]) -> None:
    """Print whether exercise ``exercise_id`` is solved in ``namespace``, with a hint if not.

    Call it as ``check("04.1", globals())`` after writing the solution.

    Args:
        exercise_id: ``"NN.k"``.
        namespace: where the reader's solution lives, usually ``globals()``.

    Example:
        >>> check("01.1", {"dense_params": ...})  # doctest: +ELLIPSIS
        ✗ Exercise 01.1 is not solved yet. Hint: define `dense_params` first ...
    """
    print(evaluate(exercise_id, namespace))
