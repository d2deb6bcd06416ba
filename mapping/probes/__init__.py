"""Probes: what sits around a row's headline claim, measured per framework (the case's ``caveats``).

A check decides whether a row's claim holds; a probe measures one thing a porting engineer trips over next to
it (a default, an accepted input form, an edge value, an error, a recipe's variants, the exact semantics behind a
word, where initial weights come from, the order parameters are listed in, a lower-level API, drift between the
page, the docs and the code). Like checks, probes form a vocabulary that case files name; each has a strict
argument model validated when the case file is loaded, asks the framework's adapter for everything
framework-specific, and never branches on a framework's name. One module per kind of probe.

A case lists its probes under ``caveats``, each with the behaviour measured per framework, in the project's own
words::

    caveats:
      - probe: input_dtype
        args: {dtype: float64}
        recorded:
          torch: refused
          mindspore: accepted output=float64 computed=float32

The judge runs them after the headline check (:func:`run_caveats`). A measured behaviour that differs from the
recorded one is a problem that fails the case, exactly like a check's recorded behaviour. Every probe run is
recorded (a :class:`~mapping.results.CaveatRecord`), those that find nothing too: an empty list of biting
caveats is a measured result.

When a caveat bites (decided here, from measurements): on one framework, a caveat bites when

1. the probe finds this framework's behaviour a trap (:attr:`Finding.trap`: a silent wrong result, a dtype label
   that misstates the precision, invalid input accepted without a word, ...), or
2. the page implies the sides are the same on this row -- the case's verdict for this framework is one of
   :data:`SAME_VERDICTS` -- and another framework the caveat is measured on behaves differently: its recorded
   behaviour (any of its versions' entries) differs from the one measured here.

Behaviours are therefore written to be comparable across frameworks: words for what happens, not a framework's
own message (that goes to :attr:`Finding.detail`).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Literal

from pydantic import BaseModel

from ..verdicts import Verdict

if TYPE_CHECKING:
    from ..cases import Case, Caveat
    from ..checks import CheckContext
    from ..results import CaveatRecord

#: The kinds of probe (one module each; :attr:`mapping.results.CaveatRecord.kind`).
Kind = Literal["defaults", "input_forms", "edge_values", "errors", "recipe_variants", "semantics",
               "initial_weights", "parameter_order", "lower_level_api", "signature_drift"]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]

#: Verdicts under which a page says (and the suite confirms) that the two sides of a row correspond.
SAME_VERDICTS = frozenset({Verdict.EQUIVALENT, Verdict.EQUAL_AT_DEFAULT, Verdict.EQUIVALENT_WITH_RECIPE})


@dataclass(frozen=True)
class Finding:
    """What a probe measured on one framework."""

    #: What happens, in the project's words; compared with the case's recorded behaviour, and across frameworks.
    behaviour: str
    #: The number behind it, where there is one, and what it is.
    figure: float | None = None
    figure_label: str | None = None
    #: This framework's behaviour is a trap for a porting engineer (see the module docstring).
    trap: bool = False
    #: What the framework said or did, verbatim where useful (an exception's first line); not compared.
    detail: str | None = None


@dataclass(frozen=True)
class Probe:
    name: str
    kind: str
    args_model: type[BaseModel]
    run_fn: Callable[[Any, "CheckContext"], Finding]
    #: What the probe measures, in words (the first line of its docstring); a caveat may give its own title.
    summary: str

    def parse_args(self, raw: dict) -> BaseModel:
        return self.args_model.model_validate(raw or {})

    def run(self, raw_args: dict, ctx: "CheckContext") -> Finding:
        return self.run_fn(self.parse_args(raw_args), ctx)


PROBES: dict[str, Probe] = {}


def register(name: str, kind: str, args_model: type[BaseModel]):
    """Decorator: add a probe function to the vocabulary under ``name``."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of probe {kind!r}; kinds: {', '.join(KINDS)}")

    def wrap(fn: Callable[[Any, "CheckContext"], Finding]) -> Callable:
        PROBES[name] = Probe(name, kind, args_model, fn, (fn.__doc__ or "").strip().splitlines()[0])
        return fn

    return wrap


def recorded_behaviours(value: Any) -> list[str]:
    """Every behaviour a caveat records for one framework (one string, or one per versions entry)."""
    return [value] if isinstance(value, str) else [entry.behaviour for entry in value]


def bites(finding: Finding, framework: str, caveat: "Caveat", verdict: Verdict) -> bool:
    """The rule of the module docstring, for ``finding`` measured on ``framework`` in a case judged ``verdict``."""
    if finding.trap:
        return True
    if verdict not in SAME_VERDICTS:
        return False
    return any(finding.behaviour not in recorded_behaviours(value)
               for other, value in caveat.recorded.items() if other != framework)


@dataclass
class CaveatRun:
    """Every caveat of a case measured on one framework: the records, and the recorded behaviours that changed."""

    records: list["CaveatRecord"]
    problems: list[str]


#: Findings already measured in this process, by (probe, arguments, framework, op, seed, tolerance): many rows
#: share a probe (the same input forms around every call argument), and a probe measures the installed framework,
#: not the row, so each is run once per process. Recipe variants run code that tests may replace: never cached.
_MEASURED: dict[tuple, Finding] = {}


def forget() -> None:
    """Forget every finding measured so far: for code that changes what a probe measures (a fault injected into
    the harness or an adapter)."""
    _MEASURED.clear()


def measure(probe: Probe, args: dict, ctx: "CheckContext") -> Finding:
    """``probe`` run with ``args`` on ``ctx.framework``, once per process (see :data:`_MEASURED`)."""
    if probe.kind == "recipe_variants":
        return probe.run(args, ctx)
    key = (probe.name, json.dumps(args, sort_keys=True, default=str), ctx.framework, ctx.op, ctx.seed, ctx.tolerance)
    if key not in _MEASURED:
        _MEASURED[key] = probe.run(args, ctx)
    return _MEASURED[key]


def run_caveats(case: "Case", ctx: "CheckContext", verdict: Verdict) -> CaveatRun:
    """Run the case's probes on ``ctx.framework`` (those whose ``recorded`` names it), in the case's order."""
    from ..checks.arguments import recorded_for
    from ..results import CaveatRecord

    records, problems = [], []
    for caveat in case.caveats:
        if ctx.framework not in caveat.recorded:
            continue
        probe = PROBES[caveat.probe]
        finding = measure(probe, caveat.args, ctx)
        recorded = recorded_for(caveat.recorded, ctx.framework)
        title = caveat.title or probe.summary
        if finding.behaviour != recorded:
            problems.append(f"caveat '{title}' ({caveat.probe}): behaviour is now '{finding.behaviour}', the case "
                            f"records '{recorded}'" + (f" ({finding.detail})" if finding.detail else ""))
        records.append(CaveatRecord(
            probe=caveat.probe, kind=probe.kind, title=title, behaviour=finding.behaviour,
            figure=finding.figure, figure_label=finding.figure_label, trap=finding.trap,
            bites=bites(finding, ctx.framework, caveat, verdict), detail=finding.detail))
    return CaveatRun(records, problems)


# Importing the modules registers their probes (every module of this package: a new kind is a new module).
for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")
