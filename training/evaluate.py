"""Test metrics for a trained model, on the project's fixed binary test split.

Every likelihood is in nats per image on ``binarize_fixed(test images)``; bits/dim is
nats / (D ln 2) with D the number of pixels (784 for MNIST).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from training import data as data_lib


def test_tensors(ds: data_lib.Dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed binary test split and a fixed binarization of the train split, (N, 1, H, W) float32."""
    x_test = torch.tensor(data_lib.binarize_fixed(ds.test.images), dtype=torch.float32).unsqueeze(1)
    x_train = torch.tensor(data_lib.binarize_fixed(ds.train.images), dtype=torch.float32).unsqueeze(1)
    return x_test, x_train


def bits_per_dim(nll_nats: float, num_pixels: int) -> float:
    return nll_nats / (num_pixels * math.log(2))


@torch.no_grad()
def evaluate(model: nn.Module, ds: data_lib.Dataset, *, iwae_k: int = 200, seed: int = 0) -> dict:
    """The model's own test metrics (see each model's ``evaluate``), seeded so reruns agree."""
    model.eval()
    torch.manual_seed(seed)
    x_test, x_train = test_tensors(ds)
    metrics = model.evaluate(x_test, x_train=x_train, iwae_k=iwae_k)
    metrics["test_split"] = f"{ds.name} test split ({len(ds.test)} images), binarized by {data_lib.TEST_BINARIZATION}"
    return metrics
