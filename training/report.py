"""The README's table of shipped models, their rankings and total training time, built from the cards.

``python -m training report`` prints it; ``--readme README.md`` also writes it into the README,
between the ``<!-- report:start -->`` and ``<!-- report:end -->`` markers (and the total where the
README says the training times "add up to N hours"). tests/test_report.py fails when the README
and the cards disagree, so its figures cannot drift from them.

Two models are ranked only where their intervals separate them: FCD by each judge's 95% bootstrap
interval, likelihoods by the 95% interval of their difference paired over the test digits; otherwise
the report says they are tied (``≈``).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from inference.cards import ModelCard, is_model_card, load_model_card, load_study_card, read_json
from inference.metrics import chain, fcd_order, fcd_ranking, judges_disagree, nll_difference
from training.models import MODELS

START, END = "<!-- report:start -->", "<!-- report:end -->"
TOTAL_HOURS = re.compile(r"add up to ([\d.]+) hours")  # the README's sentence on how long retraining takes
NONE = "—"  # a figure the model does not have
JUDGES = {"classifier": "CNN judge", "mlp_classifier": "MLP judge"}
COLUMNS = (
    "Model", "Family", "Density", "binary track: test NLL, nats ± s.e. (bits/dim)", "8-bit track: test NLL, bits/dim ± s.e.",
    "FCD, CNN judge: mean ± sd over seeds [95% interval]",
    "FCD, MLP judge", "class accuracy (CNN judge)", "16 samples (s)", "parameters", "ONNX (MB)", "training (min)", "other",
)  # fmt: skip


def model_cards(export_dir: Path) -> list[ModelCard]:
    """Every model card in ``export_dir``: the generative models in the registry's order, then the
    classifiers (the judges), then any card the registry does not name, by name."""
    paths = [p for p in sorted(Path(export_dir).glob("*.json")) if is_model_card(read_json(p))]
    cards = [load_model_card(p) for p in paths]
    order = {name: i for i, name in enumerate(MODELS)}
    return sorted(cards, key=lambda c: (c.family == "classifier", order.get(c.name, len(order)), c.name))


def _fcd(q) -> str:
    if q is None:
        return NONE
    spread = f" ± {q.fcd_std:.1f}" if q.fcd_std is not None else ""
    interval = f" [{q.fcd_interval[0]:.0f}, {q.fcd_interval[1]:.0f}]" if q.fcd_interval else ""
    return f"{q.fcd:.1f}{spread}{interval}"


def _other(card: ModelCard) -> str:
    """The figures only some models have, in one cell."""
    m = card.metrics
    parts = []
    if card.family == "autoencoder" and m.recon_nats is not None:
        parts.append(f"reconstruction {m.recon_nats:.1f} nats")
    if m.iwae:
        parts.append("IWAE " + ", ".join(f"k={b.k:,}: {b.nll_nats:.2f}" for b in m.iwae))
    if m.elbo_nats is not None:
        parts.append(f"ELBO {m.elbo_nats:.2f}")
    if m.steps_curve:
        parts.append(
            "FCD by sampling steps: "
            + ", ".join(f"{p.steps:,} ({p.sampler.upper()}): {p.fcd:.1f}" for p in m.steps_curve)
        )
    if card.config.get("guidance") is not None and card.family == "diffusion":
        parts.append(f"guidance {card.config['guidance']:g}")
    if m.conditional_nll_nats is not None:
        parts.append(f"NLL given the class {m.conditional_nll_nats:.2f}")
    if m.test_accuracy is not None:
        parts.append(f"test accuracy {m.test_accuracy:.3f}")
    if m.fcd_floor is not None:
        f = m.fcd_floor
        parts.append(
            f"FCD floor {f.grayscale:.1f} ± {f.grayscale_std or 0:.1f} (grayscale), {f.binary:.1f} ± {f.binary_std or 0:.1f} (binary)"
        )
    validation = card.training.get("validation") or {}
    selection = card.training.get("selection") or {}
    if validation:
        choice = f"epoch {validation['best_epoch']} of {card.training['epochs']}"
        if len(selection.get("candidates", [])) > 1:
            chosen = selection["candidates"][selection["chosen"]]["overrides"]
            choice += ", " + ", ".join(f"{k} {v}" for k, v in chosen.items())
        parts.append(f"chosen on validation {validation['figure']}: {choice}")
    return "; ".join(parts)


def model_row(card: ModelCard) -> list[str]:
    m = card.metrics
    cnn, mlp = m.sample_quality.get("classifier"), m.sample_quality.get("mlp_classifier")
    has_nll = card.density != "none" and m.nll_nats is not None
    eight_bit = has_nll and m.likelihood_track == "8-bit"
    se = f" ± {m.nll_standard_error:.2f}" if m.nll_standard_error is not None else ""
    bits_se = f" ± {m.nll_standard_error / (784 * math.log(2)):.3f}" if m.nll_standard_error is not None else ""
    accuracy = NONE
    if cnn is not None and cnn.class_accuracy is not None:
        accuracy = f"{cnn.class_accuracy:.3f}" + (
            f" ± {cnn.class_accuracy_std:.3f}" if cnn.class_accuracy_std is not None else ""
        )
    seconds = card.comparison.sample_seconds_16 if card.comparison else None
    return [
        card.title,
        card.family,
        card.density,
        f"{m.nll_nats:.2f}{se} ({m.bits_per_dim:.4f})" if has_nll and not eight_bit else NONE,
        f"{m.bits_per_dim:.3f}{bits_se}" if eight_bit else NONE,
        _fcd(cnn),
        _fcd(mlp),
        accuracy,
        NONE if seconds is None else f"{seconds:.3f}",
        f"{card.parameters:,}",
        f"{sum(net.bytes for net in card.networks.values()) / 1e6:.2f}",
        f"{card.training_seconds / 60:.1f}",
        _other(card),
    ]


def model_table(export_dir: Path) -> str:
    """The markdown table of every shipped model, one row per model card."""
    lines = [_row(COLUMNS), "|" + "---|" * len(COLUMNS)]
    lines += [_row(model_row(card)) for card in model_cards(export_dir)]
    return "\n".join(lines)


def _row(cells) -> str:
    return "| " + " | ".join(cells) + " |"


def rankings(export_dir: Path) -> list[str]:
    """Sentences that rank the models by FCD under each judge and by likelihood, ties said as ties."""
    cards = model_cards(export_dir)
    lines = []
    judges = {c.name: c for c in cards if c.name in JUDGES}
    for name, judge in judges.items():
        if judge.metrics.fcd_floor is not None:
            f = judge.metrics.fcd_floor
            lines.append(
                f"- Floor, {JUDGES[name]}: {f.samples:,} real train digits per seed score {f.grayscale:.1f} ± "
                f"{f.grayscale_std or 0:.1f} against the grayscale test split and {f.binary:.1f} ± {f.binary_std or 0:.1f} "
                "against the binary one."
            )
    by_judge = {
        JUDGES[j]: {c.title: c.metrics.sample_quality[j] for c in cards if j in c.metrics.sample_quality}
        for j in JUDGES
    }
    for judge, qualities in by_judge.items():
        if qualities:
            lines.append(f"- Sample quality, {judge} (FCD, lower is better): {fcd_ranking(qualities)}.")
    lines += _firsts(by_judge) + _against_latent(cards, by_judge)
    if all(by_judge.values()):
        disagreements = judges_disagree(by_judge)
        lines.append(
            "- The two judges disagree on: " + "; ".join(disagreements) + "."
            if disagreements
            else "- The two judges never order a pair of models oppositely where both separate them."
        )
    for track in ("binary", "8-bit"):
        likely = sorted(
            (
                c
                for c in cards
                if c.metrics.test_nll_per_image is not None
                and c.metrics.nll_nats is not None
                and (c.metrics.likelihood_track or "binary") == track
            ),
            key=lambda c: c.metrics.nll_nats,
        )
        if likely:
            lines.append(_likelihood_line(likely, track))
    return lines


def _firsts(by_judge: dict[str, dict]) -> list[str]:
    """Which model draws the digits closest to the test split's, under each judge, with the models tied with it."""
    firsts = {}
    for judge, qualities in by_judge.items():
        if qualities:
            ranked = sorted(qualities.items(), key=lambda kv: kv[1].fcd)
            tied = [title for title, q in ranked[1:] if fcd_order(ranked[0][1], q) == 0]
            firsts[judge] = (ranked[0][0], tied)
    if not firsts:
        return []
    said = [f"{best} under the {judge}" + (f" (tied with {', '.join(tied)})" if tied else ", ahead of every other model")
            for judge, (best, tied) in firsts.items()]  # fmt: skip
    return [f"- First on sample quality: {'; '.join(said)}."]


