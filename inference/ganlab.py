"""The 2-D GAN lab's exported training snapshots (exported/ganlab.json and ganlab/*.npz)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.cards import CardError, GanLabCard, LabRunCard, load_study_card
from inference.registry import exported_dir
from inference.runtime import ModelFileError, check_file


@dataclass(frozen=True)
class LabRun:
    card: LabRunCard
    arrays: dict[str, np.ndarray]

    @property
    def dataset(self) -> str:
        return self.card.dataset

    @property
    def setting(self) -> str:
        return self.card.setting

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


def load_lab_card(folder: Path | None = None) -> GanLabCard:
    """The lab's card; CardError (naming the file and field) if it is missing or malformed."""
    path = (Path(folder) if folder is not None else exported_dir()) / "ganlab.json"
    if not path.is_file():
        raise CardError(f"{path.name} is missing: run `python -m training ganlab`")
    return load_study_card(path)


def load_lab(folder: Path | None = None) -> tuple[list[LabRun], list[str]]:
    """The lab runs whose snapshots load and match their card's sha256, and a message for each that does not."""
    folder = Path(folder) if folder is not None else exported_dir()
    try:
        card = load_lab_card(folder)
    except CardError as err:
        return [], [str(err)]
    runs, problems = [], []
    for entry in card.runs:
        path = folder / entry.file
        try:
            check_file(path, entry.sha256)
            with np.load(path) as f:
                arrays = {k: f[k] for k in f.files}
        except ModelFileError as err:
            problems.append(f"{err} (ganlab.json)")
            continue
        except (OSError, ValueError, KeyError) as err:
            problems.append(f"{entry.file} cannot be loaded ({err})")
            continue
        runs.append(LabRun(entry, arrays))
    return runs, problems
