"""End to end in a real browser: Debian's chromium, driven by Playwright, against `streamlit run`.

Each page is visited, its main interaction performed, and the test asserts that no exception
element is shown and that the expected images or charts are there. A screenshot of each page
goes to test-artifacts/screenshots/ (named in the README).

Without chromium the test is skipped, unless GENLAB_REQUIRE_BROWSER=1 (CI sets it), when a
missing browser is a failure.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.slow  # see pyproject.toml: the inner loop is -m 'not slow'

REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

playwright = pytest.importorskip("playwright.sync_api")
if CHROMIUM is None:
    if os.environ.get("GENLAB_REQUIRE_BROWSER") == "1":
        raise RuntimeError("chromium is not installed but GENLAB_REQUIRE_BROWSER=1 (apt-get install -y chromium)")
    pytest.skip("chromium is not installed (apt-get install -y chromium)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(log: Path, wait_healthy: bool = True):
    """`streamlit run streamlit_app.py` on a free port, its output in ``log``; yields the URL.

    wait_healthy=False waits only until the port accepts a connection, with no HTTP request, so the
    caller's first request is the first the server answers."""
    port = free_port()
    cmd = [
        sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
        "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                if wait_healthy:
                    if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                        break
                else:
                    socket.create_connection(("127.0.0.1", port), timeout=2).close()
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError(f"streamlit did not start within 90 s:\n{log.read_text()[-2000:]}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with streamlit_server(tmp_path_factory.mktemp("streamlit") / "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    pg = context.new_page()
    yield pg
    context.close()


def settle(pg, timeout: float = 120_000) -> None:
    """Wait until the script has finished running (the app's script state is notRunning) and is still finished a
    moment later: a run that a rerun interrupts (a widget taking its value from the link, say) passes through
    notRunning on its way to the next, with its page half drawn."""
    done = '[data-testid="stApp"][data-test-script-state="notRunning"]'
    deadline = time.monotonic() + timeout / 1000
    pg.wait_for_timeout(300)
    while True:
        pg.wait_for_selector(done, timeout=max(1.0, deadline - time.monotonic()) * 1000)
        pg.wait_for_timeout(500)
        if pg.locator(done).count() or time.monotonic() > deadline:
            return


def open_page(pg, url: str, path: str) -> None:
    pg.goto(f"{url}/{path}")
    settle(pg)


def check(pg, name: str, images: int = 0, charts: int = 0) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    assert pg.locator('[data-testid="stException"]').count() == 0, f"{name}: an exception is shown"
    shown = pg.locator('[data-testid="stImage"] img')
    for _ in range(20):  # the browser may still be laying out what the finished run sent, on a loaded machine
        if shown.count() >= images:
            break
        pg.wait_for_timeout(250)
    assert shown.count() >= images, f"{name}: expected {images}+ images"
    charts_shown = pg.locator(
        '[data-testid="stVegaLiteChart"], [data-testid="stArrowVegaLiteChart"], canvas.marks'
    ).count()
    assert charts_shown >= charts, f"{name}: expected {charts}+ charts"


def digit_png() -> bytes:
    a = np.full((160, 120), 255, np.uint8)
    a[20:140, 52:70] = 0  # a dark 1 on white paper
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def test_deep_link_first_after_start_keeps_navigation(page, tmp_path):
    """A deep link, the first request a fresh server answers, still gets st.navigation and the page config.

    This guards keeping the pages in app_pages/: with a folder named pages/ beside streamlit_app.py,
    Streamlit treats the app as a legacy multipage app until the entry point has run once, so a deep
    link opened first after a start runs pages/sample.py on its own: no set_page_config, and a
    sidebar of file names instead of the navigation below. The module's shared server may already
    have run the entry point, hence a server of this test's own. The link names the model as the
    README's links do, by its name.
    """
    with streamlit_server(tmp_path / "server.log", wait_healthy=False) as url:
        open_page(page, url, "sample?model=pixelcnn&seed=7&n=4")
        check(page, "deep_link_first")
        nav = page.get_by_test_id("stSidebarNav")
        for title in ("Home", "Sample", "Compare models", "Density in 1-D", "GAN lab"):
            assert nav.get_by_text(title, exact=True).count() == 1, f"no {title!r} in the sidebar navigation"
        assert page.title() == "Generative Models Lab", "set_page_config in streamlit_app.py did not run"
        assert page.locator("h1").filter(has_text="Sample").count() == 1
        assert page.get_by_role("combobox", name="Model").input_value() == "PixelCNN"
        assert page.get_by_label("Seed", exact=True).input_value() == "7"
        assert "model=pixelcnn" in page.url and "seed=7" in page.url, "the link's settings are kept"


def test_home(page, app_url):
    open_page(page, app_url, "")
    assert page.get_by_text("Shipped generative models").count() == 1
    assert page.get_by_text("The sample-quality judges").count() == 1, "the classifiers apart from the models"
    check(page, "home")


def test_sample(page, app_url):
    open_page(page, app_url, "sample")
    check(page, "sample", images=1)
    page.get_by_label("Seed", exact=True).fill("7")
    page.get_by_label("Seed", exact=True).press("Enter")
    settle(page)
    assert "seed=7" in page.url, "the seed is kept in the link"
    check(page, "sample_seed7", images=1)


def test_diffusion_step_through(page, app_url):
    """The reverse process at its last step, then scrubbed to the start: x_t, x̂_0 and the forward row are drawn."""
    open_page(page, app_url, "diffusion")
    check(page, "diffusion", images=3, charts=1)
    page.get_by_role("button", name="Play from here").click()
    settle(page)
    check(page, "diffusion_played", images=3)


def test_reconstruct_upload_and_draw(page, app_url):
    open_page(page, app_url, "reconstruct")
    check(page, "reconstruct", images=4)
    page.get_by_text("Upload", exact=True).first.click()
    settle(page)
    page.locator('input[type="file"]').set_input_files(
        {"name": "one.png", "mimeType": "image/png", "buffer": digit_png()}
    )
    settle(page)
    check(page, "reconstruct_upload", images=4)
    page.locator('input[type="file"]').set_input_files(
        {"name": "notes.png", "mimeType": "image/png", "buffer": b"not a picture at all"}
    )
    settle(page)
    assert page.get_by_text("That upload cannot be used").count() >= 1
    assert page.locator('[data-testid="stException"]').count() == 0
    page.get_by_text("Draw", exact=True).first.click()
    settle(page)
    canvas = max(page.locator("canvas").all(), key=lambda c: (c.bounding_box() or {"width": 0})["width"])
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 140, box["y"] + 40)
    page.mouse.down()
    for t in range(30):
        page.mouse.move(box["x"] + 140, box["y"] + 40 + t * 7, steps=2)
    page.mouse.up()
    settle(page)
    check(page, "reconstruct_draw", images=4)


def test_interpolate(page, app_url):
    open_page(page, app_url, "interpolate")
    page.get_by_text("Spherical (slerp)").click()
    settle(page)
    check(page, "interpolate", images=4)


def test_complete(page, app_url):
    open_page(page, app_url, "complete")
    page.get_by_test_id("stRadioGroup").get_by_text("Right half", exact=True).click()
    settle(page)
    check(page, "complete", images=2)  # the digit as each kind of model sees it; the completions are the rows view's


def test_likelihood(page, app_url):
    open_page(page, app_url, "likelihood")
    check(page, "likelihood", images=4, charts=1)


def test_gan_lab(page, app_url):
    open_page(page, app_url, "gan_lab")
    page.get_by_role("button", name="Play from here").click()
    thumb = page.get_by_test_id("stSliderThumbValue").first
    seen = []
    for _ in range(40):  # the slider follows the frames while they play
        seen.append(thumb.inner_text())
        page.wait_for_timeout(100)
    settle(page)
    steps = {int(v) for v in seen if v.isdigit()}
    assert len(steps) >= 5 and all(v % 100 == 0 for v in steps), f"the slider moved in training steps: {seen}"
    assert thumb.inner_text() == "4000", "and stops at the last snapshot"
    check(page, "gan_lab", images=2, charts=1)


# max |browser - server| per pixel where the rows are continuous: after 50 DDIM steps (the U-Net's outputs differ by
# ~1e-6), and through the flow's coupling layers
CONTINUOUS_TOLERANCE = {"ddpm": 1e-4, "realnvp": 1e-4}


def test_compare_draws_the_servers_rows_in_the_browser(page, app_url):
    """The sampler rows are drawn in the browser from the server's noise: the autoregressive ones pixel for pixel
    the server's, the diffusion model's and the flow's within CONTINUOUS_TOLERANCE; the rest are the server's own
    pixels."""
    from inference import load_model, load_test_digits, views

    seed = 3
    frame = component_frame(page, app_url, f"compare?seed={seed}")
    frame.wait_for_function("() => window.genlab.view.test.rows() !== null", timeout=300_000)
    rows = frame.evaluate("() => window.genlab.view.test.rows()")
    assert len(rows) == 17, sorted(rows)  # every autoregressive model's samples and completions, DDIM's, the flow's
    digits = load_test_digits()
    for key, got in rows.items():
        kind, name = key.split("/")
        server = views.compare_row(load_model(name), kind, seed, digits)
        got = np.array(got, np.float32).reshape(server.shape)
        if name in CONTINUOUS_TOLERANCE:
            assert float(np.abs(got - server).max()) <= CONTINUOUS_TOLERANCE[name], key
        else:
            assert np.array_equal(got, server), f"{key}: not the server's pixels"
    captions = frame.locator("figcaption").all_text_contents()
    assert sum("drawn in your browser" in c for c in captions) == len(rows), captions
    assert frame.locator("canvas.digit").count() >= 8 * len(rows)
    page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 1e6)")
    check(page, "compare", charts=2)