def _against_latent(cards: list[ModelCard], by_judge: dict[str, dict]) -> list[str]:
    """The lecture's "good samples" for autoregressive models, checked: each one's FCD against the best
    latent-variable model's, under each judge."""
    judges = [j for j, q in by_judge.items() if q]
    if not judges:
        return []
    first = by_judge[judges[0]]
    latent = [c.title for c in cards if c.family == "latent-variable" and c.title in first]
    ar = [c.title for c in cards if c.family == "autoregressive" and all(c.title in by_judge[j] for j in judges)]
    if not latent or not ar:
        return []
    ref = min(latent, key=lambda t: first[t].fcd)
    if not all(ref in by_judge[j] for j in judges):
        return []
    words = {-1: "better", 0: "tied", 1: "worse"}
    said = []
    for title in ar:
        verdicts = {j: words[fcd_order(by_judge[j][title], by_judge[j][ref])] for j in judges}
        gap = first[title].fcd - first[ref].fcd  # by how much, on the first judge's scale
        by = f" (FCD {first[title].fcd:.1f}, {abs(gap):.1f} {'lower' if gap < 0 else 'higher'} under the {judges[0]})"
        if len(set(verdicts.values())) == 1:
            v = next(iter(verdicts.values()))
            said.append(f"{title}: {v} under {'both judges' if len(judges) == 2 else judges[0]}{by}")
        else:
            said.append(f"{title}: " + ", ".join(f"{v} under the {j}" for j, v in verdicts.items()) + by)
    return [
        f"- Autoregressive samples against the best latent-variable model's ({ref}, FCD {first[ref].fcd:.1f} under "
        f"the {judges[0]}): {'; '.join(said)}."
    ]


