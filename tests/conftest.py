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


def pytest_addoption(parser):
    parser.addoption("--grid", choices=("ci", "full"), default="ci",
                     help="the adapter grid of tests/test_adapters.py and tests/test_gradients.py: ci (default: the "
                          "whole LSTM grid, a pairwise subset for the other APIs) or full (every API's whole grid)")


def pytest_generate_tests(metafunc):
    """Tests taking ``framework, grid_spec`` run over the grid profile chosen with ``--grid``."""
    if "grid_spec" in metafunc.fixturenames:
        metafunc.parametrize("framework, grid_spec", grid_params(metafunc.config.getoption("--grid")))