def test_complete_draws_the_servers_completions_in_the_browser(page, app_url):
    """At a temperature other than 1 (PixelCNN++'s mixture then goes through its 256 log masses): every model's
    completions of the default digit, pixel for pixel the server's."""
    from inference import load_model, load_test_digits, views
    from inference.autoregressive import hidden_mask

    frame = component_frame(page, app_url, "complete?seed=4&temperature_autoregressive=0.8")
    frame.wait_for_function("() => window.genlab.view.test.rows() !== null", timeout=300_000)
    rows = frame.evaluate("() => window.genlab.view.test.rows()")
    assert len(rows) == 7, sorted(rows)
    digits = load_test_digits()
    for name, got in rows.items():
        model = load_model(name)
        label = int(digits.labels[views.DEFAULT_DIGIT]) if model.conditional else None
        image = views.default_digit(digits, model.capabilities.image_kind)
        server = model.complete(image, hidden_mask("bottom"), 4, 4, temperature=0.8, labels=label)
        assert np.array_equal(np.array(got, np.float32).reshape(server.shape), server), f"{name}: not the server's"
    captions = frame.locator("figcaption").all_text_contents()
    assert sum("in your browser" in c and "seed 4" in c for c in captions) == 7, captions
    check(page, "complete_browser", images=2)


