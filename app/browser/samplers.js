// The fast autoregressive samplers of inference/autoregressive.py, in the browser: the exported step network
// computes each layer at the new pixel only, from caches of earlier activations (PixelCNN) or from the carried
// recurrent state (PixelRNN). The uniforms come from the server (numpy's generator for the seed), so a seed gives
// the same images here as on the server: pixel (i, j) of image b is 1 when uniforms[b, i, j] < sigmoid(logit / T).

export const sigmoid = (x) => 0.5 * (1.0 + Math.tanh(0.5 * x)); // inference.numeric.sigmoid's form
export const softplus = (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))); // log(1 + e^x), overflow-free

// A macrotask boundary without setTimeout's 4 ms clamp, so the page can paint between rows.
const channel = new MessageChannel();
const waiting = [];
channel.port1.onmessage = () => waiting.shift()?.();
export const yieldToBrowser = () =>
  new Promise((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(null);
  });

// keep: a completion's kept pixels, {values, mask} (n, H, W) each, or null: where mask is 1 the pixel is taken from
// values, not drawn (Autoregressive.sample's known and known_mask).
function chooser(n, H, W, uniforms, temperature, out, keep) {
  return (i, j, logits) => {
    const value = new Float32Array(n);
    for (let b = 0; b < n; b++) {
      const at = (b * H + i) * W + j;
      if (keep?.mask[at]) {
        value[b] = keep.values[at];
      } else {
        // float32 arithmetic, step by step, as numpy does it on float32 logits
        const t = Math.fround(Math.tanh(Math.fround(0.5 * Math.fround(logits[b] / temperature))));
        const p = Math.fround(0.5 * Math.fround(1.0 + t));
        value[b] = uniforms[at] < p ? 1 : 0;
      }
      out[at] = value[b];
    }
    return value;
  };
}

// The image a raster sampler's first layer reads, zero-padded by K/2 on every side: window(i, j) fills the (n, K, K)
// window centred on pixel (i, j) (its causal mask lives in the network), set(i, j, values) writes a drawn pixel of
// every image, rows(i, count) copies the padded rows i .. i + count - 1, (n, count, width).
function paddedImage(n, H, W, K) {
  const P = Math.floor(K / 2);
  const PW = W + 2 * P;
  const PH = H + 2 * P;
  const pixels = new Float32Array(n * PH * PW);
  const windowed = new Float32Array(n * K * K);
  return {
    width: PW,
    window(i, j) {
      for (let b = 0; b < n; b++) {
        for (let di = 0; di < K; di++) {
          const from = (b * PH + i + di) * PW + j;
          windowed.set(pixels.subarray(from, from + K), (b * K + di) * K);
        }
      }
      return windowed;
    },
    set(i, j, values) {
      for (let b = 0; b < n; b++) pixels[(b * PH + i + P) * PW + j + P] = values[b];
    },
    rows(i, count) {
      const out = new Float32Array(n * count * PW);
      for (let b = 0; b < n; b++) out.set(pixels.subarray((b * PH + i) * PW, (b * PH + i + count) * PW), b * count * PW);
      return out;
    },
  };
}

