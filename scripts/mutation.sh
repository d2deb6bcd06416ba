#!/usr/bin/env bash
# Mutation testing (mutmut) of the modules that decide a verdict, one module group at a time, each with its
# own fast subset of tests. Slow (minutes to an hour per group on 2 cores): not part of ./scripts/test.sh.
#
#   ./scripts/mutation.sh                 # every group, one after the other
#   ./scripts/mutation.sh compare runner  # only these groups
#   ./scripts/mutation.sh --list          # the groups, their modules and their tests
#   MUTANTS="GLOB..." ./scripts/mutation.sh GROUP   # only the mutants whose names match (mutmut's filter):
#                                         # e.g. last run's survivors, to re-check them with the group's tests
#   TESTS="PYTEST ARGS" ./scripts/mutation.sh GROUP # other tests than the group's (e.g. with the grid)
#   RUN=NAME ...                          # write to build/mutation/GROUP-NAME, keeping the group's own run
#
# Each group runs in a copy of the work tree under build/mutation/<group>/ (mutmut writes its mutants/ there,
# never into the sources) and ends with build/mutation/<group>/summary.txt: killed / survived / no tests /
# timeouts, and the name of every surviving mutant (`cd build/mutation/<group> && ../../../.venv/bin/mutmut
# show NAME` prints its diff). Surviving mutants that cannot change a verdict are explained in
# mutation/survivors.md.
source "$(dirname "$0")/_venv.sh"

# group | modules to mutate (space-separated) | pytest arguments selecting the group's fast tests (mutmut runs, for
# each mutant, only those of them that reached the mutated function in its first, recorded run)
GROUPS_TABLE='
compare|mapping/compare.py|tests/test_meta_compare.py tests/test_meta_checks.py -m "not (tfkeras or keras2 or mindspore or torch)"
measure|mapping/checks/measure.py|tests/test_meta_compare.py tests/test_meta_checks.py -m "not (tfkeras or keras2 or mindspore or torch)"
judge|mapping/judge.py mapping/run.py|tests/test_meta_judgement.py tests/test_recipes.py tests/test_bad_input.py -k "not fault and (run_command or judge or recipe or meta)"
checks|mapping/checks/padding.py mapping/checks/dropout.py mapping/checks/parameters.py mapping/checks/layouts.py mapping/checks/recipes.py mapping/checks/dropout_stats.py mapping/checks/examples.py mapping/checks/initializers.py mapping/checks/regularizers.py|tests/test_meta_checks.py -m "not (tfkeras or keras2 or mindspore or torch)"
checks_cases|mapping/checks/dropout_stats.py mapping/checks/dropout.py mapping/checks/padding.py mapping/checks/regularizers.py mapping/checks/initializers.py mapping/checks/parameters.py mapping/checks/examples.py|tests/test_meta_checks.py cases
reference|mapping/reference/forward.py mapping/problem.py mapping/ops/lstm.py mapping/ops/activations.py|tests/test_reference.py tests/test_reference_grad.py tests/test_reference_outside.py tests/test_spec_and_converters.py -m "not (tfkeras or keras2 or mindspore or torch)"
reference_backward|mapping/reference/backward.py|tests/test_reference_grad.py
ops_gru_rnn|mapping/ops/gru.py mapping/ops/rnn.py mapping/converters/gru.py mapping/converters/rnn.py|tests/test_reference.py tests/test_reference_gru_rnn.py tests/test_reference_grad.py tests/test_spec_and_converters.py -m "not (tfkeras or keras2 or mindspore or torch)"
converters|mapping/converters/lstm.py mapping/converters/native.py mapping/converters/__init__.py|tests/test_spec_and_converters.py tests/test_adapter_paths.py -k "export or round_trip or keras or projection or shape"
torch|mapping/adapters/torch.py|tests/test_adapter_paths.py tests/test_adapters.py tests/test_gradients.py tests/test_probes.py tests/test_recipes.py cases -k "not grid"
keras|mapping/adapters/keras.py|tests/test_adapter_paths.py tests/test_adapters.py tests/test_gradients.py tests/test_probes.py tests/test_recipes.py cases -k "not grid"
mindspore|mapping/adapters/mindspore.py|tests/test_adapter_paths.py tests/test_adapters.py tests/test_gradients.py tests/test_probes.py tests/test_recipes.py cases -k "not grid"
'