def test_learned_features(page, app_url):
    open_page(page, app_url, "features")
    check(page, "features", images=1, charts=2)


def test_out_of_distribution_and_latent(page, app_url):
    open_page(page, app_url, "image_likelihood")
    check(page, "image_likelihood", images=1, charts=1)
    open_page(page, app_url, "latent")
    check(page, "latent", charts=3)


def test_density_1d_with_bad_values(page, app_url):
    open_page(page, app_url, "density_1d")
    check(page, "density_1d", charts=1)
    page.get_by_test_id("stSelectbox").filter(has_text="Data").first.click()  # the data source picker
    page.get_by_role("option", name="Your values").click()
    settle(page)
    box = page.get_by_label("Values", exact=True)
    box.fill("1, 2, nan, 4")
    box.press("Control+Enter")
    settle(page)
    assert page.get_by_text("Those values cannot be used").count() >= 1
    assert page.locator('[data-testid="stException"]').count() == 0


def test_density_2d(page, app_url):
    open_page(page, app_url, "density_2d")
    check(page, "density_2d", images=5)


def test_drawing_survives_a_page_change_and_the_toolbar_leaves_the_input_choice_visible(page, app_url):
    open_page(page, app_url, "reconstruct")
    page.get_by_text("Draw", exact=True).first.click()
    settle(page)
    canvas = max(page.locator("canvas").all(), key=lambda c: (c.bounding_box() or {"width": 0})["width"])
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 140, box["y"] + 40)
    page.mouse.down()
    for t in range(30):
        page.mouse.move(box["x"] + 140, box["y"] + 40 + t * 7, steps=2)
    page.mouse.up()
    settle(page)
    seen = page.get_by_text("What the models see").count()
    assert seen == 1, "the drawing is shown as the models see it"
    page.mouse.move(box["x"] + 200, box["y"] + 100)  # the toolbar shows while the pointer is over the square
    page.wait_for_timeout(600)
    draw = page.get_by_text("Draw", exact=True).first.bounding_box()
    on_top = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).textContent", [draw["x"] + draw["width"] / 2, draw["y"] + 4]
    )
    assert on_top == "Draw", f"the canvas toolbar covers the Draw choice ({on_top!r} on top)"
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_text("Likelihood", exact=True).click()
    settle(page)
    assert page.get_by_text("What the models see").count() == 1, "the drawing is the input on the next page too"
    nav.get_by_text("Reconstruct", exact=True).click()
    settle(page)
    assert page.get_by_text("What the models see").count() == 1, "and still there on coming back"
    check(page, "reconstruct_draw_kept", images=4)