// PixelCNN._sample_fast. config: {image_size, first_kernel, residual_blocks, channels}; step: a network with inputs
// (pixel_window (n, K, K), conv_window (n, 3, 3, RC)) and outputs logit (n), centers (n, RC).
// onRow(row, images) after each finished row; isStale() stops early when a newer request came in; keep: a
// completion's kept pixels (chooser).
export async function samplePixelCNN(runtime, step, config, n, uniforms, temperature = 1.0, onRow, isStale, keep = null) {
  const H = config.image_size;
  const W = H;
  const K = config.first_kernel;
  const RC = config.residual_blocks * config.channels;
  const image = paddedImage(n, H, W, K);
  const CW = W + 2; // the cache: every block's 3x3 input, channels last, padded by 1
  const cache = new Float32Array(n * (H + 2) * CW * RC);
  const out = new Float32Array(n * H * W);
  const choose = chooser(n, H, W, uniforms, temperature, out, keep);
  const convWindow = new Float32Array(n * 9 * RC);
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      for (let b = 0; b < n; b++) {
        for (let di = 0; di < 3; di++) {
          const from = ((b * (H + 2) + i + di) * CW + j) * RC;
          convWindow.set(cache.subarray(from, from + 3 * RC), (b * 3 + di) * 3 * RC);
        }
      }
      const res = await runtime.run(step, [image.window(i, j), [n, K, K]], [convWindow, [n, 3, 3, RC]]);
      const centers = res.centers.data;
      for (let b = 0; b < n; b++) {
        cache.set(centers.subarray(b * RC, (b + 1) * RC), ((b * (H + 2) + i + 1) * CW + j + 1) * RC);
      }
      image.set(i, j, choose(i, j, res.logit.data));
    }
    if (isStale?.()) return null;
    if (onRow) await onRow(i, out);
  }
  return out;
}

// PixelRNN._sample_fast (Row LSTM). config: {image_size, first_kernel, layers, channels}; step: inputs
// (pixel_window (n, K, K), left (n, LC), h_above (n, 3, LC), c_above (n, LC)), outputs logit, input, h, c.
export async function samplePixelRNN(runtime, step, config, n, uniforms, temperature = 1.0, onRow, isStale, keep = null) {
  const H = config.image_size;
  const W = H;
  const K = config.first_kernel;
  const LC = config.layers * config.channels;
  const image = paddedImage(n, H, W, K);
  let hAbove = new Float32Array(n * (W + 2) * LC); // the previous row's hidden states, padded by 1
  let cAbove = new Float32Array(n * W * LC);
  const out = new Float32Array(n * H * W);
  const choose = chooser(n, H, W, uniforms, temperature, out, keep);
  const hWindow = new Float32Array(n * 3 * LC);
  const cWindow = new Float32Array(n * LC);
  for (let i = 0; i < H; i++) {
    const hRow = new Float32Array(n * (W + 2) * LC);
    const cRow = new Float32Array(n * W * LC);
    let left = new Float32Array(n * LC);
    for (let j = 0; j < W; j++) {
      for (let b = 0; b < n; b++) {
        const hFrom = (b * (W + 2) + j) * LC;
        hWindow.set(hAbove.subarray(hFrom, hFrom + 3 * LC), b * 3 * LC);
        const cFrom = (b * W + j) * LC;
        cWindow.set(cAbove.subarray(cFrom, cFrom + LC), b * LC);
      }
      const res = await runtime.run(step, [image.window(i, j), [n, K, K]], [left, [n, LC]], [hWindow, [n, 3, LC]], [cWindow, [n, LC]]);
      left = Float32Array.from(res.input.data);
      for (let b = 0; b < n; b++) {
        hRow.set(res.h.data.subarray(b * LC, (b + 1) * LC), (b * (W + 2) + j + 1) * LC);
        cRow.set(res.c.data.subarray(b * LC, (b + 1) * LC), (b * W + j) * LC);
      }
      image.set(i, j, choose(i, j, res.logit.data));
    }
    hAbove = hRow;
    cAbove = cRow;
    if (isStale?.()) return null;
    if (onRow) await onRow(i, out);
  }
  return out;
}

