// Draw pad: after every stroke, in the browser, the drawing as the models see it (inference/images.py's
// preprocessing, ported), its reconstructions through each encoder, the classifier's guess with its
// probabilities, and the PixelCNN's NLL in bits/dim with its per-pixel surprise map.
import { drawingDigit, ImageInputError } from "../preprocess.js";
import { base64, element, figure, floats, paintGray, paintHeat, pixelCanvas } from "../paint.js";
import { sigmoid, softplus } from "../samplers.js";

const SIDE = 28;
const N_PIXELS = SIDE * SIDE;

// Everything the pad shows for one 28 x 28 digit (Float32Array of 784 in [0, 1]); the parity tests compare
// each figure with the server's (inference/live.py pad_figures).
export async function analyse(runtime, pad, image, uniforms) {
  const x = [image, [1, 1, SIDE, SIDE]];
  const figures = { reconstructions: [] };
  for (const m of pad.encoders) {
    const code = (await runtime.run(m.encoder, x))[m.encoder.outputs[0]].data;
    const logits = (await runtime.run(m.decoder, [code, [1, code.length]])).logits.data;
    let error = 0; // Bernoulli cross-entropy of the input under the decoded probabilities, nats
    for (let i = 0; i < N_PIXELS; i++) error += softplus(logits[i]) - image[i] * logits[i];
    figures.reconstructions.push({ title: m.title, image: Float32Array.from(logits, sigmoid), nats: error });
  }
  if (pad.classifier) {
    const logits = (await runtime.run(pad.classifier.net, x)).logits.data;
    const top = Math.max(...logits);
    const e = Array.from(logits, (l) => Math.exp(l - top));
    const total = e.reduce((a, b) => a + b, 0);
    figures.probabilities = e.map((v) => v / total);
  }
  if (pad.likelihood) {
    // the project's fixed binarization: rng(0).random((28, 28)) < intensity, the uniforms drawn by the server
    const binary = Float32Array.from(image, (v, i) => (uniforms[i] < v ? 1 : 0));
    const logits = (await runtime.run(pad.likelihood.net, [binary, [1, 1, SIDE, SIDE]])).logits.data;
    const surprise = Float32Array.from(logits, (l, i) => softplus(l) - binary[i] * l);
    const nats = surprise.reduce((a, b) => a + b, 0);
    Object.assign(figures, { binary, surprise, nats, bitsPerDim: nats / (N_PIXELS * Math.LN2) });
  }
  return figures;
}