if [ "${1:-}" = "--list" ]; then
  echo "$GROUPS_TABLE" | sed '/^$/d' | column -t -s '|'
  exit 0
fi
wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && mapfile -t wanted < <(echo "$GROUPS_TABLE" | sed '/^$/d' | cut -d'|' -f1)

toml_list() {  # words -> TOML list of strings (arguments keep their quotes as one item)
  .venv/bin/python - "$1" <<'PY'
import json, shlex, sys
print(json.dumps(shlex.split(sys.argv[1])))
PY
}

for group in "${wanted[@]}"; do
  line=$(echo "$GROUPS_TABLE" | grep "^$group|" || true)
  if [ -z "$line" ]; then echo "unknown group $group (see --list)" >&2; exit 2; fi
  modules=$(echo "$line" | cut -d'|' -f2)
  tests=${TESTS:-$(echo "$line" | cut -d'|' -f3)}
  dir="build/mutation/$group${RUN:+-$RUN}"
  echo "==> $group: mutating $modules with $tests"
  rm -rf "$dir" && mkdir -p "$dir"
  git ls-files -co --exclude-standard -z | grep -zv '^build/' | xargs -0 cp --parents -t "$dir"
  cat >> "$dir/pyproject.toml" <<EOF

[tool.mutmut]
source_paths = ["mapping"]
only_mutate = $(toml_list "$modules")
also_copy = ["cases/", "conftest.py", "FINDINGS.md", "README.md"]
pytest_add_cli_args = ["-p", "no:xdist", "-p", "no:cacheprovider", "-q", "-x"]
pytest_add_cli_args_test_selection = $(toml_list "$tests")
process_isolation = "forkserver"
use_git_change_detection = false
EOF
  start=$(date +%s)
  read -r -a only <<< "${MUTANTS:-}"
  (cd "$dir" && OMP_NUM_THREADS=1 "$ROOT/.venv/bin/mutmut" run --max-children 2 "${only[@]}" > run.log 2>&1) || true
  (cd "$dir" && "$ROOT/.venv/bin/mutmut" export-cicd-stats >/dev/null 2>&1 || true
   "$ROOT/.venv/bin/mutmut" results --all true > results.txt 2>&1 || "$ROOT/.venv/bin/mutmut" results > results.txt 2>&1 || true)
  "$ROOT/.venv/bin/python" - "$dir" "$group${RUN:+-$RUN}" "$(( $(date +%s) - start ))" "${MUTANTS:-}" "$tests" <<'PY'
import json, pathlib, sys
d, group, seconds, only, tests = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
stats = json.loads((d / "mutants" / "mutmut-cicd-stats.json").read_text())
survivors = [l.strip().split(":")[0] for l in (d / "results.txt").read_text().splitlines() if l.strip().endswith(": survived")]
outcomes = ("killed", "survived", "no_tests", "skipped", "suspicious", "timeout", "segfault",
            "check_was_interrupted_by_user")
stats["total"] = sum(stats[k] for k in outcomes)  # a filtered run leaves the unselected mutants unchecked: not counted
tested = stats["total"] - stats["skipped"] - stats["no_tests"]
if only:
    patterns = only.split()
    group = (f"{group} (only the mutants matching {len(patterns)} pattern{'s' * (len(patterns) > 1)})"
             if any(c in only for c in "*?[")
             else f"{group} (only {len(patterns)} named mutants)")
lines = [f"{group}: {stats['total']} mutants, {stats['killed']} killed, {stats['survived']} survived, "
         f"{stats['timeout']} timeouts, {stats['no_tests']} not reached by the group's tests, "
         f"{stats['suspicious']} suspicious, {stats['segfault']} segfaults "
         f"(score {100 * (stats['killed'] + stats['timeout']) / max(tested, 1):.1f}% of {tested} reached; {seconds} s)"]
lines += [f"  tests: {tests}"] + [f"  survived: {s}" for s in survivors]
(d / "summary.txt").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
PY
done
