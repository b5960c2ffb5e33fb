/**
 * Where an onnxruntime graph's time goes, against what this machine can do at all: `thfr bench` profiles the whole
 * THFR inference graph (onnxruntime's own per-kernel profile), counts the multiply-adds of its convolutions and
 * matrix products from the shapes the profile records, and measures the fastest float32 matrix work onnxruntime
 * reaches here (a large MatMul, and DESIGN.md's reference 3x3 convolution). Their ratio is a floor under the
 * inference's time on this machine that no rearrangement of the same float32 arithmetic goes below: issue 16's
 * "<= 130 ms" is judged against it.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnnxGraphBuilder, encodeOnnxModel, float32ValueInfo, onnxAttribute as attr, ortSessionOptions, type OnnxRuntimeLike, type OrtSessionLike, type OrtSessionOptionsLike, type OrtTensorLike } from '@thfr/backbone-onnx';

/** The operators whose work is multiply-adds of a matrix product (onnxruntime's fused and NCHWc forms included). */
const MATRIX_OPS = new Set(['Conv', 'FusedConv', 'ConvTranspose', 'MatMul', 'FusedMatMul', 'Gemm', 'FusedGemm']);

/**
 * Floating-point operations (2 per multiply-add) of one run of a node, from the input and output shapes in
 * onnxruntime's profile; 0 for operators that are not matrix products.
 * - Conv (weight [out, in / group, kh, kw]): every output position of every image takes the whole weight once (as
 *   the profile records it: onnxruntime's NCHWc layout pads channels to its block, and that padded work is done).
 * - ConvTranspose (weight [in, out / group, kh, kw]): every input position of every image takes the whole weight once;
 *   without the weight in the profile, kernel = stride is assumed (below).
 * - MatMul / Gemm: output elements x the shared axis K. The profile leaves out a constant B that onnxruntime has
 *   pre-packed and does not record a transposed A (onnxruntime fuses a Transpose into FusedMatMul's transA), so K is
 *   A's last two axes' product over the output's rows: M x K / M either way.
 */
export function matrixFlops(op: string, inputs: readonly (readonly number[])[], outputs: readonly (readonly number[])[]): number {
  if (!MATRIX_OPS.has(op)) return 0;
  const count = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
  const [x, w] = inputs;
  const [y] = outputs;
  if (!x || !y) throw new Error(`matrixFlops: ${op} needs its input and output shapes, got ${inputs.length} inputs and ${outputs.length} outputs`);
  if (op === 'Conv' || op === 'FusedConv') {
    if (!w || y.length < 3 || w.length !== y.length) throw new Error(`matrixFlops: ${op} output [${y.join(', ')}] and weight [${(w ?? []).join(', ')}] are not a convolution's`);
    return 2 * y[0] * count(y.slice(2)) * count(w);
  }
  if (op === 'ConvTranspose') {
    if (x.length < 3 || y.length !== x.length) throw new Error(`matrixFlops: ConvTranspose input [${x.join(', ')}] and output [${y.join(', ')}] are not a transposed convolution's`);
    if (w && w.length === x.length) return 2 * x[0] * count(x.slice(2)) * count(w);
    // onnxruntime pre-packs the weight and leaves it out of the profile (the second input is then the bias). With
    // kernel = stride, the only transposed convolution thfr exports, every output element takes one multiply-add
    // per input channel.
    return 2 * count(y) * x[1];
  }
  const shared = x.length >= 2 && y.length >= 2 ? (x[x.length - 1] * x[x.length - 2]) / y[y.length - 2] : x[x.length - 1];
  return 2 * count(y) * shared;
}

/** One of onnxruntime's profile events (the Chrome trace format it writes): the kernel-time events are used. */
export interface OrtProfileEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string; input_type_shape?: Array<Record<string, number[]>>; output_type_shape?: Array<Record<string, number[]>> };
}