// PixelRNNDiagonal._sample_fast (Diagonal BiLSTM). nets: {step, row_step}; config: {image_size, first_kernel, layers,
// channels}. The left-to-right LSTM steps pixel by pixel (step), the right-to-left one runs over each finished row
// (row_step), and the next row's steps read both from the row above.
export async function samplePixelRNNDiagonal(runtime, nets, config, n, uniforms, temperature = 1.0, onRow, isStale, keep = null) {
  const H = config.image_size;
  const W = H;
  const K = config.first_kernel;
  const P = Math.floor(K / 2);
  const LC = config.layers * config.channels;
  const image = paddedImage(n, H, W, K);
  let aboveH = new Float32Array(n * W * LC); // the left-to-right h of the row above
  let shifted = new Float32Array(n * W * LC); // the right-to-left h of the row above
  const out = new Float32Array(n * H * W);
  const choose = chooser(n, H, W, uniforms, temperature, out, keep);
  const aboveJ = new Float32Array(n * LC);
  const shiftedJ = new Float32Array(n * LC);
  for (let i = 0; i < H; i++) {
    const inputs = new Float32Array(n * W * LC);
    const rowH = new Float32Array(n * W * LC);
    let leftH = new Float32Array(n * LC);
    let leftC = new Float32Array(n * LC);
    for (let j = 0; j < W; j++) {
      for (let b = 0; b < n; b++) {
        aboveJ.set(aboveH.subarray((b * W + j) * LC, (b * W + j + 1) * LC), b * LC);
        shiftedJ.set(shifted.subarray((b * W + j) * LC, (b * W + j + 1) * LC), b * LC);
      }
      const res = await runtime.run(nets.step, [image.window(i, j), [n, K, K]], [leftH, [n, LC]], [leftC, [n, LC]], [aboveJ, [n, LC]], [shiftedJ, [n, LC]]);
      for (let b = 0; b < n; b++) {
        inputs.set(res.input.data.subarray(b * LC, (b + 1) * LC), (b * W + j) * LC);
        rowH.set(res.h.data.subarray(b * LC, (b + 1) * LC), (b * W + j) * LC);
      }
      leftH = Float32Array.from(res.h.data);
      leftC = Float32Array.from(res.c.data);
      image.set(i, j, choose(i, j, res.logit.data));
    }
    const rows = image.rows(i, P + 1); // the padded rows i .. i + P: the finished row and the K/2 above
    shifted = Float32Array.from((await runtime.run(nets.row_step, [rows, [n, P + 1, image.width]], [inputs, [n, W, LC]], [shifted, [n, W, LC]])).h.data);
    aboveH = rowH;
    if (isStale?.()) return null;
    if (onRow) await onRow(i, out);
  }
  return out;
}

const oneHot = (labels, classes) => {
  const y = new Float32Array(labels.length * classes);
  labels.forEach((label, b) => (y[b * classes + label] = 1));
  return y;
};

