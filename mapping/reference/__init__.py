"""The float64 NumPy reference every framework is compared with: forward and analytic backward pass.

:func:`reference_forward` runs a :class:`~mapping.problem.Problem`; :func:`reference_gradients` differentiates
a fixed linear loss of its result (see :mod:`mapping.reference.backward`). Both drive the op's cell through
one shared layer x direction x time machinery (:mod:`mapping.reference.forward`).
"""

from .backward import (
           Gradients,
           Upstream,
           check_upstream,
           loss_value,
           random_upstream,
           reference_gradients,
)
from .forward import DropoutScales, prepare, reference_forward, reverse_padded

__all__ = ["DropoutScales", "Gradients", "Upstream", "check_upstream", "loss_value", "prepare", "random_upstream",
           "reference_forward", "reference_gradients", "reverse_padded"]
