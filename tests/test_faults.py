"""The suite's self-check: every deliberate harness fault in mapping/faults/ must make some check fail.

Per fault and per framework it affects, the cases of that framework (and a few grid and lengths probes, see
mapping.faults.grid_probes) run with the fault injected until one fails by wrong numbers; the probe that
caught it must pass again once the fault is removed (the catch is the fault's doing, and the patch was
undone). ``python -m mapping.faults`` prints the full table (every case that catches each fault).
"""

from __future__ import annotations

import inspect
import sys

import pytest

from mapping import faults
from mapping.adapters import get_adapter, missing_reason
from mapping.faults import (
    FAULTS,
    HARNESS,
    FaultNotApplicable,
    hunt,
    mutated,
    probes_for,
    run_probe,
)
from mapping.frameworks import NAMES as ADAPTERS


def installed(fault) -> list[str]:
    return [f for f in fault.frameworks if f == HARNESS or missing_reason(f) is None]


def test_catalogue_is_well_formed():
    assert len(FAULTS) >= 12
    names = [f.name for f in FAULTS]
    assert len(names) == len(set(names))
    for f in FAULTS:
        assert f.description and f.frameworks, f.name
        assert set(f.frameworks) <= set(ADAPTERS) | {HARNESS}, f.name
    # every framework, and the deciding machinery, has faults aimed at it
    assert {fw for f in FAULTS for fw in f.frameworks} == set(ADAPTERS) | {HARNESS}


def _snapshot() -> dict:
    """Everything a fault may patch: the attributes of every mapping module and of its classes (adapters, the
    reference's cells)."""
    snap = {}
    for name, module in list(sys.modules.items()):
        if module is not None and (name == "mapping" or name.startswith("mapping.") or faults.is_test_module(module)):
            for attr, value in vars(module).items():
                if callable(value):
                    snap[name, attr] = value
                if inspect.isclass(value) and value.__module__.startswith("mapping."):
                    for k, v in vars(value).items():
                        snap[name, attr, k] = v
    return snap


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_fault_patch_is_undone(fault):
    for fw in installed(fault):
        if fw != HARNESS:
            get_adapter(fw)  # the classes a fault patches exist only once their framework is imported
    if not installed(fault):
        pytest.skip("no affected framework installed")
    with fault.apply():  # once first, so that the modules a fault imports are loaded before the snapshot
        pass
    before = _snapshot()
    with fault.apply():
        during = _snapshot()
    after = _snapshot()
    assert during != before, f"{fault.name} changed nothing"
    assert after == before


def test_mutation_that_no_longer_applies_says_so():
    class Demo:
        def f(self):
            return 1

    with pytest.raises(FaultNotApplicable, match="update mapping/faults"):
        with mutated(Demo, "f", "return 2", "return 3", fault="demo"):
            pass
    with mutated(Demo, "f", "return 1", "return 5", fault="demo"):
        assert Demo().f() == 5
    assert Demo().f() == 1


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_fault_is_caught(fault, record_property):
    if not installed(fault):
        pytest.skip("no affected framework installed")
    report = hunt(fault, first=True)
    lines = [f"{fault.name} ({report.seconds:.1f} s): {fault.description}"]
    for fw in report.frameworks_run:
        catch = report.first_catch(fw)
        lines.append(f"  {fw}: " + (f"caught by {catch.probe} ({catch.how}, probe {report.tried[fw]} of "
                                    f"{len(probes_for(fw))})" if catch else f"MISSED by {report.tried[fw]} probes"))
    print("\n".join(lines))
    record_property("caught_by", {fw: (report.first_catch(fw).probe if report.first_catch(fw) else None)
                                  for fw in report.frameworks_run})
    assert report.caught, "\n".join(lines + ["a fault no check catches: close the gap with a new case or check"])
    assert report.by_numbers, "\n".join(lines + ["caught only by exceptions: the fault should give wrong numbers"])
    # Without the fault, each catching probe passes again: the catch was the fault's doing and it was undone.
    for fw in report.frameworks_run:
        catch = report.first_catch(fw)
        probe = {p.name: p for p in probes_for(fw)}[catch.probe]
        status, message = run_probe(probe)
        assert status == "passed", f"{catch.probe} fails even without {fault.name}:\n{message}"


def test_score_is_reported_by_the_command_line(capsys):
    """``python -m mapping.faults`` prints the table and the score (here on two cheap faults)."""
    wanted = [faults.FAULTS_BY_NAME[n] for n in ("torch_h_c_swapped", "mindspore_lengths_off_by_one")]
    wanted = [f for f in wanted if installed(f)]
    if not wanted:
        pytest.skip("torch and mindspore not installed")
    assert faults.main(["--first", *sum((["--fault", f.name] for f in wanted), [])]) == 0
    out = capsys.readouterr().out
    assert f"score: {len(wanted)}/{len(wanted)} faults caught (100%)" in out
    assert "mismatch" in out
