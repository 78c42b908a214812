// A drawing into MNIST's format in the browser: inference/images.py's drawing path (drawing_digit ->
// to_grayscale -> preprocess), ported step for step so the browser's 28 x 28 equals the server's for the same
// canvas. Where Python leans on a library, its arithmetic is reproduced: Pillow's BOX and LANCZOS resampling
// (libImaging/Resample.c: 32-bit float and 8-bit fixed-point paths), its RGB -> L luma, its 3 x 3 max filter;
// numpy's median, linear percentile, histogram bins and pairwise sums; Python's round-half-to-even.
// tests/test_browser.py checks the result against inference.images.prepare_drawing on the same pixels.

export const WORK_SIDE = 160; // images.WORK_SIDE
const FRAME = 0.08;
const INK_SHARE = [0.04, 0.6];
const MIN_CONTRAST = 0.15;
const MIN_SNR = 8.0;

export class ImageInputError extends Error {}

// Python's round(): halves go to the even neighbour.
export function roundHalfEven(x) {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

// ---- numpy's reductions ----------------------------------------------------------------------------------

// numpy's pairwise summation (what .sum() does on a contiguous float64 array).
export function pairwiseSum(a, start = 0, n = a.length - start) {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= 128) {
    const r = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let j = 0; j < 8; j++) r[j] = a[start + j];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[start + i + j];
    let res = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

function sorted(values) {
  return Float64Array.from(values).sort();
}

export function median(values) {
  const s = sorted(values);
  const n = s.length;
  if (n === 0) return NaN;
  const h = n >> 1;
  return n % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

// The order statistics s[lo] and s[lo + 1] of values sorted ascending. Near the top (a 99.9th percentile) by
// keeping the largest few in a small sorted buffer, in one pass, instead of sorting everything.
function orderStatistics(values, lo) {
  const n = values.length;
  const hi = Math.min(lo + 1, n - 1);
  const m = n - lo; // how many of the largest values reach down to s[lo]
  if (m > 64) {
    const s = sorted(values);
    return [s[lo], s[hi]];
  }
  const top = new Float64Array(m).fill(-Infinity); // ascending: top[0] is the smallest kept
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v <= top[0]) continue;
    let j = 0;
    while (j + 1 < m && top[j + 1] < v) {
      top[j] = top[j + 1];
      j++;
    }
    top[j] = v;
  }
  return [top[0], top[Math.min(1, m - 1)]];
}

// np.percentile(values, q), method "linear", with numpy's _lerp (which interpolates from the nearer end).
export function percentile(values, q) {
  const n = values.length;
  const index = (n - 1) * (q / 100);
  const lo = Math.floor(index);
  const [a, b] = orderStatistics(values, lo);
  const t = index - lo;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

// ---- Pillow -------------------------------------------------------------------------------------------------

const boxFilter = (x) => (x > -0.5 && x <= 0.5 ? 1.0 : 0.0);
const sinc = (x) => {
  if (x === 0.0) return 1.0;
  x *= Math.PI;
  return Math.sin(x) / x;
};
const lanczosFilter = (x) => (-3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0);

// Resample.c precompute_coeffs: for each output pixel, the first input pixel, how many, and their weights.
function coefficients(inSize, outSize, filter, filterSupport) {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1.0);
  const support = filterSupport * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const kk = new Float64Array(outSize * ksize);
  const bounds = new Int32Array(outSize * 2);
  const inv = 1.0 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0.0;
    for (let x = 0; x < xmax; x++) {
      const w = filter((x + xmin - center + 0.5) * inv);
      kk[xx * ksize + x] = w;
      ww += w;
    }
    if (ww !== 0.0) for (let x = 0; x < xmax; x++) kk[xx * ksize + x] /= ww;
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { kk, bounds, ksize };
}

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;

