"""Every page runs, and its main widgets can be driven, with no exception (streamlit AppTest)."""

import io
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from inference import EXPORTED_DIR

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "streamlit_app.py")
PAGES = [
    "app_pages/home.py",
    "app_pages/sample.py",
    "app_pages/diffusion.py",
    "app_pages/reconstruct.py",
    "app_pages/interpolate.py",
    "app_pages/complete.py",
    "app_pages/likelihood.py",
    "app_pages/pixel.py",
    "app_pages/gan_lab.py",
    "app_pages/features.py",
    "app_pages/compare.py",
    "app_pages/density_1d.py",
    "app_pages/density_2d.py",
    "app_pages/density_2d_yours.py",
    "app_pages/image_likelihood.py",
    "app_pages/latent.py",
]


def open_page(page: str, **state) -> AppTest:
    """A page after its first run; ``state``: session state set before it (a toggle's key and value, say)."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(page)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def images(at: AppTest) -> list:
    return list(at.get("image"))


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_without_exception(page):
    at = open_page(page)
    assert_clean(at)
    assert at.title, "every page opens with a title"
    assert at.caption, "and a one-line lesson"


def test_home_lists_every_shipped_model_and_the_judges_apart():
    at = open_page("app_pages/home.py")
    generative, judges = (set(frame.value["Model"]) for frame in at.dataframe)
    cards = [json.loads(p.read_text()) for p in EXPORTED_DIR.glob("*.json")]
    assert generative | judges == {c["title"] for c in cards if "networks" in c}
    assert judges == {c["title"] for c in cards if c.get("family") == "classifier"} and judges
    assert not generative & judges


@pytest.mark.slow
def test_sample_changes_with_model_and_seed_and_repeats_for_a_seed():
    at = open_page("app_pages/sample.py")
    assert_clean(at)
    grids = {}
    for i, title in enumerate(at.sidebar.selectbox(key="model").options):
        at.sidebar.selectbox(key="model").select_index(i).run()
        assert_clean(at)
        grids[title] = image_bytes(at)
    assert len(set(grids.values())) == len(grids), "each model draws its own samples"
    at.sidebar.number_input(key="seed").set_value(7).run()
    seven = image_bytes(at)
    at.sidebar.number_input(key="seed").set_value(8).run()
    assert image_bytes(at) != seven
    at.sidebar.number_input(key="seed").set_value(7).run()
    assert image_bytes(at) == seven, "the same seed gives the same pictures"
    at.sidebar.slider(key="n").set_value(64).run()
    vae = next(t for t in at.sidebar.selectbox(key="model").options if t.startswith("VAE"))
    at.sidebar.selectbox(key="model").set_value(vae).run()  # a decoder with pixel probabilities to flip
    at.sidebar.radio(key="show").set_value("binary").run()
    assert_clean(at)
    assert at.get("download_button")


def image_bytes(at: AppTest) -> bytes:
    """The first image element on the page, as the bytes the browser would get: every picture in it (a grid of
    digits is one element holding one picture per digit)."""
    from streamlit.runtime import Runtime

    urls = [i.url for i in images(at)[0].proto.imgs]
    media = Runtime.instance().media_file_mgr if Runtime.exists() else None
    if media is None:
        return "\n".join(urls).encode()
    return b"".join(media._storage.get_file(url.rsplit("/", 1)[-1].split(".")[0]).content for url in urls)


def png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def test_reconstruct_upload_png_and_non_image():
    at = open_page("app_pages/reconstruct.py")
    assert_clean(at)
    at.button_group(key="source").set_value("Upload").run()
    assert_clean(at)
    digit = np.full((120, 90), 255, np.uint8)
    digit[20:100, 40:55] = 0  # a dark "1" on white paper
    at.file_uploader(key="upload").set_value(("one.png", png(digit), "image/png")).run()
    assert_clean(at)
    assert len(images(at)) >= 4, "input plus one reconstruction per model"
    assert any("nats" in str(m.value) for m in at.metric)

    at.file_uploader(key="upload").set_value(("notes.png", b"this is text, not a picture", "image/png")).run()
    assert not at.exception
    assert at.error and "cannot be used" in at.error[0].value


def test_an_upload_shows_what_the_models_see_and_warns_when_it_is_not_a_digit():
    at = open_page("app_pages/reconstruct.py")
    at.button_group(key="source").set_value("Upload").run()
    picture = np.full((120, 90), 230, np.uint8)
    picture[10:110, 8:82] = 20  # almost all ink
    at.file_uploader(key="upload").set_value(("ink.png", png(picture), "image/png")).run()
    assert_clean(at)
    assert at.warning and "does not look like a digit" in at.warning[0].value
    assert any("What the models see" in c for c in image_captions(at))
    models = len(at.metric)  # one figure per model: AE, VAE, 2-d VAE, and the flow ("exact")
    assert models >= 4 and len(images(at)) == 1 + models, "the 28 x 28 once (not again by the page), one per model"
    assert images(at)[0].proto.imgs[0].url.endswith(".png"), "lossless, so its nearest-neighbour blocks stay crisp"
    digit = np.full((120, 90), 255, np.uint8)
    digit[20:100, 40:55] = 0  # a dark "1" on white paper
    at.file_uploader(key="upload").set_value(("one.png", png(digit), "image/png")).run()
    assert_clean(at)
    assert not at.warning, "a new file clears the last one's warning"


def image_captions(at: AppTest) -> list[str]:
    return [img.caption for element in images(at) for img in element.proto.imgs]


def test_reconstruct_sentence_follows_the_figures_shown():
    """The sentence ranks the models as the metrics beside it do, on a digit the autoencoder wins and on one
    the VAE wins, instead of saying the autoencoder "usually reconstructs best"."""
    at = open_page("app_pages/reconstruct.py")
    winners = set()
    for index in (0, 7):
        at.number_input(key="digit_index").set_value(index).run()
        assert_clean(at)
        titles = image_captions(at)[1:]  # after the input, one reconstruction per model
        shown = dict(zip(titles, (m.value for m in at.metric), strict=True))
        exact = [t for t, v in shown.items() if v == "exact"]  # a flow is invertible: it is not ranked by error
        assert exact and any(f"The {exact[0]} is a flow" in c.value for c in at.caption)
        figures = {t: float(v.split()[0]) for t, v in shown.items() if v != "exact"}
        sentence = next(c.value for c in at.caption if c.value.startswith("Reconstruction error on this digit"))
        first = sentence.split(" nats.")[0]
        assert sorted(figures, key=lambda t: first.index(t)) == sorted(figures, key=figures.get), sentence
        winners.add(min(figures, key=figures.get))
        assert "usually" not in sentence
    assert len(winners) == 2, "digits 0 and 7 are won by different models"


def test_reconstruct_test_digit_random_button():
    from inference import load_test_digits

    labels = load_test_digits().labels
    at = open_page("app_pages/reconstruct.py")
    at.number_input(key="digit_index").set_value(499).run()
    assert_clean(at)
    assert any("test digit 499, a 9" in c for c in image_captions(at)), "the input shown is the digit asked for"
    drawn = set()
    for _ in range(3):
        at.button(key="digit_index_random").click().run()
        assert_clean(at)
        index = int(at.number_input(key="digit_index").value)
        drawn.add(index)
        assert any(f"test digit {index}, a {labels[index]}" in c for c in image_captions(at))
    assert drawn != {499}, "the random button picks other digits"


def test_interpolate_kinds_and_endpoints():
    at = open_page("app_pages/interpolate.py")
    assert_clean(at)
    at.sidebar.radio(key="kind").set_value("slerp").run()
    assert_clean(at)
    at.sidebar.radio(key="endpoints").set_value("Two random codes").run()
    assert_clean(at)
    at.sidebar.slider(key="steps").set_value(16).run()
    assert_clean(at)
    at.slider(key="span").set_value(2.0).run()
    assert_clean(at)


def test_interpolate_manifold_dots_can_be_hidden():
    """The test codes' dots over the 2-d VAE's manifold are a toggle: off, the picture is the decoded grid alone."""
    at = open_page("app_pages/interpolate.py")
    with_dots = images(at)[-1].proto.imgs[0].url  # media URLs are content hashes
    at.toggle(key="manifold_dots").set_value(False).run()
    assert_clean(at)
    assert images(at)[-1].proto.imgs[0].url != with_dots


def select_model(at: AppTest, title: str) -> AppTest:
    box = at.sidebar.selectbox(key="model")
    return box.select_index(box.options.index(title)).run()


@pytest.mark.slow
def test_sample_autoregressive_models_with_both_samplers_and_a_class():
    at = open_page("app_pages/sample.py")
    select_model(at, "Gated PixelCNN, class-conditional")
    assert_clean(at)
    at.sidebar.slider(key="n").set_value(4).run()
    at.sidebar.selectbox(key="digit_class").set_value(7).run()
    assert_clean(at)
    assert any("fast sampler" in c.value for c in at.caption)
    at.sidebar.radio(key="sampler").set_value("naive").run()
    assert_clean(at)
    assert any("784 of them" in i.value for i in at.info), "before the naive sampler starts, it says how long"
    at.button(key="naive_go").click().run()
    assert_clean(at)
    assert any("times faster" in i.value for i in at.info), "after both samplers ran, their times are compared"
    for title in ("PixelCNN", "PixelRNN (Row LSTM)", "PixelRNN (Diagonal BiLSTM)"):
        select_model(at, title)
        assert_clean(at)
    at.sidebar.toggle(key="show_order").set_value(False).run()
    assert_clean(at)


def test_sample_the_multiscale_model_level_by_level():
    at = open_page("app_pages/sample.py")
    select_model(at, "PixelCNN, multi-scale (8-bit)")
    at.sidebar.slider(key="n").set_value(4).run()
    assert_clean(at)
    assert any("55 sequential steps instead of 784" in c.value for c in at.caption)
    assert any("coarse to fine, 55 sequential steps in" in c.value for c in at.caption), "the result says its steps"
    first = image_bytes(at)
    at.sidebar.toggle(key="show_levels").set_value(False).run()
    assert_clean(at)
    assert image_bytes(at) == first, "the same seed gives the same picture, shown or not"


@pytest.mark.parametrize("on_server", [True, False])
def test_complete_page_hides_and_fills(on_server):
    """On the server (the path where the browser cannot), and with the completions drawn in the browser (the page
    sends them to the rows view: tests/test_live.py holds its arguments to the models' own)."""
    at = open_page("app_pages/complete.py", complete_on_server=on_server)
    assert_clean(at)
    if on_server:
        assert len(images(at)) >= 4, "the masked input and one row per autoregressive model"
    else:
        shown = len(images(at))  # the masked input, binarized and at 256 grey levels
        assert shown == 2 and len(at.get("component_instance")) == 1, "the masked inputs, and the rows view"
    for kind in ("right", "rows"):
        at.sidebar.radio(key="hide").set_value(kind).run()
        assert_clean(at)
    at.sidebar.slider(key="hide_rows").set_value(20).run()
    at.sidebar.slider(key="completions").set_value(2).run()
    assert_clean(at)
    at.button_group(key="source").set_value("Upload").run()
    digit = np.full((120, 90), 255, np.uint8)
    digit[20:100, 40:55] = 0
    at.file_uploader(key="upload").set_value(("one.png", png(digit), "image/png")).run()
    assert_clean(at)
    at.sidebar.selectbox(key="complete_class").set_value(1).run()
    assert_clean(at)


def test_complete_draws_each_setting_once_for_every_session(monkeypatch):
    """A class opening Complete: its defaults were drawn at export; the first session to ask for another seed draws
    the completions, the next ones get them from the cache, with the time they took to draw."""
    from app import models
    from inference.autoregressive import Autoregressive

    models._completion.clear()
    calls, real = [], Autoregressive.complete

    def counted(self, *args, **kwargs):
        calls.append(self.card.name)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Autoregressive, "complete", counted)
    first = open_page("app_pages/complete.py", complete_on_server=True)
    assert_clean(first)
    assert calls == [], "the defaults' completions are stored at export"
    first.sidebar.number_input(key="seed").set_value(9).run()
    assert_clean(first)
    drawn = len(calls)
    assert drawn >= 4, "every autoregressive model completes the digit"
    second = open_page("app_pages/complete.py", complete_on_server=True)
    second.sidebar.number_input(key="seed").set_value(9).run()
    assert_clean(second)
    assert len(calls) == drawn, "the second session draws nothing"
    assert sum("drawn in" in c.value for c in second.caption) == drawn


