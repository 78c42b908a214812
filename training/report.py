"""The README's table of shipped models and their total training time, built from the cards in exported/.

``python -m training report`` prints it; ``--readme README.md`` also writes it into the README,
between the ``<!-- report:start -->`` and ``<!-- report:end -->`` markers (and the total where the
README says the training times "add up to N hours"). tests/test_report.py fails when the README
and the cards disagree, so its figures cannot drift from them. A model card is a JSON file in
exported/ with a "networks" key; the study cards (density.json, ganlab.json, features.json) add
their training time to the total.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from training.models import MODELS

START, END = "<!-- report:start -->", "<!-- report:end -->"
TOTAL_HOURS = re.compile(r"add up to ([\d.]+) hours")  # the README's sentence on how long retraining takes
NONE = "—"  # a figure the model does not have
COLUMNS = (
    "Model", "Family", "Density", "test NLL, nats (bits/dim)", "FCD (1,000 samples)", "16 samples (s)",
    "parameters", "ONNX (MB)", "training (min)", "other",
)  # fmt: skip


def model_cards(export_dir: Path) -> list[dict]:
    """Every model card in ``export_dir``: the generative models in the registry's order, then the
    classifiers (the judges), then any card the registry does not name, by name."""
    cards = [card for path in sorted(Path(export_dir).glob("*.json")) if "networks" in (card := _read(path))]
    order = {name: i for i, name in enumerate(MODELS)}
    return sorted(cards, key=lambda c: (c["family"] == "classifier", order.get(c["name"], len(order)), c["name"]))


def _read(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def _judged(metrics: dict) -> dict:
    """The shipped classifier's verdict on a model's samples (fcd, class_accuracy), {} if none. Cards spell
    it flat, sample_quality = {"fcd": ...}, or per judge, sample_quality = {"classifier": {"fcd": ...}}."""
    quality = metrics.get("sample_quality") or {}
    return quality if "fcd" in quality else quality.get("classifier", {})


def _floors(metrics: dict) -> tuple[float, float] | None:
    """A judge's FCD floor (grayscale, binary): flat in sample_quality, or its own fcd_floor entry."""
    if "fcd_floor" in metrics:
        return metrics["fcd_floor"]["grayscale"], metrics["fcd_floor"]["binary"]
    quality = metrics.get("sample_quality") or {}
    if "fcd_floor_grayscale" in quality:
        return quality["fcd_floor_grayscale"], quality["fcd_floor_binary"]
    return None


def _other(card: dict) -> str:
    """The figures only some models have, in one cell."""
    m, judged = card["metrics"], _judged(card["metrics"])
    parts = []
    recon = m.get("recon_bce_nats", m.get("recon_nats"))
    if card["family"] == "autoencoder" and recon is not None:
        parts.append(f"reconstruction BCE {recon:.1f} nats")
    if card["density"] == "bound" and "elbo_nats" in m:
        parts.append(f"ELBO {m['elbo_nats']:.2f}")
    if "test_accuracy" in m:
        parts.append(f"test accuracy {m['test_accuracy']:.3f}")
    if "class_accuracy" in judged:
        parts.append(f"class accuracy {judged['class_accuracy']:.3f}")
    if floors := _floors(m):
        parts.append(f"FCD floor {floors[0]:.1f} (grayscale), {floors[1]:.1f} (binary)")
    return "; ".join(parts)


def model_row(card: dict) -> list[str]:
    m, judged = card["metrics"], _judged(card["metrics"])
    has_nll = card["density"] in ("exact", "bound") and "nll_nats" in m
    sample_seconds = (card.get("comparison") or {}).get("sample_seconds_16")
    return [
        card["title"],
        card["family"],
        card["density"],
        f"{m['nll_nats']:.2f} ({m['bits_per_dim']:.4f})" if has_nll else NONE,
        f"{judged['fcd']:.1f}" if "fcd" in judged else NONE,
        NONE if sample_seconds is None else f"{sample_seconds:.3f}",
        f"{card['parameters']:,}",
        f"{sum(net['bytes'] for net in card['networks'].values()) / 1e6:.2f}",
        f"{card['training']['seconds'] / 60:.1f}",
        _other(card),
    ]


def model_table(export_dir: Path) -> str:
    """The markdown table of every shipped model, one row per model card."""
    lines = [_row(COLUMNS), "|" + "---|" * len(COLUMNS)]
    lines += [_row(model_row(card)) for card in model_cards(export_dir)]
    return "\n".join(lines)


def _row(cells) -> str:
    return "| " + " | ".join(cells) + " |"


def training_seconds(export_dir: Path) -> dict[str, float]:
    """The training time each part of what is shipped recorded, in seconds, by part."""
    export_dir = Path(export_dir)
    parts = {"image models": sum(card["training"]["seconds"] for card in model_cards(export_dir))}
    if (path := export_dir / "ganlab.json").is_file():
        parts["GAN lab"] = sum(run["seconds"] for run in _read(path)["runs"])
    if (path := export_dir / "density.json").is_file():
        # Each model's own time: the card's "seconds" covers only the last run, which may have retrained
        # some sets and kept the others' entries.
        card = _read(path)
        models = [m for entry in card["datasets_2d"].values() for m in entry["models"].values()]
        models += [entry["flow"] for entry in card["datasets_1d"].values()]
        parts["toy densities"] = sum(m["training_seconds"] for m in models)
    if (path := export_dir / "features.json").is_file():
        parts["features study"] = _read(path)["seconds"]
    return parts


def total_hours(export_dir: Path) -> float:
    return sum(training_seconds(export_dir).values()) / 3600


def report(export_dir: Path) -> str:
    """The table, then the total training time and its parts: what the README shows between its markers."""
    parts = training_seconds(export_dir)
    images = len(model_cards(export_dir))
    named = [f"{seconds / 3600:.2f} for the {images} {part}" if part == "image models" else
             f"{seconds / 3600:.2f} for the {part}" for part, seconds in parts.items()]  # fmt: skip
    total = f"Recorded training time of everything shipped: {total_hours(export_dir):.1f} hours ({', '.join(named)})."
    return f"{model_table(export_dir)}\n\n{total}"


def readme_block(text: str) -> str:
    """What a README holds between the report markers, without the blank lines around it."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"no {START} ... {END} block")
    return text[start + len(START) : end].strip("\n")


def write_readme(readme: Path, export_dir: Path) -> bool:
    """Put the report between the README's markers, and its total where the README says the training
    times "add up to N hours"; True if that changed the file."""
    old = Path(readme).read_text()
    readme_block(old)  # the markers are there
    start, end = old.find(START) + len(START), old.find(END)
    text = f"{old[:start]}\n{report(export_dir)}\n{old[end:]}"
    text = TOTAL_HOURS.sub(f"add up to {total_hours(export_dir):.1f} hours", text)
    if text == old:
        return False
    Path(readme).write_text(text)
    return True