def _likelihood_line(likely: list[ModelCard], track: str) -> str:
    """One track's models by test NLL, ``<`` where the paired difference over the test digits separates them."""
    items = []
    for i, c in enumerate(likely):
        order = 0
        if i + 1 < len(likely):
            diff, half = nll_difference(c.metrics.test_nll_per_image, likely[i + 1].metrics.test_nll_per_image)
            order = -1 if diff + half < 0 else 0
        value = c.metrics.nll_nats if track == "binary" else c.metrics.bits_per_dim
        items.append((c.title + (" (a bound)" if c.density == "bound" else ""), value, order))
    unit = "nats per image" if track == "binary" else "bits per pixel"
    fmt = ",.1f" if track == "binary" else ".3f"  # as the table's columns
    return (
        f"- Likelihood on the {track} track (test NLL in {unit}, lower is better; `<` where the 95% interval of the "
        f"paired difference over the test digits excludes 0): {chain(items, fmt)}."
    )


def training_seconds(export_dir: Path) -> dict[str, float]:
    """The training time each part of what is shipped recorded, in seconds, by part."""
    export_dir = Path(export_dir)
    parts = {"image models": sum(card.training_seconds for card in model_cards(export_dir))}
    if (path := export_dir / "ganlab.json").is_file():
        parts["GAN lab"] = sum(run.seconds for run in load_study_card(path).runs)
    if (path := export_dir / "density.json").is_file():
        # Each model's own time: the card's "seconds" covers only the last run, which may have retrained
        # some sets and kept the others' entries.
        card = load_study_card(path)
        models = [m for entry in card.datasets_2d.values() for m in entry.models.values()]
        models += [entry.flow for entry in card.datasets_1d.values()]
        parts["toy densities"] = sum(m.training_seconds or 0.0 for m in models)
    if (path := export_dir / "features.json").is_file():
        parts["features study"] = load_study_card(path).seconds
    return parts


def total_hours(export_dir: Path) -> float:
    return sum(training_seconds(export_dir).values()) / 3600


def report(export_dir: Path) -> str:
    """The table, the rankings, then the total training time and its parts: what the README shows between
    its markers."""
    parts = training_seconds(export_dir)
    images = len(model_cards(export_dir))
    named = [f"{seconds / 3600:.2f} for the {images} {part}" if part == "image models" else
             f"{seconds / 3600:.2f} for the {part}" for part, seconds in parts.items()]  # fmt: skip
    total = f"Recorded training time of everything shipped: {total_hours(export_dir):.1f} hours ({', '.join(named)})."
    return "\n".join([model_table(export_dir), "", *rankings(export_dir), "", total])


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
