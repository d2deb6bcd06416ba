"""Hypothesis profiles for tests/ (kept out of the root conftest so `pytest cases` does not import it)."""

from hypothesis import HealthCheck, settings  # noqa: E402

# CI: derandomised, 100 generated problems per framework. Nightly: `--hypothesis-profile nightly` (2,000 per framework).
settings.register_profile("ci", max_examples=100, derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("nightly", max_examples=2000, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")


def pytest_collection_modifyitems(config, items):
    """Tests marked convert_grid run only when the marker expression names them (CI selects no marker)."""
    if "convert_grid" in (config.option.markexpr or ""):
        return
    grid = [item for item in items if "convert_grid" in item.keywords]
    if grid:
        items[:] = [item for item in items if "convert_grid" not in item.keywords]
        config.hook.pytest_deselected(items=grid)