def test_likelihood_page_maps_and_distribution():
    at = open_page("app_pages/likelihood.py")
    assert_clean(at)
    assert len(at.metric) == 4 and all("nats" in m.value for m in at.metric), "PixelCNN, Gated, Row LSTM, Diagonal"
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    at.number_input(key="digit_index").set_value(123).run()
    assert_clean(at)


def test_likelihood_page_keeps_the_two_tracks_apart():
    """The 8-bit track shows the 8-bit models alone, on the digit at 256 levels; never mixed with the binary ones."""
    at = open_page("app_pages/likelihood.py")
    at.sidebar.button_group(key="likelihood_track").set_value("grayscale").run()
    assert_clean(at)
    assert len(at.metric) == 3, "PixelCNN++, its softmax twin and the multi-scale model"
    assert any("coarse to fine" in c.value for c in at.caption), "the multi-scale model says its order"
    assert any("8-bit test digits" in c.value for c in at.caption), "the histograms are of the 8-bit split"
    at = open_page("app_pages/image_likelihood.py")
    at.sidebar.button_group(key="likelihood_track").set_value("grayscale").run()
    assert_clean(at)
    columns = set(at.dataframe[0].value.columns)
    assert {"PixelCNN++ (8-bit)", "PixelCNN, 256-way softmax (8-bit)"} <= columns
    assert not columns & {"PixelCNN", "VAE, 16-d latent"}, "no binary model on the 8-bit track"
    assert "noise, uniform levels" in at.dataframe[0].value.index


