"""A recipe in its variants: does the workaround still hold for a bidirectional layer, several layers, a padded
batch, an initial state?

The recipe runs under its own contract (:mod:`mapping.recipes.contracts`) on each variant's problem and is compared
with the same target, worked out by the reference for that variant. Per variant: ``holds``, ``differs`` (it runs and
returns something else: a trap), ``raises`` (it stops with an error: loud, not a trap) or ``n/a`` (the recipe takes
no input for the variant, or its target cannot state the variant's expectation).
"""

from __future__ import annotations

from pydantic import Field

from .. import recipes
from ..checks import CheckContext
from ..checks.arguments import Args, Setup
from ..errors import ArgsError, Unsupported, one_line
from ..recipes import contracts
from . import Finding, register


class RecipeVariantsArgs(Args):
    recipe: str
    variants: list[contracts.Variant] = Field(default=list(contracts.VARIANTS), min_length=1)
    setup: Setup = Setup()

    def check_case(self, frameworks: list[str], op: str) -> None:
        for framework in frameworks:
            try:
                fn = recipes.shown(framework, self.recipe)
            except LookupError as exc:
                raise ArgsError("recipe", str(exc).strip('"')) from None
            if recipes.spec_of(fn).contract == "check":
                raise ArgsError("recipe", f"{self.recipe!r} is executed by its check; its variants cannot be run here")


@register("recipe_variants", "recipe_variants", RecipeVariantsArgs)
def recipe_variants(args: RecipeVariantsArgs, ctx: CheckContext) -> Finding:
    """The row's recipe on a bidirectional layer, several layers, a padded batch, an initial state"""
    fn = recipes.shown(ctx.framework, args.recipe)
    parts, worst, worst_variant, notes = [], None, None, []
    for variant in args.variants:
        call = contracts.RecipeCall(ctx.adapter, ctx.op, args.setup, ctx.seed, ctx.tolerance, variant)
        try:
            run = contracts.execute(fn, call)
        except Unsupported:
            parts.append(f"{variant}=n/a")
            continue
        except Exception as exc:  # noqa: BLE001 - a recipe stopping with an error is the measurement
            parts.append(f"{variant}=raises")
            notes.append(f"{variant}: {type(exc).__name__}: {one_line(exc, 120)}")
            continue
        parts.append(f"{variant}={'holds' if run.ok else 'differs'}")
        if not run.ok and run.max_abs is not None and run.max_abs == float("inf"):
            notes.append(f"{variant}: {run.detail}")  # not comparable (a count or a shape differs): no figure
        elif not run.ok and (worst is None or (run.max_abs or 0) > worst):
            worst, worst_variant = run.max_abs, variant
    differs = any(p.endswith("=differs") for p in parts)
    return Finding(" ".join(parts), figure=worst,
                   figure_label=f"max abs error against the target, {worst_variant}" if worst_variant else None,
                   trap=differs, detail="; ".join(notes) or None)
