// The live views' component: Streamlit's custom-component protocol (components v1, spoken directly over
// postMessage, so there is nothing to build), one status line, and the view the page asks for. The iframe
// lives as long as the page keeps the component, so loaded models stay loaded across views and reruns.
//
// To the server it sends one thing only, and only when the browser cannot do the work: {failed: {view: reason}}.
// Every interaction inside a view (dragging, drawing, sliding) stays here: no script reruns.
import * as preprocess from "./preprocess.js";
import { Runtime } from "./runtime.js";
import * as samplers from "./samplers.js";
import * as rows from "./views/rows.js";
import * as draw from "./views/draw.js";
import * as latent from "./views/latent.js";
import * as sampling from "./views/samplers.js";

const VIEWS = { latent, draw, samplers: sampling, rows };

const Streamlit = {
  send(type, data = {}) {
    window.parent.postMessage({ isStreamlitMessage: true, type, ...data }, "*");
  },
  ready() {
    this.send("streamlit:componentReady", { apiVersion: 1 });
  },
  height(height) {
    this.send("streamlit:setFrameHeight", { height });
  },
  value(value) {
    this.send("streamlit:setComponentValue", { value, dataType: "json" });
  },
};

const status = document.getElementById("status");
const root = document.getElementById("view");
const failed = {};
let runtime = null;
let current = null; // {name, view}
let lastHeight = 0;

// What tests and benchmarks read and drive (tests/test_browser.py, benchmarks/browser.py).
const genlab = {
  ready: false,
  failed,
  stats: {},
  preprocess,
  samplers,
  runtime: null,
  view: null,
  viewName: null,
  loadedAt: performance.now(),
  startedAt: Date.now(), // wall clock, for benchmarks/browser.py
  readyMs: null,
  run: (net, ...inputs) =>
    runtime.run(net, ...inputs).then((out) => Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { data: Array.from(v.data), dims: v.dims }]))),
};
window.genlab = genlab;

function resized() {
  const height = Math.ceil(document.documentElement.scrollHeight);
  if (height !== lastHeight) {
    lastHeight = height;
    Streamlit.height(height);
  }
}
new ResizeObserver(resized).observe(document.body);

function say(text, kind = "") {
  status.textContent = text;
  status.className = `status ${kind}`;
  resized();
}

function theme(t) {
  if (!t) return;
  const style = document.documentElement.style;
  for (const [key, value] of Object.entries({
    "--bg": t.backgroundColor,
    "--bg2": t.secondaryBackgroundColor,
    "--text": t.textColor,
    "--primary": t.primaryColor,
    "--font": t.font,
  })) {
    if (value) style.setProperty(key, value);
  }
}

function fail(name, reason) {
  root.replaceChildren();
  current = null;
  say(`${reason}: the server computes this view instead, below.`, "failed");
  if (failed[name] !== reason) {
    failed[name] = reason;
    Streamlit.value({ failed: { ...failed } });
  }
}

async function show(name, args) {
  genlab.ready = false;
  const context = { stats: genlab.stats, resized };
  root.replaceChildren();
  let view;
  try {
    view = VIEWS[name].create(root, runtime, args, context);
  } catch (err) {
    fail(name, `This view could not be built in the browser (${err.message})`);
    return;
  }
  current = { name, view };
  genlab.view = view;
  genlab.viewName = name;
  say(`Loading ${view.nets.length} network${view.nets.length === 1 ? "" : "s"} into your browser...`);
  const start = performance.now();
  try {
    for (const net of view.nets) await runtime.session(net);
  } catch (err) {
    const reason = err.message.startsWith("WebAssembly") ? err.message : `A model could not be loaded in the browser (${err.message})`;
    fail(name, reason);
    return;
  }
  if (current?.view !== view) return;
  const seconds = (performance.now() - start) / 1000;
  genlab.readyMs = performance.now() - genlab.loadedAt;
  genlab.readyAt = Date.now();
  say(
    `Running in your browser: onnxruntime-web ${args.runtime.version} (WebAssembly) on the shipped ONNX files, ` +
      `${view.nets.length} loaded in ${seconds.toFixed(2)} s. ${view.status ?? "Nothing you do here goes back to the server."}`,
    "ok",
  );
  genlab.ready = true;
  try {
    await view.start();
  } catch (err) {
    fail(name, `The browser could not run this view (${err.message})`);
  }
  resized();
}

window.addEventListener("message", (event) => {
  if (event.data?.type !== "streamlit:render") return;
  const args = event.data.args;
  theme(event.data.theme);
  if (!runtime) {
    runtime = new Runtime(args.runtime);
    genlab.runtime = runtime;
  }
  if (failed[args.view]) {
    say(`${failed[args.view]}: the server computes this view instead, below.`, "failed");
    root.replaceChildren();
    current = null;
    return;
  }
  if (current?.name !== args.view) show(args.view, args);
  else {
    const view = current.view;
    Promise.resolve(view.update(args)).catch((err) => {
      if (current?.view === view) fail(args.view, `The browser could not run this view (${err.message})`);
    });
  }
});

Streamlit.ready();