// GatedPixelCNN._sample_fast (class-conditional). nets: {row_step, pixel_step}; config: {image_size, channels,
// first_kernel, kernel, dilations, num_classes}; labels: one class per image. The horizontal stack steps pixel by
// pixel (pixel_step, reading each layer's h a dilation to the left), the vertical stack runs once per finished row
// (row_step), every layer at once. Activations are kept unpadded: a read outside the image is a zero.
export async function sampleGatedPixelCNN(runtime, nets, config, n, uniforms, temperature = 1.0, onRow, isStale, keep = null, labels = null) {
  const H = config.image_size;
  const W = H;
  const C = config.channels;
  const [k0, k] = [config.first_kernel, config.kernel];
  const [kh0, kh] = [Math.floor(k0 / 2) + 1, Math.floor(k / 2) + 1];
  const dilations = [1, ...config.dilations];
  const L = dilations.length;
  const y = oneHot(labels, config.num_classes);
  const Y = [y, [n, config.num_classes]];
  const out = new Float32Array(n * H * W);
  const choose = chooser(n, H, W, uniforms, temperature, out, keep);
  const pixel = (b, r, c) => (r >= 0 && c >= 0 && r < H && c < W ? out[(b * H + r) * W + c] : 0);
  const vOut = Array.from({ length: L }, () => new Float32Array(n * C * H * W)); // each layer's vertical output
  let vAbove = new Float32Array(n * W * L * 2 * C); // every layer's v_pre of the row above
  const V = L * 2 * C;
  const windows = (L - 1) * (kh - 1) * C;
  for (let i = 0; i < H; i++) {
    const hIn = Array.from({ length: L }, () => new Float32Array(n * W * C)); // this row's horizontal h, per layer
    for (let j = 0; j < W; j++) {
      const pixelRow = new Float32Array(n * kh0);
      const vJ = new Float32Array(n * V);
      const hWindows = new Float32Array(n * windows);
      for (let b = 0; b < n; b++) {
        for (let t = 0; t < kh0; t++) pixelRow[b * kh0 + t] = pixel(b, i, j - (kh0 - 1) + t);
        vJ.set(vAbove.subarray((b * W + j) * V, (b * W + j + 1) * V), b * V);
        let at = b * windows;
        for (let layer = 1; layer < L; layer++) {
          const d = dilations[layer];
          for (let t = kh - 1; t >= 1; t--, at += C) {
            const c = j - d * t;
            if (c >= 0) hWindows.set(hIn[layer].subarray((b * W + c) * C, (b * W + c + 1) * C), at);
          }
        }
      }
      const res = await runtime.run(nets.pixel_step, [pixelRow, [n, kh0]], Y, [vJ, [n, V]], [hWindows, [n, windows]]);
      for (let b = 0; b < n; b++) {
        for (let layer = 1; layer < L; layer++) {
          const from = b * (L - 1) * C + (layer - 1) * C;
          hIn[layer].set(res.h.data.subarray(from, from + C), (b * W + j) * C);
        }
      }
      choose(i, j, res.logit.data);
    }
    // row i is finished: the vertical stack of every layer at row i, once
    const side0 = Math.floor(k0 / 2);
    const imageRows = new Float32Array(n * kh0 * (W + 2 * side0));
    for (let b = 0; b < n; b++) {
      for (let t = 0; t < kh0; t++) {
        for (let c = 0; c < W + 2 * side0; c++) imageRows[(b * kh0 + t) * (W + 2 * side0) + c] = pixel(b, i - (kh0 - 1) + t, c - side0);
      }
    }
    const vRows = [];
    for (let layer = 1; layer < L; layer++) {
      const d = dilations[layer];
      const side = d * Math.floor(k / 2);
      const width = W + 2 * side;
      const rows = new Float32Array(n * C * (kh - 1) * width);
      for (let b = 0; b < n; b++) {
        for (let ch = 0; ch < C; ch++) {
          for (let t = kh - 1, r = 0; t >= 1; t--, r++) {
            const row = i - d * t;
            if (row < 0) continue;
            const from = ((b * C + ch) * H + row) * W;
            rows.set(vOut[layer - 1].subarray(from, from + W), ((b * C + ch) * (kh - 1) + r) * width + side);
          }
        }
      }
      vRows.push([rows, [n, C, kh - 1, width]]);
    }
    const res = await runtime.run(nets.row_step, [imageRows, [n, kh0, W + 2 * side0]], Y, ...vRows);
    for (let layer = 0; layer < L; layer++) {
      const v = res[`v_out_${layer}`].data; // (n, C, W)
      for (let b = 0; b < n; b++) {
        for (let ch = 0; ch < C; ch++) vOut[layer].set(v.subarray((b * C + ch) * W, (b * C + ch + 1) * W), ((b * C + ch) * H + i) * W);
      }
    }
    vAbove = Float32Array.from(res.v_pre.data);
    if (isStale?.()) return null;
    if (onRow) await onRow(i, out);
  }
  return out;
}

// ---- 8-bit pixels: PixelCNN++ and its softmax twin (inference/pixelcnn_pp.py) -----------------------------------

const LEVELS = 256;

function logSoftmax(a) {
  let top = -Infinity;
  for (const v of a) top = Math.max(top, v);
  let sum = 0;
  for (const v of a) sum += Math.exp(v - top);
  const log = top + Math.log(sum);
  return a.map((v) => v - log);
}

const logSigmoid = (z) => -softplus(-z); // -log(1 + e^-z), as numpy's -logaddexp(0, -z)

