"""PyTorch checkpoints: a ``state_dict`` saved with ``torch.save`` (``.pt``, ``.pth``), read with
``torch.load(weights_only=True)``, so a file holding arbitrary pickled objects is refused, not executed. A
state dict nested in a training checkpoint (``{"model": state_dict, "epoch": 3}``) is found too."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import CheckpointError, one_line
from ...spec import LayerSpec
from ..stack import Stack
from .native import CONTAINER_SEPARATOR, NativeFormat, flatten, require_mapping, split_prefix


class TorchFormat(NativeFormat):
    framework = "torch"
    description = "PyTorch state_dict (torch.save)"
    suffixes = (".pt", ".pth")
    converter = "torch"
    module = "torch.nn"

    def _torch(self):
        self.adapter_type()  # the adapter module imports torch (before any TensorFlow)
        import torch

        return torch

    def tensors(self, path: Path) -> dict[str, np.ndarray]:
        torch = self._torch()
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - whatever torch.load raises, the file is not one it reads
            raise CheckpointError(f"{path}: not a PyTorch checkpoint torch.load(weights_only=True) reads "
                                  f"({type(exc).__name__}: {one_line(exc, 160)})") from None
        require_mapping(obj, path, "state_dict")

        def to_numpy(t):
            if t.dtype == torch.bfloat16:
                t = t.to(torch.float32)
            return t.detach().cpu().numpy()

        return flatten(obj, lambda v: isinstance(v, torch.Tensor) and v.is_floating_point(), to_numpy, path)

    def save(self, arrays: dict[str, np.ndarray]) -> bytes:
        torch = self._torch()
        state: dict[str, Any] = {}
        for name, value in arrays.items():
            *containers, key = name.split(CONTAINER_SEPARATOR)
            level = state
            for container in containers:
                level = level.setdefault(container, {})
            level[key] = torch.from_numpy(np.ascontiguousarray(value))
        buffer = io.BytesIO()
        torch.save(state, buffer)
        return buffer.getvalue()

    def dtype_arguments(self, spec: LayerSpec) -> list[str]:
        return ["dtype=torch.float64"] if spec.dtype == "float64" else []

    def namespace(self) -> dict[str, Any]:
        return {"torch": self._torch()}

    def load_lines(self, stack: Stack, prefix: str) -> list[str]:
        containers, module = split_prefix(prefix)
        index = "".join(f"[{c!r}]" for c in containers)
        lines = [f"state = torch.load({str(stack.path)!r}, weights_only=True){index}"]
        if module:
            lines.append(f"layer.load_state_dict({{k[len({module!r}):]: v for k, v in state.items() "
                         f"if k.startswith({module!r})}})")
        elif stack.extra.get("only") and not containers:
            lines.append("layer.load_state_dict(state)")
        else:
            lines.append("layer.load_state_dict({k: v for k, v in state.items() if '.' not in k})")
        return lines

    def parameters_of(self, layer: Any) -> dict[str, np.ndarray]:
        torch = self._torch()
        return {k: v.detach().to(torch.float64).numpy() for k, v in layer.state_dict().items()}
