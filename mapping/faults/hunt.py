"""Hunting a fault: apply it, run the probes of every framework it affects, and record what caught it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from .catalogue import HARNESS, Fault
from .probes import Probe, probes_for


@dataclass(frozen=True)
class Catch:
    probe: str
    framework: str
    how: str  # "mismatch" (a verdict or comparison off: wrong numbers) or "error" (an exception)
    message: str


@dataclass
class FaultReport:
    fault: Fault
    catches: list[Catch] = field(default_factory=list)
    tried: dict[str, int] = field(default_factory=dict)
    skipped_frameworks: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def caught_on(self, framework: str) -> list[Catch]:
        return [c for c in self.catches if c.framework == framework]

    @property
    def frameworks_run(self) -> list[str]:
        return [f for f in self.fault.frameworks if f not in self.skipped_frameworks]

    @property
    def caught(self) -> bool:
        """Caught on every affected (installed) framework."""
        return bool(self.frameworks_run) and all(self.caught_on(f) for f in self.frameworks_run)

    @property
    def by_numbers(self) -> bool:
        """Caught by a mismatch (not only by exceptions) on every affected framework."""
        return self.caught and all(any(c.how == "mismatch" for c in self.caught_on(f)) for f in self.frameworks_run)

    def first_catch(self, framework: str) -> Catch | None:
        catches = self.caught_on(framework)
        numbers = [c for c in catches if c.how == "mismatch"]
        return (numbers or catches or [None])[0]


def run_probe(probe: Probe) -> tuple[str, str]:
    """(status, message); an exception is status ``error`` with the exception as message."""
    try:
        return probe.run()
    except Exception as exc:  # noqa: BLE001 - any exception is the suite noticing
        return "error", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def hunt(fault: Fault, *, first: bool = True, probes: Callable[[str], list[Probe]] = probes_for) -> FaultReport:
    """Apply ``fault`` and run the probes of each framework it affects.

    With ``first``, stop on a framework at its first probe that fails with a mismatch (exceptions are
    recorded and the hunt goes on, looking for wrong numbers); otherwise run every probe.
    """
    from ..adapters import get_adapter, missing_reason

    report = FaultReport(fault)
    start = time.perf_counter()
    for framework in fault.frameworks:
        reason = None if framework == HARNESS else missing_reason(framework)
        if reason:
            report.skipped_frameworks[framework] = reason
            continue
        if framework != HARNESS:
            get_adapter(framework)  # import before patching (import order, and the classes to patch)
        framework_probes = probes(framework)
        if first and fault.hint:
            framework_probes.sort(key=lambda p: not any(h in p.name for h in fault.hint))
        report.tried[framework] = 0
        with fault.apply():
            for probe in framework_probes:
                status, message = run_probe(probe)
                report.tried[framework] += 1
                if status in ("failed", "error"):
                    how = "mismatch" if status == "failed" else "error"
                    report.catches.append(Catch(probe.name, framework, how, message))
                    if first and how == "mismatch":
                        break
    report.seconds = time.perf_counter() - start
    return report
