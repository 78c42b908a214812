"""The Live page without a browser: what the component is sent, the server path of every view, the vendored
onnxruntime-web files, and the numpy figures the browser is held to (tests/test_browser.py drives the browser)."""

import hashlib
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from inference import images as img
from inference import live, load_model, load_test_digits, scan

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "streamlit_app.py")
BROWSER = REPO / "app" / "browser"
ORT = BROWSER / "vendor" / "onnxruntime-web"


def open_page(page: str, query: dict | None = None, state: dict | None = None) -> AppTest:
    """A page of the component's (Live, Compare, Complete) after its first run, opened by a link with ``query``
    and with ``state`` in the session (a toggle's key and value); it ran without an error."""
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page(f"app_pages/{page}.py")
    for key, value in (query or {}).items():
        at.query_params[key] = str(value)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def open_live(view: str, on_server: bool = False, seed: int | None = None) -> AppTest:
    return open_page("live", {"view": view} | ({} if seed is None else {"seed": seed}), {"on_server": on_server})


def component_args(at: AppTest) -> dict:
    (element,) = at.get("component_instance")
    args = json.loads(element.proto.json_args)
    args.update({special.key: special.bytes for special in element.proto.special_args})
    return args


# ---- the vendored runtime ------------------------------------------------------------------------------------


def test_vendored_onnxruntime_web_is_the_pinned_release_and_within_the_budget():
    sums = dict(reversed(line.split("  ")) for line in (ORT / "SHA256SUMS").read_text().splitlines())
    assert set(sums) == {"ort.wasm-core.min.js", "ort-wasm-simd.wasm"}, "one JS bundle, one single-threaded wasm"
    for name, digest in sums.items():
        assert hashlib.sha256((ORT / name).read_bytes()).hexdigest() == digest, f"{name} differs from SHA256SUMS"
    pinned = re.search(r"^VERSION=(\S+)$", (REPO / "scripts" / "fetch_onnxruntime_web.sh").read_text(), re.M).group(1)
    assert (ORT / "VERSION").read_text().strip() == pinned
    assert f"ONNX Runtime Web v{pinned}" in (ORT / "ort.wasm-core.min.js").read_text()[:200]
    assert "MIT License" in (ORT / "LICENSE").read_text()
    added = sum(p.stat().st_size for p in BROWSER.rglob("*") if p.is_file())
    assert added <= 20 * 2**20, f"the browser side adds {added / 2**20:.1f} MB; the budget is 20 MB"


def test_the_component_loads_nothing_from_elsewhere():
    """No CDN: every script, stylesheet and fetch in the component is relative to its own folder."""
    for path in [*BROWSER.glob("*.html"), *BROWSER.glob("*.js"), *BROWSER.glob("views/*.js"), *BROWSER.glob("*.css")]:
        assert not re.search(r"https?://", path.read_text()), f"{path.name} names an absolute URL"


# ---- the figures the browser is held to ------------------------------------------------------------------------


def test_plane_grid_runs_row_by_row_from_the_top_left():
    grid = live.plane_grid(extent=4.0, cells=16)
    assert grid.shape == (256, 2) and grid.dtype == np.float32
    assert grid[0].tolist() == [-3.75, 3.75] and grid[15].tolist() == [3.75, 3.75]
    assert grid[-1].tolist() == [3.75, -3.75]


def test_principal_directions_span_the_codes():
    codes = np.random.default_rng(0).standard_normal((200, 16)) * np.linspace(3, 0.1, 16)
    d = live.principal_directions(codes, k=4)
    assert np.allclose(d.directions @ d.directions.T, np.eye(4), atol=1e-9)
    scores = (codes - d.mean) @ d.directions.T
    assert np.allclose(scores.std(0, ddof=1), d.scales)
    assert np.allclose(d.code([1, 0, 0, 0]), d.mean + d.scales[0] * d.directions[0], atol=1e-5)


def test_sampler_uniforms_are_the_samplers_own():
    """The browser's samples equal the server's only if it gets the very uniforms the sampler draws: with them
    fixed, a PixelCNN sample is a deterministic function of the logits."""
    model = load_model("pixelcnn")
    samples, logits = model.sample(2, seed=5, record_logits=True)
    uniforms = live.sampler_uniforms(2, 5)
    p = 0.5 * (1 + np.tanh(0.5 * logits))
    assert np.array_equal(samples, (uniforms < p).astype(np.float32))
    assert np.array_equal(img.binarize(np.full((28, 28), 0.5)), (live.binarize_uniforms() < 0.5).astype(np.float32))