def test_one_pixel_page_shows_each_models_distribution():
    at = open_page("app_pages/pixel.py")
    assert_clean(at)
    specs = chart_specs(at)
    assert len(specs) == 3, "one chart per 8-bit model"
    mixtures = [[v for v in layers_of(s) if v["mark"]["type"] == "line"] for s in specs]
    mixtures = [m for m in mixtures if m]
    assert len(mixtures) == 2, "PixelCNN++ and the multi-scale model: a logistic mixture each"
    assert all(m[0]["encoding"]["color"]["title"] == "Logistic component" for m in mixtures)
    bars = [s for s in specs if any(v["mark"]["type"] == "bar" for v in layers_of(s))]
    assert len(bars) == 1, "the softmax: 256 bars"
    assert all("grey level" in layers_of(s)[0]["encoding"]["x"]["title"] for s in specs), "units on the axis"
    at.sidebar.slider(key="pixel_row").set_value(20).run()
    at.sidebar.slider(key="pixel_col").set_value(3).run()
    at.sidebar.toggle(key="pixel_log").set_value(True).run()
    assert_clean(at)
    assert sum("the true one" in c.value for c in at.caption) == 3
    assert any("coarse to fine, not raster" in c.value and "(20, 3)" in c.value for c in at.caption)


def test_sample_and_complete_with_an_eight_bit_model():
    at = open_page("app_pages/sample.py")
    select_model(at, "PixelCNN++ (8-bit)")
    at.sidebar.slider(key="n").set_value(2).run()
    assert_clean(at)
    assert any("256 grey levels" in c.value for c in at.caption) and any("fast sampler" in c.value for c in at.caption)
    at = open_page("app_pages/complete.py", complete_on_server=True)
    at.sidebar.slider(key="completions").set_value(1).run()
    assert_clean(at)
    assert any("256 grey levels)" in c.value for c in at.caption), "an 8-bit model completes the 8-bit digit"


