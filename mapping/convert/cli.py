"""``mapping convert SOURCE TARGET [--verify]``: convert a checkpoint's recurrent stack to another framework's
checkpoint, say what was inferred, and prove the port on the user's configuration.

Exit status: 0 converted (and, with ``--verify``, the port holds); 1 the port does not hold (nothing written);
2 bad input or a conversion the target cannot hold (one line on stderr, with the reason and the nearest
alternative); 3 an unexpected error (one line; ``--traceback`` shows it).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import textwrap
import time
import typing
from pathlib import Path
from typing import Any

from .. import atomic, frameworks, ops
from ..errors import CheckpointError, MappingError, one_line
from ..spec import LayerSpec
from . import caveats as caveat_data
from . import porting
from .formats import FORMATS, for_framework, for_path
from .stack import Stack
from .verify import Inputs, Verification, verify


def op_options() -> dict[str, tuple[Any, tuple | None]]:
    """The ops' own fields a checkpoint does not fully show (activations, GRU's reset_after), for options:
    field -> (type, choices). Fields the tensors decide (a projection's size) are not options."""
    found: dict[str, tuple[Any, tuple | None]] = {}
    for op in ops.OPS.values():
        for name, info in op.spec.model_fields.items():
            if name in LayerSpec.model_fields or name in found:
                continue
            if info.annotation is bool:
                found[name] = (bool, None)
            elif typing.get_origin(info.annotation) is typing.Literal:
                found[name] = (str, typing.get_args(info.annotation))
    return found


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mapping convert",
        description="Convert the recurrent layers (LSTM, GRU, RNN) of a PyTorch, MindSpore, Keras 3 or Keras 2 "
                    "checkpoint to another framework's checkpoint, and prove the port (--verify).",
        epilog="Formats by file name: .pt/.pth PyTorch state_dict, .ckpt MindSpore, .weights.h5 Keras 3, "
               ".h5 Keras 2 (tf_keras). Exit 0 done, 1 the port does not hold, 2 bad input or refused, 3 unexpected.")
    parser.add_argument("source", type=Path, help="the checkpoint to read")
    parser.add_argument("target", type=Path, nargs="?", help="the checkpoint to write (its suffix picks the framework)")
    names = list(frameworks.NAMES)
    parser.add_argument("--from", dest="source_framework", choices=names, help="the source's framework (default: "
                        "from its name and content)")
    parser.add_argument("--to", dest="target_framework", choices=names, help="the target's framework (default: from "
                        "its name)")
    parser.add_argument("--layer", help="which stack: a module prefix (encoder.rnn) or Keras layer names in order "
                        "(lstm,lstm_1); needed when the file holds several")
    parser.add_argument("--prefix", help="the target's name for the stack: a module prefix (PyTorch, MindSpore) or "
                        "a Keras layer name (numbered lstm, lstm_1 when several); default: the source's prefix, or "
                        "Keras's names")
    parser.add_argument("--overwrite", action="store_true", help="replace the target file if it exists")
    parser.add_argument("--list", action="store_true", help="list the recurrent stacks in SOURCE and what they are")
    parser.add_argument("--verify", action="store_true", help="load both files in their frameworks, run them and "
                        "compare with the float64 reference; write the target only if the port holds")
    parser.add_argument("--time-major", action="store_true", help="verify with (time, batch, features) inputs "
                        "(batch_first=False; Keras 2 time_major=True); default batch-first")
    parser.add_argument("--padding", action="store_true", help="verify right-padded batches too (each framework's "
                        "length mechanism)")
    parser.add_argument("--batch", type=int, default=3, help="verification batch size (default 3)")
    parser.add_argument("--steps", type=int, default=7, help="verification time steps (default 7)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the verification inputs (default 0)")
    for name, (kind, choices) in op_options().items():
        flag = "--" + name.replace("_", "-")
        if kind is bool:
            parser.add_argument(flag, dest=name, type=_boolean, metavar="{true,false}",
                                help=f"the layer's {name} where the weights do not decide it")
        else:
            parser.add_argument(flag, dest=name, choices=choices, help=f"the layer's {name} (not stored in weights)")
    parser.add_argument("--cases", type=Path, default=caveat_data.DEFAULT_CASES,
                        help="case files the caveats come from (default: the project's cases/)")
    parser.add_argument("--traceback", action="store_true", help="show the traceback of an unexpected error")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.target is None and len(extra) == 1 and not extra[0].startswith("-"):  # SOURCE --to mindspore TARGET
        args.target = Path(extra.pop())
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.target is None and not args.list:
        parser.error("name the TARGET file to write (or give --list to see what SOURCE holds)")
    for name, value in (("--batch", args.batch), ("--steps", args.steps)):
        if not 1 <= value <= 256:
            parser.error(f"{name} must lie in [1, 256] (got {value})")
    started = time.perf_counter()
    try:
        return _run(args, started)
    except porting.Refusal as exc:
        print(f"mapping convert: {exc}", file=sys.stderr)
        return 2
    except MappingError as exc:
        print(f"mapping convert: {one_line(exc, 600)}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - one line, unless the traceback is asked for
        if args.traceback:
            raise
        print(f"mapping convert: unexpected {type(exc).__name__}: {one_line(exc)} (rerun with --traceback to see "
              "where)", file=sys.stderr)
        return 3


def _options(args: argparse.Namespace) -> dict[str, Any]:
    options = {name: getattr(args, name) for name in op_options() if getattr(args, name) is not None}
    options["batch_first"] = not args.time_major
    return options


def _run(args: argparse.Namespace, started: float) -> int:
    options = _options(args)
    if args.list:
        return _list(args, options)
    if args.target.exists() and not args.overwrite:  # before any work: nothing would be written
        atomic.refuse_overwriting(args.target, [args.source], what="target")
        print(f"mapping convert: {args.target}: exists; refusing to replace it (give --overwrite to replace it)",
              file=sys.stderr)
        return 2
    source, source_format = porting.read_stack(args.source, framework=args.source_framework, layer=args.layer,
                                               options=options)
    print(f"source   {source.path}: {source_format.description}, stack {_named(source)}")
    _print_inferred(source)
    cases = caveat_data.read_cases(args.cases)
    plan = porting.plan(source, source_format, args.target, to=args.target_framework, name=args.prefix, cases=cases)
    target = plan.target
    print(f"target   {plan.target_path}: {plan.target_format.description}, stack {_named(target)}, "
          f"{target.spec.dtype}, {len(plan.data):,} bytes")
    for note in plan.notes:
        print(f"  note: {note}")
    print("use      " + textwrap.indent(plan.target_format.loading_code(target), "         ").lstrip())
    status = 0
    if args.verify:
        inputs = Inputs(batch=args.batch, steps=args.steps, seed=args.seed, padding=args.padding)
        with tempfile.TemporaryDirectory() as folder:
            scratch = Path(folder) / plan.target_path.name
            scratch.write_bytes(plan.data)
            result = verify(source, source_format, target.replace(path=scratch), plan.target_format, inputs)
        _print_verification(result, source, target, inputs)
        status = 0 if result.holds else 1
    _print_caveats(cases, source, plan)
    if status == 0:
        porting.write(plan, overwrite=args.overwrite)
        print(f"wrote    {plan.target_path}")
    else:
        print(f"not written: the port does not hold ({plan.target_path} left as it was)")
    print(f"done     in {time.perf_counter() - started:.1f} s")
    return status


def _named(stack: Stack) -> str:
    if not stack.name:
        return "(top level)"
    return repr(stack.name) if "," not in stack.name else ", ".join(stack.name.split(","))


def _print_inferred(stack: Stack) -> None:
    print(f"inferred {stack.summary()}")
    for line in stack.evidence:
        print(f"  from   {line}")
    for line in stack.assumed:
        print(f"  assume {line}")


def _print_verification(result: Verification, source: Stack, target: Stack, inputs: Inputs) -> None:
    print(f"verify   batch {inputs.batch} x {inputs.steps} steps (seed {inputs.seed}), "
          f"{'batch-first' if source.spec.batch_first else 'time-major'}, against the float64 reference; an element "
          "passes when |diff| <= tol * (1 + |reference|)")
    for role, message in result.failures.items():
        print(f"  {role}: FAILED {message}")
    for run in result.runs:
        label = frameworks.get(run.framework).label
        padded = "" if run.padded_max is None else f", |output| at padded steps up to {run.padded_max:.3g}"
        print(f"  {run.role:6s} {label:18s} {run.dtype:7s} {run.variant:32s} max |diff| {run.max_abs:.3g} "
              f"({run.worst_field}), tol {run.tol:.0e}: {'ok' if run.within else 'OUT OF TOLERANCE'}{padded}")
    for variant, value in result.direct.items():
        print(f"  target vs source, {variant}: max |diff| {value:.3g}")
    if result.holds:
        figure = max(result.runs, key=lambda r: r.max_abs)
        closest = max(result.runs, key=lambda r: r.max_abs / r.tol)
        print(f"  the port holds: largest difference {figure.max_abs:.3g} ({frameworks.get(figure.framework).label}, "
              f"{figure.variant}), within its tolerance {figure.tol:.0e}; closest to its tolerance: "
              f"{closest.max_abs / closest.tol:.2g} of it ({result.seconds:.1f} s)")
    else:
        print(f"  the port does NOT hold ({result.seconds:.1f} s)")


def _print_caveats(cases: caveat_data.CaseSource, source: Stack, plan: porting.Plan) -> None:
    found = caveat_data.caveats_for(source.framework, plan.target_format.framework, source.spec.op, cases)
    pair = f"{frameworks.get(source.framework).label} -> {plan.target_format.label}, {source.op.label}"
    print(f"caveats  {len(found)} from the suite's cases for {pair} (what the weights do not carry):")
    for caveat in found:
        print(textwrap.fill(caveat.line(), width=120, initial_indent="  - ", subsequent_indent="    "))
    for problem in cases.problems:
        print(f"  (not read: {problem})")


def _list(args: argparse.Namespace, options: dict[str, Any]) -> int:
    fmt = for_framework(args.source_framework) if args.source_framework else for_path(args.source, role="source")
    if not args.source.is_file():
        raise CheckpointError(f"{args.source}: no such file")
    scan = fmt.scan(args.source)
    print(f"{args.source}: {fmt.description}, {len(scan.candidates)} recurrent "
          f"layer{'s' if len(scan.candidates) != 1 else ''}")
    for candidate in scan.candidates + ([scan.default] if scan.default and scan.default not in scan.candidates else []):
        try:
            stack = candidate.make(options)
            described = stack.summary()
        except MappingError as exc:
            described = f"unreadable: {one_line(exc)}"
        default = " (the default)" if candidate is scan.default else ""
        print(f"  {candidate.name or '(top level)'}{default}: {described}")
    return 0


__all__ = ["FORMATS", "build_parser", "main"]


if __name__ == "__main__":
    raise SystemExit(main())
