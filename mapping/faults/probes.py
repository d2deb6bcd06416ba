"""Probes: the suite's own checks, runnable one at a time under a fault (every YAML case of a framework, as
``pytest cases`` judges it, and a subset of the adapter tests)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .catalogue import ALL_FRAMEWORKS, HARNESS

ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = ROOT / "cases"


@dataclass(frozen=True)
class Probe:
    name: str
    framework: str
    run: Callable[[], tuple[str, str]]  # -> (status: passed | failed | skipped, message)


def case_probes(framework: str, root: Path = CASES_DIR) -> list[Probe]:
    """Every YAML case of ``framework``, judged as ``pytest cases`` judges it."""
    from ..cases import case_files, load_cached
    from ..judge import judge

    probes = []
    for path in case_files(root):
        case_file = load_cached(str(path))
        rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
        for case in case_file.cases:
            if framework in case_file.frameworks_of(case):
                def run(rel=rel, case_file=case_file, case=case):
                    j = judge(rel, case_file, case, framework)
                    return j.status, j.message or (j.skip_reason or "")
                probes.append(Probe(f"{rel}::{case.row}[{framework}]", framework, run))
    return probes


#: Grid specs (ids of mapping.grid.spec_id) the self-check runs besides the cases: LSTM's, and a GRU in each form
#: (the reset gate after the recurrent product, as every framework has it, and before it, Keras's other form).
GRID_SPECS = ("L2-bi-tm-bias-float32", "L3-uni-bf-bias-float32", "gru-L2-bi-bf-bias-float32",
              "gru-reset_before-L1-uni-bf-bias-float32")


def _first_mismatch(problem, actual, tol, label) -> str | None:
    from ..compare import compare_results, mismatches
    from ..diagnose import diagnose

    bad = mismatches(compare_results(actual, problem.reference(), tol, problem.output_mask()))
    if not bad:
        return None
    diag = diagnose(problem, actual, tol)
    return "\n".join([f"{label}: {line}" for line in bad] + [f"  diagnosis: {diag.line()}"])


def grid_probes(framework: str) -> list[Probe]:
    """The grid test and the lengths test of tests/test_adapters.py, on a few specs."""
    from ..adapters import get_adapter
    from ..grid import grid_specs, problems, spec_id
    from ..problem import Problem
    from ..spec import LayerSpec
    from ..tolerances import tolerance
    from ..weights import random_inputs, random_state, random_weights

    specs = {spec_id(s): s for api in ("lstm", "gru") for s in grid_specs(op=api)}
    probes = []
    for sid in GRID_SPECS:
        spec = specs[sid]

        def run(spec=spec, sid=sid):
            adapter = get_adapter(framework)
            reason = adapter.unsupported_reason(spec)
            if reason:
                return "skipped", reason
            variants = problems(spec)  # as mapping.grid.check_spec
            model = adapter.build(spec, variants[0][1].weights)
            tol = tolerance(framework, spec.dtype, spec.api)
            for label, problem in variants:
                bad = _first_mismatch(problem, adapter.run(model, problem), tol, label)
                if bad:
                    return "failed", bad
            return "passed", ""

        probes.append(Probe(f"grid:{framework}-{sid}", framework, run))
    for bidirectional in (False, True):
        def run(bidirectional=bidirectional):
            adapter = get_adapter(framework)
            spec = LayerSpec.parse(dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=bidirectional))
            problem = Problem(spec, random_weights(spec), random_inputs(spec, 3, 6), random_state(spec, 3),
                              np.array([6, 1, 4]))
            bad = _first_mismatch(problem, adapter.forward(problem), tolerance(framework, "float32"),
                                  "lengths [6, 1, 4]")
            return ("failed", bad) if bad else ("passed", "")

        probes.append(Probe(f"lengths:{framework}-{'bi' if bidirectional else 'uni'}", framework, run))
    return probes


#: Test files and test functions run as probes (in-process, with the fault applied), per framework; HARNESS
#: runs their framework-free tests.
TEST_FILES = {
    HARNESS: ("tests/test_meta_compare.py", "tests/test_meta_judgement.py", "tests/test_meta_checks.py",
              "tests/test_reference_outside.py::test_reference_matches_onnx_reference_evaluator"),
    **{fw: ("tests/test_adapters.py::test_go_backwards_stack_reverses_once",
            "tests/test_adapters.py::test_export_round_trip_through_framework",
            "tests/test_adapter_paths.py::test_export_and_import_every_tensor_of_every_spec",
            "tests/test_adapter_paths.py::test_gradients_with_lengths_in_both_layouts",
            "tests/test_adapter_paths.py::test_long_sequences_with_lengths",
            "tests/test_adapter_paths.py::test_long_sequence_gradients_with_lengths",
            "tests/test_reference_outside.py::test_keras_lengths_with_go_backwards_and_other_activations",
            "tests/test_reference_outside.py::test_keras_gradients_with_lengths_go_backwards_and_other_activations",
            "tests/test_reference_outside.py::test_projection_with_lengths_both_directions_against_torch")
       for fw in ALL_FRAMEWORKS},
}


def suite_probes(framework: str) -> list[Probe]:
    """The suite's own tests (files or test functions, ``-m framework``), each run by pytest in this process."""
    marker = f"not ({' or '.join(ALL_FRAMEWORKS)})" if framework == HARNESS else framework
    probes = []
    for rel in TEST_FILES[framework]:
        def run(rel=rel):
            import contextlib
            import io

            import pytest

            failed: list[str] = []
            ran: list[str] = []

            class Collect:
                def pytest_runtest_logreport(self, report):
                    if report.failed:
                        failed.append(f"{report.nodeid}: {str(report.longrepr).splitlines()[-1][:300]}")
                    elif report.when == "call" and report.passed:
                        ran.append(report.nodeid)

            with contextlib.redirect_stdout(io.StringIO()):  # the probe's message says what failed
                pytest.main([str(ROOT / rel), "-m", marker, "-q", "-x", "--no-header", "-p", "no:cacheprovider",
                             "-p", "no:xdist", "--rootdir", str(ROOT)], plugins=[Collect()])
            if failed:
                return "failed", "\n".join(failed)
            return ("passed", "") if ran else ("skipped", f"no test of {rel} ran for {framework}")

        probes.append(Probe(f"tests:{rel}[{framework}]", framework, run))
    return probes


def probes_for(framework: str) -> list[Probe]:
    if framework == HARNESS:
        return suite_probes(HARNESS)
    return case_probes(framework) + grid_probes(framework) + suite_probes(framework)
