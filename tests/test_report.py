"""The README's table of shipped models and its training time are what the cards say."""

import json
import shutil
from pathlib import Path

import pytest

from training import report

REPO = Path(__file__).resolve().parent.parent
EXPORTED = REPO / "exported"
README = (REPO / "README.md").read_text()
FIX = "run `python -m training report --readme README.md`"


def test_readme_table_is_the_report_from_the_cards():
    assert report.readme_block(README) == report.report(EXPORTED), f"README.md disagrees with the cards: {FIX}"


def test_readme_total_training_time_is_the_report():
    stated = report.TOTAL_HOURS.findall(README)
    assert stated == [f"{report.total_hours(EXPORTED):.1f}"], f"README.md's total training time is stale: {FIX}"


def test_every_model_card_has_a_row_and_every_study_its_time():
    cards = [p for p in EXPORTED.glob("*.json") if "networks" in json.loads(p.read_text())]
    rows = report.model_table(EXPORTED).splitlines()[2:]
    assert len(rows) == len(cards) >= 9
    assert all(row.count(" | ") == len(report.COLUMNS) - 1 for row in rows)
    assert set(report.training_seconds(EXPORTED)) == {"image models", "GAN lab", "toy densities", "features study"}


def test_a_changed_card_changes_the_report(tmp_path):
    for path in EXPORTED.glob("*.json"):
        shutil.copy(path, tmp_path)
    before = report.report(tmp_path)
    card = json.loads((tmp_path / "vae.json").read_text())
    card["metrics"]["nll_nats"] += 1.0
    card["training"]["seconds"] += 3600
    (tmp_path / "vae.json").write_text(json.dumps(card))
    after = report.report(tmp_path)
    assert f"{card['metrics']['nll_nats']:.2f} ±" in after and f"{card['metrics']['nll_nats']:.2f} ±" not in before
    assert report.total_hours(tmp_path) == pytest.approx(report.total_hours(EXPORTED) + 1.0)


def test_write_readme_replaces_only_the_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nTimes add up to 0.1 hours.\n\n{report.START}\nold table\n{report.END}\n\nafter\n")
    assert report.write_readme(readme, EXPORTED)
    text = readme.read_text()
    hours = f"{report.total_hours(EXPORTED):.1f}"
    assert text.startswith(f"# Title\n\nTimes add up to {hours} hours.\n\n")
    assert text.endswith(f"{report.END}\n\nafter\n")
    assert report.readme_block(text) == report.report(EXPORTED)
    assert not report.write_readme(readme, EXPORTED)


def test_comparing_sentences_follow_the_intervals():
    """The sentences that compare models are computed: who is first (and with whom tied), and each autoregressive
    model's samples against the best latent-variable model's, better / tied / worse by the intervals."""
    from types import SimpleNamespace

    from inference.cards import SampleQuality

    def q(fcd, half):
        return SampleQuality("j", "grayscale test split", 1000, (0,), fcd, 1.0, (fcd - half, fcd + half))

    by_judge = {
        "CNN judge": {"GAN": q(100, 5), "AR": q(103, 5), "VAE": q(200, 5), "AR2": q(300, 5)},
        "MLP judge": {"GAN": q(5, 0.5), "AR": q(7.5, 0.5), "VAE": q(9, 0.5), "AR2": q(9.2, 0.5)},
    }
    cards = [
        SimpleNamespace(title="GAN", family="implicit"),
        SimpleNamespace(title="VAE", family="latent-variable"),
        SimpleNamespace(title="AR", family="autoregressive"),
        SimpleNamespace(title="AR2", family="autoregressive"),
    ]
    assert report._firsts(by_judge) == [
        "- First on sample quality: GAN under the CNN judge (tied with AR); GAN under the MLP judge, ahead of every "
        "other model."
    ]
    assert report._against_latent(cards, by_judge) == [
        "- Autoregressive samples against the best latent-variable model's (VAE, FCD 200.0 under the CNN judge): "
        "AR: better under both judges (FCD 103.0, 97.0 lower under the CNN judge); "
        "AR2: worse under the CNN judge, tied under the MLP judge (FCD 300.0, 100.0 higher under the CNN judge)."
    ]
