"""Every file training writes for the app or the tests, written one way: checkpoints, ONNX networks, cards.

* ``save_checkpoint(path, payload)``: a ``torch.save`` of plain tensors, numbers and strings, so it
  loads with ``torch.load(path, weights_only=True)``;
* ``export_network(net, path)``: one self-contained ONNX file with a dynamic batch dimension,
  checked, and described for a card (file, sha256, size, tensor names and shapes);
* ``write_card(path, card)``: JSON, indent 2, a final newline.

Checkpoints and cards go through a temporary file in the same folder and a rename, so a crash
(or a full disk) never leaves half a file where a whole one was.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import onnx
import torch

from inference.cards import to_json
from training.models.base import Network

OPSET = 20


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _replace_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Named by process, not by mkstemp: mkstemp's files are private (0600), and the rename would keep that.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def save_checkpoint(path: Path, payload: dict) -> Path:
    """Write a checkpoint (config and state dict beside each other, by convention), creating its folder."""
    return _replace_atomically(path, lambda tmp: torch.save(payload, tmp))


def write_card(path: Path, card) -> Path:
    """Write a card (a typed inference.cards card, or plain JSON values) as JSON (indent 2, a final newline),
    creating its folder. Fields that are None are left out."""
    text = (
        json.dumps(to_json(card), indent=2) + "\n"
    )  # serialised first: a card that is not JSON leaves the old one alone
    return _replace_atomically(path, lambda tmp: tmp.write_text(text))


def export_network(net: Network, path: Path) -> dict:
    """Write one network as a single ONNX file with a dynamic batch dimension (and the network's other dynamic
    dimensions, if it names any); describe it."""
    batch = torch.export.Dim("batch", min=1, max=65_536)
    net.module.eval()
    shapes = [{0: batch} | (net.dims[k] if k < len(net.dims) else {}) for k in range(len(net.example_inputs))]
    # torch.export groups a forward's *args into one tuple, so the dynamic shapes must too.
    params = inspect.signature(net.module.forward).parameters.values()
    fixed = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
    dynamic: list = shapes[:fixed]
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        dynamic.append(tuple(shapes[fixed:]))
    # The dynamo exporter reports each step on stdout; keep the CLI's output to the progress bar.
    with contextlib.redirect_stdout(io.StringIO()):
        torch.onnx.export(
            net.module,
            net.example_inputs,
            str(path),
            input_names=net.input_names,
            output_names=net.output_names,
            dynamic_shapes=tuple(dynamic),
            opset_version=OPSET,
            external_data=False,
            dynamo=True,
        )
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)

    def describe(values) -> list[dict]:
        out = []
        for v in values:
            dims = [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
            dtype = onnx.helper.tensor_dtype_to_np_dtype(v.type.tensor_type.elem_type).name
            out.append({"name": v.name, "shape": dims, "dtype": dtype})
        return out

    inputs, outputs = describe(proto.graph.input), describe(proto.graph.output)
    static = [v["name"] for v in inputs + outputs if not isinstance(v["shape"][0], str)]
    if static:
        # The exporter can fall back to fixed shapes when model code pins the batch size
        # (len(x), x.view(B, ...)); a graph that only takes the example's batch is no use.
        raise RuntimeError(f"{path.name}: batch dimension exported as a constant for {static}")
    return {
        "file": path.name,
        "sha256": sha256_of(path),
        "bytes": path.stat().st_size,
        "parameters": int(sum(p.numel() for p in net.module.parameters())),
        "inputs": inputs,
        "outputs": outputs,
    }
