"""Patching the harness for a fault, and undoing it exactly: attribute patches, replacements in every
module that holds a function, wrappers around an adapter's ``_run`` or a converter, and source mutations."""

from __future__ import annotations

import inspect
import sys
import textwrap
import types
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from ..problem import Problem, RunResult


class FaultNotApplicable(RuntimeError):
    """The harness code a fault mutates has changed: the catalogue needs updating."""


# --- patching helpers ------------------------------------------------------------------------------------


@contextmanager
def patched(owner: Any, name: str, value: Any) -> Iterator[None]:
    """Set ``owner.name = value``; afterwards restore exactly what was there (or remove it)."""
    namespace = vars(owner)
    had = name in namespace
    old = namespace.get(name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        if had:
            setattr(owner, name, old)
        else:
            delattr(owner, name)


TESTS_DIR = Path(__file__).resolve().parents[2] / "tests"


def is_test_module(module: Any) -> bool:
    """A module of this suite's tests/ (it may hold a harness function imported by name)."""
    file = getattr(module, "__file__", None)
    return bool(file) and Path(file).resolve().parent == TESTS_DIR


@contextmanager
def patched_everywhere(original: Callable, replacement: Callable) -> Iterator[None]:
    """Replace ``original`` in every loaded ``mapping`` module, and every module of the suite's tests, that
    holds it (``from x import f`` included)."""
    with ExitStack() as stack:
        for module_name, module in list(sys.modules.items()):
            if module is None or not (module_name == "mapping" or module_name.startswith("mapping.")
                                      or is_test_module(module)):
                continue
            for attr, value in list(vars(module).items()):
                if value is original:
                    stack.enter_context(patched(module, attr, replacement))
        yield


def _mutated_function(source_owner: Any, name: str, old: str, new: str, fault: str) -> Callable:
    fn = vars(source_owner)[name]
    source = textwrap.dedent(inspect.getsource(fn))
    count = source.count(old)
    if count != 1:
        raise FaultNotApplicable(
            f"fault {fault}: expected the text {old!r} once in {getattr(source_owner, '__qualname__', source_owner)}"
            f".{name}, found it {count} times; the harness changed, update mapping/faults/catalogue.py")
    module_globals = vars(sys.modules[fn.__module__])
    namespace = dict(module_globals)
    exec(compile(source.replace(old, new), f"<fault {fault}: {fn.__module__}.{name}>", "exec"), namespace)
    compiled = namespace[name]
    # Run with the module's own globals (not the copy it was compiled in), so that whatever is patched in
    # the module later (a test's mock.patch, another fault) is seen by the mutated function too.
    faulty = types.FunctionType(compiled.__code__, module_globals, compiled.__name__, compiled.__defaults__,
                                compiled.__closure__)
    faulty.__kwdefaults__, faulty.__qualname__ = compiled.__kwdefaults__, fn.__qualname__
    return faulty


@contextmanager
def mutated(source_owner: Any, name: str, old: str, new: str, *, target: Any = None,
            fault: str = "?") -> Iterator[None]:
    """Recompile ``source_owner.name`` from its current source with ``old`` replaced by ``new`` (exactly once),
    and install it on ``target`` (default: the same owner)."""
    with patched(target if target is not None else source_owner, name,
                 _mutated_function(source_owner, name, old, new, fault)):
        yield


@contextmanager
def mutated_everywhere(module: Any, name: str, old: str, new: str, *, fault: str = "?") -> Iterator[None]:
    """:func:`mutated` for a module-level function, installed wherever it is held (``from x import f``
    included: the other harness modules and the tests)."""
    with patched_everywhere(vars(module)[name], _mutated_function(module, name, old, new, fault)):
        yield


def _adapter_class(framework: str) -> type:
    from .adapters import get_adapter

    return type(get_adapter(framework))


def _keras_base() -> type:
    from .adapters.keras_lstm import _KerasAdapter

    return _KerasAdapter


@contextmanager
def wrapped_run(cls: type, *, inputs: Callable[[Problem], Problem] | None = None,
                result: Callable[[Problem, RunResult], RunResult] | None = None) -> Iterator[None]:
    """Patch ``cls._run`` to alter the validated problem before, or the collected result after, the real one."""
    original = cls._run

    def _run(self, model, problem, training, *args, **kwargs):
        if inputs is not None:
            problem = inputs(problem)
        out = original(self, model, problem, training, *args, **kwargs)
        return result(problem, out) if result is not None else out

    with patched(cls, "_run", _run):
        yield


@contextmanager
def wrapped_converter(original: Callable, change: Callable[[Any, Any], Any]) -> Iterator[None]:
    """Patch the converter function ``original`` everywhere so that ``change(weights, its_output)`` is returned."""

    def faulty(weights, *args, **kwargs):
        return change(weights, original(weights, *args, **kwargs))

    faulty.__name__ = original.__name__
    with patched_everywhere(original, faulty):
        yield