@pytest.mark.slow
def test_gan_lab_scrub_play_and_datasets():
    at = open_page("app_pages/gan_lab.py")
    assert_clean(at)
    assert len(images(at)) == 2, "the stable and the collapsing run side by side"
    at.slider(key="lab_frame").set_value(0).run()
    assert_clean(at)
    at.button(key="lab_play").click().run()
    assert_clean(at)
    for option in at.sidebar.selectbox(key="lab_data").options:
        at.sidebar.selectbox(key="lab_data").set_value(option).run()
        assert_clean(at)
    at.sidebar.toggle(key="lab_mesh").set_value(False).run()
    assert_clean(at)


def test_gan_lab_slider_counts_training_steps_and_follows_play_to_the_end():
    from inference.ganlab import load_lab

    steps = [int(t) for t in load_lab()[0][0].steps]
    at = open_page("app_pages/gan_lab.py")
    slider = at.slider(key="lab_frame")
    assert (slider.min, slider.max, slider.step) == (0, steps[-1], steps[1] - steps[0]), "the plots' unit"
    assert slider.value == steps[-1]
    slider.set_value(steps[-5]).run()
    assert_clean(at)
    at.button(key="lab_play").click().run()
    assert_clean(at)
    assert at.slider(key="lab_frame").value == steps[-1], "the slider followed the frames to the last one"
    assert len(images(at)) == 2 and at.button(key="lab_play")