# ---- every page at a laptop's and a phone's width ------------------------------------------------------------------

PAGE_PATHS = [
    "", "sample", "live", "diffusion", "interpolate", "complete", "reconstruct", "likelihood", "pixel", "image_likelihood",
    "latent", "features", "compare", "density_1d", "density_2d", "density_2d_yours", "gan_lab",
]  # fmt: skip
TEXT_SLACK_PX = 4  # an SVG text's box past what holds it that is still no cut ink (see below)
MIN_DIGIT_PX = 80  # at 1280 px every digit is shown at least this wide: 28 pixels at about 3 screen pixels each

# What is cut off, read from the DOM: a heading whose text overflows its box, or any heading or chart not wholly
# inside the viewport's width and inside every ancestor that clips (overflow not visible). A chart's legend and
# title are drawn inside its canvas or SVG, which Vega sizes to hold them, so a clipped legend shows as a chart
# wider than what holds it; in an SVG chart each text is checked too.
LAYOUT_PROBLEMS = """([minDigit, TEXT_SLACK_PX]) => {
  const main = document.querySelector('[data-testid="stMain"]');
  const problems = [];
  const name = (el) => (el.textContent || el.getAttribute("aria-label") || el.tagName).trim().slice(0, 60);
  const clipped = (el, slack = 1) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) return null;  // not shown
    const w = document.documentElement.clientWidth;
    if (r.left < -slack || r.right > w + slack) return `past the edge of the window by ${Math.max(-r.left, r.right - w).toFixed(0)} px`;
    for (let a = el.parentElement; a && a !== main; a = a.parentElement) {  // main scrolls the page: not a cut
      const s = getComputedStyle(a);
      const b = a.getBoundingClientRect();
      // sideways, scrolling counts as cut too; downwards, a scrolling box is the page scrolling as it should
      const sideways = Math.max(b.left - r.left, r.right - b.right), down = Math.max(b.top - r.top, r.bottom - b.bottom);
      if (s.overflowX !== "visible" && sideways > slack) return `cut ${sideways.toFixed(1)} px at a side`;
      if (["hidden", "clip"].includes(s.overflowY) && down > slack) return `cut ${down.toFixed(1)} px at the top or bottom`;
    }
    return null;
  };
  for (const h of main.querySelectorAll("h1, h2, h3")) {
    const text = h.querySelector("span") || h;
    if (text.scrollWidth > text.clientWidth + 1 || text.scrollHeight > text.clientHeight + 1)
      problems.push(`heading "${name(h)}": its text overflows its box`);
    const why = clipped(h);
    if (why) problems.push(`heading "${name(h)}": ${why}`);
  }
  const charts = main.querySelectorAll('[data-testid="stVegaLiteChart"], [data-testid="stArrowVegaLiteChart"]');
  for (const chart of charts) {
    for (const drawn of chart.querySelectorAll("canvas, svg.marks")) {
      const why = clipped(drawn);
      if (why) problems.push(`chart "${name(chart.querySelector("summary") || chart)}": ${why}`);
    }
    for (const t of chart.querySelectorAll("svg.marks text")) {
      // a text's box is its font's whole em box, a few px past the ink: Vega sets axis titles 2.4 px into it
      const why = clipped(t, TEXT_SLACK_PX);
      if (why) problems.push(`chart text "${name(t)}": ${why}`);
    }
  }
  const digits = Array.from(main.querySelectorAll('img[alt^="Digit"]'));
  for (const d of digits) {
    const r = d.getBoundingClientRect();
    if (r.width === 0) continue;
    if (minDigit && r.width < minDigit - 0.5) problems.push(`${d.alt}: ${r.width.toFixed(0)} px wide`);
    const why = clipped(d);
    if (why) problems.push(`${d.alt}: ${why}`);
  }
  return { problems, digits: digits.length };
}"""


