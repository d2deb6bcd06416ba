"""The survivor classifier of the mutation run (mutation/classify.py): its rules recognise only the changes they
name, every entry of mutation/classes.yaml is well formed, and a survivor nothing names stays unclassified (so
the classifier exits 1 rather than explain it away)."""

import pytest
from support import load_classify

classify = load_classify()

CLASSES = {"E", "T", "K", "S", "P", "R", "O"}


def diff(before: str, after: str) -> str:
    return f"--- a.py\n+++ a.py\n@@ -1 +1 @@\n-    {before}\n+    {after}"


@pytest.mark.parametrize("before, after, kind", [
    ('raise SpecError(f"x must be 3-D, got {x.shape}", field="x")',
     'raise SpecError(f"XXx must be 3-D, got {x.shape}XX", field="x")', "text"),
    ('raise ValueError(f"bad {name}")', "raise ValueError(None)", "text"),
    ('self.details.append("; ".join(bad))', 'self.details.append("XX; XX".join(bad))', "text"),
    ("a = np.asarray(actual, dtype=np.float64)", "a = np.asarray(actual, dtype=None)", "float64_cast"),
    ("a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)",
     "a, b = np.asarray(a, ), np.asarray(b, dtype=np.float64)", "float64_cast"),
    ('with np.errstate(invalid="ignore"):', "with np.errstate(invalid=None):", "errstate"),
])
def test_each_rule_recognises_its_own_kind_of_change_only(before, after, kind):
    removed, added = classify.changed_lines(diff(before, after))
    matched = {name for name, predicate in classify.PREDICATES.items() if predicate(removed, added)}
    assert matched == {kind}


@pytest.mark.parametrize("before, after", [
    ('raise SpecError(f"x must be 3-D", field="x")', 'raise SpecError(f"x must be 3-D", field="XXxXX")'),
    ('if name != "states" and name in self.states:', 'if name != "XXstatesXX" and name in self.states:'),
    ('spec.form == "cell"', 'spec.form == "XXcellXX"'),
    ("a = np.asarray(actual, dtype=np.float64)", "a = np.asarray(actual, dtype=np.float32)"),
    ("a = np.asarray(actual, dtype=np.float64)", "a = np.asarray(None, dtype=np.float64)"),
    ("diff = np.abs(a - e)", "diff = np.abs(a + e)"),
    ('raise SpecError("bad", field="x")', 'raise SpecError("bad", field="x") from None'),
    ('raise SpecError("bad", field="x", where=where)', 'raise SpecError("bad", field="x", where=None)'),
])
def test_changes_that_may_matter_are_left_to_a_named_entry(before, after):
    """A string that is compared or a field name, a dtype other than None, an operator: no rule claims them."""
    removed, added = classify.changed_lines(diff(before, after))
    assert not any(predicate(removed, added) for predicate in classify.PREDICATES.values())


def test_every_entry_names_a_known_class_and_a_reason():
    data = classify.load_classes()
    for entry in [*data["rules"], *data["mutants"]]:
        assert entry["class"] in CLASSES and len(entry["why"]) > 20, entry
    assert all(entry["names"] and all(n.startswith("mapping.") for n in entry["names"]) for entry in data["mutants"])
    assert {rule["when"] for rule in data["rules"]} <= set(classify.PREDICATES)


def test_a_survivor_nothing_names_has_no_class():
    data = classify.load_classes()
    change = diff("return x * w", "return x / w")
    assert classify.classify("mapping.compare.x_new_function__mutmut_1", change, data) is None
    assert classify.classify("mapping.compare.x_field_figures__mutmut_103", change, data)[0] == "E"


def test_the_figures_row_is_read_from_the_runs_own_summary_line():
    line = ("torch (only 55 named mutants): 55 mutants, 20 killed, 35 survived, 0 timeouts, 0 not reached by the "
            "group's tests, 0 suspicious, 0 segfaults (score 36.4% of 55 reached; 301 s)")
    assert classify.figures_row(line, {"E": 30, "T": 5}) == (
        "| torch (only 55 named mutants) | 55 | 20 | 35 | 0 | 0 | 36.4% | E 30, T 5 | 301 |")
    with pytest.raises(SystemExit, match="not a mutation.sh summary line"):
        classify.figures_row("torch: interrupted", {})


def test_a_recheck_run_names_what_it_killed_and_with_which_tests(tmp_path):
    (tmp_path / "summary.txt").write_text(
        "torch-grid (only 2 named mutants): 2 mutants, 1 killed, 1 survived, 0 timeouts, 0 not reached by the "
        "group's tests, 0 suspicious, 0 segfaults (score 50.0% of 2 reached; 9 s)\n"
        "  tests: tests/test_adapters.py -m torch\n  survived: mapping.adapters.torch.x_b__mutmut_2\n")
    (tmp_path / "results.txt").write_text("    mapping.adapters.torch.x_a__mutmut_1: killed\n"
                                          "    mapping.adapters.torch.x_b__mutmut_2: survived\n")
    assert classify.recheck_kills(tmp_path) == ({"mapping.adapters.torch.x_a__mutmut_1"},
                                               "tests/test_adapters.py -m torch")
