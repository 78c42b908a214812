"""The 2-D GAN lab's exported training snapshots (exported/ganlab.json and ganlab/*.npz)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.registry import exported_dir


@dataclass(frozen=True)
class LabRun:
    dataset: str
    setting: str
    summary: dict
    arrays: dict[str, np.ndarray]

    @property
    def steps(self) -> np.ndarray:
        return self.arrays["steps"]

    def frame(self, index: int) -> dict[str, np.ndarray]:
        """Snapshot ``index``: generated points, D on the grid, G's mapped noise grid."""
        index = int(np.clip(index, 0, len(self.steps) - 1))
        return {
            "step": int(self.steps[index]),
            "fake": self.arrays["fake"][index].astype(np.float32),
            "d_grid": self.arrays["d_grid"][index].astype(np.float32),
            "g_mesh": self.arrays["g_mesh"][index].astype(np.float32),
            "real": self.arrays["real"].astype(np.float32),
        }


def load_lab(folder: Path | None = None) -> tuple[list[LabRun], list[str]]:
    """The lab runs that load and match their card's sha256, and a message for each that does not."""
    folder = Path(folder) if folder is not None else exported_dir()
    card_path = folder / "ganlab.json"
    if not card_path.is_file():
        return [], [f"{card_path.name} is missing: run `python -m training ganlab`"]
    try:
        card = json.loads(card_path.read_text())
        entries = card["runs"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        return [], [f"{card_path.name} cannot be read ({err})"]
    runs, problems = [], []
    for entry in entries:
        path = folder / entry["file"]
        try:
            blob = path.read_bytes()
            if hashlib.sha256(blob).hexdigest() != entry["sha256"]:
                problems.append(f"{entry['file']} does not match the sha256 in {card_path.name}")
                continue
            with np.load(path) as f:
                arrays = {k: f[k] for k in f.files}
        except (OSError, ValueError, KeyError) as err:
            problems.append(f"{entry['file']} cannot be loaded ({err})")
            continue
        runs.append(LabRun(entry["dataset"], entry["setting"], entry, arrays))
    return runs, problems