function fixedPoint(kk) {
  // normalize_coeffs_8bpc: C's (int) cast truncates toward zero
  return Int32Array.from(kk, (k) => (k < 0 ? Math.trunc(-0.5 + k * ONE) : Math.trunc(0.5 + k * ONE)));
}

function clip8(ss) {
  const v = Math.floor(ss / ONE); // C's arithmetic >> PRECISION_BITS
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

// One pass of Resample.c along rows (horizontal) or columns: float32 pixels with double weights (mode "F"), or
// 8-bit pixels with fixed-point weights, rounded and clipped (mode "L").
function pass(src, w, h, outSize, horizontal, eightBit, filter, support) {
  const inSize = horizontal ? w : h;
  const { kk, bounds, ksize } = coefficients(inSize, outSize, filter, support);
  const k = eightBit ? fixedPoint(kk) : kk;
  const outW = horizontal ? outSize : w;
  const outH = horizontal ? h : outSize;
  const out = eightBit ? new Uint8Array(outW * outH) : new Float32Array(outW * outH);
  const lines = horizontal ? h : w; // rows for a horizontal pass, columns for a vertical one
  const along = horizontal ? 1 : w; // the step between neighbours along the pass
  const across = horizontal ? w : 1;
  const outAlong = horizontal ? 1 : outW;
  const outAcross = horizontal ? outW : 1;
  for (let line = 0; line < lines; line++) {
    for (let o = 0; o < outSize; o++) {
      const first = bounds[o * 2];
      const taps = bounds[o * 2 + 1];
      let ss = eightBit ? 1 << (PRECISION_BITS - 1) : 0.0;
      for (let t = 0; t < taps; t++) ss += src[line * across + (t + first) * along] * k[o * ksize + t];
      out[line * outAcross + o * outAlong] = eightBit ? clip8(ss) : ss;
    }
  }
  return out;
}

// ImagingResampleInner (Pillow 13): two passes, the vertical one first when the height shrinks more than twice as
// much as the width (the order changes the 8-bit result, rounded after each pass).
function resample(src, w, h, outW, outH, eightBit, filter, support) {
  const horizontalFirst = !(h - outH > 0 && h - outH > (w - outW) * 2);
  let cur = src;
  let cw = w;
  let chh = h;
  const steps = horizontalFirst ? ["h", "v"] : ["v", "h"];
  for (const step of steps) {
    if (step === "h" && outW !== w) {
      cur = pass(cur, cw, chh, outW, true, eightBit, filter, support);
      cw = outW;
    }
    if (step === "v" && outH !== h) {
      cur = pass(cur, cw, chh, outH, false, eightBit, filter, support);
      chh = outH;
    }
  }
  return cur === src ? src.slice() : cur;
}

// Image.resize(..., BOX) of a mode "F" image (float32 pixels).
export function resizeFloat(src, w, h, outW, outH) {
  return resample(src, w, h, outW, outH, false, boxFilter, 0.5);
}

// Image.resize(..., LANCZOS) of a mode "L" image (uint8 pixels).
export function resizeLanczos8(src, w, h, outW, outH) {
  return resample(src, w, h, outW, outH, true, lanczosFilter, 3.0);
}

// Pillow's RGB -> L: ITU-R 601-2 luma in 16-bit fixed point.
const luma = (r, g, b) => (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;

// images.to_grayscale for an RGBA picture: float grayscale in [0, 1], transparent pixels painted as paper.
export function grayscale(rgba, w, h) {
  const n = w * h;
  const gray = new Float64Array(n);
  let minAlpha = 255;
  for (let i = 0; i < n; i++) {
    gray[i] = luma(rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]) / 255.0;
    minAlpha = Math.min(minAlpha, rgba[4 * i + 3]);
  }
  if (minAlpha === 255) return gray;
  const alpha = Float64Array.from({ length: n }, (_, i) => rgba[4 * i + 3] / 255.0);
  const opaque = [];
  for (let i = 0; i < n; i++) if (alpha[i] > 0.5) opaque.push(gray[i]);
  let background;
  if (opaque.length === 0) background = 1.0;
  else if (opaque.length / n < 0.5) background = 1.0 - roundHalfEven(median(opaque));
  else background = median(opaque);
  // Pillow's RGBA -> L ignores alpha, so the luma of a transparent pixel still counts, weighted by alpha
  return Float64Array.from(gray, (g, i) => alpha[i] * g + (1 - alpha[i]) * background);
}

// ---- images.py ----------------------------------------------------------------------------------------------

function frameMask(h, w) {
  const fy = Math.max(1, roundHalfEven(FRAME * h));
  const fx = Math.max(1, roundHalfEven(FRAME * w));
  const mask = new Uint8Array(h * w).fill(1);
  for (let y = fy; y < h - fy; y++) for (let x = fx; x < w - fx; x++) mask[y * w + x] = 0;
  return mask;
}

// Least squares for the 6-term quadratic surface over the pixels in ``rows``, by the normal equations (Cholesky)
// in double precision: numpy's SVD solver differs in the last bits only.
function leastSquares(design, values, rows, p) {
  const ata = new Float64Array(p * p);
  const atb = new Float64Array(p);
  for (const i of rows) {
    const row = i * p;
    for (let a = 0; a < p; a++) {
      atb[a] += design[row + a] * values[i];
      for (let b = 0; b <= a; b++) ata[a * p + b] += design[row + a] * design[row + b];
    }
  }
  const L = new Float64Array(p * p);
  for (let a = 0; a < p; a++) {
    for (let b = 0; b <= a; b++) {
      let s = ata[a * p + b];
      for (let k = 0; k < b; k++) s -= L[a * p + k] * L[b * p + k];
      if (a === b) L[a * p + a] = Math.sqrt(Math.max(s, 1e-300));
      else L[a * p + b] = s / L[b * p + b];
    }
  }
  const z = new Float64Array(p);
  for (let a = 0; a < p; a++) {
    let s = atb[a];
    for (let k = 0; k < a; k++) s -= L[a * p + k] * z[k];
    z[a] = s / L[a * p + a];
  }
  const coef = new Float64Array(p);
  for (let a = p - 1; a >= 0; a--) {
    let s = z[a];
    for (let k = a + 1; k < p; k++) s -= L[k * p + a] * coef[k];
    coef[a] = s / L[a * p + a];
  }
  return coef;
}

const designs = new Map(); // "h x w" -> the quadratic's design matrix and the frame's pixels, built once

function designFor(h, w) {
  const key = `${h}x${w}`;
  if (!designs.has(key)) {
    const p = 6;
    const design = new Float64Array(h * w * p);
    for (let yy = 0; yy < h; yy++) {
      for (let xx = 0; xx < w; xx++) {
        const x = xx / Math.max(w - 1, 1) - 0.5;
        const y = yy / Math.max(h - 1, 1) - 0.5;
        const at = (yy * w + xx) * p;
        design[at] = 1;
        design[at + 1] = x;
        design[at + 2] = y;
        design[at + 3] = x * x;
        design[at + 4] = x * y;
        design[at + 5] = y * y;
      }
    }
    const mask = frameMask(h, w);
    const frame = [];
    for (let i = 0; i < h * w; i++) if (mask[i]) frame.push(i);
    designs.set(key, { design, mask, frame: Int32Array.from(frame) });
  }
  return designs.get(key);
}

// images.paper_background: a quadratic in (x, y) fitted to the frame, outliers rejected; with the paper's noise.
// Only the frame's residuals decide what is kept, so the surface is evaluated everywhere once, at the end.
function paperBackground(gray, h, w) {
  const p = 6;
  const { design, frame } = designFor(h, w);
  let keep = frame;
  let coef;
  let spread = 0;
  const residual = new Float64Array(frame.length);
  for (let iter = 0; iter < 4; iter++) {
    coef = leastSquares(design, gray, keep, p);
    for (let f = 0; f < frame.length; f++) {
      const i = frame[f];
      let s = 0;
      for (let a = 0; a < p; a++) s += design[i * p + a] * coef[a];
      residual[f] = gray[i] - s;
    }
    const m = median(residual);
    spread = 1.4826 * median(residual.map((r) => Math.abs(r - m)));
    const bound = Math.max(3 * spread, 1e-3);
    keep = frame.filter((_, f) => Math.abs(residual[f]) <= bound);
  }
  const fit = new Float64Array(h * w);
  if (coef.some((c) => c !== 0)) {
    for (let i = 0; i < h * w; i++) {
      let s = 0;
      for (let a = 0; a < p; a++) s += design[i * p + a] * coef[a];
      fit[i] = s;
    }
  }
  return { background: fit, spread };
}

// images.otsu_threshold, with np.histogram's bins (uniform edges from np.linspace, numpy's index correction).
export function otsuThreshold(values, bins = 256) {
  let first = Infinity;
  let last = -Infinity;
  for (const v of values) {
    if (v < first) first = v;
    if (v > last) last = v;
  }
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const edges = new Float64Array(bins + 1);
  const delta = last - first;
  const step = delta / bins;
  for (let i = 0; i <= bins; i++) edges[i] = i * step + first;
  edges[bins] = last;
  const counts = new Float64Array(bins);
  for (const v of values) {
    let index = Math.trunc(((v - first) / delta) * bins);
    if (index === bins) index -= 1;
    if (v < edges[index]) index -= 1;
    else if (v >= edges[index + 1] && index !== bins - 1) index += 1;
    counts[index] += 1;
  }
  let weight = 0;
  let mean = 0;
  const weights = new Float64Array(bins);
  const means = new Float64Array(bins);
  for (let i = 0; i < bins; i++) {
    weight += counts[i];
    mean += counts[i] * ((edges[i] + edges[i + 1]) / 2);
    weights[i] = weight;
    means[i] = mean;
  }
  const total = weights[bins - 1];
  const totalMean = means[bins - 1];
  let best = -Infinity;
  let bestIndex = 0;
  for (let i = 0; i < bins - 1; i++) {
    const below = weights[i];
    const above = total - below;
    let between = (((totalMean * below) / total - means[i]) ** 2) / (below * above);
    if (Number.isNaN(between)) between = -1.0;
    else if (between === Infinity) between = Number.MAX_VALUE;
    if (between > best) {
      best = between;
      bestIndex = i;
    }
  }
  return edges[bestIndex + 1];
}

// The sizes of the 8-connected components of a mask, with each pixel's component.
function components(mask, h, w) {
  const label = new Int32Array(h * w).fill(-1);
  const sizes = [];
  const stack = [];
  for (let start = 0; start < h * w; start++) {
    if (!mask[start] || label[start] >= 0) continue;
    const id = sizes.length;
    let size = 0;
    label[start] = id;
    stack.push(start);
    while (stack.length) {
      const i = stack.pop();
      size += 1;
      const r = Math.floor(i / w);
      const c = i % w;
      for (let dr = -1; dr <= 1; dr++) {
        for (let dc = -1; dc <= 1; dc++) {
          const nr = r + dr;
          const nc = c + dc;
          if (nr < 0 || nr >= h || nc < 0 || nc >= w) continue;
          const j = nr * w + nc;
          if (mask[j] && label[j] < 0) {
            label[j] = id;
            stack.push(j);
          }
        }
      }
    }
    sizes.push(size);
  }
  return { label, sizes };
}

// images.ink_map: ink in [0, 1] with the lighting taken out; the strokes' contrast and the paper's noise.
function inkMap(gray, h, w) {
  const n = h * w;
  const { background } = paperBackground(gray, h, w);
  const residual = Float64Array.from(gray, (g, i) => g - background[i]);
  const magnitude = residual.map(Math.abs);
  const strongAt = 0.5 * percentile(magnitude, 99.9);
  const strong = [];
  for (let i = 0; i < n; i++) if (magnitude[i] >= strongAt) strong.push(residual[i]);
  const darkInk = strong.length ? pairwiseSum(Float64Array.from(strong)) < 0 : median(gray) > 0.5;
  let ink = darkInk ? residual.map((r, i) => -r / Math.max(background[i], 0.05)) : residual;
  const frame = frameMask(h, w);
  const inFrame = [];
  for (let i = 0; i < n; i++) if (frame[i]) inFrame.push(ink[i]);
  const m = median(inFrame);
  const noise = 1.4826 * median(inFrame.map((v) => Math.abs(v - m)));
  ink = ink.map((v) => Math.max(v - m, 0.0));
  return { ink, contrast: percentile(ink, 99.9), noise };
}

function inkShare(out, size) {
  const tenth = Math.fround(0.1); // numpy compares float32 pixels with a float32 0.1
  let r0 = size;
  let r1 = -1;
  let c0 = size;
  let c1 = -1;
  let dark = 0;
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const v = out[r * size + c];
      if (v > tenth) {
        r0 = Math.min(r0, r);
        r1 = Math.max(r1, r);
        c0 = Math.min(c0, c);
        c1 = Math.max(c1, c);
      }
      if (v > 0.5) dark += 1;
    }
  }
  if (r1 < 0) return 0.0;
  const side = Math.max(r1 - r0 + 1, c1 - c0 + 1);
  return dark / side ** 2;
}