@pytest.mark.parametrize("width", [1280, 400])
def test_every_page_fits_at_a_laptop_and_a_phone_width(browser, app_url, width):
    """Every page once, in one browser context per width: a screenshot, and nothing cut off (headings, charts and
    their legends and titles, digits), with every digit at least MIN_DIGIT_PX wide at 1280 px."""
    shots = SCREENSHOTS / "widths"
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_navigation_timeout(120_000)  # a page's first visit computes and caches its figures
    problems, digits = [], 0
    try:
        pg = context.new_page()
        for path in PAGE_PATHS:
            name = path or "home"
            pg.set_viewport_size({"width": width, "height": 900})
            open_page(pg, app_url, path)
            assert pg.locator('[data-testid="stException"]').count() == 0, f"{name}: an exception is shown"
            found = pg.evaluate(LAYOUT_PROBLEMS, [MIN_DIGIT_PX if width >= 1280 else 0, TEXT_SLACK_PX])
            problems += [f"{name} at {width} px: {p}" for p in found["problems"]]
            digits += found["digits"]
            # the page scrolls inside stMain, so full_page alone would stop at the window: the window grows to it
            tall = pg.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
            pg.set_viewport_size({"width": width, "height": max(900, min(int(tall), 12_000))})
            pg.wait_for_timeout(300)
            pg.screenshot(path=str(shots / f"{name}_{width}.png"), full_page=True)
    finally:
        context.close()
    assert not problems, "\n".join(problems)
    assert digits >= 16, "the digit images are found (and so checked) by their alt text"


# ---- the Live page: onnxruntime-web in the browser (app/browser/), held to the server's figures ---------------

LIVE_TOLERANCE = 1e-4  # max |browser - server| for every network output and every figure derived from them
COUNT_RERUNS = """() => {
    // every start of a script run on the server flips the app's script state away from notRunning
    const app = document.querySelector('[data-testid="stApp"]');
    window.reruns = 0;
    new MutationObserver((records) => {
        for (const r of records) if (r.oldValue !== "running" && app.dataset.testScriptState === "running") window.reruns++;
    }).observe(app, { attributes: true, attributeOldValue: true, attributeFilter: ["data-test-script-state"] });
}"""


def live_frame(pg, url: str, query: str, ready: bool = True):
    """Open the Live page and return the component's frame once its models are loaded (or it gave up)."""
    return component_frame(pg, url, f"live?{query}", ready)