def test_compare_page_lists_every_card_and_drives_its_controls():
    at = open_page("app_pages/compare.py")
    assert_clean(at)
    cards = [json.loads(p.read_text()) for p in EXPORTED_DIR.glob("*.json")]
    titles = {c["title"] for c in cards if "networks" in c}
    assert set(at.dataframe[0].value["Model"]) == titles, "every exported card appears on the page"
    # a figure a model does not have (a GAN's NLL) shows as a dash: Streamlit's grid writes "None" unless told
    assert at.dataframe[0].value["NLL (nats)"].isna().any()
    assert all(table.proto.placeholder == "—" for table in at.dataframe)
    # the lecture's "good samples" checked: every autoregressive model's FCD against the best latent-variable one's
    verdict = next(m.value for m in at.markdown if "Autoregressive samples against" in m.value)
    for c in cards:
        if c.get("family") == "autoregressive":
            fcd = c["metrics"]["sample_quality"]["classifier"]["fcd"]
            assert f"{c['title']} {fcd:.1f}, " in verdict, c["title"]
    at.sidebar.number_input(key="seed").set_value(5).run()
    assert_clean(at)
    at.sidebar.multiselect(key="compare_models").set_value(["vae", "pixelcnn"]).run()
    assert_clean(at)
    assert set(at.dataframe[0].value["Model"]) == {"VAE, 16-d latent", "PixelCNN"}


def test_features_page():
    at = open_page("app_pages/features.py")
    assert_clean(at)
    assert any("percentage points" in c.value for c in at.caption)
    at.number_input(key="digit_index").set_value(7).run()
    assert_clean(at)


@pytest.mark.parametrize(
    "text,message", [("1, 2, nan, 4, 5, 6, 7, 8, 9, 10", "NaN"), ("1\n2\nhello\n4", "line 3"), ("1, 2", "too few")]
)
def test_density_1d_user_values_and_bad_values(text, message):
    at = open_page("app_pages/density_1d.py")
    assert_clean(at)
    for source in at.sidebar.selectbox(key="d1_data").options:
        at.sidebar.selectbox(key="d1_data").set_value(source).run()
        assert_clean(at)
    at.sidebar.slider(key="d1_k").set_value(4).run()
    at.sidebar.slider(key="d1_bins").set_value(60).run()
    assert_clean(at)
    at.text_area(key="d1_text").set_value(text).run()
    assert not at.exception
    assert at.error and message in at.error[0].value