const percent = (x) => `${roundHalfEven(x * 100)}%`;

// images.preprocess: a grayscale picture of one digit to MNIST's format, with a warning when it does not look
// like one. Returns {image: Float32Array(784), warning, inkShare}; throws ImageInputError as Python raises it.
export function preprocess(grayIn, hIn, wIn, size = 28, box = 20) {
  let gray = grayIn;
  let h = hIn;
  let w = wIn;
  if (Math.max(h, w) > WORK_SIDE) {
    const scale = WORK_SIDE / Math.max(h, w);
    const nh = Math.max(1, roundHalfEven(h * scale));
    const nw = Math.max(1, roundHalfEven(w * scale));
    gray = Float64Array.from(resizeFloat(Float32Array.from(gray), w, h, nw, nh));
    h = nh;
    w = nw;
  }
  const n = h * w;
  const { ink, contrast, noise } = inkMap(gray, h, w);
  if (contrast < 0.02) throw new ImageInputError("no digit found: the image is blank or has too little contrast.");
  const warnings = [];
  if (contrast < MIN_CONTRAST || contrast < MIN_SNR * noise) {
    warnings.push(
      `no stroke stands out from the paper (the strongest marks differ from it by ${percent(contrast)} of its ` +
        `brightness, ${roundHalfEven(contrast / Math.max(noise, 1e-9))} times its grain): is the page blank?`,
    );
  }
  const threshold = otsuThreshold(ink);
  const mask = Uint8Array.from(ink, (v) => (v > threshold ? 1 : 0));
  const inMask = [];
  for (let i = 0; i < n; i++) if (mask[i]) inMask.push(ink[i]);
  const level = inMask.length ? median(inMask) : contrast;
  const { label, sizes } = components(mask, h, w);
  const biggest = sizes.length ? Math.max(...sizes) : 0;
  const keepPart = sizes.map((s) => s >= Math.max(2, 0.05 * biggest));
  const kept = Uint8Array.from(label, (id) => (id >= 0 && keepPart[id] ? 1 : 0));
  // Keep the strokes' soft edges next to the ink that was kept (Pillow's MaxFilter(3), edges replicated): a 3 x 3
  // maximum of a 0/1 image, as a maximum along rows and then along columns.
  const rowMax = new Uint8Array(n);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const i = r * w + c;
      rowMax[i] = kept[i] | (c > 0 ? kept[i - 1] : 0) | (c < w - 1 ? kept[i + 1] : 0);
    }
  }
  const near = new Uint8Array(n);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const i = r * w + c;
      near[i] = rowMax[i] | (r > 0 ? rowMax[i - w] : 0) | (r < h - 1 ? rowMax[i + w] : 0);
    }
  }
  const floor = Math.min(3 * noise, 0.5 * threshold);
  const spanInk = Math.max(level - floor, 1e-6);
  const digitInk = Float64Array.from(ink, (v, i) => (near[i] ? Math.min(Math.max((v - floor) / spanInk, 0.0), 1.0) : 0));

  let r0 = h;
  let r1 = -1;
  let c0 = w;
  let c1 = -1;
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      if (digitInk[r * w + c] > 0.1) {
        r0 = Math.min(r0, r);
        r1 = Math.max(r1, r);
        c0 = Math.min(c0, c);
        c1 = Math.max(c1, c);
      }
    }
  }
  if (r1 < 0) throw new ImageInputError("no digit found: the image is blank or has too little contrast.");
  const ch = r1 - r0 + 1;
  const cw = c1 - c0 + 1;
  const crop = new Uint8Array(ch * cw);
  for (let r = 0; r < ch; r++) for (let c = 0; c < cw; c++) crop[r * cw + c] = Math.trunc(digitInk[(r + r0) * w + c + c0] * 255);
  const scale = box / Math.max(ch, cw);
  const newH = Math.max(1, roundHalfEven(ch * scale));
  const newW = Math.max(1, roundHalfEven(cw * scale));
  const resized = newH === ch && newW === cw ? crop : resizeLanczos8(crop, cw, ch, newW, newH);
  const digit = Float64Array.from(resized, (v) => v / 255.0);

  const total = pairwiseSum(digit);
  let cy = newH / 2;
  let cx = newW / 2;
  if (total > 0) {
    const rowsWeighted = new Float64Array(digit.length);
    const colsWeighted = new Float64Array(digit.length);
    for (let r = 0; r < newH; r++) {
      for (let c = 0; c < newW; c++) {
        rowsWeighted[r * newW + c] = r * digit[r * newW + c];
        colsWeighted[r * newW + c] = c * digit[r * newW + c];
      }
    }
    cy = pairwiseSum(rowsWeighted) / total;
    cx = pairwiseSum(colsWeighted) / total;
  }
  const top = Math.min(Math.max(roundHalfEven(size / 2 - cy), 0), size - newH);
  const left = Math.min(Math.max(roundHalfEven(size / 2 - cx), 0), size - newW);
  const out = new Float32Array(size * size);
  for (let r = 0; r < newH; r++) {
    for (let c = 0; c < newW; c++) out[(top + r) * size + left + c] = Math.min(Math.max(digit[r * newW + c], 0), 1);
  }

  const share = inkShare(out, size);
  if (!warnings.length && share > INK_SHARE[1]) {
    warnings.push(
      `ink covers ${percent(share)} of the digit's box (handwritten digits: about 6% to 53%): is the picture ` +
        "mostly ink, or cropped inside the digit?",
    );
  } else if (!warnings.length && share < INK_SHARE[0]) {
    warnings.push(
      `ink covers only ${percent(share)} of the digit's box (handwritten digits: about 6% to 53%): only specks ` +
        "or a hairline were found.",
    );
  }
  const warning = warnings.length ? `This does not look like a digit: ${warnings[0]}` : null;
  return { image: out, warning, inkShare: share };
}

// images.drawing_digit: a canvas's RGBA pixels -> the MNIST-style digit (and its warning).
export function drawingDigit(rgba, w, h) {
  return preprocess(grayscale(rgba, w, h), h, w);
}
