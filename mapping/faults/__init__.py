"""Fault injection: does the suite notice when the harness itself is wrong?

A catalogue of deliberate, named mistakes in the *harness* (converters, adapters, reference), each a
context manager that patches one function for as long as it is active and restores it afterwards. The
frameworks are never touched. :func:`hunt` applies a fault and runs the suite's own checks against it:

* every YAML case of each framework the fault affects (through :func:`mapping.judge.judge`, exactly as
  ``pytest cases`` runs them), and
* a small subset of the adapter grid of ``tests/test_adapters.py``: two grid specs with their eight input
  variants each, and the per-sample-lengths test, uni- and bidirectional;
* the suite's own tests of the adapter paths, the reference against outside values and the adapters (their
  items of that framework; ``probes.TEST_FILES``), run by pytest in this process with the fault applied.

Faults in the machinery that decides (the comparison, the judgement, the checks' classifiers, the reference)
affect no framework in particular: they are listed under the pseudo-framework ``harness`` and hunted with
the framework-free meta-tests (``tests/test_meta_*.py``) and the reference's outside checks.

A fault is *caught* on a framework when at least one of these fails: a verdict that no longer matches the
recorded one (wrong numbers), or an exception. Each fault here is built to produce plausible wrong numbers,
not a crash, and the self-check (``tests/test_faults.py``) holds it to that.

``mapping faults`` (or ``python -m mapping.faults``) prints the table fault -> the cases that caught it, and the score.

The patches come in three kinds:

* wrappers around a converter (``to_keras``, ``to_torch_state_dict``, ``to_mindspore``) or the reference,
  patched in every ``mapping`` module that holds a reference to the function;
* wrappers around an adapter's ``_run`` that alter its inputs or its collected result;
* source mutations: for a mistake inside a function body (a flag not passed, a transpose left out), the
  function's current source is recompiled with one exact text replaced (a module-level function is
  installed wherever it was imported by name, the suite's test modules included). When the text is no longer there
  the fault raises :class:`FaultNotApplicable`, so a refactoring of the harness shows up as a catalogue to
  update rather than as a fault silently not injected.
"""

from .catalogue import ALL_FRAMEWORKS, FAULTS, FAULTS_BY_NAME, HARNESS, Demo, Fault
from .cli import main
from .hunt import Catch, FaultReport, hunt, run_probe
from .patching import (
           FaultNotApplicable,
           is_test_module,
           mutated,
           mutated_everywhere,
           patched,
           patched_everywhere,
           wrapped_converter,
           wrapped_run,
)
from .probes import CASES_DIR, ROOT, Probe, case_probes, grid_probes, probes_for, suite_probes

__all__ = ["ALL_FRAMEWORKS", "CASES_DIR", "FAULTS", "FAULTS_BY_NAME", "HARNESS", "ROOT", "Catch", "Demo", "Fault",
           "FaultNotApplicable", "FaultReport", "Probe", "case_probes", "grid_probes", "hunt", "is_test_module", "main",
           "mutated", "mutated_everywhere", "patched", "patched_everywhere", "probes_for", "run_probe",
           "suite_probes", "wrapped_converter", "wrapped_run"]
