"""Merging results files from several environments into one view of every page row.

Each conformance run writes one :class:`~mapping.results.ResultsFile` per environment: the all-in-one
venv, or one tox environment per framework or per framework version. A reader wants one answer per page
row, so this module joins them, keeping every measurement apart by the environment and framework
version that produced it. That is what makes version drift visible, and what lets
:func:`verdict_consistency` prove that the per-framework runs agree with the all-in-one run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Literal, NamedTuple

from .. import frameworks, versions
from ..errors import MappingError
from ..results import CaseResult, CaveatRecord, Environment, PageRecord, RecipeRecord, ResultsFile, ResultsFileError
from ..status import Status, row_status
from ..verdicts import Verdict
from .drift import VersionPoint, WrittenFor, written_for

OUTCOMES = ("passed", "failed", "skipped", "error")

#: Stands for "no measured verdict" (the case was skipped, or errored) in counts, filters and data attributes.
NO_VERDICT = "none"

#: In per-version counts: a row whose environments measured different verdicts on the same version.
MIXED = "mixed"

RowStatus = Literal["wrong", "holds with caveats", "holds", "does not apply", "no verdict"]
#: The report's word for each status of :mod:`mapping.status` (a false claim: "wrong").
_STATUS_WORDS: dict[Status, RowStatus] = {
    Status.FALSE: "wrong", Status.HOLDS_WITH_CAVEATS: "holds with caveats", Status.HOLDS: "holds",
    Status.NOT_APPLICABLE: "does not apply", Status.NOT_MEASURED: "no verdict"}


class ReportInputError(MappingError, ValueError):
    """A results file that cannot be read or merged; the message names the file."""


class MeasurementKey(NamedTuple):
    """Identifies one measurement across all merged files."""

    page: str
    row: str
    framework: str
    framework_version: str | None
    environment: str


class VerdictKey(NamedTuple):
    """What a verdict is about, independent of where it was measured."""

    page: str
    row: str
    framework: str


@dataclass(frozen=True)
class EnvironmentResult:
    """One case result together with the environment block that produced it."""

    result: CaseResult
    environment: Environment

    @property
    def key(self) -> MeasurementKey:
        r = self.result
        return MeasurementKey(r.page, r.row, r.framework, r.framework_version, self.environment.name)

    @property
    def mismatch(self) -> bool:
        """Reality stopped matching the verdict recorded in the case file."""
        return self.result.measured_verdict is not None and self.result.measured_verdict != self.result.expected_verdict


@dataclass(frozen=True)
class RowView:
    """Everything measured about one row of one page, across frameworks, versions and environments."""

    page: str
    row: str
    measurements: tuple[EnvironmentResult, ...]

    @property
    def first(self) -> CaseResult:
        return self.measurements[0].result

    @property
    def claim(self) -> str:
        return self.first.claim

    @property
    def params(self) -> dict[str, str | None]:
        return self.first.params

    @property
    def check(self) -> str:
        return self.first.check

    @property
    def frameworks(self) -> list[str]:
        return sorted({m.result.framework for m in self.measurements}, key=frameworks.sort_key)

    def measurements_for(self, framework: str) -> list[EnvironmentResult]:
        return [m for m in self.measurements if m.result.framework == framework]

    def verdicts(self) -> dict[str, dict[str | None, list[str | None]]]:
        """framework -> framework version -> measured verdicts (one per environment; None = skipped or error)."""
        table: dict[str, dict[str | None, list[str | None]]] = {}
        for m in self.measurements:
            by_version = table.setdefault(m.result.framework, {})
            by_version.setdefault(m.result.framework_version, []).append(m.result.measured_verdict)
        return table

    def drift(self) -> dict[str, dict[str, str]]:
        """Frameworks whose measured verdict differs between their versions: framework -> version -> verdict.

        Skipped and errored measurements have no verdict and do not count. A version measured with two different
        verdicts (in two environments) is shown with both, joined by " / ".
        """
        drifting: dict[str, dict[str, str]] = {}
        for framework, by_version in self.verdicts().items():
            measured = {v: sorted({x for x in verdicts if x is not None}) for v, verdicts in by_version.items()}
            measured = {v: xs for v, xs in measured.items() if xs and v is not None}
            if len(measured) > 1 and len({tuple(xs) for xs in measured.values()}) > 1:
                drifting[framework] = {v: " / ".join(measured[v]) for v in sorted(measured, key=versions.sort_key)}
        return drifting

    def version_points(self, framework: str, distribution: str | None = None) -> list[VersionPoint]:
        """The versions of ``framework`` measured with a verdict on this row, oldest first.

        ``page_scale`` is the version of ``distribution`` (the one a page names: TensorFlow for tf.keras and
        Keras 2) in each environment block; None where not given, where environments disagree or do not say.
        """
        grouped: dict[str, list[EnvironmentResult]] = {}
        for m in self.measurements_for(framework):
            if m.result.measured_verdict is not None and m.result.framework_version is not None:
                grouped.setdefault(m.result.framework_version, []).append(m)
        points = []
        for version in sorted(grouped, key=versions.sort_key):
            ms = grouped[version]
            scales = {m.environment.frameworks.get(distribution) for m in ms} if distribution else {None}
            points.append(VersionPoint(
                version=version,
                page_scale=scales.pop() if len(scales) == 1 else None,
                verdicts=tuple(sorted({m.result.measured_verdict for m in ms})),
                environments=tuple(dict.fromkeys(m.environment.name for m in ms)),
            ))
        return points

    def environment_disagreements(self) -> dict[str, dict[str, list[tuple[str, str]]]]:
        """Same framework and version, different verdicts in different environments: fw -> version -> [(env, verdict)]."""
        found: dict[str, dict[str, list[tuple[str, str]]]] = {}
        grouped: dict[tuple[str, str | None], list[tuple[str, str]]] = {}
        for m in self.measurements:
            if m.result.measured_verdict is not None:
                grouped.setdefault((m.result.framework, m.result.framework_version), []).append(
                    (m.environment.name, m.result.measured_verdict))
        for (framework, version), pairs in grouped.items():
            if len({verdict for _, verdict in pairs}) > 1:
                found.setdefault(framework, {})[version or "unknown"] = pairs
        return found

    @property
    def has_drift(self) -> bool:
        return bool(self.drift())

    @property
    def split(self) -> bool:
        """The frameworks measured different verdicts on this row (e.g. one diverges, the others hold)."""
        by_framework = {fw: frozenset(v for vs in by_version.values() for v in vs if v is not None)
                        for fw, by_version in self.verdicts().items()}
        return len({v for v in by_framework.values() if v}) > 1

    def caveats_for(self, framework: str) -> list[CaveatRecord]:
        """The caveats measured on ``framework``, each once (the same probe in two environments shown once)."""
        seen: dict[tuple, CaveatRecord] = {}
        for m in self.measurements_for(framework):
            for caveat in m.result.caveats:
                seen.setdefault((caveat.probe, caveat.behaviour, caveat.figure, caveat.bites), caveat)
        return list(seen.values())

    @property
    def status(self) -> RowStatus:
        """One word for the row: wrong, holds with caveats, holds, does not apply, or no verdict: the row's status
        over all its measurements (:func:`mapping.status.row_status`, the one definition), in the report's words."""
        return _STATUS_WORDS[row_status(m.result for m in self.measurements)]

    def recipes(self) -> list[RecipeRecord]:
        """The recipes executed for this row, each source once per framework it is written for."""
        seen: dict[tuple[str, str, str], RecipeRecord] = {}
        for m in self.measurements:
            for recipe in m.result.recipes:
                seen.setdefault((recipe.framework, recipe.name, recipe.source), recipe)
        return list(seen.values())

    @property
    def wrong(self) -> bool:
        """The page is wrong on this row: some framework measured 'diverges'."""
        return any(m.result.measured_verdict == Verdict.DIVERGES.value for m in self.measurements)

    @property
    def failed(self) -> bool:
        """Some measurement no longer matches the verdict recorded in the case file."""
        return any(m.result.outcome == "failed" for m in self.measurements)

    def unique(self, attribute: str) -> list[str]:
        """Distinct non-empty values of a CaseResult text field, in measurement order (finding, recipe, ...)."""
        seen: list[str] = []
        for m in self.measurements:
            value = getattr(m.result, attribute)
            if value and value not in seen:
                seen.append(value)
        return seen