def as_the_browser_sends(slider, end: str) -> float:
    """The value the browser sends for a slider's leftmost or rightmost position.

    The front end (react-aria's snapValueToStep) snaps to min + k * step and rounds the result to the
    step's decimals plus one; AppTest's set_value sends a number exactly, so without this a test cannot
    see a bound that the browser never sends back (Scott's rule / 10 = 0.0634 arrives as 0.063)."""
    step = float(slider.step)
    text = repr(step)
    precision = len(text) - text.index(".") if "." in text else 0

    def rounded(x: float) -> float:
        return round(x * 10**precision) / 10**precision if precision else x

    lo, hi = float(slider.min), float(slider.max)
    return rounded(lo) if end == "min" else rounded(lo + math.floor(rounded((hi - lo) / step)) * step)


@pytest.mark.parametrize("source", ["gap", "skewed"])
def test_density_1d_table_follows_every_slider_extreme_after_switching_data(source):
    """The table's live estimates are those of the sliders' values, at each end of each slider, after a switch
    of data set (the bandwidth slider's range and key depend on the data)."""
    from inference import density
    from inference.toy import TOYS_1D

    at = open_page("app_pages/density_1d.py")
    at.sidebar.selectbox(key="d1_data").set_value(source).run()
    assert_clean(at)
    truth = TOYS_1D[source]
    train = truth.sample(1000, 0).astype(np.float64)
    held = truth.sample(10_000, 12345).astype(np.float64)

    def table() -> dict[str, float]:
        frame = at.dataframe[0].value
        return dict(zip(frame["Estimate"], frame["Held-out log-likelihood (nats per point)"], strict=True))

    bandwidth = float(at.sidebar.slider(key=f"d1_bw_{source}").value)
    bins, components = 30, 2
    for key in ("d1_bins", "d1_k", f"d1_bw_{source}"):
        for end in ("min", "max"):
            slider = at.sidebar.slider(key=key)
            value = as_the_browser_sends(slider, end)
            slider.set_value(value).run()
            assert_clean(at)
            if key == "d1_bins":
                bins = int(value)
            elif key == "d1_k":
                components = int(value)
            else:
                bandwidth = value
            got = table()
            kde = float(np.mean(density.kde_log_density(train, held, bandwidth)))
            assert got["Kernel density (KDE)"] == pytest.approx(kde, abs=1e-9), (key, end, value)
            hist = float(np.mean(density.histogram_log_density(train, held, bins)))
            assert got["Histogram"] == pytest.approx(hist, abs=1e-9), (key, end, value)
            em = float(np.mean(density.fit_gmm(train, components).log_density(held)))
            assert got[f"Gaussian mixture, EM (K={components})"] == pytest.approx(em, abs=1e-9), (key, end, value)
    assert bandwidth == at.sidebar.slider(key=f"d1_bw_{source}").value, "the slider's value is the one sent"


def test_density_1d_csv_upload():
    at = open_page("app_pages/density_1d.py")
    at.sidebar.selectbox(key="d1_data").set_value("yours").run()
    csv = "name,value\n" + "\n".join(f"p{i},{v:.3f}" for i, v in enumerate(np.random.default_rng(0).normal(size=200)))
    at.file_uploader(key="d1_upload").set_value(("values.csv", csv.encode(), "text/csv")).run()
    assert_clean(at)
    at.file_uploader(key="d1_upload").set_value(("bad.csv", b"a,b\nx,y\nz,w", "text/csv")).run()
    assert not at.exception and at.error


def test_density_2d_toy_sets():
    at = open_page("app_pages/density_2d.py")
    assert_clean(at)
    assert len(at.dataframe) == 1 and "True density (ceiling)" in set(at.dataframe[0].value["Model"])
    at.sidebar.selectbox(key="d2_data").set_value("ring8").run()
    at.sidebar.toggle(key="d2_samples").set_value(False).run()
    assert_clean(at)
    assert len(images(at)) >= 5, "the true density and one map per trained model"


