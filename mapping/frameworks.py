"""The one registry of framework facts; every other table (markers, adapters, process groups, page
families, versions in the report) derives from it.

Adding a framework is one :class:`Framework` entry here and one adapter module under
:mod:`mapping.adapters`. Nothing here imports a framework: availability is checked with
:func:`importlib.util.find_spec`.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass


@dataclass(frozen=True)
class Framework:
    #: Short name: test ids, pytest markers, results files, case files (``verdict: {torch: ...}``).
    name: str
    #: What a reader sees in the report.
    label: str
    #: One sentence for the report's legend: which package and API this column measures.
    description: str
    #: The family a mapping page names a side by (``params: {tensorflow: units}``); several frameworks
    #: can share one (tf.keras and Keras 2 are both "tensorflow" on a page).
    family: str
    #: Modules that must be importable for the framework to count as installed.
    imports: tuple[str, ...]
    #: The distribution whose version is "the version" of this framework (``verdict_by_version`` keys on it).
    distribution: str
    #: ``written_against`` keys a page may use for this framework, each with the distribution whose version is
    #: on that key's scale (tf.keras reports Keras's version; pages name TensorFlow's). First present wins.
    page_versions: tuple[tuple[str, str], ...]
    #: Frameworks of one group share a pytest process in the conformance job (no process imports all).
    process_group: str
    #: ``module:Class`` of the adapter, imported on first use.
    adapter: str
    #: Modules imported before the adapter's own, in order (torch before TensorFlow; see the adapter docs).
    preload: tuple[str, ...] = ()

    def missing(self) -> list[str]:
        """The required modules that are not installed (nothing is imported)."""
        return [m for m in self.imports if importlib.util.find_spec(m) is None]

    def version(self) -> str | None:
        """The installed version of :attr:`distribution`, or None."""
        return distribution_version(self.distribution)


FRAMEWORKS: dict[str, Framework] = {
    f.name: f
    for f in (
        Framework(
            name="torch", label="PyTorch", family="pytorch",
            description="PyTorch (torch.nn), the CPU build",
            imports=("torch",), distribution="torch",
            page_versions=(("pytorch", "torch"), ("torch", "torch")),
            process_group="torch+mindspore", adapter="mapping.adapters.torch:TorchAdapter",
        ),
        Framework(
            name="tfkeras", label="tf.keras", family="tensorflow",
            description="tf.keras as TensorFlow ships it: Keras 3 since TensorFlow 2.16, Keras 2 before",
            imports=("tensorflow", "keras"), distribution="keras",
            page_versions=(("tensorflow", "tensorflow"), ("keras", "keras")),
            process_group="tensorflow", adapter="mapping.adapters.keras:TfKerasAdapter",
            # torch before TensorFlow (the other order has crashed); tf_keras whenever installed, because on
            # TensorFlow 2.15 its import changes how tf.keras draws dropout masks (see FINDINGS.md)
            preload=("torch", "tf_keras"),
        ),
        Framework(
            name="keras2", label="Keras 2 (tf_keras)", family="tensorflow",
            description="legacy Keras 2, the tf-keras package (import tf_keras)",
            imports=("tensorflow", "tf_keras"), distribution="tf-keras",
            page_versions=(("tensorflow", "tensorflow"), ("tf-keras", "tf-keras"), ("keras", "keras")),
            process_group="tensorflow", adapter="mapping.adapters.keras:Keras2Adapter",
            preload=("torch",),
        ),
        Framework(
            name="mindspore", label="MindSpore", family="mindspore",
            description="MindSpore (mindspore.nn) on the CPU, PyNative mode",
            imports=("mindspore",), distribution="mindspore",
            page_versions=(("mindspore", "mindspore"),),
            process_group="torch+mindspore", adapter="mapping.adapters.mindspore:MindSporeAdapter",
        ),
    )
}

#: Framework names in registry order (the order of columns, markers and results).
NAMES: tuple[str, ...] = tuple(FRAMEWORKS)

#: Page families (the keys mapping pages name their sides by).
FAMILIES: frozenset[str] = frozenset(f.family for f in FRAMEWORKS.values())

#: Distributions whose versions every results file records (the frameworks' own, plus NumPy).
REPORTED_DISTRIBUTIONS: tuple[str, ...] = tuple(dict.fromkeys(
    [dist for f in FRAMEWORKS.values() for dist in (*(d for _, d in f.page_versions), f.distribution)]
    + ["numpy"]))


def get(name: str) -> Framework:
    """The registry entry for ``name``; KeyError lists the known names."""
    try:
        return FRAMEWORKS[name]
    except KeyError:
        raise KeyError(f"unknown framework {name!r}; known: {', '.join(NAMES)}") from None


def process_groups() -> dict[str, list[str]]:
    """Process group -> the frameworks in it, in registry order."""
    groups: dict[str, list[str]] = {}
    for f in FRAMEWORKS.values():
        groups.setdefault(f.process_group, []).append(f.name)
    return groups


def distribution_version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def sort_key(name: str) -> tuple[int, str]:
    """Registry order; unknown names after, alphabetically."""
    return (NAMES.index(name), "") if name in FRAMEWORKS else (len(NAMES), name)