def test_pad_figures_are_the_models_own():
    digits = load_test_digits()
    image = digits.gray(3)
    ae, vae, judge, pixelcnn = (load_model(n) for n in ("ae", "vae", "classifier", "pixelcnn"))
    f = live.pad_figures(image, [ae, vae], judge, pixelcnn)
    assert [r.title for r in f.reconstructions] == [ae.title, vae.title]
    assert np.allclose(f.reconstructions[1].image, vae.reconstruct(image)[0])
    assert math.isclose(f.reconstructions[0].nats, float(ae.reconstruction_error(image)[0]), rel_tol=1e-6)
    assert f.probabilities.shape == (10,) and math.isclose(f.probabilities.sum(), 1, rel_tol=1e-9)
    assert int(f.probabilities.argmax()) == int(judge.predict(image[None])[0])
    assert math.isclose(f.nats, -float(pixelcnn.log_prob(img.binarize(image)[None])[0]), rel_tol=1e-5)
    assert math.isclose(f.bits_per_dim, f.nats / (784 * math.log(2)))


# ---- the page ------------------------------------------------------------------------------------------------------


def test_latent_view_sends_the_plane_and_the_directions():
    at = open_live("latent")
    args = component_args(at)
    assert args["view"] == "latent" and args["key"] == "live"
    codes = np.frombuffer(args["plane_codes"], "<f4").reshape(-1, 2)
    assert len(codes) == len(args["plane"]["labels"]) == 500
    assert np.abs(codes).max() < args["plane"]["extent"], "every test code lies on the plane"
    vae2d = scan()["vae2d"].card
    assert args["plane"]["net"]["file"] == vae2d.networks["decoder"].file
    assert args["plane"]["net"]["sha256"] == vae2d.networks["decoder"].sha256
    assert [m["title"] for m in args["sliders"]["models"]] == ["Autoencoder, 16-d code", "VAE, 16-d latent"]
    runtime = args["runtime"]
    assert runtime["modelsBase"] == "../app.live.exported/"
    assert runtime["version"] == (ORT / "VERSION").read_text().strip()
    assert runtime["wasm"]["sha256"] == hashlib.sha256((ORT / runtime["wasm"]["file"]).read_bytes()).hexdigest()


def test_sampler_view_sends_numpys_noise_for_the_seed():
    at = open_live("samplers", seed=7)
    args = component_args(at)
    assert args["samplers"]["seed"] == 7
    assert np.array_equal(np.frombuffer(args["ar_uniforms"], "<f8").reshape(16, 28, 28), live.sampler_uniforms(16, 7))
    assert [m["architecture"] for m in args["samplers"]["autoregressive"]] == ["pixelcnn", "pixelrnn"]
    assert all(m["net"]["rewrite"] for m in args["samplers"]["autoregressive"]), "the step networks"
    codes = np.frombuffer(args["latent_codes"], "<f4")
    for m in args["samplers"]["latent"]:
        model = load_model(next(n for n, e in scan().items() if e.title == m["title"]))
        z = codes[m["offset"] : m["offset"] + 16 * m["z_dim"]].reshape(16, -1)
        assert np.array_equal(z, model.random_latents(16, 7)), m["title"]
    assert {m["title"] for m in args["samplers"]["latent"]} == {"VAE, 16-d latent", "DCGAN", "Conditional GAN"}


def test_draw_view_sends_the_binarization_uniforms():
    args = component_args(open_live("draw"))
    assert np.array_equal(np.frombuffer(args["binarize_uniforms"], "<f8").reshape(28, 28), live.binarize_uniforms())
    pad = args["pad"]
    assert [m["title"] for m in pad["encoders"]] == ["Autoencoder, 16-d code", "VAE, 16-d latent"]
    assert pad["classifier"]["net"]["file"] == "classifier_classifier.onnx"
    assert pad["likelihood"]["net"]["file"] == "pixelcnn_full.onnx"


@pytest.mark.parametrize("view", ["latent", "draw", "samplers"])
def test_every_view_runs_on_the_server_too(view):
    at = open_live(view, on_server=True, seed=3)
    assert not at.get("component_instance"), "the server path sends nothing to the browser runtime"
    if view == "draw":
        assert any("Draw one digit" in i.value for i in at.info)
    else:
        assert len(at.get("image")) >= 3


