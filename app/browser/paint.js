// Pictures on canvases: digits crisp (each pixel a block, as display.show_digit draws them), grids laid out as
// inference.images.tile lays them out, and the colours the server's plots use.

// A canvas of w x h pixels shown `scale` times larger with nearest-neighbour upscaling.
export function pixelCanvas(w, h, scale, className = "digit") {
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  canvas.style.width = `${w * scale}px`;
  canvas.style.height = `${h * scale}px`;
  canvas.className = className;
  return canvas;
}

// Gray values in [0, 1] (row-major, w x h) onto a canvas of that size, as 8-bit gray (rounded like images.upscale).
export function paintGray(canvas, values, w = canvas.width, h = canvas.height) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    const v = Math.round(Math.min(Math.max(values[i], 0), 1) * 255);
    image.data.set([v, v, v, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
}

// inference.images.tile: n images of side x side in a grid, 1 pixel of gray 0.35 between them.
export function tile(images, n, side, cols, pad = 1, padValue = 0.35) {
  const rows = Math.ceil(n / cols);
  const w = cols * (side + pad) + pad;
  const h = rows * (side + pad) + pad;
  const grid = new Float32Array(w * h).fill(padValue);
  for (let k = 0; k < n; k++) {
    const r = Math.floor(k / cols);
    const c = k % cols;
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        grid[(pad + r * (side + pad) + y) * w + pad + c * (side + pad) + x] = images[k * side * side + y * side + x];
      }
    }
  }
  return { grid, w, h };
}

export const PENDING = 0.3; // pixels not drawn yet, as autoregressive.in_progress shows them

// autoregressive.in_progress into ``shown``: n images (side x side) drawn up to ``row``, the rows after it gray.
export function inProgress(shown, images, n, row, side = 28) {
  shown.set(images);
  for (let b = 0; b < n; b++) shown.fill(PENDING, (b * side + row + 1) * side, (b + 1) * side * side);
  return shown;
}

// matplotlib's tab10, the colours of the classes in the server's latent plots.
export const CLASS_COLORS = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
];

// A perceptual dark-to-bright ramp (matplotlib's magma, 6 stops) for surprise maps.
const MAGMA = [
  [0, 0, 4], [59, 15, 112], [140, 41, 129], [222, 73, 104], [254, 159, 109], [252, 253, 191],
];

export function magma(t) {
  const x = Math.min(Math.max(t, 0), 1) * (MAGMA.length - 1);
  const i = Math.min(Math.floor(x), MAGMA.length - 2);
  const f = x - i;
  return MAGMA[i].map((a, k) => Math.round(a + (MAGMA[i + 1][k] - a) * f));
}

// Values onto a canvas through a colour map, scaled so that `top` is the brightest.
export function paintHeat(canvas, values, top, w = canvas.width, h = canvas.height) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(w, h);
  for (let i = 0; i < w * h; i++) image.data.set([...magma(values[i] / top), 255], 4 * i);
  ctx.putImageData(image, 0, 0);
}

export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

// A digit with its caption underneath.
export function figure(canvas, caption) {
  const text = element("figcaption", { text: caption });
  return { node: element("figure", {}, canvas, text), caption: text };
}

// Float32 values from the bytes of a little-endian float32 (or float64) array sent by the server.
export function floats(bytes, Kind = Float32Array) {
  const copy = bytes.slice(); // aligned, and ours
  return new Kind(copy.buffer, 0, copy.byteLength / Kind.BYTES_PER_ELEMENT);
}

// Bytes as base64, in slices (a spread of 300,000 arguments would overflow the stack).
export function base64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return btoa(text);
}
