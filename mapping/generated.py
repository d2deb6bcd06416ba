"""Hypothesis strategies for whole problems, and the snippet that reproduces one with the harness.

Used by tests/test_generated.py. Two profiles are registered in tests/conftest.py: ``ci`` (derandomised,
100 examples per framework, the default) and ``nightly`` (2,000 examples per framework, random); choose
with ``--hypothesis-profile nightly``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from .problem import Problem
from .spec import LayerSpec, split_api
from .weights import random_inputs, random_state, random_weights


@dataclass(frozen=True)
class RandomProblem:
    """What hypothesis draws: a spec and the seeds and sizes a :class:`~mapping.problem.Problem` is made from."""

    spec: LayerSpec
    batch: int
    steps: int
    seed: int
    input_scale: float
    with_state: bool
    lengths: tuple[int, ...] | None

    def problem(self) -> Problem:
        weights = random_weights(self.spec, seed=self.seed)
        x = random_inputs(self.spec, self.batch, self.steps, seed=self.seed + 1, scale=self.input_scale)
        state = random_state(self.spec, self.batch, seed=self.seed + 2) if self.with_state else None
        lengths = None if self.lengths is None else np.array(self.lengths)
        return Problem(self.spec, weights, x, state, lengths)

    def snippet(self, framework: str) -> str:
        """Python that rebuilds this problem and compares ``framework`` with the reference."""
        fields = self.spec.model_dump(exclude_defaults=True)
        return "\n".join([
            "import numpy as np",
            "from mapping.adapters import get_adapter",
            "from mapping.compare import compare_results",
            "from mapping.problem import Problem",
            "from mapping.spec import LayerSpec",
            "from mapping.weights import random_inputs, random_state, random_weights",
            f"spec = LayerSpec.parse({fields!r}, op={self.spec.api!r})",
            f"w = random_weights(spec, seed={self.seed})",
            f"x = random_inputs(spec, {self.batch}, {self.steps}, seed={self.seed + 1}, scale={self.input_scale!r})",
            f"state = {f'random_state(spec, {self.batch}, seed={self.seed + 2})' if self.with_state else 'None'}",
            f"lengths = {None if self.lengths is None else f'np.array({list(self.lengths)})'}",
            "problem = Problem(spec, w, x, state, lengths)",
            f"got = get_adapter({framework!r}).forward(problem)",
            "print(compare_results(got, problem.reference(), tol=1e-6, output_select=problem.output_mask()))",
        ])


@st.composite
def problems(draw, dtypes: tuple[str, ...] = ("float32",), op: str = "lstm") -> RandomProblem:
    """A random problem of API ``op`` (``gru``, ``gru_cell``, ...): a cell has one layer, one direction and no
    lengths; GRU draws where its reset gate acts, the RNN its nonlinearity (every framework that cannot build one
    skips it)."""
    cell = split_api(op)[1] == "cell"
    own = {}
    if split_api(op)[0] == "gru":
        own["reset_after"] = draw(st.booleans(), label="reset_after")
    if split_api(op)[0] == "rnn":
        own["activation"] = draw(st.sampled_from(["tanh", "relu"]), label="activation")
    spec = LayerSpec.parse(dict(
        input_size=draw(st.integers(1, 6), label="input_size"),
        hidden_size=draw(st.integers(1, 8), label="hidden_size"),
        num_layers=1 if cell else draw(st.integers(1, 3), label="num_layers"),
        bidirectional=False if cell else draw(st.booleans(), label="bidirectional"),
        batch_first=draw(st.booleans(), label="batch_first"),
        bias=draw(st.booleans(), label="bias"),
        dtype=draw(st.sampled_from(dtypes), label="dtype"),
        **own,
    ), op=op)
    batch = draw(st.integers(1, 4), label="batch")
    steps = draw(st.integers(1, 8), label="steps")
    lengths = None
    if not cell and draw(st.booleans(), label="padded"):
        lengths = tuple(draw(st.lists(st.integers(1, steps), min_size=batch, max_size=batch), label="lengths"))
    return RandomProblem(
        spec=spec,
        batch=batch,
        steps=steps,
        seed=draw(st.integers(0, 2**16), label="seed"),
        input_scale=draw(st.sampled_from([0.1, 1.0, 3.0]), label="input_scale"),
        with_state=draw(st.booleans(), label="with_state"),
        lengths=lengths,
    )