# ---- Compare's rows: the samplers' in the browser, the rest from the server --------------------------------------


def open_compare(seed: int, on_server: bool = False) -> AppTest:
    return open_page("compare", {"seed": seed}, {"compare_on_server": on_server})


def assert_browser_rows_are_the_servers(args: dict, expected) -> set[str]:
    """Every row the rows view is sent: the server's rows are ``expected(key)``'s pixels, the browser's recipes hold
    the very noise, kept pixels and labels the model's own sampler would use (``expected(key)`` returns the
    arguments). Returns the keys of the rows the browser draws."""
    pixels = np.frombuffer(args["server_rows"], np.uint8)
    drawn_here = set()
    for section in args["rows"]["sections"]:
        for row in section["rows"]:
            if "browser" not in row:
                got = pixels[row["server"] : row["server"] + row["n"] * 784].reshape(row["n"], 28, 28)
                want = expected(row)
                if want is not None:  # a model's row (the test digits are the page's own)
                    assert np.array_equal(got, np.rint(np.clip(want, 0, 1) * 255)), row["title"]
                continue
            drawn_here.add(row["key"])
            recipe = row["browser"]
            model, n, seed, settings = expected(row)
            if recipe["sampler"] == "flow":  # codes from the prior, or the images the encoder reads
                if "codes" in recipe:
                    codes = np.frombuffer(args[recipe["codes"]], "<f4").reshape(n, -1)
                    assert np.array_equal(codes, model.random_latents(n, seed, settings.get("temperature", 1.0)))
                else:
                    inputs = np.frombuffer(args[recipe["dequantized"]], "<f4").reshape(n, 1, 28, 28)
                    assert np.array_equal(inputs, model.dequantize(settings["images"]))
                continue
            if recipe["sampler"] == "ddim":
                noise = np.frombuffer(args[recipe["noise"]], "<f4").reshape(n, 1, 28, 28)
                assert np.array_equal(noise, model.start_noise(n, seed, settings.get("temperature", 1.0)))
                assert recipe["plan"] == model.ddim_plan(n, labels=settings.get("labels"))
                continue
            uniforms = np.frombuffer(args[recipe["uniforms"]], "<f8").reshape(n, 28, 28)
            assert np.array_equal(uniforms, np.random.default_rng(seed).random((n, 28, 28))), "Autoregressive's draws"
            assert recipe["temperature"] == settings.get("temperature", 1.0)
            if "known" in settings:
                known = np.frombuffer(args[recipe["keep"]["values"]], "<f4").reshape(n, 28, 28)
                assert np.array_equal(known, np.broadcast_to(settings["known"], (n, 28, 28)))
                hidden = np.frombuffer(args[recipe["keep"]["hidden"]], np.uint8).reshape(28, 28)
                assert np.array_equal(hidden.astype(bool), settings["hidden"])
            else:
                assert recipe["keep"] is None
            labels = model.class_labels(settings.get("labels"), n)
            assert recipe["labels"] == (None if labels is None else labels.tolist()), row["key"]
            for role, net in recipe["nets"].items():  # a step network on a fixed window runs as a matrix product;
                fixed = all(isinstance(d, int) for shape in net["shapes"] for d in shape[1:])  # a sliding one not
                assert net["rewrite"] == ("step" in role and fixed), net["file"]
    return drawn_here


def test_compare_sends_the_samplers_noise_and_the_servers_rows():
    from inference import views

    seed = 5
    args = component_args(open_compare(seed))
    assert args["view"] == "rows"
    digits = load_test_digits()

    def expected(row):
        if not row["key"]:  # the test digits shown first
            return None
        kind, name = row["key"].split("/")
        model = load_model(name)
        if "server" in row:
            return views.compare_row(model, kind, seed, digits)
        if kind == "samples":
            return model, 8, seed, {}
        if kind == "reconstructions":
            return model, 8, seed, {"images": views.reconstruction_digits(digits, seed)}
        settings = {"known": views.completion_digits(digits, model.capabilities.image_kind, seed)}
        settings |= {"hidden": views.COMPARE_HIDDEN}
        if model.conditional:
            settings["labels"] = views.completion_labels(digits, seed)
        return model, 4, seed, settings

    drawn_here = assert_browser_rows_are_the_servers(args, expected)
    # every sampler (seconds of the server's time at a new seed) and the flow are drawn in the browser; the other
    # one-pass models come from the server
    samplers = {n for n, e in scan().items() if e.capabilities.family in ("autoregressive", "diffusion", "flow")}
    assert drawn_here == {f"samples/{n}" for n in samplers} | {
        f"completions/{n}" for n in samplers if scan()[n].capabilities.can_complete
    } | {"reconstructions/realnvp"}
    assert len(drawn_here) == 17, sorted(drawn_here)


