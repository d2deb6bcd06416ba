"""The one command-line entry point: ``mapping <command> ...`` (also ``python -m mapping <command> ...``).

Each command lives in its own module and keeps its ``python -m mapping.<module>`` form.
"""

from __future__ import annotations

import importlib
import sys

#: command -> (module, one-line summary); each module has ``main(argv) -> int``.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("mapping.run", "run one case on one framework and print its outcome"),
    "conformance": ("mapping.conformance", "the main job: every case on every framework, results JSON and report"),
    "report": ("mapping.report.__main__", "merge results files into one HTML report"),
    "audit": ("mapping.audit.cli", "audit a mapping page against the case files"),
    "faults": ("mapping.faults.cli", "inject harness faults and show which cases catch each"),
    "measure": ("mapping.measure", "largest error per framework and dtype over the grid (--gradients: gradients)"),
    "convert": ("mapping.convert.cli", "convert a checkpoint's recurrent layers to another framework and verify the port"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: mapping <command> [arguments]", "", "commands:"]
    lines += [f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items()]
    lines += ["", "`mapping <command> --help` describes a command's arguments."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"mapping: unknown command {command!r}; commands: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[command][0])
    return module.main(rest)


if __name__ == "__main__":
    raise SystemExit(main())