// pixelcnn_pp.logistic_mixture_log_mass for one pixel: log P(v) for v = 0..255 under a discretized mixture of K
// logistics (3K parameters), nats. Value v is the bin [x - 1/255, x + 1/255] around x = 2v/255 - 1, the edge values
// take the tails.
export function mixtureLogMass(params) {
  const K = params.length / 3;
  const logPi = logSoftmax(Float64Array.from(params.subarray(0, K)));
  const out = new Float64Array(LEVELS);
  const terms = new Float64Array(K);
  for (let v = 0; v < LEVELS; v++) {
    for (let k = 0; k < K; k++) {
      const mean = params[K + k];
      const invS = Math.exp(-Math.max(params[2 * K + k], -7.0));
      const upper = invS * ((2 * v + 1) / (LEVELS - 1) - 1 - mean);
      const lower = invS * ((2 * v - 1) / (LEVELS - 1) - 1 - mean);
      let mass;
      if (v === 0) mass = logSigmoid(upper);
      else if (v === LEVELS - 1) mass = logSigmoid(-lower);
      else mass = logSigmoid(upper) + logSigmoid(-lower) + Math.log(-Math.expm1((-2 / (LEVELS - 1)) * invS));
      terms[k] = mass + logPi[k];
    }
    let top = -Infinity;
    for (const t of terms) top = Math.max(top, t);
    if (!Number.isFinite(top)) top = 0;
    let sum = 0;
    for (const t of terms) sum += Math.exp(t - top);
    out[v] = top + Math.log(sum);
  }
  return out;
}

// PixelCNNPP.draw: the level whose bin of the 256-way CDF holds u, for one pixel's parameters (float64 throughout,
// as numpy computes it). A mixture of K logistics at temperature 1 takes the logistics' CDFs at the bins' upper
// edges, weighted (PixelCNNPP._mixture_cdf); otherwise the 256 log masses, sharpened to p^(1/T) and renormalized.
export function drawLevel(params, u, likelihood, temperature = 1.0) {
  let cdf;
  if (likelihood === "logistic_mixture" && temperature === 1.0) {
    const K = params.length / 3;
    const weights = logSoftmax(Float64Array.from(params.subarray(0, K))).map(Math.exp);
    cdf = new Float64Array(LEVELS - 1);
    for (let k = 0; k < K; k++) {
      const mean = params[K + k];
      const invS = Math.exp(-Math.max(params[2 * K + k], -7.0));
      for (let l = 0; l < LEVELS - 1; l++) {
        const upper = (2 * l + 1) / (LEVELS - 1) - 1;
        cdf[l] += weights[k] * 0.5 * (1 + Math.tanh(0.5 * invS * (upper - mean)));
      }
    }
  } else {
    const logMass = likelihood === "logistic_mixture" ? mixtureLogMass(params) : logSoftmax(Float64Array.from(params));
    const p = logSoftmax(logMass.map((v) => v / temperature)).map(Math.exp);
    cdf = new Float64Array(LEVELS - 1);
    let run = 0;
    for (let l = 0; l < LEVELS - 1; l++) cdf[l] = run += p[l];
  }
  let level = 0;
  for (let l = 0; l < LEVELS - 1; l++) if (cdf[l] < u) level++;
  return Math.fround(level / (LEVELS - 1));
}

// Whether a network's first input was exported with this axis dynamic (a name, not a number): the windowed calls.
const dynamic = (net, axis) => typeof net.shapes[0][axis] === "string";