@dataclass
class MergedReport:
    """The union of several results files; every measurement keyed by :class:`MeasurementKey`."""

    environments: list[Environment]
    pages: dict[str, PageRecord]
    measurements: dict[MeasurementKey, EnvironmentResult]
    warnings: list[str] = field(default_factory=list)
    #: environment name -> why its results are incomplete (or that completeness was not recorded)
    incomplete: dict[str, str] = field(default_factory=dict)
    #: environment name -> the results file it was read from (None: built in memory)
    sources: dict[str, Path | None] = field(default_factory=dict)

    def rows(self, page: str | None = None) -> list[RowView]:
        """Row views in the order the rows first appear in the results (the case files' order)."""
        grouped: dict[tuple[str, str], list[EnvironmentResult]] = {}
        for m in self.measurements.values():
            if page is None or m.result.page == page:
                grouped.setdefault((m.result.page, m.result.row), []).append(m)
        env_order = {e.name: i for i, e in enumerate(self.environments)}
        views = []
        for (page_id, row), ms in grouped.items():
            ms.sort(key=lambda m: (frameworks.sort_key(m.result.framework),
                                   versions.sort_key(m.result.framework_version), env_order[m.environment.name]))
            views.append(RowView(page_id, row, tuple(ms)))
        return views

    def row(self, page: str, row: str) -> RowView:
        """The per-row answer: verdicts per framework and version, drift, and whether the page is wrong."""
        for view in self.rows(page):
            if view.row == row:
                return view
        raise KeyError(f"no results for page {page!r} row {row!r}")

    def drift(self) -> list[RowView]:
        return [view for view in self.rows() if view.has_drift]

    def written_for(self, view: RowView) -> dict[str, WrittenFor]:
        """For each framework drifting on ``view``: which side holds on the versions its page was written for."""
        return {framework: written_for(view, framework, self.pages.get(view.page)) for framework in view.drift()}

    def outcome_counts(self, environment: str | None = None) -> dict[str, int]:
        """passed / failed / skipped / error over every measurement, or over one environment's."""
        counts = Counter(m.result.outcome for m in self.measurements.values()
                         if environment is None or m.environment.name == environment)
        return {outcome: counts.get(outcome, 0) for outcome in OUTCOMES}

    def suite_commits(self) -> dict[str | None, list[str]]:
        """Suite commit -> the environments measured with it (None: not recorded)."""
        commits: dict[str | None, list[str]] = {}
        for env in self.environments:
            commits.setdefault(env.suite_commit, []).append(env.name)
        return commits

    def version_counts(self, page: str) -> dict[tuple[str, str | None], dict[str, int]]:
        """(framework, version) -> measured verdict -> rows of ``page``: each row counted once per version, however
        many environments measured it; a row whose environments disagree on one version counts under "mixed"."""
        verdicts: dict[tuple[str, str | None], dict[str, set[str]]] = {}
        for m in self.measurements.values():
            r = m.result
            if r.page == page:
                rows = verdicts.setdefault((r.framework, r.framework_version), {})
                rows.setdefault(r.row, set()).add(r.measured_verdict or NO_VERDICT)
        counts: dict[tuple[str, str | None], dict[str, int]] = {}
        for key in sorted(verdicts, key=lambda k: (frameworks.sort_key(k[0]), versions.sort_key(k[1]))):
            tally = Counter(next(iter(vs)) if len(vs) == 1 else MIXED for vs in verdicts[key].values())
            counts[key] = dict(tally)
        return counts

    def page_frameworks(self, page: str) -> list[str]:
        """The frameworks a page is about, plus any measured for it that the page record does not list."""
        listed = list(self.pages[page].frameworks) if page in self.pages else []
        measured = {m.result.framework for m in self.measurements.values() if m.result.page == page}
        return listed + sorted(measured - set(listed), key=frameworks.sort_key)

    def verdict_counts(self, page: str) -> dict[str, dict[str, int]]:
        """framework -> measured verdict (NO_VERDICT when skipped or in error) -> number of measurements."""
        counts: dict[str, Counter] = {fw: Counter() for fw in self.page_frameworks(page)}
        for m in self.measurements.values():
            if m.result.page == page:
                counts[m.result.framework][m.result.measured_verdict or NO_VERDICT] += 1
        return {fw: dict(c) for fw, c in counts.items()}

    def verdict_map(self) -> dict[VerdictKey, frozenset[str] | None]:
        """(page, row, framework) -> the verdicts measured for it anywhere; None when none was."""
        verdicts: dict[VerdictKey, set[str]] = {}
        for m in self.measurements.values():
            key = VerdictKey(m.result.page, m.result.row, m.result.framework)
            bucket = verdicts.setdefault(key, set())
            if m.result.measured_verdict is not None:
                bucket.add(m.result.measured_verdict)
        return {key: frozenset(v) if v else None for key, v in verdicts.items()}

    def to_jsonable(self) -> dict:
        """Plain data for embedding in the HTML (machine readers get the same facts as human ones)."""
        return {
            "environments": [e.model_dump(mode="json") for e in self.environments],
            "pages": [p.model_dump(mode="json") for p in self.pages.values()],
            "results": [dict(m.result.model_dump(mode="json"), environment=m.environment.name)
                        for m in self.measurements.values()],
            "warnings": list(self.warnings),
        }


