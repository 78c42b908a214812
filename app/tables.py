"""The one table of every model's card figures, which Home and Compare both show (each its own columns)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from inference.metrics import fcd_order, fcd_ranking, judges_disagree
from inference.registry import ModelEntry

DENSITY = {"exact": "exact", "bound": "bound (IWAE)", "none": "none"}
JUDGE = "classifier"  # the judge whose FCD the tables show first
JUDGES = {"classifier": "CNN judge", "mlp_classifier": "MLP judge"}


def _floor(entries: list[ModelEntry], judge: str, reference: str) -> float | None:
    card = next((e.card for e in entries if e.name == judge and e.card), None)
    floor = card.metrics.fcd_floor if card else None
    if floor is None:
        return None
    return floor.binary if "binary" in reference else floor.grayscale


def _interval(q) -> str | None:
    return f"[{q.fcd_interval[0]:.0f}, {q.fcd_interval[1]:.0f}]" if q is not None and q.fcd_interval else None


def model_table(entries: list[ModelEntry], every: list[ModelEntry] | None = None) -> pd.DataFrame:
    """One row per model from its card (figures on the fixed test split); ``every`` is where the judges'
    floors are looked up (default: the same entries)."""
    every = entries if every is None else every
    rows = []
    for e in entries:
        card = e.card
        m = card.metrics if card else None
        q = m.sample_quality.get(JUDGE) if m else None
        track = (m.likelihood_track or "binary") if m and m.nll_nats is not None else None
        binary, eight_bit = track == "binary", track == "8-bit"
        mlp = m.sample_quality.get("mlp_classifier") if m else None
        c = card.comparison if card else None
        accuracy = q.class_accuracy if q and q.class_accuracy is not None else (m.test_accuracy if m else None)
        rows.append(
            {
                "Model": e.title,
                "Family": card.family if card else None,
                "Density": DENSITY.get(card.density, card.density) if card else None,
                "NLL (nats)": m.nll_nats if binary else None,
                "Bits/dim": m.bits_per_dim if binary else None,
                "Bits/dim, 8-bit": m.bits_per_dim if eight_bit else None,
                "ELBO (nats)": m.elbo_nats if m else None,
                "Recon. (nats)": m.recon_nats if m else None,
                "NLL s.e.": m.nll_standard_error if m else None,
                "FCD": q.fcd if q else None,
                "FCD sd": q.fcd_std if q else None,
                "FCD 95% interval": _interval(q),
                "FCD floor": _floor(every, JUDGE, q.reference) if q else None,
                "FCD (MLP judge)": mlp.fcd if mlp else None,
                "MLP interval": _interval(mlp),
                "Class acc. (%)": 100 * accuracy if accuracy is not None else None,
                "Class acc. sd": 100 * q.class_accuracy_std if q and q.class_accuracy_std is not None else None,
                "16 samples (ms)": 1000 * c.sample_seconds_16 if c and c.sample_seconds_16 is not None else None,
                "64 samples (ms)": 1000 * c.sample_seconds_64 if c and c.sample_seconds_64 is not None else None,
                "Parameters": card.parameters if card else None,
                "ONNX (MB)": (c.onnx_bytes if c else sum(n.bytes for n in card.networks.values())) / 1e6
                if card
                else None,
                "Training (min)": card.training_seconds / 60 if card else None,
                "Status": "available" if e.available else f"unavailable: {e.problem}",
            }
        )
    return pd.DataFrame(rows)


COLUMNS = {
    "NLL (nats)": st.column_config.NumberColumn(
        format="%.2f",
        help="Binary track: -log p(x) per fixed-binary test image, nats: exact for autoregressive models, an IWAE "
        "bound for VAEs",
    ),
    "Bits/dim": st.column_config.NumberColumn(format="%.4f", help="Binary track: NLL / (784 ln 2)"),
    "Bits/dim, 8-bit": st.column_config.NumberColumn(
        format="%.3f",
        help="8-bit track: -log p(x) of the 500 test digits at their 256 grey levels, in bits per pixel (an autoregressive "
        "model's exact probability of the 256 levels, a flow's density of the dequantized digits, a diffusion model's "
        "variational bound). Not comparable with the binary track.",
    ),
    "ELBO (nats)": st.column_config.NumberColumn(format="%.2f", help="The VAE's training bound on the test split"),
    "Recon. (nats)": st.column_config.NumberColumn(format="%.1f", help="Bernoulli cross-entropy of the reconstruction"),
    "NLL s.e.": st.column_config.NumberColumn(
        format="%.2f", help="Standard error of the test NLL over the 500 test digits"
    ),
    "FCD": st.column_config.NumberColumn(
        format="%.1f",
        help="Frechet classifier distance of 1,000 samples to the test split in the CNN judge's features, mean over "
        "5 sample seeds (lower is better)",
    ),
    "FCD sd": st.column_config.NumberColumn(
        format="%.1f", help="Standard deviation of the FCD over the 5 sample seeds"
    ),
    "FCD 95% interval": st.column_config.TextColumn(
        help="95% bootstrap interval over the test digits; two models are ranked only where these do not overlap"
    ),
    "FCD floor": st.column_config.NumberColumn(
        format="%.1f", help="1,000 real train digits against the test split (mean over 5 draws): what real digits score"
    ),
    "FCD (MLP judge)": st.column_config.NumberColumn(
        format="%.1f", help="The same distance in a second judge's features: a multilayer perceptron on the pixels"
    ),
    "MLP interval": st.column_config.TextColumn(help="95% bootstrap interval of the MLP judge's FCD"),
    "Class acc. sd": st.column_config.NumberColumn(format="%.1f", help="Standard deviation over the 5 sample seeds"),
    "Class acc. (%)": st.column_config.NumberColumn(
        format="%.1f", help="Conditional models: samples classified as the class asked for. Classifiers: test accuracy."
    ),
    "16 samples (ms)": st.column_config.NumberColumn(format="%.1f"),
    "64 samples (ms)": st.column_config.NumberColumn(format="%.1f"),
    "Parameters": st.column_config.NumberColumn(format="localized"),
    "ONNX (MB)": st.column_config.NumberColumn(format="%.2f"),
    "Training (min)": st.column_config.NumberColumn(format="%.1f", help="On the machine in each card"),
}


MISSING = "—"  # a figure a model does not have


def show(table: pd.DataFrame, columns: list[str]) -> None:
    """The table with these columns, sortable, each with its unit and format (the column configs above); a figure a
    model does not have is a dash. (Streamlit 1.67 draws a Styler's values through the column configs, whose missing
    cells read "None": the dash is the grid's own placeholder.)"""
    config = {k: v for k, v in COLUMNS.items() if k in columns}
    st.dataframe(table[columns], hide_index=True, column_config=config, placeholder=MISSING)


def rankings(entries: list[ModelEntry]) -> list[str]:
    """Each judge's ranking by FCD, ties said as ties, and where the two judges disagree."""
    by_judge = {
        label: {
            e.title: e.card.metrics.sample_quality[j] for e in entries if e.card and j in e.card.metrics.sample_quality
        }
        for j, label in JUDGES.items()
    }
    lines = [f"**{label}**: {fcd_ranking(q)}." for label, q in by_judge.items() if len(q) > 1]
    if all(len(q) > 1 for q in by_judge.values()):
        disagreements = judges_disagree(by_judge)
        lines.append(
            "**The judges disagree** on: " + "; ".join(disagreements) + "."
            if disagreements
            else "The two judges never order two models oppositely where both separate them."
        )
    return lines


def against_latent(entries: list[ModelEntry], judge: str = "classifier") -> str | None:
    """The lecture's "good samples" for autoregressive models, checked on one judge: each one's FCD against the
    best latent-variable model's, by how much, and whether the 95% intervals separate them."""
    quality = {e.title: (e.card.family, e.card.metrics.sample_quality.get(judge)) for e in entries if e.card}
    latent = {t: q for t, (family, q) in quality.items() if family == "latent-variable" and q}
    ar = {t: q for t, (family, q) in quality.items() if family == "autoregressive" and q}
    if not latent or not ar:
        return None
    ref = min(latent, key=lambda t: latent[t].fcd)
    words = {-1: "better", 0: "tied: the intervals overlap", 1: "worse"}
    said = [
        f"{title} {q.fcd:.1f}, {abs(q.fcd - latent[ref].fcd):.1f} {'lower' if q.fcd < latent[ref].fcd else 'higher'} "
        f"({words[fcd_order(q, latent[ref])]})"
        for title, q in sorted(ar.items(), key=lambda item: item[1].fcd)
    ]
    return (
        f"**Autoregressive samples against the best latent-variable model's** ({ref}, FCD {latent[ref].fcd:.1f}, "
        f"{JUDGES[judge]}): " + "; ".join(said) + "."
    )


FAMILY_COLORS = {
    "autoencoder": "#8c8c8c",
    "latent-variable": "#4c9be8",
    "autoregressive": "#f2a541",
    "flow": "#9b6ee8",
    "diffusion": "#3cc8a0",
    "implicit": "#e8556a",
    "classifier": "#cccccc",
}


def family_color(title: str = "Family"):
    """One colour per family in every chart of the app."""
    import altair as alt

    return alt.Color(
        "Family:N", title=title, scale=alt.Scale(domain=list(FAMILY_COLORS), range=list(FAMILY_COLORS.values()))
    )