def test_density_2d_user_points():
    at = open_page("app_pages/density_2d_yours.py")
    assert_clean(at)
    assert set(at.dataframe[0].value["Model"]) == {"Gaussian mixture, EM (K=8)", "Kernel density (KDE)"}
    at.sidebar.slider(key="d2_k").set_value(3).run()
    assert_clean(at)
    at.text_area(key="d2_text").set_value("1, 2\n3, nan\n" + "\n".join(f"{i}, {i % 3}" for i in range(20))).run()
    assert not at.exception and at.error and "NaN" in at.error[0].value


def test_out_of_distribution_and_latent_pages():
    at = open_page("app_pages/image_likelihood.py")
    assert_clean(at)
    assert any("known finding" in c.value for c in at.caption)
    at = open_page("app_pages/latent.py")
    assert_clean(at)
    names = " | ".join(at.dataframe[0].value["Representation"])
    assert all(n in names for n in ("Raw pixels", "Autoencoder", "VAE", "flow")), names
    at.sidebar.number_input(key="seed").set_value(2).run()
    assert_clean(at)


def chart_specs(at: AppTest) -> list[dict]:
    """Each Altair chart's Vega-Lite spec, with its data sets (sent beside it as Arrow) under "datasets"."""
    import pyarrow as pa

    specs = []
    for chart in at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        spec["datasets"] = {
            d.name: pa.ipc.open_stream(d.data.data).read_all().to_pylist() for d in chart.proto.datasets
        }
        specs.append(spec)
    return specs


def layers_of(spec: dict) -> list[dict]:
    """Every single view in a (possibly concatenated, layered) Vega-Lite spec."""
    out = []
    for part in spec.get("vconcat", []) + spec.get("layer", []):
        out += layers_of(part)
    return out or [spec]


def test_out_of_distribution_axes_show_the_test_digits_and_mark_far_probes():
    at = open_page("app_pages/image_likelihood.py")
    assert_clean(at)
    specs = chart_specs(at)  # one chart per model, the probes' legend under the last
    probes = at.dataframe[0].value  # bits/dim: one row per probe, one column per model
    assert len(specs) == len(probes.columns) >= 2
    legends = [v["encoding"]["color"].get("legend") for v in layers_of(specs[-1]) if "color" in v["encoding"]]
    assert legends and all(legend["labelLimit"] == 0 for legend in legends), "the legend is whole"
    assert all(
        v["encoding"]["color"].get("legend", {}) is None
        for s in specs[:-1]
        for v in layers_of(s)
        if "color" in v["encoding"]
    ), "one legend, not one per chart"
    for spec in specs:
        model = spec["title"]["text"]
        views = layers_of(spec)
        domain = views[0]["encoding"]["x"]["scale"]["domain"]
        beyond = [v for v in probes[model].items() if not domain[0] <= v[1] <= domain[1]]
        assert domain[1] - domain[0] < 2, f"{model}: the axis spans the test digits, not the far probes"
        labels = {row["label"] for v in views if v.get("mark", {}).get("type") == "text" for row in spec_rows(spec, v)}
        for probe, value in beyond:
            assert any(probe in label and f"{value:.2f}" in label for label in labels), (model, probe, labels)


def spec_rows(spec: dict, view: dict) -> list[dict]:
    return spec["datasets"][view["data"]["name"]]


def test_learned_features_lines_differ_in_colour_and_dash_and_are_labelled():
    at = open_page("app_pages/features.py")
    assert_clean(at)
    spec = chart_specs(at)[0]
    views = layers_of(spec)
    line = next(v for v in views if v["mark"]["type"] == "line")
    colours, dashes = line["encoding"]["color"]["scale"]["range"], line["encoding"]["strokeDash"]["scale"]["range"]
    names = line["encoding"]["color"]["scale"]["domain"]
    assert len(set(colours)) == len(names) == 6
    assert (
        len({(c, tuple(d)) for c, d in zip(colours, dashes, strict=True)}) == 6 and len({tuple(d) for d in dashes}) > 2
    )
    text = next(v for v in views if v["mark"]["type"] == "text")
    labels = [row["label"] for row in spec_rows(spec, text)]
    assert all(any(label.startswith(name) for label in labels) for name in names), "every method named in full"