// PixelCNNPP._sample_fast. nets: {context, pixel_step}; config: the card's (image_size, blocks, first_width,
// row_blocks, likelihood). The context stream runs once per row on the rows so far (padded to a height the levels
// halve), the row stream once per pixel on the window of columns it reaches; a pixel every image keeps costs no call.
export async function samplePixelCNNPP(runtime, nets, config, n, uniforms, temperature = 1.0, onRow, isStale, keep = null) {
  const S = config.image_size;
  const C = nets.pixel_step.shapes[1][1]; // the context's channels
  const step = dynamic(nets.context, 2) ? 2 ** (config.blocks.length - 1) : S;
  const reach = dynamic(nets.pixel_step, 3) ? config.first_width + 4 * config.row_blocks : null;
  const out = new Float32Array(n * S * S);
  const todo = new Uint8Array(S * S).fill(1); // the pixels some image draws
  if (keep) todo.forEach((_, at) => (todo[at] = Array.from({ length: n }, (_, b) => keep.mask[b * S * S + at]).some((m) => !m)));
  let rowContext = null; // (n, C, S): the context at row i
  for (let i = 0; i < S; i++) {
    if (todo.subarray(i * S, (i + 1) * S).some(Boolean)) {
      const rows = Math.min(S, Math.ceil((i + 1) / step) * step);
      const x = new Float32Array(n * rows * S);
      for (let b = 0; b < n; b++) x.set(out.subarray(b * S * S, b * S * S + rows * S), b * rows * S);
      const context = (await runtime.run(nets.context, [x, [n, 1, rows, S]])).context.data; // (n, C, rows, S)
      rowContext = new Float32Array(n * C * S);
      for (let b = 0; b < n; b++) {
        for (let c = 0; c < C; c++) {
          const from = ((b * C + c) * rows + i) * S;
          rowContext.set(context.subarray(from, from + S), (b * C + c) * S);
        }
      }
    }
    for (let j = 0; j < S; j++) {
      for (let b = 0; b < n; b++) {
        const at = (b * S + i) * S + j;
        if (keep?.mask[at]) out[at] = keep.values[at];
      }
      if (!todo[i * S + j]) continue;
      const lo = reach === null ? 0 : Math.max(0, j - reach);
      const hi = reach === null ? S : j + 1;
      const w = hi - lo;
      const xRow = new Float32Array(n * w);
      const cRow = new Float32Array(n * C * w);
      for (let b = 0; b < n; b++) {
        xRow.set(out.subarray((b * S + i) * S + lo, (b * S + i) * S + hi), b * w);
        for (let c = 0; c < C; c++) cRow.set(rowContext.subarray((b * C + c) * S + lo, (b * C + c) * S + hi), (b * C + c) * w);
      }
      const params = (await runtime.run(nets.pixel_step, [xRow, [n, 1, 1, w]], [cRow, [n, C, 1, w]])).params; // (n, P, 1, w)
      const P = params.dims[1];
      for (let b = 0; b < n; b++) {
        const at = (b * S + i) * S + j;
        if (keep?.mask[at]) continue;
        const mine = new Float64Array(P);
        for (let p = 0; p < P; p++) mine[p] = params.data[(b * P + p) * w + (j - lo)];
        out[at] = drawLevel(mine, uniforms[at], config.likelihood, temperature);
      }
    }
    if (isStale?.()) return null;
    if (onRow) await onRow(i, out);
  }
  return out;
}

// ---- coarse to fine: the multi-scale PixelCNN (inference/multiscale.py) ------------------------------------------

const LATTICES = [[0, 0], [0, 1], [1, 0], [1, 1]]; // (0, 0): the level below, then groups 1, 2, 3

// multiscale.coarse_preview: every pixel not drawn yet takes its nearest drawn coarser pixel; flat gray if none.
export function coarsePreview(images, drawn, n, S, pending = 0.3) {
  const shown = new Float32Array(n * S * S);
  for (let at = 0; at < S * S; at++) {
    const [i, j] = [Math.floor(at / S), at % S];
    let from = drawn[at] ? at : -1;
    for (const stride of [2, 4]) {
      const parent = Math.floor(i / stride) * stride * S + Math.floor(j / stride) * stride;
      if (from < 0 && drawn[parent]) from = parent;
    }
    for (let b = 0; b < n; b++) shown[b * S * S + at] = from < 0 ? pending : images[b * S * S + from];
  }
  return shown;
}

