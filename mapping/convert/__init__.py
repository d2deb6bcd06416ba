"""Converting a real checkpoint's recurrent layers to another framework, and proving the port.

``mapping convert SOURCE TARGET --verify`` (:mod:`mapping.convert.cli`), or from Python::

    from mapping.convert import read_stack, plan, write, verify, Inputs

    source, source_format = read_stack("encoder.pt", layer="encoder.rnn")   # the stack and its inferred spec
    port = plan(source, source_format, "encoder.ckpt")                        # target bytes, read back, in memory
    result = verify(source, source_format, port.target.replace(path=...), port.target_format, Inputs())
    write(port)                                                               # atomic; refuses to overwrite

The parts: :mod:`~mapping.convert.formats` (one per framework's checkpoint format: read, write, the user's
loading code), :mod:`~mapping.convert.infer` (the configuration from names and shapes, pure NumPy),
:mod:`~mapping.convert.porting` (refusals, the target bytes, the read-back check, atomic writing),
:mod:`~mapping.convert.verify` (both files loaded by their frameworks, run against the float64 reference) and
:mod:`~mapping.convert.caveats` (what the suite's cases say about the pair). Importing this package imports
no framework; each format imports its own only when it reads or writes (Keras files need only h5py).
"""

from __future__ import annotations

from .caveats import Caveat, caveats_for, read_cases
from .porting import Plan, Refusal, plan, read_stack, write
from .stack import Stack
from .verify import Inputs, Verification, verify

__all__ = ["Caveat", "Inputs", "Plan", "Refusal", "Stack", "Verification", "caveats_for", "plan", "read_cases",
           "read_stack", "verify", "write"]