def test_latent_plots_use_a_ten_class_palette_and_say_codes_once():
    at = open_page("app_pages/latent.py")
    assert_clean(at)
    for spec in chart_specs(at):
        assert spec["encoding"]["color"]["scale"]["scheme"] == "tableau10"
        assert "code codes" not in spec["title"]["text"]
    assert not any("code codes" in str(v) for v in at.dataframe[0].value["Representation"])


@pytest.mark.slow
def test_a_broken_model_is_reported_and_the_rest_works(tmp_path, monkeypatch):
    folder = tmp_path / "exported"
    shutil.copytree(EXPORTED_DIR, folder)
    (folder / "ae_decoder.onnx").write_bytes(b"corrupt")
    monkeypatch.setenv("GENLAB_EXPORTED_DIR", str(folder))
    for page in PAGES:
        at = open_page(page)
        assert not at.exception, (page, [e.value for e in at.exception])
    at = open_page("app_pages/home.py")
    assert "unavailable" in " ".join(at.dataframe[0].value["Status"])
    at = open_page("app_pages/sample.py")
    warnings = " ".join(w.value for w in at.sidebar.warning)
    assert "Autoencoder" in warnings and "sha256" in warnings
    assert "Autoencoder, 16-d code" not in at.sidebar.selectbox(key="model").options
    assert images(at)


@pytest.mark.slow
def test_no_models_at_all_gives_a_message(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_EXPORTED_DIR", str(tmp_path))
    for page in PAGES:
        at = open_page(page)
        assert not at.exception, (page, [e.value for e in at.exception])
    at = open_page("app_pages/sample.py")
    assert at.info and "python -m training all" in at.info[0].value


def test_diffusion_page_scrubs_plays_and_changes_settings():
    at = open_page("app_pages/diffusion.py")
    assert_clean(at)
    assert len(images(at)) >= 3, "x_t, x-hat_0 and the forward process"
    last = image_bytes(at)
    at.slider(key="diffusion_frame").set_value(0).run()
    assert_clean(at)
    assert image_bytes(at) != last, "the first frame is the noise, not the digit"
    at.button(key="diffusion_play").click().run()
    assert_clean(at)
    at.sidebar.selectbox(key="diffusion_class").set_value(7).run()
    at.sidebar.slider(key="diffusion_page_guidance").set_value(0.0).run()
    assert_clean(at)


def test_the_app_logs_each_script_run_with_its_page_when_asked(monkeypatch, tmp_path):
    """benchmarks/concurrency.py reads the server's own time per run from this log (GENLAB_RUN_LOG)."""
    log = tmp_path / "runs.jsonl"
    monkeypatch.setenv("GENLAB_RUN_LOG", str(log))
    at = open_page("app_pages/sample.py")
    at.sidebar.number_input(key="seed").set_value(3).run()
    runs = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["page"] for r in runs] == ["home", "sample", "sample"]
    assert all(r["outcome"] == "ok" and r["seconds"] > 0 for r in runs)


def test_density_1d_keeps_the_kde_when_only_the_mixture_changes(record_calls):
    """The KDE (a Gaussian on every training value, at 600 points and at the held-out ones) is the page's costliest
    curve: a control that does not change it (EM's K, the bins) reruns the page without recomputing it."""
    import streamlit as st

    from inference import density

    st.cache_data.clear()  # what earlier tests computed on this page
    at = open_page("app_pages/density_1d.py")
    assert_clean(at)
    calls = record_calls(density, "kde_log_density")
    at.sidebar.slider(key="d1_k").set_value(4).run()
    at.sidebar.slider(key="d1_bins").set_value(40).run()
    assert_clean(at)
    assert calls == [], "the KDE was recomputed for a control it does not depend on"
    at.sidebar.selectbox(key="d1_data").set_value(at.sidebar.selectbox(key="d1_data").options[1]).run()
    assert_clean(at)
    assert calls, "another data set does recompute it"
