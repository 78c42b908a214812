"""What every model in training/models/ offers the trainer, the exporter and the evaluator."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class Network:
    """One ONNX graph of a model: the module, example inputs (batch first) and tensor names.

    The batch dimension is always exported dynamic; ``dims`` names more dynamic dimensions, per example input
    ({axis: torch.export.Dim, or a multiple of one}), for a network a sampler runs on part of an image."""

    module: nn.Module
    example_inputs: tuple[torch.Tensor, ...]
    input_names: list[str]
    output_names: list[str]
    dims: tuple[dict, ...] = ()


def bernoulli_log_prob(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x | logits) summed over all but the batch dimension, in nats per image."""
    return -nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


class Method(nn.Module):
    """One method of a model as a module's forward, so it can be exported as its own network
    (a sampler's step, a density's log_prob) while sharing the model's weights."""

    def __init__(self, model: nn.Module, method: str):
        super().__init__()
        self.model, self.method = model, method

    def forward(self, *inputs: torch.Tensor):
        return getattr(self.model, self.method)(*inputs)
