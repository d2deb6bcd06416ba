"""The conformance report: merge the results files of several environments and render one HTML page.

- :mod:`mapping.report.merge`: ``merge(results_files) -> MergedReport``, ``verdict_consistency(a, b)``,
  ``read_results(paths)``.
- :mod:`mapping.report.render`: ``render(merged) -> str``, ``write_report(results_paths, html_path)``.
- ``python -m mapping.report RESULTS.json [MORE.json | DIR ...] -o reports/conformance.html``

Nothing is re-exported here: the functions ``merge`` and ``render`` share their modules' names, and
re-exporting them would hide those modules behind functions.
"""