export interface OperatorTime {
  op: string;
  /** Kernel time per run (ms). */
  ms: number;
  /** Floating-point operations per run (matrix products only). */
  flops: number;
}

export interface GraphProfile {
  /** Sum of all kernel times per run (ms): the graph's own work, without onnxruntime's and Node's overhead around it. */
  kernelMs: number;
  /** The convolutions and matrix products: their time per run (ms) and floating-point operations per run. */
  matrixMs: number;
  matrixFlops: number;
  /** Per operator type, most time first. */
  operators: OperatorTime[];
}

const shapesOf = (list: Array<Record<string, number[]>> | undefined): number[][] => (list ?? []).map((entry) => Object.values(entry)[0] ?? []);

/** Sums an onnxruntime profile of `runs` runs of one session into per-run kernel time and matrix work. */
export function summarizeOrtProfile(events: readonly OrtProfileEvent[], runs: number): GraphProfile {
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`summarizeOrtProfile: runs must be a positive integer, got ${runs}`);
  const byOp = new Map<string, OperatorTime>();
  let kernels = 0;
  for (const event of events) {
    if (event.cat !== 'Node' || !event.name?.endsWith('_kernel_time') || !event.args?.op_name) continue;
    kernels++;
    const op = event.args.op_name;
    const entry = byOp.get(op) ?? { op, ms: 0, flops: 0 };
    entry.ms += (event.dur ?? 0) / 1000 / runs; // microseconds in the trace
    entry.flops += matrixFlops(op, shapesOf(event.args.input_type_shape), shapesOf(event.args.output_type_shape)) / runs;
    byOp.set(op, entry);
  }
  if (kernels === 0) throw new Error('summarizeOrtProfile: the profile holds no kernel-time events (was the session opened with enableProfiling?)');
  const operators = [...byOp.values()].sort((a, b) => b.ms - a.ms);
  const matrix = operators.filter((o) => MATRIX_OPS.has(o.op));
  return {
    kernelMs: operators.reduce((sum, o) => sum + o.ms, 0),
    matrixMs: matrix.reduce((sum, o) => sum + o.ms, 0),
    matrixFlops: matrix.reduce((sum, o) => sum + o.flops, 0),
    operators,
  };
}

/** onnxruntime-node's session options and session with profiling (not in the structural types the packages share). */
interface ProfilingOptions extends OrtSessionOptionsLike { enableProfiling: boolean; profileFilePrefix: string }
interface ProfilingSession extends OrtSessionLike { endProfiling(): unknown }

/** As thfr's runners open their sessions (threads not spinning between runs), so the figures compare with their rows. */
const sessionOptions = (threads: number): OrtSessionOptionsLike => ortSessionOptions({ threads }, 'thfr bench profile');

/**
 * Profiles `runs` runs of `model` on onnxruntime-node after two warm-up runs and returns the per-run summary. The
 * trace file goes to a temporary folder, removed after.
 */