def component_frame(pg, url: str, path: str, ready: bool = True):
    """Open a page with the browser runtime's component (Live, Compare) and return the component's frame once its
    models are loaded (or it gave up)."""
    open_page(pg, url, path)
    deadline = time.time() + 60
    frame = None
    while frame is None and time.time() < deadline:
        frame = next((f for f in pg.frames if "app.live.live" in f.url), None)
        pg.wait_for_timeout(100)
    assert frame is not None, "the live component did not appear"
    frame.wait_for_function(
        "() => window.genlab && (window.genlab.ready || Object.keys(window.genlab.failed).length)", timeout=90_000
    )
    if ready:
        status = frame.locator("#status").text_content()
        assert frame.evaluate("() => window.genlab.ready"), f"the browser did not run the view: {status}"
    return frame


def live_inputs(net: dict, batch: int = 3) -> list[np.ndarray]:
    """Fixed inputs for a network, by its card's tensor names and shapes."""
    rng = np.random.default_rng(0)
    arrays = []
    for name, shape in zip(net["inputs"], net["shapes"], strict=True):
        dims = [batch if isinstance(d, str) else d for d in shape]
        if name == "y":  # a class, one-hot
            a = np.eye(dims[1], dtype=np.float32)[np.arange(batch) % dims[1]]
        elif name in ("x", "pixel_window"):  # images: binary windows for the samplers, intensities otherwise
            a = rng.random(dims)
            a = (a < 0.4) if name == "pixel_window" else a
        else:  # codes and carried activations
            a = rng.standard_normal(dims)
        arrays.append(np.asarray(a, np.float32))
    return arrays


def assert_networks_match(frame) -> list[str]:
    """Every network the view runs in the browser gives the server's onnxruntime outputs on fixed inputs."""
    from inference.registry import exported_dir
    from inference.runtime import Network

    checked = []
    for net in frame.evaluate("() => window.genlab.view.nets"):
        inputs = live_inputs(net)
        browser = frame.evaluate(
            "([net, inputs]) => window.genlab.run(net, ...inputs)",
            [net, [[a.ravel().tolist(), list(a.shape)] for a in inputs]],
        )
        server = Network(exported_dir() / net["file"], net["sha256"], threads=1)(*inputs)
        for name, expected in server.items():
            got = np.array(browser[name]["data"], np.float32).reshape(expected.shape)
            diff = float(np.abs(got - expected).max())
            assert diff <= LIVE_TOLERANCE, f"{net['file']} output {name}: browser and server differ by {diff:.2e}"
        checked.append(net["file"])
    return checked


def test_live_latent_plane_decodes_under_the_pointer_with_no_rerun(page, app_url):
    frame = live_frame(page, app_url, "view=latent")
    assert set(assert_networks_match(frame)) == {"vae2d_decoder.onnx", "ae_decoder.onnx", "vae_decoder.onnx"}
    page.evaluate(COUNT_RERUNS)
    before = frame.evaluate("() => Array.from(window.genlab.view.test.digit())")
    decodes = frame.evaluate("() => window.genlab.stats.latentDecodes")
    box = frame.locator("canvas.overlay").bounding_box()
    page.mouse.move(box["x"] + 0.2 * box["width"], box["y"] + 0.2 * box["height"])
    page.mouse.down()
    for t in range(1, 31):  # a drag from the top left to the bottom right of the plane
        page.mouse.move(box["x"] + (0.2 + 0.02 * t) * box["width"], box["y"] + (0.2 + 0.02 * t) * box["height"])
    page.mouse.up()
    frame.wait_for_function(f"() => window.genlab.stats.latentDecodes >= {decodes + 10}")
    after = frame.evaluate("() => Array.from(window.genlab.view.test.digit())")
    assert before != after, "dragging over the plane changes the decoded digit"
    frame.get_by_label("PC 1").fill("2.5")  # the 16-d codes' first principal direction
    frame.wait_for_function("() => window.genlab.stats.sliderUpdates >= 2")
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.reruns") == 0, "dragging and sliding reran the server's script"
    check(page, "live_latent")


