// Samplers in the browser: the PixelCNN and the PixelRNN draw pixel by pixel with their fast samplers, the
// raster order shown at the speed it really runs; the VAE and the GANs decode their codes at every seed. The
// noise (uniforms, codes) is numpy's for the seed, sent by the server, so the pictures equal the server's.
import { element, figure, floats, inProgress, paintGray, pixelCanvas, tile } from "../paint.js";
import { SAMPLERS, yieldToBrowser } from "../samplers.js";
import { decode } from "./latent.js";

const SIDE = 28;

export function create(root, runtime, args, ctx) {
  const stats = ctx.stats;
  stats.sampleSeconds = {};
  let state = args;
  let generation = 0;
  const cols = (n) => Math.ceil(Math.sqrt(n));
  const gridCanvas = (n) => {
    const t = tile(new Float32Array(n * SIDE * SIDE), n, SIDE, cols(n));
    return pixelCanvas(t.w, t.h, 3);
  };
  const paintTiles = (canvas, images, n) => {
    const t = tile(images, n, SIDE, cols(n));
    paintGray(canvas, t.grid, t.w, t.h);
  };

  const n = args.samplers.n;
  const arFigures = args.samplers.autoregressive.map((m) => figure(gridCanvas(n), m.title));
  const latentFigures = args.samplers.latent.map((m) => figure(gridCanvas(n), m.title));
  const again = element("button", { type: "button", text: "Draw the autoregressive samples again" });
  root.append(
    element("h3", { text: "Autoregressive models, pixel by pixel" }),
    element(
      "p",
      { class: "note" },
      "784 runs of each model's step network, one per pixel in raster order, for all the images at once; rows " +
        "not drawn yet are gray. The clock is your browser's.",
    ),
    element("div", { class: "row" }, ...arFigures.map((f) => f.node)),
    again,
    element("h3", { text: "Latent models: one decoder pass per seed" }),
    element("div", { class: "row" }, ...latentFigures.map((f) => f.node)),
  );

  async function sampleLatent() {
    const s = state.samplers;
    const codes = floats(state.latent_codes);
    for (const [index, m] of s.latent.entries()) {
      const start = performance.now();
      const z = codes.subarray(m.offset, m.offset + s.n * m.z_dim);
      let images;
      if (m.labels) {
        const y = new Float32Array(s.n * m.num_classes);
        m.labels.forEach((label, b) => {
          y[b * m.num_classes + label] = 1;
        });
        const out = await runtime.run(m.net, [z, [s.n, m.z_dim]], [y, [s.n, m.num_classes]]);
        images = out[m.net.outputs[0]].data;
      } else {
        images = await decode(runtime, m.net, z, s.n, m.z_dim);
      }
      const ms = performance.now() - start;
      paintTiles(latentFigures[index].node.querySelector("canvas"), images, s.n);
      latentFigures[index].caption.textContent = `${m.title}: ${s.n} samples, seed ${s.seed}, in ${ms.toFixed(1)} ms`;
      stats.sampleSeconds[m.title] = ms / 1000;
    }
  }

  async function sampleAutoregressive() {
    const mine = ++generation;
    const s = state.samplers;
    const uniforms = floats(state.ar_uniforms, Float64Array);
    const results = {};
    for (const [index, m] of s.autoregressive.entries()) {
      const canvas = arFigures[index].node.querySelector("canvas");
      const caption = arFigures[index].caption;
      caption.textContent = `${m.title}: sampling...`;
      const shown = new Float32Array(s.n * SIDE * SIDE);
      const start = performance.now();
      const images = await SAMPLERS[m.architecture](
        runtime,
        m.net,
        m.config,
        s.n,
        uniforms,
        s.temperature,
        async (row, soFar) => {
          paintTiles(canvas, inProgress(shown, soFar, s.n, row), s.n);
          await yieldToBrowser(); // let the page paint the row
        },
        () => mine !== generation,
      );
      if (images === null) return null; // a newer seed took over
      const seconds = (performance.now() - start) / 1000;
      paintTiles(canvas, images, s.n);
      caption.textContent = `${m.title}: ${s.n} samples, seed ${s.seed}, in ${seconds.toFixed(2)} s in your browser`;
      stats.sampleSeconds[m.title] = seconds;
      results[m.architecture] = images;
    }
    stats.arSamples = (stats.arSamples || 0) + 1;
    return results;
  }

  again.addEventListener("click", () => sampleAutoregressive());

  return {
    nets: [...args.samplers.autoregressive.map((m) => m.net), ...args.samplers.latent.map((m) => m.net)],
    async start() {
      await sampleLatent();
      await sampleAutoregressive();
    },
    async update(newArgs) {
      const changed = newArgs.samplers.seed !== state.samplers.seed;
      state = newArgs;
      if (changed) {
        await sampleLatent();
        await sampleAutoregressive();
      }
    },
    test: {
      // the fast sampler of one architecture on given uniforms, without drawing: what the parity test compares
      async sample(architecture, n, uniforms, temperature = 1.0) {
        const m = state.samplers.autoregressive.find((a) => a.architecture === architecture);
        const images = await SAMPLERS[architecture](runtime, m.net, m.config, n, Float64Array.from(uniforms), temperature);
        return Array.from(images);
      },
      sampleAutoregressive,
      sampleLatent,
    },
  };
}