// MultiscalePixelCNN.sample. nets: {base, upsample_14, upsample_28}; config: {image_size, base_size}. The base
// (x[::4, ::4]) pixel by pixel with its own PixelCNN++, then each finer level's new pixels in three groups, each drawn
// at once: 49 + 6 steps. A step every image keeps (a completion) runs no network. onRow(done, preview, total) after
// each base row and each group, with the coarse preview.
export async function sampleMultiscale(runtime, nets, config, n, uniforms, temperature = 1.0, onRow, isStale, keep = null) {
  const S = config.image_size;
  const sizes = [config.base_size || S / 4];
  while (sizes.at(-1) < S) sizes.push(2 * sizes.at(-1));
  const out = new Float32Array(n * S * S);
  const drawn = new Uint8Array(S * S);
  let steps = 0;
  // the positions (i, j) of a level's group in the full image
  const positions = (level, group) => {
    const stride = S / sizes[level];
    const [a, b] = LATTICES[group];
    const [start, step] = level === 0 ? [[0, 0], stride] : [[a * stride, b * stride], 2 * stride];
    const at = [];
    for (let i = start[0]; i < S; i += step) for (let j = start[1]; j < S; j += step) at.push(i * S + j);
    return at;
  };
  const kept = (at) => {
    if (!keep || !at.every((p) => Array.from({ length: n }, (_, b) => keep.mask[b * S * S + p]).every(Boolean))) return false;
    for (const p of at) {
      drawn[p] = 1;
      for (let b = 0; b < n; b++) out[b * S * S + p] = keep.values[b * S * S + p];
    }
    return true;
  };
  // draw pixel p of every image from params(b) (its P numbers), keeping the known ones
  const take = (p, params) => {
    for (let b = 0; b < n; b++) {
      const at = b * S * S + p;
      out[at] = keep?.mask[at] ? keep.values[at] : drawLevel(params(b), uniforms[at], "logistic_mixture", temperature);
    }
    drawn[p] = 1;
  };
  const total = sizes[0] + 3 * (sizes.length - 1); // progress: the base's rows, then the groups
  const progress = async () => {
    steps += 1;
    if (isStale?.()) return true;
    if (onRow) await onRow(steps, coarsePreview(out, drawn, n, S), total);
    return false;
  };
  const base = sizes[0];
  const stride = S / base;
  for (let a = 0; a < base; a++) {
    for (let c = 0; c < base; c++) {
      const p = a * stride * S + c * stride;
      if (kept([p])) continue;
      const x = new Float32Array(n * base * base);
      for (let b = 0; b < n; b++) for (let q = 0; q < base * base; q++) x[b * base * base + q] = out[b * S * S + Math.floor(q / base) * stride * S + (q % base) * stride];
      const res = (await runtime.run(nets.base, [x, [n, 1, base, base]])).params; // (n, P, base, base)
      const P = res.dims[1];
      take(p, (b) => Float64Array.from({ length: P }, (_, k) => res.data[((b * P + k) * base + a) * base + c]));
    }
    if (await progress()) return null;
  }
  for (let level = 1; level < sizes.length; level++) {
    const size = sizes[level];
    const st = S / size;
    const half = size / 2;
    for (const group of [1, 2, 3]) {
      const at = positions(level, group);
      if (!kept(at)) {
        const parts = new Float32Array(n * 4 * half * half); // the level's four interleaved lattices
        for (let b = 0; b < n; b++) {
          LATTICES.forEach(([la, lb], l) => {
            for (let r = 0; r < half; r++) {
              for (let c = 0; c < half; c++) parts[((b * 4 + l) * half + r) * half + c] = out[b * S * S + (2 * r + la) * st * S + (2 * c + lb) * st];
            }
          });
        }
        const stage = new Float32Array(n * 3);
        for (let b = 0; b < n; b++) stage[b * 3 + group - 1] = 1;
        const res = (await runtime.run(nets[`upsample_${size}`], [parts, [n, 4, half, half]], [stage, [n, 3]])).params; // (n, P, half, half)
        const P = res.dims[1];
        at.forEach((p, q) => take(p, (b) => Float64Array.from({ length: P }, (_, k) => res.data[(b * P + k) * half * half + q])));
      }
      if (await progress()) return null;
    }
  }
  return out;
}

