// Compare's rows in the browser: every model at the same seed, the sampler-bound rows (the autoregressive models'
// samples and completions, the diffusion model's DDIM) drawn here, the rest (one network pass each, and the test
// digits) sent by the server as 8-bit pixels. The noise is numpy's for the seed, sent by the server, so the pictures
// are the server's (app_pages/compare.py draws the same rows on the server where the browser cannot).
import { element, floats, paintGray, pixelCanvas } from "../paint.js";
import { SAMPLERS, sampleDDIM, yieldToBrowser } from "../samplers.js";

const SIDE = 28;
const SCALE = 3; // as the server's rows: 84 px a digit
const PENDING = 0.3; // rows not drawn yet, as autoregressive.in_progress shows them

// A row of n digits, each its own canvas so that a narrow screen wraps them rather than shrinking them.
function digitRow(n) {
  const canvases = Array.from({ length: n }, () => pixelCanvas(SIDE, SIDE, SCALE));
  return { node: element("div", { class: "digits" }, ...canvases), canvases };
}

function paintRow(row, images) {
  row.canvases.forEach((canvas, b) => paintGray(canvas, images.subarray(b * SIDE * SIDE, (b + 1) * SIDE * SIDE), SIDE, SIDE));
}

// The nets a recipe runs, in the order live.js loads them before the view starts.
const recipeNets = (recipe) => (recipe.sampler === "ddim" ? [recipe.net] : Object.values(recipe.nets));

export function create(root, runtime, args, ctx) {
  const stats = ctx.stats;
  stats.compareSeconds = {};
  let state = args;
  let generation = 0;
  let rows = []; // {item, row, caption}
  const results = {}; // "kind/name" -> Float32Array: what the browser drew, for the parity test

  const signature = (a) => JSON.stringify(a.compare);

  function build() {
    const server = new Uint8Array(state.server_rows.slice().buffer);
    rows = [];
    for (const key of Object.keys(results)) delete results[key];
    root.replaceChildren();
    for (const section of state.compare.sections) {
      root.append(element("h3", { text: section.title }));
      for (const item of section.items) {
        const row = digitRow(item.n);
        const caption = element("figcaption", { text: item.caption || "" });
        if (item.title) root.append(element("h4", { text: item.title }));
        root.append(row.node, caption);
        if (item.server) {
          const pixels = server.subarray(item.server.offset, item.server.offset + item.n * SIDE * SIDE);
          paintRow(row, Float32Array.from(pixels, (v) => v / 255));
        } else {
          paintRow(row, new Float32Array(item.n * SIDE * SIDE).fill(PENDING));
          caption.textContent = "waiting for the other rows...";
          rows.push({ item, row, caption, section: section.kind });
        }
      }
      root.append(element("p", { class: "note" }, section.note));
    }
    ctx.resized();
  }

  async function drawOne({ item, row, caption, section }, isStale) {
    const recipe = item.browser;
    const n = item.n;
    const start = performance.now();
    let images;
    if (recipe.sampler === "ddim") {
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
            shown.set(soFar);
            for (let b = 0; b < n; b++) shown.fill(PENDING, (b * SIDE + r + 1) * SIDE, (b + 1) * SIDE * SIDE);
            paintRow(row, shown);
            caption.textContent = `row ${r + 1} of ${SIDE}, in your browser...`;
          };
      images = await SAMPLERS[recipe.sampler](runtime, recipe.nets, recipe.config, n, uniforms, 1.0, async (...a) => {
        progress(...a);
        await yieldToBrowser();
      }, isStale, keep, recipe.labels);
    }
    if (images === null) return false; // a newer seed took over
    const seconds = (performance.now() - start) / 1000;
    paintRow(row, images);
    caption.textContent = `drawn in your browser in ${seconds.toFixed(2)} s`;
    stats.compareSeconds[`${section}/${item.name}`] = seconds;
    results[`${section}/${item.name}`] = images;
    return true;
  }

  // Cheapest first, so one slow row (DDIM: 50 passes of a U-Net) does not hold up the others.
  const COST = { pixelcnn: 0, pixelrnn: 0, pixelrnn_diagonal: 0, multiscale: 0, gated_pixelcnn: 1, pixelcnn_pp: 1, ddim: 2 };

  async function drawAll() {
    const mine = ++generation;
    const isStale = () => mine !== generation;
    stats.compareDone = null;
    for (const r of [...rows].sort((a, b) => (COST[a.item.browser.sampler] ?? 1) - (COST[b.item.browser.sampler] ?? 1))) {
      if (isStale()) return;
      r.caption.textContent = "drawing...";
      if (!(await drawOne(r, isStale))) return;
    }
    stats.compareDone = state.compare.seed;
  }

  const nets = state.compare.sections.flatMap((s) => s.items.filter((i) => i.browser).flatMap((i) => recipeNets(i.browser)));
  return {
    nets: [...new Map(nets.map((net) => [net.file, net])).values()],
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
      // what the browser drew, "kind/name" -> pixels, once every row of the current seed is done (else null)
      rows: () => (stats.compareDone === state.compare.seed ? Object.fromEntries(Object.entries(results).map(([k, v]) => [k, Array.from(v)])) : null),
    },
  };
}