def test_live_draw_pad_matches_the_server_preprocessing_and_models_with_no_rerun(page, app_url):
    import base64

    from inference import images as img
    from inference import live, load_model

    frame = live_frame(page, app_url, "view=draw")
    assert len(assert_networks_match(frame)) == 6  # two encoders and decoders, the classifier, the PixelCNN
    ae, vae, judge, pixelcnn = (load_model(n) for n in ("ae", "vae", "classifier", "pixelcnn"))
    drawings = {
        "a one": [[[140, 40], [140, 240]]],
        "a seven": [[[70, 60], [210, 60], [120, 240]]],
        "a four in two strokes": [[[90, 50], [70, 160], [200, 160]], [[170, 80], [165, 250]]],
        "a small zero": [[[140 + 25 * np.sin(t), 140 + 35 * np.cos(t)] for t in np.linspace(0, 6.3, 30)]],
        "strokes over the edges": [[[0, 140], [280, 150]], [[140, 0], [150, 280]]],
    }
    for what, strokes in drawings.items():
        got = frame.evaluate("(strokes) => window.genlab.view.test.draw(strokes)", strokes)
        rgba = np.frombuffer(base64.b64decode(got["rgba"]), np.uint8).reshape(280, 280, 4)
        server = img.drawing_digit(rgba)
        browser = np.array(got["image"], np.float32).reshape(28, 28)
        assert np.abs(browser - server.image).max() <= 1e-6, f"{what}: the browser's 28 x 28 differs from the server's"
        assert got["warning"] == server.warning, what
        figures = live.pad_figures(server.image, [ae, vae], judge, pixelcnn)
        shown = got["figures"]
        for r, b in zip(figures.reconstructions, shown["reconstructions"], strict=True):
            assert np.abs(np.array(b["image"]).reshape(28, 28) - r.image).max() <= LIVE_TOLERANCE, (what, r.title)
            assert abs(b["nats"] - r.nats) <= 1e-3, (what, r.title)  # a sum of 784 terms, each to 1e-6
        assert np.abs(np.array(shown["probabilities"]) - figures.probabilities).max() <= LIVE_TOLERANCE, what
        assert np.abs(np.array(shown["surprise"]).reshape(28, 28) - figures.surprise).max() <= LIVE_TOLERANCE, what
        assert abs(shown["bitsPerDim"] - figures.bits_per_dim) <= 1e-5, what

    page.evaluate(COUNT_RERUNS)
    frame.get_by_role("button", name="Clear").click()
    updates = frame.evaluate("() => window.genlab.stats.padUpdates")
    box = frame.locator("canvas.pad").bounding_box()
    for stroke in ([(70, 60), (210, 60), (120, 240)], [(100, 150), (180, 150)]):  # a crossed seven, two strokes
        page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        page.mouse.down()
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:], strict=False):
            for t in np.linspace(0, 1, 12)[1:]:
                page.mouse.move(box["x"] + x0 + t * (x1 - x0), box["y"] + y0 + t * (y1 - y0))
        page.mouse.up()
    frame.wait_for_function(f"() => window.genlab.stats.padUpdates >= {updates + 2}")
    guess = frame.locator(".guess").first.text_content()
    assert guess.startswith("A ") and "with probability" in guess, "a drawn digit gets a class"
    assert "bits/dim" in frame.locator(".guess").nth(1).text_content()
    assert "nats" in frame.locator("figcaption").nth(1).text_content(), "and reconstructions with their error"
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.reruns") == 0, "drawing reran the server's script"
    check(page, "live_draw")


