// Rows of digits (Compare, Complete), the costly ones drawn here: the autoregressive models' samples and completions,
// the diffusion model's DDIM, the flow's samples and reconstructions. The other rows (one network pass each, and the test digits) come from the
// server as 8-bit pixels. The noise is numpy's for the seed, sent by the server, so the pictures are the server's,
// which draws the same rows itself where the browser cannot (app/live.py: Rows).
import { PENDING, element, floats, inProgress, paintGray, pixelCanvas } from "../paint.js";
import { SAMPLERS, flowImages, sampleDDIM, yieldToBrowser } from "../samplers.js";

const SIDE = 28;
// Cheapest first, so one slow row (DDIM: 50 passes of a U-Net) does not hold up the others.
const COST = { flow: 0, pixelcnn: 0, pixelrnn: 0, pixelrnn_diagonal: 0, multiscale: 0, gated_pixelcnn: 1, pixelcnn_pp: 1, ddim: 2 };

// A row of n digits, each its own canvas so that a narrow screen wraps them rather than shrinking them.
function digitRow(n, scale) {
  const canvases = Array.from({ length: n }, () => pixelCanvas(SIDE, SIDE, scale));
  return { node: element("div", { class: "digits" }, ...canvases), canvases };
}

function paintRow(row, images) {
  row.canvases.forEach((canvas, b) => paintGray(canvas, images.subarray(b * SIDE * SIDE, (b + 1) * SIDE * SIDE), SIDE, SIDE));
}

const recipeNets = (recipe) => (recipe.sampler === "ddim" ? [recipe.net] : Object.values(recipe.nets));

export function create(root, runtime, args, ctx) {
  const stats = ctx.stats;
  stats.rowSeconds = {};
  let state = args;
  let generation = 0;
  let pending = []; // the rows the browser draws: {spec, row, caption}
  let done = false;
  const results = {}; // row key -> Float32Array: what the browser drew, for the parity tests

  const signature = (a) => JSON.stringify(a.rows);

  function build() {
    const server = new Uint8Array(state.server_rows.slice().buffer);
    pending = [];
    for (const key of Object.keys(results)) delete results[key];
    root.replaceChildren();
    for (const section of state.rows.sections) {
      if (section.title) root.append(element("h3", { text: section.title }));
      for (const spec of section.rows) {
        const row = digitRow(spec.n, spec.scale);
        const caption = element("figcaption", { text: spec.caption || "" });
        if (spec.title) root.append(element("h4", { text: spec.title }));
        root.append(row.node, caption);
        if (spec.browser) {
          paintRow(row, new Float32Array(spec.n * SIDE * SIDE).fill(PENDING));
          caption.textContent = "waiting for the other rows...";
          pending.push({ spec, row, caption });
        } else {
          const pixels = server.subarray(spec.server, spec.server + spec.n * SIDE * SIDE);
          paintRow(row, Float32Array.from(pixels, (v) => v / 255));
        }
      }
      if (section.note) root.append(element("p", { class: "note" }, section.note));
    }
    ctx.resized();
  }

  async function drawOne({ spec, row, caption }, isStale) {
    const recipe = spec.browser;
    const n = spec.n;
    const start = performance.now();
    let images;
    if (recipe.sampler === "flow") {
      const inputs = recipe.codes ? { codes: floats(state[recipe.codes]) } : { dequantized: floats(state[recipe.dequantized]) };
      images = await flowImages(runtime, recipe.nets, n, SIDE, inputs);
    } else if (recipe.sampler === "ddim") {
      const steps = recipe.plan.steps.length;
      images = await sampleDDIM(runtime, recipe.net, recipe.plan, n, floats(state[recipe.noise]), async (step, _total, x) => {
        paintRow(row, x.map((v) => (v + 1) / 2)); // x_t itself: noise turning into digits
        caption.textContent = `DDIM step ${step + 1} of ${steps}, in your browser...`;
        await yieldToBrowser();
      }, isStale);
    } else {
      const uniforms = floats(state[recipe.uniforms], Float64Array);
      let keep = null;
      if (recipe.keep) {
        const known = floats(state[recipe.keep.values]);
        const hidden = new Uint8Array(state[recipe.keep.hidden].slice().buffer);
        keep = { values: known, mask: Uint8Array.from(known, (_, at) => (hidden[at % (SIDE * SIDE)] ? 0 : 1)) };
      }
      const shown = new Float32Array(n * SIDE * SIDE);
      const progress = recipe.sampler === "multiscale"
        ? (step, preview, total) => { // coarse to fine: the image at the resolution drawn so far
            paintRow(row, preview);
            caption.textContent = `step ${step} of ${total}, in your browser...`;
          }
        : (r, soFar) => { // raster order: the rows so far, the rest gray
            paintRow(row, inProgress(shown, soFar, n, r));
            caption.textContent = `row ${r + 1} of ${SIDE}, in your browser...`;
          };
      images = await SAMPLERS[recipe.sampler](runtime, recipe.nets, recipe.config, n, uniforms, recipe.temperature, async (...a) => {
        progress(...a);
        await yieldToBrowser();
      }, isStale, keep, recipe.labels);
    }
    if (images === null) return false; // newer settings took over
    const seconds = (performance.now() - start) / 1000;
    paintRow(row, images);
    caption.textContent = spec.done.replace("{seconds}", seconds.toFixed(2));
    stats.rowSeconds[spec.key] = seconds;
    results[spec.key] = images;
    return true;
  }

  async function drawAll() {
    const mine = ++generation;
    const isStale = () => mine !== generation;
    done = false;
    for (const p of [...pending].sort((a, b) => (COST[a.spec.browser.sampler] ?? 1) - (COST[b.spec.browser.sampler] ?? 1))) {
      if (isStale()) return;
      p.caption.textContent = "drawing...";
      if (!(await drawOne(p, isStale))) return; // an error goes up to live.js: the server draws the view instead
    }
    done = true;
    stats.rowsDrawn = (stats.rowsDrawn || 0) + 1;
  }

  const nets = state.rows.sections.flatMap((s) => s.rows.filter((r) => r.browser).flatMap((r) => recipeNets(r.browser)));
  return {
    nets: [...new Map(nets.map((net) => [net.file, net])).values()],
    status: "The samplers run here, on the server's noise for the seed: the same pictures the server would draw.",
    async start() {
      build();
      await drawAll();
    },
    async update(newArgs) {
      const changed = signature(newArgs) !== signature(state);
      state = newArgs;
      if (changed) {
        build();
        await drawAll();
      }
    },
    test: {
      // what the browser drew, row key -> pixels, once every row of the current arguments is done (else null)
      rows: () => (done ? Object.fromEntries(Object.entries(results).map(([k, v]) => [k, Array.from(v)])) : null),
    },
  };
}