def test_ddim_plan_holds_the_numbers_the_sampler_uses():
    """Stepping the plan in numpy, as app/browser/samplers.js steps it, gives Diffusion.sample's images exactly."""
    model = load_model("ddpm")
    n, steps, seed = 3, 4, 11
    plan = model.ddim_plan(n, steps)
    x = model.start_noise(n, seed)
    labels = np.array(plan["labels"])
    for step in plan["steps"]:
        eps = model.eps(x, step["t"], labels, plan["guidance"])
        x0 = np.clip((x - step["s"] * eps) / step["a"], -1.0, 1.0)
        e = (x - step["a"] * x0) / step["s"]
        x = (step["aPrev"] * x0 + step["sPrev"] * e).astype(np.float32)
    assert np.array_equal(np.clip((x[:, 0] + 1) / 2, 0, 1), model.sample(n, seed, steps=steps))
    assert plan["steps"][-1]["aPrev"] == 1.0 and plan["steps"][-1]["sPrev"] == 0.0


def test_compare_draws_every_row_on_the_server_when_asked():
    from inference import views

    at = open_compare(5, on_server=True)
    assert not at.get("component_instance"), "the server path sends nothing to the browser runtime"
    assert any("PixelCNN++" in m.value for m in at.markdown)
    rows = sum(len(views.row_kinds(e.capabilities)) for e in scan().values() if e.capabilities.generative or
               e.capabilities.has_encoder)  # fmt: skip
    assert len(at.get("image")) >= rows, "every model's rows, drawn on the server"


def test_complete_sends_the_page_digit_mask_and_settings_to_every_sampler():
    from inference import views
    from inference.autoregressive import hidden_mask

    at = open_page("complete", {"seed": 9})
    at.sidebar.radio(key="hide").set_value("right").run()
    at.sidebar.slider(key="completions").set_value(3).run()
    at.sidebar.slider(key="temperature_autoregressive").set_value(0.8).run()
    assert not at.exception and not at.error
    args = component_args(at)
    digits = load_test_digits()

    def expected(row):
        model = load_model(row["key"])
        settings = {
            "known": views.default_digit(digits, model.capabilities.image_kind),
            "hidden": hidden_mask("right"),
            "temperature": 0.8,
        }
        if model.conditional:
            settings["labels"] = int(digits.labels[views.DEFAULT_DIGIT])  # the test digit's own class
        return model, 3, 9, settings

    drawn_here = assert_browser_rows_are_the_servers(args, expected)
    completing = {n for n, e in scan().items() if e.capabilities.can_complete}
    assert drawn_here == completing and len(completing) == 7
    captions = [row["done"] for section in args["rows"]["sections"] for row in section["rows"]]
    assert all("in your browser" in c and "seed 9" in c and "3 completions" in c for c in captions), captions


def test_every_sampler_the_rows_view_is_sent_is_ported():
    """app/live.py sends a recipe for each architecture in SAMPLER_NETWORKS; samplers.js must have each of them, and
    every autoregressive model shipped must be among them (else its rows fall back to the server)."""
    from app import live as app_live

    text = (BROWSER / "samplers.js").read_text()
    ported = set(re.findall(r"^  (\w+): ", text[text.index("export const SAMPLERS = {") :], flags=re.MULTILINE))
    assert set(app_live.SAMPLER_NETWORKS) <= ported
    shipped = {e.card.architecture for e in scan().values() if e.capabilities.family == "autoregressive"}
    assert shipped <= set(app_live.SAMPLER_NETWORKS)
    for name, entry in scan().items():  # and each names networks its card has
        if entry.card.architecture in app_live.SAMPLER_NETWORKS:
            assert set(app_live.SAMPLER_NETWORKS[entry.card.architecture]) <= set(entry.card.networks), name
