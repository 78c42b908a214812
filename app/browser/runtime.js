// onnxruntime-web on the visitor's machine: the exported ONNX files, fetched once per browser and kept in its
// Cache Storage under their sha256 (the one in each model card), and run through the WASM backend.
/* global ort */
import { convAsGemm } from "./rewrite.js";

const CACHE = "genlab-live-v1";

// Why this browser cannot run the models, or null when it can try.
export function unavailableReason() {
  if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") {
    return "WebAssembly is not available in this browser";
  }
  if (typeof ort === "undefined") return "the onnxruntime-web script did not load";
  return null;
}

async function sha256Hex(bytes) {
  if (!globalThis.crypto?.subtle) return null; // not a secure context (plain http on another host): no check
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function openCache() {
  try {
    return globalThis.caches ? await caches.open(CACHE) : null;
  } catch {
    return null; // storage disabled (private mode, insecure context): fetch every time
  }
}

// The bytes of a file whose sha256 is known: from this browser's cache if it holds them, else fetched, checked
// and stored (older versions of the same file are dropped).
export async function cachedBytes(url, sha256, name) {
  const cache = await openCache();
  const key = new URL(`genlab-cache/${name}@${sha256}`, location.href).href;
  if (cache) {
    const hit = await cache.match(key);
    if (hit) return { bytes: new Uint8Array(await hit.arrayBuffer()), cached: true };
  }
  const response = await fetch(url, { cache: "no-cache" });
  if (!response.ok) throw new Error(`${name} could not be fetched (HTTP ${response.status})`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const digest = await sha256Hex(bytes);
  if (digest !== null && digest !== sha256) throw new Error(`${name} does not match the sha256 in its card`);
  if (cache) {
    for (const old of await cache.keys()) {
      if (old.url.includes(`/genlab-cache/${name}@`)) await cache.delete(old);
    }
    await cache.put(key, new Response(bytes, { headers: { "Content-Type": "application/octet-stream" } }));
  }
  return { bytes, cached: false };
}

const create = (bytes) =>
  ort.InferenceSession.create(bytes, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });

// One run on zeros, two images to a batch: a rewritten graph that does not fit fails here, not later.
async function probe(session, net) {
  const feeds = {};
  net.inputs.forEach((name, i) => {
    const dims = net.shapes[i].map((d) => (typeof d === "number" ? d : 2));
    feeds[name] = new ort.Tensor("float32", new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
  });
  await session.run(feeds);
}

export class Runtime {
  // config: {modelsBase, wasm: {url, sha256, file}, version}
  constructor(config) {
    this.config = config;
    this.sessions = new Map(); // file -> Promise<InferenceSession>
    this.ready = null;
    this.timings = {}; // what took how long, for the status line and the benchmarks
  }

  // Start the WASM backend once: its binary from the same cache as the models, handed to ort as a blob URL.
  init() {
    if (!this.ready) {
      this.ready = (async () => {
        const reason = unavailableReason();
        if (reason) throw new Error(reason);
        const start = performance.now();
        const { url, sha256, file } = this.config.wasm;
        const { bytes } = await cachedBytes(url, sha256, file);
        const blob = URL.createObjectURL(new Blob([bytes], { type: "application/wasm" }));
        ort.env.wasm.numThreads = 1; // an iframe is not cross-origin isolated: no shared memory for threads
        ort.env.wasm.simd = true;
        ort.env.wasm.proxy = false;
        ort.env.wasm.wasmPaths = { [file]: blob };
        ort.env.logLevel = "error";
        this.timings.wasmMs = performance.now() - start;
      })();
    }
    return this.ready;
  }

  // The session of one network ({file, sha256, inputs, outputs, shapes, rewrite} from its card), created once.
  // A network marked ``rewrite`` (the samplers' step networks) gets rewrite.js's Conv -> Gemm rewrite when the
  // rewritten graph loads and runs; otherwise, and for every other network, the file's own graph.
  session(net) {
    if (!this.sessions.has(net.file)) {
      const created = (async () => {
        await this.init();
        const start = performance.now();
        const { bytes, cached } = await cachedBytes(this.config.modelsBase + net.file, net.sha256, net.file);
        let session = null;
        let rewritten = 0;
        if (net.rewrite) {
          const faster = convAsGemm(bytes);
          if (faster.rewritten) {
            try {
              session = await create(faster.bytes);
              await probe(session, net);
              rewritten = faster.rewritten;
            } catch {
              session = null; // the rewrite does not apply to this graph: run it as it is
            }
          }
        }
        session = session || (await create(bytes));
        this.timings[net.file] = { ms: performance.now() - start, cached, rewritten };
        this.firstReadyAt ??= Date.now(); // wall clock, for benchmarks/browser.py: the first model usable
        return session;
      })();
      created.catch(() => this.sessions.delete(net.file)); // a later call may try again
      this.sessions.set(net.file, created);
    }
    return this.sessions.get(net.file);
  }

  // Run a network: inputs in the card's order as [Float32Array, dims] pairs; outputs by name as
  // {data: Float32Array, dims}.
  async run(net, ...inputs) {
    const session = await this.session(net);
    const feeds = {};
    net.inputs.forEach((name, i) => {
      const [data, dims] = inputs[i];
      feeds[name] = new ort.Tensor("float32", data instanceof Float32Array ? data : Float32Array.from(data), dims);
    });
    const results = await session.run(feeds);
    const out = {};
    for (const name of net.outputs) out[name] = { data: results[name].data, dims: results[name].dims };
    return out;
  }
}