def test_live_samplers_draw_the_servers_samples_for_a_seed(page, app_url):
    from inference import live, load_model

    frame = live_frame(page, app_url, "view=samplers&seed=7")
    frame.wait_for_function("() => window.genlab.stats.arSamples >= 1", timeout=90_000)
    checked = assert_networks_match(frame)
    assert {"pixelcnn_step.onnx", "pixelrnn_step.onnx", "dcgan_generator.onnx", "cgan_generator.onnx"} <= set(checked)
    uniforms = live.sampler_uniforms(4, 7).ravel().tolist()
    for architecture, name in (("pixelcnn", "pixelcnn"), ("pixelrnn", "pixelrnn")):
        got = frame.evaluate("([a, u]) => window.genlab.view.test.sample(a, 4, u)", [architecture, uniforms])
        server = load_model(name).sample(4, 7)
        assert np.array_equal(np.array(got, np.float32).reshape(4, 28, 28), server), f"{name}: not the server's samples"
    captions = frame.locator("figcaption").all_text_contents()
    assert any("seed 7" in c and "in your browser" in c for c in captions), captions
    check(page, "live_samplers")


def test_live_without_webassembly_runs_on_the_server(browser, app_url):
    """--js-flags=--jitless turns V8's compilers off, and with them WebAssembly (Chromium 156 no longer hides it
    for --noexpose_wasm): the component says so in one line and the page draws each view on the server."""
    jitless = browser.browser_type.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--js-flags=--jitless"])
    try:
        pg = jitless.new_context(viewport={"width": 1400, "height": 1600}).new_page()
        for view, images, said in (("latent", 2, "decoded on the server"), ("samplers", 5, "s on the server")):
            frame = live_frame(pg, app_url, f"view={view}", ready=False)
            assert "WebAssembly is not available" in frame.locator("#status").text_content()
            pg.get_by_text(said).first.wait_for(timeout=90_000)
            settle(pg)
            check(pg, f"live_{view}_server", images=images)
    finally:
        jitless.close()


def documented_links() -> list[str]:
    """The links in the README's table of links (the first code span of each row whose cell starts with /)."""
    text = (REPO / "README.md").read_text()
    return re.findall(r"^\| [^|]+ \| `(/[a-z_0-9]+\?[^`]+)` \|", text, flags=re.MULTILINE)


# what a link's query parameter sets, and how the page shows it: (role, accessible name) of the widget
LINK_WIDGETS = {
    "model": ("combobox", "Model"),
    "diffusion_model": ("combobox", "Model"),
    "seed": ("spinbutton", "Seed"),  # or the page's own seed label (Latent structure: "K-means seed")
    "n": ("slider", "Number of samples"),
}


def test_the_readmes_links_open_what_they_name(browser, app_url):
    """Each documented link, opened as a new visitor's first page: no exception, the link's model (by its title)
    and every setting it names are the ones the widgets show, and the address still names the model."""
    from urllib.parse import parse_qsl, urlsplit

    from inference import scan

    titles = {name: entry.title for name, entry in scan().items()}
    links = documented_links()
    assert len(links) >= 6 and all(link.split("?")[1] for link in links), links
    for link in links:
        context = browser.new_context(viewport={"width": 1400, "height": 1600})
        pg = context.new_page()
        try:
            open_page(pg, app_url, link.lstrip("/"))
            name = urlsplit(link).path.strip("/")
            check(pg, f"link_{name}")
            for key, value in parse_qsl(urlsplit(link).query):
                role, label = LINK_WIDGETS[key]
                sidebar = pg.get_by_test_id("stSidebar")
                if role == "combobox":
                    shown = sidebar.get_by_role("combobox", name=label).input_value()
                    assert shown == titles[value], f"{link}: the page shows {shown!r}, not {titles[value]!r}"
                    # (Streamlit drops a bound widget's value from the address when it is the default; a model is kept)
                    assert f"{key}={value}" in pg.url, f"{link}: the address lost {key}={value} ({pg.url})"
                elif role == "spinbutton":
                    seed = sidebar.get_by_label(re.compile(r"^(K-means )?seed$", re.IGNORECASE))
                    assert seed.input_value() == value, f"{link}: the seed shown is {seed.input_value()}, not {value}"
                else:
                    shown = sidebar.get_by_role("slider", name=label).input_value()
                    assert shown == value, f"{link}: {label} shows {shown}, not {value}"
        finally:
            context.close()
