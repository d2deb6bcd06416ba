"""MindSpore checkpoints (``.ckpt``), read with ``mindspore.load_checkpoint`` and written with
``mindspore.save_checkpoint``: parameter names are the cell path and PyTorch's names (``encoder.rnn.weight_ih_l0``)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import CheckpointError, UsageError, one_line
from ..stack import Stack
from .native import CONTAINER_SEPARATOR, NativeFormat


class MindSporeFormat(NativeFormat):
    framework = "mindspore"
    description = "MindSpore checkpoint (mindspore.save_checkpoint)"
    suffixes = (".ckpt",)
    converter = "mindspore"
    module = "mindspore.nn"

    def _mindspore(self):
        self.adapter_type()  # the adapter module imports MindSpore quietly and sets its CPU context
        import mindspore

        return mindspore

    def tensors(self, path: Path) -> dict[str, np.ndarray]:
        mindspore = self._mindspore()
        try:
            params = mindspore.load_checkpoint(str(path))
        except Exception as exc:  # noqa: BLE001 - whatever load_checkpoint raises, the file is not one it reads
            raise CheckpointError(f"{path}: not a MindSpore checkpoint mindspore.load_checkpoint reads "
                                  f"({type(exc).__name__}: {one_line(exc, 160)})") from None
        out = {}
        for name, param in params.items():
            value = param.asnumpy() if hasattr(param, "asnumpy") else np.asarray(param)
            if value.dtype.kind == "f":
                out[name] = value
        return out

    def save(self, arrays: dict[str, np.ndarray]) -> bytes:
        mindspore = self._mindspore()
        if any(CONTAINER_SEPARATOR in name for name in arrays):
            raise UsageError(f"a MindSpore checkpoint is flat: its parameter names cannot hold {CONTAINER_SEPARATOR!r} "
                             "(give --prefix as a cell path such as encoder.rnn)")
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "converted.ckpt"
            mindspore.save_checkpoint([{"name": name, "data": mindspore.Tensor(np.ascontiguousarray(value))}
                                       for name, value in arrays.items()], str(target))
            return target.read_bytes()

    def namespace(self) -> dict[str, Any]:
        return {"mindspore": self._mindspore()}

    def load_lines(self, stack: Stack, prefix: str) -> list[str]:
        lines = [f"params = mindspore.load_checkpoint({str(stack.path)!r})"]
        if prefix:
            chosen = f"{{k[len({prefix!r}):]: v for k, v in params.items() if k.startswith({prefix!r})}}"
        elif stack.extra.get("only"):
            chosen = "params"
        else:
            chosen = "{k: v for k, v in params.items() if '.' not in k}"
        lines.append(f"not_loaded, _ = mindspore.load_param_into_net(layer, {chosen}, strict_load=True)")
        lines.append("assert not not_loaded, f'parameters not in the checkpoint: {not_loaded}'")
        return lines

    def parameters_of(self, layer: Any) -> dict[str, np.ndarray]:
        return {p.name.rsplit(".", 1)[-1]: p.asnumpy().astype(np.float64) for p in layer.get_parameters()}