export function create(root, runtime, args, ctx) {
  const { pad } = args;
  const uniforms = floats(args.binarize_uniforms, Float64Array);
  const stats = ctx.stats;
  stats.padMs = [];
  const size = pad.size;

  const canvas = element("canvas", { class: "pad", width: size, height: size });
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const clear = () => {
    context.fillStyle = "#000000";
    context.fillRect(0, 0, size, size);
  };
  clear();
  const clearButton = element("button", { type: "button", text: "Clear" });
  const timing = element("p", { class: "note", text: "Draw one digit, large and in the middle." });
  const warning = element("p", { class: "warning" });
  const seen = figure(pixelCanvas(SIDE, SIDE, 5), "What the models see (28 x 28)");
  const recons = pad.encoders.map((m) => figure(pixelCanvas(SIDE, SIDE, 5), m.title));
  const bars = element("div", { class: "bars" });
  const barNodes = Array.from({ length: 10 }, (_, c) => {
    const fill = element("span", { class: "fill" });
    const value = element("span", { class: "p" });
    bars.append(element("div", { class: "bar" }, element("span", { class: "c", text: String(c) }), element("span", { class: "track" }, fill), value));
    return { fill, value };
  });
  const guess = element("p", { class: "guess" });
  const surprise = figure(pixelCanvas(SIDE, SIDE, 5), "Surprise per pixel");
  const nll = element("p", { class: "guess" });

  root.append(
    element(
      "div",
      { class: "row" },
      element("div", {}, canvas, element("div", {}, clearButton), timing, warning),
      element("div", { class: "results" },
        element("div", { class: "row" }, seen.node, ...recons.map((r) => r.node)),
        element("div", { class: "row" },
          pad.classifier ? element("div", {}, element("h4", { text: pad.classifier.title }), guess, bars) : "",
          pad.likelihood ? element("div", {}, element("h4", { text: pad.likelihood.title }), nll, surprise.node) : "",
        ),
      ),
    ),
  );

  let strokes = [];
  let current = null;
  let generation = 0;
  const line = (points) => {
    context.strokeStyle = "#FFFFFF";
    context.lineWidth = pad.stroke_width;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.beginPath();
    context.moveTo(points[0][0], points[0][1]);
    for (const [x, y] of points.length > 1 ? points.slice(1) : [points[0]]) context.lineTo(x, y);
    context.stroke();
  };
  const redraw = () => {
    clear();
    for (const s of strokes) line(s);
  };

  async function update(strokeEnd) {
    const mine = ++generation;
    const rgba = context.getImageData(0, 0, size, size).data;
    let prepared;
    const t0 = performance.now();
    try {
      prepared = drawingDigit(rgba, size, size);
    } catch (err) {
      if (!(err instanceof ImageInputError)) throw err;
      warning.textContent = err.message;
      return null;
    }
    const t1 = performance.now();
    const figures = await analyse(runtime, pad, prepared.image, uniforms);
    stats.padSplitMs = { preprocess: t1 - t0, networks: performance.now() - t1 };
    if (mine !== generation) return null; // a newer stroke is being analysed
    paintGray(seen.node.querySelector("canvas"), prepared.image);
    warning.textContent = prepared.warning || "";
    figures.reconstructions.forEach((r, i) => {
      paintGray(recons[i].node.querySelector("canvas"), r.image);
      recons[i].caption.textContent = `${r.title}: ${r.nats.toFixed(1)} nats`;
    });
    if (figures.probabilities) {
      const best = figures.probabilities.indexOf(Math.max(...figures.probabilities));
      guess.textContent = `A ${best}, with probability ${(figures.probabilities[best] * 100).toFixed(1)}%`;
      figures.probabilities.forEach((p, c) => {
        barNodes[c].fill.style.width = `${(p * 100).toFixed(1)}%`;
        barNodes[c].value.textContent = `${(p * 100).toFixed(1)}%`;
      });
    }
    if (figures.surprise) {
      nll.textContent = `${figures.bitsPerDim.toFixed(4)} bits/dim (${figures.nats.toFixed(1)} nats) for the binarized drawing`;
      paintHeat(surprise.node.querySelector("canvas"), figures.surprise, Math.max(...figures.surprise, 1e-6));
    }
    const ms = performance.now() - strokeEnd;
    stats.padMs.push(ms);
    stats.padUpdates = (stats.padUpdates || 0) + 1;
    timing.textContent = `Updated in ${ms.toFixed(0)} ms after the stroke ended, in your browser.`;
    ctx.resized();
    return { rgba, prepared, figures, ms };
  }

  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [((event.clientX - box.left) / box.width) * size, ((event.clientY - box.top) / box.height) * size];
  };
  canvas.addEventListener("pointerdown", (event) => {
    canvas.setPointerCapture(event.pointerId);
    current = [point(event)];
    strokes.push(current);
    line(current);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!current) return;
    current.push(point(event));
    line(current.slice(-2));
  });
  const end = () => {
    if (!current) return;
    current = null;
    redraw(); // the whole stroke in one path, as a test's drawStrokes draws it
    update(performance.now());
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  clearButton.addEventListener("click", () => {
    strokes = [];
    generation++;
    redraw();
    timing.textContent = "Draw one digit, large and in the middle.";
    warning.textContent = "";
  });

  return {
    nets: [...pad.encoders.flatMap((m) => [m.encoder, m.decoder]), pad.classifier?.net, pad.likelihood?.net].filter(Boolean),
    // Before the first stroke: one analysis of a drawn stroke off screen, so the first real one finds the
    // preprocessing compiled by the JavaScript engine and the sessions warm (the first took 140 ms, later ones 30).
    async start() {
      const scratch = element("canvas", { width: size, height: size }).getContext("2d", { willReadFrequently: true });
      scratch.fillStyle = "#000000";
      scratch.fillRect(0, 0, size, size);
      scratch.strokeStyle = "#FFFFFF";
      scratch.lineWidth = pad.stroke_width;
      scratch.lineCap = "round";
      scratch.beginPath();
      scratch.moveTo(size / 2, size / 5);
      scratch.lineTo(size / 2, (4 * size) / 5);
      scratch.stroke();
      for (let i = 0; i < 3; i++) {
        const prepared = drawingDigit(scratch.getImageData(0, 0, size, size).data, size, size);
        await analyse(runtime, pad, prepared.image, uniforms);
      }
    },
    update() {},
    test: {
      // draw strokes (lists of [x, y] canvas points) as the pointer would, and analyse: what tests compare
      async draw(newStrokes, keep = false) {
        if (!keep) strokes = [];
        strokes.push(...newStrokes);
        redraw();
        const result = await update(performance.now());
        return result && {
          rgba: base64(result.rgba),
          image: Array.from(result.prepared.image),
          warning: result.prepared.warning,
          figures: {
            reconstructions: result.figures.reconstructions.map((r) => ({ ...r, image: Array.from(r.image) })),
            probabilities: result.figures.probabilities,
            surprise: result.figures.surprise && Array.from(result.figures.surprise),
            nats: result.figures.nats,
            bitsPerDim: result.figures.bitsPerDim,
          },
        };
      },
      analyse: (image) => analyse(runtime, pad, Float32Array.from(image), uniforms),
    },
  };
}