export async function profileOnnxGraph(ort: OnnxRuntimeLike, model: Uint8Array, feeds: Record<string, OrtTensorLike>, threads: number, runs: number): Promise<GraphProfile> {
  const folder = await mkdtemp(join(tmpdir(), 'thfr-ort-profile-'));
  try {
    const options: ProfilingOptions = { ...sessionOptions(threads), enableProfiling: true, profileFilePrefix: join(folder, 'profile') };
    const session = (await ort.InferenceSession.create(model, options)) as ProfilingSession;
    const warmUps = 2;
    try {
      for (let i = 0; i < warmUps + runs; i++) await session.run(feeds);
      session.endProfiling();
    } finally {
      await session.release();
    }
    const files = (await readdir(folder)).filter((f) => f.endsWith('.json'));
    if (files.length !== 1) throw new Error(`profileOnnxGraph: expected one onnxruntime profile in ${folder}, found ${files.length}`);
    const events = JSON.parse(await readFile(join(folder, files[0]), 'utf8')) as OrtProfileEvent[];
    // The warm-up runs are in the trace too (the first is slower: allocations); onnxruntime writes one 'model_run'
    // event as each run ends, after that run's kernel events, so the timed runs' kernels follow the warm-ups' ends.
    const ends = events.filter(isRunEnd).length;
    if (ends !== warmUps + runs) throw new Error(`profileOnnxGraph: the profile holds ${ends} runs, expected ${warmUps + runs}`);
    return summarizeOrtProfile(eventsAfterRuns(events, warmUps), runs);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

const isRunEnd = (event: OrtProfileEvent) => event.cat === 'Session' && event.name === 'model_run';

/** The events after the first `skip` runs' ends. */
function eventsAfterRuns(events: readonly OrtProfileEvent[], skip: number): OrtProfileEvent[] {
  let ended = 0;
  return events.filter((event) => {
    if (isRunEnd(event)) ended++;
    return ended >= skip && !isRunEnd(event);
  });
}

export interface MatrixPeak {
  /** A [1024, 1024] x [1024, 1024] MatMul. */
  matMulGflops: number;
  /** DESIGN.md's reference convolution: 3x3, 256 -> 256 channels at 64 x 64, batch 1, padding 1. */
  convGflops: number;
  /** The better of the two: the fastest float32 matrix work onnxruntime reached on this machine. */
  bestGflops: number;
}

/** Best GFLOP/s of `repeats` runs (after a warm-up) of a one-node graph on onnxruntime-node at `threads`. */
async function bestGflops(ort: OnnxRuntimeLike, model: Uint8Array, input: OrtTensorLike, flops: number, threads: number, repeats: number): Promise<number> {
  const session = await ort.InferenceSession.create(model, sessionOptions(threads));
  try {
    await session.run({ x: input });
    let best = Infinity;
    for (let i = 0; i < repeats; i++) {
      const started = performance.now();
      await session.run({ x: input });
      best = Math.min(best, performance.now() - started);
    }
    return flops / (best * 1e6);
  } finally {
    await session.release();
  }
}

/** A one-node float32 model: input 'x' of `dims`, `build` adds the node, output 'y' of `outDims`. */
function oneNodeModel(dims: number[], outDims: number[], build: (b: OnnxGraphBuilder) => void): Uint8Array {
  const b = new OnnxGraphBuilder(['x']);
  build(b);
  return encodeOnnxModel({
    irVersion: 7, opsetImport: [{ domain: '', version: 13 }], producerName: 'thfr bench', metadataProps: [],
    graph: { name: 'peak', node: b.nodes, initializer: b.initializers, input: [float32ValueInfo('x', dims)], output: [float32ValueInfo('y', outDims)] },
  });
}

const seeded = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => ((i * 2654435761) % 1000) / 1000 - 0.5);

/** The fastest float32 matrix work onnxruntime-node reaches here at `threads` (best of `repeats` runs). */
export async function measureMatrixPeak(ort: OnnxRuntimeLike, threads: number, repeats = 10): Promise<MatrixPeak> {
  const n = 1024;
  const matMul = oneNodeModel([n, n], [n, n], (b) => b.node('MatMul', 'y', ['x', b.float32('w', [n, n], seeded(n * n))]));
  const matMulGflops = await bestGflops(ort, matMul, new ort.Tensor('float32', seeded(n * n), [n, n]), 2 * n ** 3, threads, repeats);
  const [c, side] = [256, 64];
  const conv = oneNodeModel([1, c, side, side], [1, c, side, side], (b) => b.node('Conv', 'y', ['x', b.float32('w', [c, c, 3, 3], seeded(c * c * 9))], [attr.ints('kernel_shape', [3, 3]), attr.ints('pads', [1, 1, 1, 1])]));
  const convGflops = await bestGflops(ort, conv, new ort.Tensor('float32', seeded(c * side * side), [1, c, side, side]), 2 * side * side * c * c * 9, threads, repeats);
  return { matMulGflops, convGflops, bestGflops: Math.max(matMulGflops, convGflops) };
}
