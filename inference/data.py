"""The demo data the app shows: the 500 test digits of the fixed split, shipped in exported/."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.registry import exported_dir

DEMO_DATA_FILE = "mnist_test.npz"


@dataclass(frozen=True)
class TestDigits:
    images: np.ndarray  # (500, 28, 28) uint8 grayscale intensities
    labels: np.ndarray  # (500,) int64
    binary: np.ndarray  # (500, 28, 28) uint8 {0, 1}: the fixed binarization every likelihood uses

    def __len__(self) -> int:
        return len(self.labels)

    def gray(self, idx) -> np.ndarray:
        """Images at ``idx`` as float32 in [0, 1]."""
        return self.images[idx].astype(np.float32) / 255.0


def load_test_digits(folder: Path | None = None) -> TestDigits:
    folder = Path(folder) if folder is not None else exported_dir()
    path = folder / DEMO_DATA_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path.name} is missing from {Path(folder).name}/: run `python -m training data`")
    with np.load(path) as f:
        return TestDigits(f["images"], f["labels"].astype(np.int64), f["binary"])