// ---- diffusion: DDIM with classifier-free guidance (inference/diffusion.py) --------------------------------------

// Diffusion.sample with method "ddim". plan (from the server): {steps: [{t, a, s, aPrev, sPrev}]} with a = sqrt(abar_t),
// s = sqrt(1 - abar_t) and the same of the next step visited (1 and 0 after the last), the labels (n) and the
// guidance scale; xT: the starting noise, numpy's for the seed. float32 arithmetic, as numpy does it on float32 x.
// onStep(index, steps, x) after each step; returns the images as intensities in [0, 1].
export async function sampleDDIM(runtime, denoiser, plan, n, xT, onStep, isStale) {
  const f = Math.fround;
  const D = xT.length / n;
  const classes = plan.num_classes + 1; // the last column: the null class
  const guided = plan.labels !== null && plan.guidance !== 0;
  const batch = guided ? 2 * n : n;
  const y = new Float32Array(batch * classes);
  for (let b = 0; b < batch; b++) {
    const label = guided && b < n ? plan.labels[b] : plan.num_classes;
    y[b * classes + label] = 1;
  }
  const g = f(plan.guidance);
  let x = Float32Array.from(xT);
  for (const [index, st] of plan.steps.entries()) {
    const input = new Float32Array(batch * D);
    input.set(x);
    if (guided) input.set(x, n * D);
    const both = (await runtime.run(denoiser, [input, [batch, 1, plan.image_size, plan.image_size]], [new Float32Array(batch).fill(st.t), [batch]], [y, [batch, classes]])).eps.data;
    const [a, s, aPrev, sPrev] = [f(st.a), f(st.s), f(st.aPrev), f(st.sPrev)];
    const next = new Float32Array(n * D);
    for (let k = 0; k < n * D; k++) {
      const eps = guided ? f(both[n * D + k] + f(g * f(both[k] - both[n * D + k]))) : both[k];
      const x0 = Math.min(Math.max(f(f(x[k] - f(s * eps)) / a), -1), 1);
      const e = f(f(x[k] - f(a * x0)) / s);
      next[k] = f(f(aPrev * x0) + f(sPrev * e));
    }
    x = next;
    if (isStale?.()) return null;
    if (onStep) await onStep(index, plan.steps.length, x);
  }
  return x.map((v) => Math.min(Math.max(f(f(v + 1) / 2), 0), 1));
}

// ---- a normalizing flow (inference/flow.py) -----------------------------------------------------------------------

// Flow.decode, and Flow.reconstruct when given the dequantized images: codes -> y in (0, 1) through the decoder, read
// back as 8-bit intensities (float32, as numpy computes it). nets: {decoder} or {encoder, decoder}; codes: (n, D);
// dequantized: (n, 1, S, S), the encoder's input.
export async function flowImages(runtime, nets, n, S, { codes = null, dequantized = null }) {
  const f = Math.fround;
  const z = codes ?? (await runtime.run(nets.encoder, [dequantized, [n, 1, S, S]])).z.data;
  const y = (await runtime.run(nets.decoder, [z, [n, S * S]])).x.data;
  return y.map((v) => Math.min(Math.max(f(f(f(256 * v) - 0.5) / 255), 0), 1));
}

// Every ported sampler by its card's architecture, called as (runtime, nets by role, config, n, uniforms, temperature,
// onRow, isStale, keep, labels).
export const SAMPLERS = {
  pixelcnn: (runtime, nets, ...rest) => samplePixelCNN(runtime, nets.step ?? nets, ...rest),
  pixelrnn: (runtime, nets, ...rest) => samplePixelRNN(runtime, nets.step ?? nets, ...rest),
  pixelrnn_diagonal: samplePixelRNNDiagonal,
  gated_pixelcnn: sampleGatedPixelCNN,
  pixelcnn_pp: samplePixelCNNPP,
  multiscale: sampleMultiscale,
};
