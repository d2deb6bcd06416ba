"""Hypothesis profiles and the grid profile for tests/ (kept out of the root conftest so `pytest cases` does not
import it)."""

from hypothesis import HealthCheck, settings  # noqa: E402
from support import grid_params

# CI: derandomised, 100 generated problems per framework. Nightly: `--hypothesis-profile nightly` (2,000 per framework).
settings.register_profile("ci", max_examples=100, derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("nightly", max_examples=2000, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")


# --- pytester runs must not import a framework in-process ---------------------------------------------------
import sys  # noqa: E402

import pytest  # noqa: E402

#: Modules that cannot be imported twice in one process: their C extensions stay loaded when the Python
#: modules are dropped, and torch's second import fails with "SystemError: ... bad call flags" in
#: torch/__init__.py, then segfaults.
FRAMEWORK_MODULES = ("torch", "tensorflow", "keras", "tf_keras", "mindspore")


def _frameworks_loaded() -> set[str]:
    return {m for m in FRAMEWORK_MODULES if m in sys.modules}


@pytest.fixture
def pytester(pytester, monkeypatch):
    """pytester, refusing an in-process run that imports a framework.

    pytester restores ``sys.modules`` after each in-process run (and at the end of the test), so a framework
    first imported inside such a run is dropped and the next test that imports it crashes the process:
    the order-dependent crash of ``pytest -p no:xdist tests/test_cases.py tests/test_version_verdicts.py``.
    Such runs belong in ``pytester.runpytest_subprocess``.
    """
    inline_run = pytester.inline_run

    def guarded_inline_run(*args, plugins=(), **kwargs):
        before = _frameworks_loaded()
        seen: set[str] = set()

        class Watch:
            @pytest.hookimpl(trylast=True)
            def pytest_unconfigure(self):
                seen.update(_frameworks_loaded() - before)

        reprec = inline_run(*args, plugins=[*plugins, Watch()], **kwargs)
        if seen:
            pytest.fail(f"an in-process pytester run imported {', '.join(sorted(seen))}, which pytester then "
                        "unloads and which cannot be imported twice: use pytester.runpytest_subprocess")
        return reprec

    monkeypatch.setattr(pytester, "inline_run", guarded_inline_run)
    before = _frameworks_loaded()
    yield pytester
    imported = _frameworks_loaded() - before
    if imported:
        pytest.fail(f"a test using pytester imported {', '.join(sorted(imported))}; pytester unloads it at the "
                    "end of the test and it cannot be imported twice: import it before, or run in a subprocess")


def pytest_collection_modifyitems(config, items):
    """Tests marked convert_grid run only when the marker expression names them (CI selects no marker)."""
    if "convert_grid" in (config.option.markexpr or ""):
        return
    grid = [item for item in items if "convert_grid" in item.keywords]
    if grid:
        items[:] = [item for item in items if "convert_grid" not in item.keywords]
        config.hook.pytest_deselected(items=grid)


def pytest_addoption(parser):
    parser.addoption("--grid", choices=("ci", "full"), default="ci",
                     help="the adapter grid of tests/test_adapters.py and tests/test_gradients.py: ci (default: the "
                          "whole LSTM grid, a pairwise subset for the other APIs) or full (every API's whole grid)")


def pytest_generate_tests(metafunc):
    """Tests taking ``framework, grid_spec`` run over the grid profile chosen with ``--grid``."""
    if "grid_spec" in metafunc.fixturenames:
        metafunc.parametrize("framework, grid_spec", grid_params(metafunc.config.getoption("--grid")))
