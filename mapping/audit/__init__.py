"""Audit an API-mapping page against its case file: which table rows have a case, which cases lost their row.

The source pages come in several renderings (see ``../shared/seeds/README.md``): a Markdown table, the
same table flattened onto one line or one cell per line, and a plain-text copy that lost its
parameter-name column. Pages get revised (a row inserted, rows renumbered) while the cases in
``cases/`` are written once, so this module reads whichever rendering it is given, extracts each row
as (row id, parameter per framework, difference text), and reports rows with no case, cases whose row
is gone, rows whose number changed, and a skeleton case for every uncovered row.

    mapping audit PAGE [PAGE ...] [--cases DIR_OR_FILE] [--format text|json]

Exit status: 0 every row has a case and every case expected on this rendering its row; 1 rows
uncovered or cases orphaned (also: a case whose parameters no longer match its row, or one whose
``only_in`` leaves out a rendering that has its row); 2 bad input (unreadable, empty, binary, no
recognisable table, wrong number of columns, malformed case file). Renumbered rows are reported but
are not gaps: a case names the row as its own rendering numbers it.

Case files are read with the case loader's strict YAML reader but not validated (:mod:`mapping.audit.index`),
so the audit works on case files whose checks are not written yet.
"""

from .cli import DEFAULT_CASES, main
from .index import CaseFileInfo, CaseRef, index_case_file, index_case_files
from .matching import (
           Coverage,
           Match,
           choose_case_file,
           content_score,
           match_rows,
           row_key,
           same_params,
)
from .pages import AuditInputError, PageRow, PageTable, read_page
from .report import BAD_INPUT, FULL_COVERAGE, GAPS, TODO_CLAIM, PageReport, audit_page

__all__ = ["BAD_INPUT", "DEFAULT_CASES", "FULL_COVERAGE", "GAPS", "TODO_CLAIM", "AuditInputError", "CaseFileInfo",
           "CaseRef", "Coverage", "Match", "PageReport", "PageRow", "PageTable", "audit_page", "choose_case_file",
           "content_score", "index_case_file", "index_case_files", "main", "match_rows", "read_page", "row_key",
           "same_params"]
