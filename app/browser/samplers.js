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

function chooser(n, H, W, uniforms, temperature, out) {
  return (i, j, logits) => {
    const value = new Float32Array(n);
    for (let b = 0; b < n; b++) {
      // float32 arithmetic, step by step, as numpy does it on float32 logits
      const t = Math.fround(Math.tanh(Math.fround(0.5 * Math.fround(logits[b] / temperature))));
      const p = Math.fround(0.5 * Math.fround(1.0 + t));
      value[b] = uniforms[(b * H + i) * W + j] < p ? 1 : 0;
      out[(b * H + i) * W + j] = value[b];
    }
    return value;
  };
}

// PixelCNN._sample_fast. config: {image_size, first_kernel, residual_blocks, channels}; step: a network with inputs
// (pixel_window (n, K, K), conv_window (n, 3, 3, RC)) and outputs logit (n), centers (n, RC).
// onRow(row, images) after each finished row; isStale() stops early when a newer request came in.
export async function samplePixelCNN(runtime, step, config, n, uniforms, temperature = 1.0, onRow, isStale) {
  const H = config.image_size;
  const W = H;
  const K = config.first_kernel;
  const P = Math.floor(K / 2);
  const RC = config.residual_blocks * config.channels;
  const PW = W + 2 * P;
  const PH = H + 2 * P;
  const pixels = new Float32Array(n * PH * PW);
  const CW = W + 2; // the cache: every block's 3x3 input, channels last, padded by 1
  const cache = new Float32Array(n * (H + 2) * CW * RC);
  const out = new Float32Array(n * H * W);
  const choose = chooser(n, H, W, uniforms, temperature, out);
  const pixelWindow = new Float32Array(n * K * K);
  const convWindow = new Float32Array(n * 9 * RC);
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      for (let b = 0; b < n; b++) {
        for (let di = 0; di < K; di++) {
          const from = (b * PH + i + di) * PW + j;
          pixelWindow.set(pixels.subarray(from, from + K), (b * K + di) * K);
        }
        for (let di = 0; di < 3; di++) {
          const from = ((b * (H + 2) + i + di) * CW + j) * RC;
          convWindow.set(cache.subarray(from, from + 3 * RC), (b * 3 + di) * 3 * RC);
        }
      }
      const res = await runtime.run(step, [pixelWindow, [n, K, K]], [convWindow, [n, 3, 3, RC]]);
      const centers = res.centers.data;
      for (let b = 0; b < n; b++) {
        cache.set(centers.subarray(b * RC, (b + 1) * RC), ((b * (H + 2) + i + 1) * CW + j + 1) * RC);
      }
      const value = choose(i, j, res.logit.data);
      for (let b = 0; b < n; b++) pixels[(b * PH + i + P) * PW + j + P] = value[b];
    }
    if (isStale?.()) return null;
    if (onRow) await onRow(i, out);
  }
  return out;
}

// PixelRNN._sample_fast (Row LSTM). config: {image_size, first_kernel, layers, channels}; step: inputs
// (pixel_window (n, K, K), left (n, LC), h_above (n, 3, LC), c_above (n, LC)), outputs logit, input, h, c.
export async function samplePixelRNN(runtime, step, config, n, uniforms, temperature = 1.0, onRow, isStale) {
  const H = config.image_size;
  const W = H;
  const K = config.first_kernel;
  const P = Math.floor(K / 2);
  const LC = config.layers * config.channels;
  const PW = W + 2 * P;
  const PH = H + 2 * P;
  const pixels = new Float32Array(n * PH * PW);
  let hAbove = new Float32Array(n * (W + 2) * LC); // the previous row's hidden states, padded by 1
  let cAbove = new Float32Array(n * W * LC);
  const out = new Float32Array(n * H * W);
  const choose = chooser(n, H, W, uniforms, temperature, out);
  const pixelWindow = new Float32Array(n * K * K);
  const hWindow = new Float32Array(n * 3 * LC);
  const cWindow = new Float32Array(n * LC);
  for (let i = 0; i < H; i++) {
    const hRow = new Float32Array(n * (W + 2) * LC);
    const cRow = new Float32Array(n * W * LC);
    let left = new Float32Array(n * LC);
    for (let j = 0; j < W; j++) {
      for (let b = 0; b < n; b++) {
        for (let di = 0; di < K; di++) {
          const from = (b * PH + i + di) * PW + j;
          pixelWindow.set(pixels.subarray(from, from + K), (b * K + di) * K);
        }
        const hFrom = (b * (W + 2) + j) * LC;
        hWindow.set(hAbove.subarray(hFrom, hFrom + 3 * LC), b * 3 * LC);
        const cFrom = (b * W + j) * LC;
        cWindow.set(cAbove.subarray(cFrom, cFrom + LC), b * LC);
      }
      const res = await runtime.run(step, [pixelWindow, [n, K, K]], [left, [n, LC]], [hWindow, [n, 3, LC]], [cWindow, [n, LC]]);
      left = Float32Array.from(res.input.data);
      for (let b = 0; b < n; b++) {
        hRow.set(res.h.data.subarray(b * LC, (b + 1) * LC), (b * (W + 2) + j + 1) * LC);
        cRow.set(res.c.data.subarray(b * LC, (b + 1) * LC), (b * W + j) * LC);
      }
      const value = choose(i, j, res.logit.data);
      for (let b = 0; b < n; b++) pixels[(b * PH + i + P) * PW + j + P] = value[b];
    }
    hAbove = hRow;
    cAbove = cRow;
    if (isStale?.()) return null;
    if (onRow) await onRow(i, out);
  }
  return out;
}

export const SAMPLERS = { pixelcnn: samplePixelCNN, pixelrnn: samplePixelRNN };