def merge(results_files: list[ResultsFile]) -> MergedReport:
    """Combine results files; refuses two environments of the same name, since names key the measurements.

    A file whose run did not complete (or whose completeness is unknown, schema 1) is merged with a warning
    and listed in ``incomplete``; :func:`read_results` refuses incomplete files unless asked not to.
    """
    environments: list[Environment] = []
    sources: dict[str, str] = {}
    paths: dict[str, Path | None] = {}
    pages: dict[str, PageRecord] = {}
    measurements: dict[MeasurementKey, EnvironmentResult] = {}
    warnings: list[str] = []
    incomplete: dict[str, str] = {}
    for results in results_files:
        env = results.environment
        source = results.describe_source()
        if env.name in sources:
            raise ReportInputError(f"{sources[env.name]} and {source} both name the environment {env.name!r}; "
                                   "each environment must appear once")
        sources[env.name] = source
        paths[env.name] = results.source
        environments.append(env)
        if results.run.complete is not True:
            incomplete[env.name] = results.run.describe()
            warnings.append(f"environment {env.name!r} ({source}): {results.run.describe()}")
        for page in results.pages:
            if page.id not in pages:
                pages[page.id] = page
            elif pages[page.id] != page:
                warnings.append(f"page {page.id!r} is described differently in environment {env.name!r}; "
                                "the first description is shown")
        for result in results.results:
            measurement = EnvironmentResult(result, env)
            if measurement.key in measurements:
                raise ReportInputError(f"{source}: environment {env.name!r} reports page {result.page!r} row "
                                       f"{result.row!r} on {result.framework} {result.framework_version} twice")
            measurements[measurement.key] = measurement
    unknown_pages = sorted({m.result.page for m in measurements.values()} - set(pages))
    if unknown_pages:
        warnings.append(f"results name pages no results file describes: {', '.join(unknown_pages)}")
    merged = MergedReport(environments, pages, measurements, warnings, incomplete, paths)
    commits = merged.suite_commits()
    if len(commits) > 1:
        warnings.append("the results come from different suite commits (" + "; ".join(
            f"{commit or 'not recorded'}: {', '.join(names)}" for commit, names in commits.items())
            + "): rows measured by one commit may have changed in another")
    dirty = [e.name for e in environments if e.suite_dirty]
    if dirty:
        warnings.append(f"environment{'s' if len(dirty) > 1 else ''} {', '.join(dirty)} ran with local changes to the "
                        "suite (its tracked files differed from the recorded commit)")
    return merged


