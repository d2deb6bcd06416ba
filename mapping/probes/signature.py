"""Signature and docstring drift: is a name the page uses for this framework in the installed code (the layer's
constructor or its call), with which default, and does the installed class's own documentation mention it?

The page states what it was written against; the installed code is the ground truth; the docstring is what a
user reads in their editor. A name in the code but not in the docstring, or in neither, is drift.
"""

from __future__ import annotations

import inspect
import re

from pydantic import Field

from ..checks import CheckContext
from ..checks.arguments import Args, covers, per_framework
from . import Finding, register


class SignatureArgs(Args):
    #: The name the page gives, per framework or page family.
    names: dict[str, str] = Field(min_length=1)

    def check_case(self, frameworks: list[str], op: str) -> None:
        covers(self, "names", frameworks)


def _documented(cls: type, name: str) -> bool:
    """Whether the class's docstring documents ``name`` as an argument: a line starting with the name (markup
    allowed: ``**h_0**``, ```x```, ``- name``) followed by ``:`` or ``(`` or by ``of shape`` (PyTorch's cells:
    ``- **input** of shape (batch, input_size)``) -- not a mere use in an example."""
    docs = "\n".join(inspect.getdoc(c) or "" for c in (cls, getattr(cls, "__init__", None)) if c is not None)
    return re.search(rf"^\s*[-*]*\s*[`*]*{re.escape(name)}[`*]*\s*([:(]|of shape)", docs, re.M) is not None


@register("signature", "signature_drift", SignatureArgs)
def signature(args: SignatureArgs, ctx: CheckContext) -> Finding:
    """The page's name for this framework in the installed signature and docstring"""
    adapter = ctx.adapter
    name = per_framework(args.names, ctx.framework)
    constructor = adapter.constructor_parameters(ctx.op)
    documented = "documented" if _documented(adapter.layer_class(ctx.op), name) else "not in the docstring"
    if name in constructor:
        default = constructor[name]
        shown = "no default" if default is None else f"default {default!r}"
        return Finding(f"a constructor parameter, {shown}; {documented}", trap=documented != "documented")
    if name in adapter.call_parameters(ctx.op):
        return Finding(f"a call argument; {documented}", trap=documented != "documented")
    return Finding(f"not in the installed signature; {documented}", trap=documented == "documented")
