// Latent explorer: the 2-d VAE's latent plane with the encoded test digits, the digit under the pointer decoded
// as it moves, beside the decoded grid; and sliders along the first principal directions of the 16-d codes,
// decoding the autoencoder and the VAE side by side.
import { CLASS_COLORS, element, figure, floats, paintGray, pixelCanvas, tile } from "../paint.js";
import { sigmoid } from "../samplers.js";

const SIDE = 28;
const PLANE_PX = 336;

// A decoder's image for some codes: pixel probabilities (logits through a sigmoid) or intensities.
export async function decode(runtime, net, codes, n, dim) {
  const out = await runtime.run(net, [codes, [n, dim]]);
  const data = out[net.outputs[0]].data;
  return net.outputs[0] === "logits" ? Float32Array.from(data, sigmoid) : data;
}

// The latest request wins: while one decode runs, newer requests replace each other, and the newest runs next.
function latest(work) {
  let pending = null;
  let busy = false;
  return async function request(value) {
    pending = value;
    if (busy) return;
    busy = true;
    try {
      while (pending !== null) {
        const next = pending;
        pending = null;
        await work(next);
      }
    } finally {
      busy = false;
    }
  };
}

export function create(root, runtime, args, ctx) {
  const { plane, sliders } = args;
  const E = plane.extent;
  const codes = floats(args.plane_codes);
  const stats = ctx.stats;
  stats.latentDecodes = 0;
  stats.latentMs = [];

  // ---- the plane -------------------------------------------------------------------------------------------
  const planeCanvas = element("canvas", { class: "plane", width: PLANE_PX, height: PLANE_PX });
  const overlay = element("canvas", { class: "plane overlay", width: PLANE_PX, height: PLANE_PX });
  const planeBox = element("div", { class: "plane-box" }, planeCanvas, overlay);
  const toPx = (z1, z2) => [((z1 + E) / (2 * E)) * PLANE_PX, ((E - z2) / (2 * E)) * PLANE_PX];
  const toZ = (px, py) => [(px / PLANE_PX) * 2 * E - E, E - (py / PLANE_PX) * 2 * E];
  const pc = planeCanvas.getContext("2d");
  pc.fillStyle = "#0b0e14";
  pc.fillRect(0, 0, PLANE_PX, PLANE_PX);
  pc.strokeStyle = "rgba(255,255,255,0.15)";
  for (let v = -Math.floor(E); v <= Math.floor(E); v++) {
    const [x] = toPx(v, 0);
    const [, y] = toPx(0, v);
    pc.beginPath();
    pc.moveTo(x, 0);
    pc.lineTo(x, PLANE_PX);
    pc.moveTo(0, y);
    pc.lineTo(PLANE_PX, y);
    pc.stroke();
  }
  for (let k = 0; k < plane.labels.length; k++) {
    const [x, y] = toPx(codes[2 * k], codes[2 * k + 1]);
    pc.fillStyle = CLASS_COLORS[plane.labels[k]];
    pc.beginPath();
    pc.arc(x, y, 2.6, 0, 2 * Math.PI);
    pc.fill();
  }
  const legend = element(
    "div",
    { class: "legend" },
    ...CLASS_COLORS.map((color, c) => element("span", { style: `color:${color}`, text: `● ${c}` })),
  );

  const digit = pixelCanvas(SIDE, SIDE, 8);
  const digitFigure = figure(digit, "Move over the plane");
  const cells = plane.cells;
  const gridSide = cells * (SIDE + 1) + 1;
  const gridCanvas = pixelCanvas(gridSide, gridSide, 1, "digit grid");
  gridCanvas.style.width = `${PLANE_PX}px`;
  gridCanvas.style.height = `${PLANE_PX}px`;
  const gridFigure = figure(gridCanvas, `The decoded grid: ${cells} x ${cells} codes over the same square`);
  const gridMark = element("div", { class: "grid-mark" });
  const gridBox = element("div", { class: "plane-box" }, gridCanvas, gridMark);
  gridFigure.node.prepend(gridBox);

  root.append(
    element("h3", { text: `${plane.title}: the latent plane` }),
    element(
      "p",
      { class: "note" },
      "Dots are the encoder's means for the 500 test digits, coloured by their label. Hover or drag: the decoder " +
        "draws the code under the pointer, here in your browser.",
    ),
    element(
      "div",
      { class: "row" },
      element("figure", {}, planeBox, legend),
      digitFigure.node,
      gridFigure.node,
    ),
  );

  const ov = overlay.getContext("2d");
  const show = latest(async ([z1, z2]) => {
    const start = performance.now();
    const image = await decode(runtime, plane.net, new Float32Array([z1, z2]), 1, 2);
    paintGray(digit, image);
    const ms = performance.now() - start;
    stats.latentDecodes += 1;
    stats.latentMs.push(ms);
    if (stats.latentMs.length > 500) stats.latentMs.shift();
    digitFigure.caption.textContent = `z = (${z1.toFixed(2)}, ${z2.toFixed(2)}), decoded in ${ms.toFixed(1)} ms`;
    const [x, y] = toPx(z1, z2);
    ov.clearRect(0, 0, PLANE_PX, PLANE_PX);
    ov.strokeStyle = "#F2A541";
    ov.lineWidth = 2;
    ov.beginPath();
    ov.arc(x, y, 7, 0, 2 * Math.PI);
    ov.stroke();
    const cell = PLANE_PX / cells;
    gridMark.style.left = `${Math.floor(x / cell) * cell}px`;
    gridMark.style.top = `${Math.floor(y / cell) * cell}px`;
    gridMark.style.width = gridMark.style.height = `${cell}px`;
  });
  let dragging = false;
  const at = (event) => {
    const box = overlay.getBoundingClientRect();
    const px = ((event.clientX - box.left) / box.width) * PLANE_PX;
    const py = ((event.clientY - box.top) / box.height) * PLANE_PX;
    return toZ(Math.min(Math.max(px, 0), PLANE_PX), Math.min(Math.max(py, 0), PLANE_PX));
  };
  overlay.addEventListener("pointerdown", (event) => {
    dragging = true;
    overlay.setPointerCapture(event.pointerId);
    show(at(event));
  });
  overlay.addEventListener("pointermove", (event) => show(at(event)));
  overlay.addEventListener("pointerup", () => {
    dragging = false;
  });
  overlay.addEventListener("pointercancel", () => {
    dragging = false;
  });

  // ---- principal directions of the 16-d codes --------------------------------------------------------------
  const sliderNodes = [];
  const pictures = sliders.models.map((m) => figure(pixelCanvas(SIDE, SIDE, 7), m.title));
  const k = sliders.components;
  const values = new Float32Array(k);
  const slideTo = latest(async () => {
    for (const [index, m] of sliders.models.entries()) {
      const z = Float32Array.from(m.mean);
      for (let c = 0; c < k; c++) for (let d = 0; d < z.length; d++) z[d] += values[c] * m.scales[c] * m.directions[c][d];
      paintGray(pictures[index].node.querySelector("canvas"), await decode(runtime, m.net, z, 1, z.length));
    }
    stats.sliderUpdates = (stats.sliderUpdates || 0) + 1;
  });
  for (let c = 0; c < k; c++) {
    const input = element("input", { type: "range", min: -3, max: 3, step: 0.05, value: 0, "aria-label": `PC ${c + 1}` });
    const label = element("span", { class: "value", text: "0.00" });
    input.addEventListener("input", () => {
      values[c] = Number(input.value);
      label.textContent = values[c].toFixed(2);
      slideTo(c);
    });
    sliderNodes.push(element("label", { class: "slider" }, element("span", { text: `PC ${c + 1}` }), input, label));
  }
  if (sliders.models.length) {
    root.append(
      element("h3", { text: `${sliders.models.map((m) => m.title).join(" and ")}: ${k} principal directions` }),
      element(
        "p",
        { class: "note" },
        `Each slider moves the code along one of the first ${k} principal directions of the test digits' codes, in ` +
          "standard deviations of each model's own codes. The VAE's prior packs its codes together, so every " +
          "position decodes to a digit; nothing asks the autoencoder to, so away from the middle it can fall into holes.",
      ),
      element("div", { class: "row" }, element("div", { class: "sliders" }, ...sliderNodes), ...pictures.map((p) => p.node)),
    );
  }

  return {
    nets: [plane.net, ...sliders.models.map((m) => m.net)],
    // After the models are loaded: the decoded grid, the origin, the sliders' starting picture.
    async start() {
      const grid = new Float32Array(cells * cells * 2);
      for (let r = 0; r < cells; r++) {
        for (let c = 0; c < cells; c++) {
          grid[2 * (r * cells + c)] = -E + ((c + 0.5) * 2 * E) / cells;
          grid[2 * (r * cells + c) + 1] = E - ((r + 0.5) * 2 * E) / cells;
        }
      }
      const images = await decode(runtime, plane.net, grid, cells * cells, 2);
      const tiled = tile(images, cells * cells, SIDE, cells);
      paintGray(gridCanvas, tiled.grid, tiled.w, tiled.h);
      await show([0, 0]);
      await slideTo(0);
    },
    update() {},
    test: {
      // what tests and benchmarks read: the pixel size of the plane and where a code lies on it
      planePx: PLANE_PX,
      toPx,
      digit: () => digit.getContext("2d").getImageData(0, 0, SIDE, SIDE).data.filter((_, i) => i % 4 === 0),
      dragging: () => dragging,
    },
  };
}