@dataclass(frozen=True)
class VerdictDifference:
    key: VerdictKey
    a: frozenset[str] | None
    b: frozenset[str] | None


@dataclass(frozen=True)
class VerdictConsistency:
    """Whether two merges measured the same verdicts; truthy when they did."""

    differences: tuple[VerdictDifference, ...]

    @property
    def consistent(self) -> bool:
        return not self.differences

    def __bool__(self) -> bool:
        return self.consistent

    def describe(self) -> str:
        if self.consistent:
            return "same measured verdicts"

        def show(value: frozenset[str] | None) -> str:
            return "no verdict" if not value else " / ".join(sorted(value))

        return "\n".join(f"{d.key.page} row {d.key.row} on {d.key.framework}: {show(d.a)} vs {show(d.b)}"
                         for d in self.differences)


def verdict_consistency(a: MergedReport, b: MergedReport) -> VerdictConsistency:
    """Compare the (page, row, framework) -> measured verdict maps of two merges.

    Used to show that merging the per-framework tox results gives what the all-in-one run gives.
    A key only skipped (or errored) counts the same as a missing key.
    """
    map_a, map_b = a.verdict_map(), b.verdict_map()
    differences = [VerdictDifference(key, map_a.get(key), map_b.get(key))
                   for key in sorted(set(map_a) | set(map_b))
                   if map_a.get(key) != map_b.get(key)]
    return VerdictConsistency(tuple(differences))


def expand_results_paths(paths: Iterable[Path | str]) -> list[Path]:
    """Files as given; a directory stands for the ``*.json`` files directly in it, in name order."""
    expanded: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(path.glob("*.json"))
            if not found:
                raise ReportInputError(f"{path}: directory holds no *.json results files")
            expanded.extend(found)
        elif path.is_file():
            expanded.append(path)
        else:
            raise ReportInputError(f"{path}: no such file or directory")
    return expanded


def read_results(paths: Iterable[Path | str], *, allow_incomplete: bool = False) -> list[ResultsFile]:
    """Read results files (or directories of them); any problem becomes one :class:`ReportInputError` naming
    the file. A file from a run that did not complete is refused unless ``allow_incomplete``."""
    files = []
    for path in expand_results_paths(paths):
        try:
            results = ResultsFile.read(path)
        except ResultsFileError as exc:
            raise ReportInputError(str(exc)) from None
        if results.run.complete is False and not allow_incomplete:
            raise ReportInputError(f"{path}: {results.run.describe()}; rerun it, or pass --allow-incomplete to "
                                   "report it marked as incomplete")
        files.append(results)
    return files
