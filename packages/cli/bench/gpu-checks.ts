/**
 * Every check that needs an NVIDIA GPU host, in one process (device time is scarce):
 *  1. WebGPU through Dawn: backend, adapter; the cross-backend op suite against the cpu backend;
 *  2. THFR paper (WideResNet50-2) and default (ResNet50) configurations at 256 px: training step at batch 16
 *     (with the split-K filter gradient and with tfjs' own), inference at batch 1 and 16, dispatches, peak memory;
 *  3. the same networks with the same weights in PyTorch on the same GPU (CUDA, fp32 and TF32), via the
 *     peers of `thfr bench --peer pytorch` (packages/cli/peer, THFR_PEER_DIR);
 *  4. backbones (WideResNet50-2 and ResNet50 to layer3) at batch 1 and 16, next to PyTorch;
 *  5. each Conv2DBackpropFilter geometry of the paper step, timed with tfjs' kernel and split-K slabs;
 *  6. the paper step with one shader per output (FusedAdam's element-wise ops, 7 batch-norm shaders per layer) against
 *     the multi-output kernels (THFR_ADAM_STEP, 4 batch-norm shaders);
 *  7. section 'gemm': the opt-in kernels against the defaults, in the same run: thfr's register-tiled GEMM (Conv2D,
 *     FusedConv2D, Conv2DBackpropInput, BatchMatMul) against tfjs' kernels for the training steps, inference and
 *     backbones at batch 16, and each Conv2D / BatchMatMul geometry of the paper step and FusedConv2D geometry of the
 *     WideResNet50-2 backbone; the batch norm's statistics split over row chunks, alone and with the GEMM; both on
 *     'auto' (per shape, the faster of each kernel and what it replaces, timed by a KernelTuner) with every choice;
 *  8. section 'onnx': each configuration's whole inference exported as one ONNX graph (@thfr/restoration-onnx's
 *     pipeline) on onnxruntime-node's WebGPU execution provider (its own Dawn), at batch 1 and 16: checked against
 *     tfjs' maps, then timed through the runner (tfjs tensors in and out) and as a bare session fed from CPU memory
 *     (what a service decoding images gets: the map and the score fetched; onnxruntime-node runs one call of a session
 *     at a time, so these are sequential calls); next to the PyTorch peer. Needs onnxruntime-node in
 *     .gpu: packages/cli/bench/gpu-prepare-onnxruntime.sh after prepare.sh.
 * GPU timings are pipelined (k calls in flight, one read-back, as cuda.synchronize() timing); single-call latency
 * (a read-back after every call: Dawn's read-back round trip included) is reported beside them.
 * Bundle here and run there (see ../shared/device/README.md and docs/benchmarks.md's recipe):
 *   ../shared/device/prepare.sh packages/cli/bench/gpu-checks.ts && packages/cli/bench/gpu-prepare-onnxruntime.sh
 *   bash .gpu/run.sh node .gpu/gpu-checks.mjs        (THFR_PEER_DIR=packages/cli/peer for the PyTorch peer)
 */
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { initRuntime, formatBackendDescription } from '@thfr/runtime-node';
import { SPLIT_BATCH_NORM_ROWS, registerWebGpuBatchNormKernels, registerWebGpuConvFilterGradient, registerWebGpuConvInputGradient, registerWebGpuKernelChoices, registerWebGpuTiledGemm, type KernelChoice } from '@thfr/runtime-common';
import { OP_CASES, compareCase } from '../../runtime-node/test/op-suite.js';
import { createRandomResNet, type ResNetBackbone } from '@thfr/backbone';
import { TemplateBank } from '@thfr/template-bank';
import { PAPER_CONFIG, THFR_PRESETS, ThfrModel, ThfrNetwork, measureLevels, restorationLoss, templateReference, type ThfrConfig } from '@thfr/model';
import { FusedAdam } from '@thfr/nn';
import { countDispatches } from '../src/commands/bench-dispatches.js';
import { benchNetworkAgainstPytorch } from '../src/commands/bench-network.js';
import { benchBackboneAgainstPytorch } from '../src/commands/bench-peer.js';
import type { Output } from '../src/output.js';
import { concurrentMs, latencyMs, pipelinedMs } from '../src/commands/bench-timing.js';
import { ortSessionOptions, type OrtTensorLike } from '@thfr/backbone-onnx';
import { closeness } from '@thfr/tensor/testing';
import { loadOnnxRuntimeNode } from '@thfr/backbone-onnx/node';
import { OnnxPipelineRunner, exportRestorationPipelineToOnnxAsync, readPipelineOnnxInfo } from '@thfr/restoration-onnx';

const LIMIT_S = Number(process.env.GPU_CHECKS_LIMIT_S ?? 400);
// GPU_CHECKS_SMALL=1: tiny shapes, to dry-run the script on SwiftShader before spending device time.
const SMALL = process.env.GPU_CHECKS_SMALL === '1';
const SIZE = SMALL ? 64 : 256;
const BATCH = SMALL ? 2 : 16;
/** In-flight calls of a pipelined timing (1 on SwiftShader, where a training step takes seconds). */
const inFlight = (n: number) => (SMALL ? 1 : n);
const PYTHON = process.env.GPU_CHECKS_PYTHON ?? 'python3';
const deadline = setTimeout(() => {
  console.error(`gpu-checks: time limit (${LIMIT_S} s) reached, exiting`);
  process.exit(2);
}, LIMIT_S * 1000);
const t0 = performance.now();
const log = (name: string, value: unknown) => console.log(JSON.stringify({ at_s: +((performance.now() - t0) / 1000).toFixed(1), name, ...(value as object) }));
const output: Output = { line: (text: string) => console.log(text), note: () => {}, result: () => {} } as unknown as Output;
const round = (ms: number) => +ms.toFixed(2);

let peakBytes = 0;
function notePeak(): void {
  const m = tf.memory() as unknown as { numBytes: number; numBytesInGPUAllocated?: number; numBytesInGPU?: number };
  peakBytes = Math.max(peakBytes, m.numBytesInGPUAllocated ?? m.numBytesInGPU ?? m.numBytes);
}

async function opSuite(): Promise<number> {
  let failures = 0;
  const summary: string[] = [];
  for (const c of OP_CASES) {
    const r = await compareCase(c, 'webgpu', 'cpu');
    if (!r.ok) failures++;
    const worst = (r as unknown as { worst?: { maxRel: number } }).worst;
    if (!r.ok) log('op-suite FAILED', { case: c.name, ...(r as unknown as Record<string, unknown>) });
    else summary.push(`${c.name}: ${worst ? worst.maxRel.toExponential(1) : 'ok'}`);
  }
  log('op-suite vs cpu (max relative error per case)', { passed: OP_CASES.length - failures, failed: failures, cases: summary.join('; ') });
  await tf.setBackend('webgpu');
  return failures;
}

/** Removes the split-K filter gradient registered last (tfjs' own kernel comes back). */
let removeSplitK: (() => void) | undefined;

/** tfjs' Conv2DBackpropFilter, or the split-K one with these options ({}: the runtime's defaults). */
function useFilterGradient(kind: 'tfjs' | { rowsPerSlab?: number }): void {
  removeSplitK?.();
  removeSplitK = kind === 'tfjs' ? undefined : registerWebGpuConvFilterGradient(kind);
}

type KernelCall = { shapes: Record<string, number[]>; attrs: Record<string, unknown> };

/** The calls of kernel `kernelName` made by one call of `fn` (input shapes and attributes), by wrapping the registered kernel. */
async function recordKernelCalls(kernelName: string, fn: () => tf.Tensor): Promise<KernelCall[]> {
  const config = tf.getKernel(kernelName, 'webgpu')!;
  const calls: KernelCall[] = [];
  tf.unregisterKernel(kernelName, 'webgpu');
  tf.registerKernel({ ...config, kernelFunc: ((args: { inputs: Record<string, { shape: number[] }>; attrs: Record<string, unknown> }) => {
    calls.push({ shapes: Object.fromEntries(Object.entries(args.inputs).filter(([, v]) => v != null).map(([k, v]) => [k, v.shape])), attrs: { ...args.attrs } });
    return (config.kernelFunc as (a: unknown) => unknown)(args);
  }) as never });
  try {
    const out = fn();
    await out.data();
    out.dispose();
  } finally {
    tf.unregisterKernel(kernelName, 'webgpu');
    tf.registerKernel(config);
  }
  return calls;
}

/** Removes the composed input gradient registered last (tfjs' own kernel comes back). */
let removeInputGradient: (() => void) | undefined;

function useInputGradient(kind: 'tfjs' | 'composed'): void {
  removeInputGradient?.();
  removeInputGradient = kind === 'tfjs' ? undefined : registerWebGpuConvInputGradient();
}

/**
 * Engine settings compared by the 'variants' section: whose Conv2DBackpropInput (thfr's, tfjs' naive one, tfjs'
 * matmul one behind WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE=false) and how many dispatches tfjs encodes before a submit.
 */
type Variant = { input: 'thfr' | 'tfjs-naive' | 'tfjs-mm'; submitBatch: number };
const VARIANTS: Variant[] = (['thfr', 'tfjs-naive', 'tfjs-mm'] as const).flatMap((input) => [15, 64, 256].map((submitBatch) => ({ input, submitBatch })));

function useVariant(v: Variant): void {
  useInputGradient(v.input === 'thfr' ? 'composed' : 'tfjs');
  tf.env().set('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE', v.input !== 'tfjs-mm');
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', v.submitBatch);
}

/** The paper step's input-gradient calls. */
let paperInputCalls: KernelCall[] = [];

/** Removes the tiled GEMM registered last (tfjs' Conv2D, FusedConv2D and BatchMatMul come back). */
let removeGemm: (() => void) | undefined;

function useGemm(on: boolean, options: { minMultiplyAdds?: number } = {}): void {
  removeGemm?.();
  removeGemm = on ? registerWebGpuTiledGemm(options) : undefined;
}

/** The GEMM (and the split batch-norm sums) on 'auto', registered as initRuntime does; `restore` puts the defaults back. */
const useAutoKernels = (splitBatchNorm: boolean) => registerWebGpuKernelChoices({
  tiledGemm: 'auto', splitBatchNorm: splitBatchNorm && 'auto', tuner: SMALL ? { callsInFlight: 1, rounds: 1 } : {},
});

/** Per kernel, how many timed shapes chose each variant: { Conv2D: 'gemm 12, fallback 3', ... }. */
function summariseChoices(choices: KernelChoice[]): Record<string, string> {
  const counts = new Map<string, Map<string, number>>();
  for (const c of choices) {
    const byVariant = counts.get(c.kernelName) ?? new Map<string, number>();
    byVariant.set(c.chosen, (byVariant.get(c.chosen) ?? 0) + 1);
    counts.set(c.kernelName, byVariant);
  }
  return Object.fromEntries([...counts].map(([kernel, byVariant]) => [kernel, [...byVariant].map(([variant, n]) => `${variant} ${n}`).join(', ')]));
}

/** One log row per timed shape: kernel, shapes, ms per variant, difference, choice. */
function logChoices(title: string, choices: KernelChoice[]): void {
  for (const c of choices) {
    log(title, {
      kernel: c.kernelName,
      ...Object.fromEntries(Object.entries(c.shapes).map(([name, shape]) => [name, shape.join('x')])),
      ...Object.fromEntries(Object.entries(c.milliseconds).map(([variant, ms]) => [`${variant}_ms`, round(ms)])),
      ...Object.fromEntries(Object.entries(c.differences).map(([variant, d]) => [`${variant}_rel_diff`, +d.toExponential(1)])),
      ...(Object.keys(c.rejected).length ? { rejected: JSON.stringify(c.rejected) } : {}),
      chosen: c.chosen,
    });
  }
}


/** Calls recorded for the per-geometry GEMM timing: the paper step's Conv2D and BatchMatMul, the backbone's FusedConv2D. */
const gemmCalls: Record<'Conv2D' | 'BatchMatMul' | 'FusedConv2D', KernelCall[]> = { Conv2D: [], BatchMatMul: [], FusedConv2D: [] };

/** A kernel implementation to time: `use` registers it. */
type KernelVariant = { name: string; use: () => void };

/**
 * Each distinct geometry of `calls` (the calls of `kernelName` in one training step), timed with every variant on
 * random inputs of the recorded shapes (pipelined), with each variant's max relative difference from the first.
 * Logs one row per geometry and the per-step totals (time x calls per step); the last variant stays registered.
 */
async function benchKernelGeometries(kernelName: string, calls: KernelCall[], variants: KernelVariant[], title: string): Promise<void> {
  const groups = new Map<string, { call: KernelCall; count: number }>();
  for (const c of calls) {
    const key = JSON.stringify([c.shapes, c.attrs]);
    const g = groups.get(key) ?? { call: c, count: 0 };
    g.count++;
    groups.set(key, g);
  }
  const totals: Record<string, number> = {};
  for (const { call, count } of groups.values()) {
    const inputs = Object.fromEntries(Object.entries(call.shapes).map(([name, shape]) => [name, tf.randomUniform(shape, -1, 1)]));
    const row: Record<string, unknown> = {
      ...Object.fromEntries(Object.entries(call.shapes).map(([name, shape]) => [name, shape.join('x')])),
      ...(call.attrs.filterShape ? { filter: (call.attrs.filterShape as number[]).join('x') } : {}),
      ...(call.attrs.inputShape ? { input: (call.attrs.inputShape as number[]).join('x') } : {}),
      ...Object.fromEntries(['strides', 'pad', 'transposeA', 'transposeB', 'activation'].filter((k) => call.attrs[k] != null).map((k) => [k, call.attrs[k]])),
      calls_per_step: count,
    };
    let reference: Float32Array | undefined;
    for (const variant of variants) {
      variant.use();
      const run = () => [tf.engine().runKernel(kernelName, inputs, call.attrs as never) as tf.Tensor];
      const ms = await pipelinedMs(inFlight(6), run);
      const [out] = run();
      const values = (await out.data()) as Float32Array;
      out.dispose();
      row[`${variant.name}_ms`] = round(ms);
      if (reference) {
        let worst = 0;
        let scale = 0;
        for (let i = 0; i < values.length; i++) { worst = Math.max(worst, Math.abs(values[i] - reference[i])); scale = Math.max(scale, Math.abs(reference[i])); }
        row[`${variant.name}_rel_diff`] = +(worst / scale).toExponential(1);
      } else {
        reference = values;
      }
      totals[variant.name] = (totals[variant.name] ?? 0) + ms * count;
    }
    log(`${title} geometry`, row);
    tf.dispose(Object.values(inputs));
  }
  log(`${title}, summed over one training step (ms)`, Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, round(v)])));
}

async function backboneBench(name: 'wide_resnet50_2' | 'resnet50'): Promise<Map<number, number>> {
  const backbone = createRandomResNet(name, { seed: 0 });
  const msByBatch = new Map<number, number>();
  for (const batch of [1, BATCH]) {
    const images = tf.randomUniform([batch, SIZE, SIZE, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const single = await latencyMs(5, async () => { const f = backbone.extract(images); await Promise.all(f.map((t) => t.data())); tf.dispose(f); });
    const ms = await pipelinedMs(10, () => backbone.extract(images));
    msByBatch.set(batch, ms);
    log(`backbone ${name} (layer1..3)`, { batch, pipelined_ms: round(ms), images_per_s: +((batch * 1000) / ms).toFixed(0), latency_ms: round(single) });
    if (sections.includes('gemm')) {
      if (name === 'wide_resnet50_2' && batch === BATCH) gemmCalls.FusedConv2D = await recordKernelCalls('FusedConv2D', () => tf.tidy(() => tf.addN(backbone.extract(images).map((f) => tf.sum(f)))));
      useGemm(true);
      const gemmMs = await pipelinedMs(10, () => backbone.extract(images));
      useGemm(false);
      log(`backbone ${name} (layer1..3) with the tiled GEMM`, { batch, pipelined_ms: round(gemmMs), images_per_s: +((batch * 1000) / gemmMs).toFixed(0), gemm_speedup: +(ms / gemmMs).toFixed(2) });
    }
    images.dispose();
  }
  if (!SMALL) {
    for (const tf32 of ['0', '1']) {
      process.env.THFR_PEER_TF32 = tf32;
      try {
        await benchBackboneAgainstPytorch(backbone, msByBatch, SIZE, 20, PYTHON, output);
      } catch (error) {
        log('backbone peer failed', { error: String(error) });
      }
    }
  }
  backbone.dispose();
  return msByBatch;
}

/** Sections of the run (env GPU_CHECKS_SECTIONS). */
const sections = (process.env.GPU_CHECKS_SECTIONS ?? 'paper,onnx,gemm,backbone,default,filter').split(',');

/** The paper step's filter-gradient calls, timed per geometry at the end of the run. */
let paperFilterCalls: KernelCall[] = [];

/**
 * Section 'onnx': `model`'s whole inference as one ONNX graph on onnxruntime-node's WebGPU execution provider, at
 * batch 1 and BATCH: its maps against tfjs' (`predictTensors` on the webgpu backend), then timed through the runner
 * (tfjs tensors in and out, as accelerateInferenceWithOnnx serves predict) and as a bare session fed from CPU memory
 * (what a service decoding images gets), median of sequential calls: onnxruntime-node runs one call of a session at a
 * time. Returns the bare session's ms per batch.
 */
async function onnxWebGpuInference(label: string, model: ThfrModel, backbone: ResNetBackbone, tfjsMs: Map<number, number>): Promise<Map<number, number>> {
  const timings = new Map<number, number>();
  try {
    const ort = await loadOnnxRuntimeNode();
    const exportStarted = performance.now();
    const bytes = await exportRestorationPipelineToOnnxAsync(backbone, await model.inferenceSpec());
    const exportMs = performance.now() - exportStarted;
    const sessionStarted = performance.now();
    const runner = await OnnxPipelineRunner.create(ort, bytes, { executionProviders: ['webgpu'] });
    log(`${label} one graph on onnxruntime-node's WebGPU EP`, { onnx_mb: +(bytes.length / 2 ** 20).toFixed(1), export_ms: round(exportMs), session_ms: round(performance.now() - sessionStarted), onnxruntime: (ort as unknown as { env?: { versions?: { node?: string } } }).env?.versions?.node });
    try {
      const probe = tf.randomUniform([2, SIZE, SIZE, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
      const [expected, got] = [await model.predictTensors(probe), await runner.run(probe)];
      const map = closeness(await got.map.data(), await expected.map.data());
      const templatesEqual = JSON.stringify(got.extras.map((x) => x.template)) === JSON.stringify(expected.extras.map((x) => x.template));
      log(`${label} one graph vs tfjs (batch 2)`, { map_max_abs_diff: +map.maxAbs.toExponential(2), map_max_rel_diff: +map.maxRel.toExponential(2), templates_equal: templatesEqual, verdict: (map.maxRel <= 1e-4 || map.maxAbs <= 1e-4) && templatesEqual ? 'same' : 'DIFFERENT' });
      tf.dispose([probe, expected.map, expected.scores, ...expected.levelMaps, got.map, got.scores, ...got.levelMaps]);
      const info = readPipelineOnnxInfo(bytes);
      // A service fetches the map and the score; the level maps stay on the GPU.
      const fetches = [info.outputs.map, info.outputs.score];
      const session = await ort.InferenceSession.create(bytes, ortSessionOptions({ executionProviders: ['webgpu'] }, `${label} bare session`));
      try {
        for (const batch of [1, BATCH]) {
          const x = tf.randomUniform([batch, SIZE, SIZE, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
          const viaRunner = async () => { const out = await runner.run(x); await out.scores.data(); tf.dispose([out.map, out.scores, ...out.levelMaps]); };
          const runnerMs = await latencyMs(inFlight(5), viaRunner);
          const feeds: Record<string, OrtTensorLike> = { [info.input]: new ort.Tensor('float32', (await x.data()) as Float32Array, [batch, SIZE, SIZE, 3]) };
          const bare = () => (session as unknown as { run(f: typeof feeds, names: string[]): Promise<unknown> }).run(feeds, fetches);
          const bareMs = await latencyMs(inFlight(10), async () => { await bare(); });
          timings.set(batch, bareMs);
          const tfjs = tfjsMs.get(batch);
          log(`${label} inference, one graph on onnxruntime's WebGPU EP`, {
            batch, runner_latency_ms: round(runnerMs), bare_ms_per_batch: round(bareMs),
            images_per_s: +((batch * 1000) / bareMs).toFixed(1), speedup_vs_tfjs_pipelined: tfjs ? +(tfjs / bareMs).toFixed(2) : null,
          });
          x.dispose();
        }
      } finally {
        await session.release();
      }
    } finally {
      runner.dispose();
      await runner.released;
    }
  } catch (error) {
    log(`${label} one graph on onnxruntime's WebGPU EP failed`, { error: String(error).slice(0, 600) });
  }
  return timings;
}

async function configBench(label: string, config: ThfrConfig, arch: 'wide_resnet50_2' | 'resnet50'): Promise<void> {
  peakBytes = 0;
  const backbone: ResNetBackbone = createRandomResNet(SMALL ? 'resnet18' : arch, { seed: 0 });
  const levels = measureLevels(backbone, config.imageSize);
  const network = new ThfrNetwork(levels, config);
  log(`${label} network`, { levels, trainable_parameters: network.parameterCount() });
  const images = tf.randomUniform([BATCH, SIZE, SIZE, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const features = backbone.extract(images);
  const reference = templateReference(features, network.codeSize);
  const bank = await TemplateBank.fromFeatures(features[features.length - 1], [reference]);
  const [template] = bank.gather(Array.from({ length: BATCH }, (_, i) => (i + 1) % BATCH));
  reference.dispose();
  // What training runs: FusedAdam, the fused batch norm and the split-K filter gradient that initRuntime registered.
  const optimizer = new FusedAdam(network.trainableVariables(), { learningRate: config.learningRate, beta1: config.betas[0], beta2: config.betas[1] });
  network.train();
  const step = () => { const loss = optimizer.minimize(() => restorationLoss(features, network.forward(features, template), config.lossForm)); notePeak(); return loss; };
  const counted = await countDispatches(step);
  log(`${label} training step dispatches`, { kernels: counted.dispatches, compute_shaders: counted.shaders });
  const stepLatency = await latencyMs(inFlight(3), async () => { const l = step(); await l.data(); l.dispose(); });
  const stepMs = await pipelinedMs(inFlight(5), () => [step()]);
  log(`${label} training step (batch ${BATCH}, ${SIZE}px, cached features, split-K filter gradient)`, { pipelined_ms: round(stepMs), images_per_s: +((BATCH * 1000) / stepMs).toFixed(1), latency_ms: round(stepLatency), peak_bytes: peakBytes });
  if (sections.includes('gemm')) {
    if (label === 'paper') {
      gemmCalls.Conv2D = await recordKernelCalls('Conv2D', step);
      gemmCalls.BatchMatMul = await recordKernelCalls('BatchMatMul', step);
    }
    // The opt-in kernels one at a time and together, each against the default step of this run.
    const variants: Array<{ name: string; gemm: boolean; splitRows: number }> = [
      { name: 'the tiled GEMM', gemm: true, splitRows: 0 },
      { name: `batch-norm statistics split into chunks of ${SPLIT_BATCH_NORM_ROWS} rows`, gemm: false, splitRows: SPLIT_BATCH_NORM_ROWS },
      { name: 'the tiled GEMM and split batch-norm statistics', gemm: true, splitRows: SPLIT_BATCH_NORM_ROWS },
    ];
    for (const v of variants) {
      useGemm(v.gemm);
      registerWebGpuBatchNormKernels('webgpu', { splitRows: v.splitRows });
      const counted = await countDispatches(step);
      const ms = await pipelinedMs(inFlight(5), () => [step()]);
      log(`${label} training step with ${v.name}`, { pipelined_ms: round(ms), images_per_s: +((BATCH * 1000) / ms).toFixed(1), speedup: +(stepMs / ms).toFixed(2), compute_shaders: counted.shaders });
    }
    useGemm(false);
    registerWebGpuBatchNormKernels('webgpu');
    // Both on 'auto': each shape's faster variant on this GPU, timed after one step (what `thfr train` does with
    // THFR_WEBGPU_TILED_GEMM=auto THFR_WEBGPU_SPLIT_BATCH_NORM=auto).
    const auto = useAutoKernels(true);
    const tuningStarted = performance.now();
    const first = step();
    await first.data();
    first.dispose();
    await auto.tuner!.tune();
    const tuningMs = performance.now() - tuningStarted;
    const autoCounted = await countDispatches(step);
    const autoMs = await pipelinedMs(inFlight(5), () => [step()]);
    log(`${label} training step with the GEMM and the split batch-norm sums on auto`, {
      pipelined_ms: round(autoMs), images_per_s: +((BATCH * 1000) / autoMs).toFixed(1), speedup: +(stepMs / autoMs).toFixed(2),
      compute_shaders: autoCounted.shaders, first_step_and_tuning_ms: round(tuningMs), ...summariseChoices(auto.tuner!.choices()),
    });
    if (label === 'paper') logChoices(`${label} training step, auto choice`, auto.tuner!.choices());
    auto.restore();
  }
  if (label === 'paper') {
    const calls = await recordKernelCalls('Conv2DBackpropFilter', step);
    paperInputCalls = await recordKernelCalls('Conv2DBackpropInput', step);
    // The same step with tfjs' own filter-gradient kernel, for the ratio in this run.
    if (sections.includes('profile')) try {
      // Where the step's time goes, per kernel (GPU timestamps where the adapter has them).
      const info = await tf.profile(async () => { const l = step(); await l.data(); l.dispose(); });
      const byKernel = new Map<string, { ms: number; count: number }>();
      for (const k of info.kernels) {
        const e = byKernel.get(k.name) ?? { ms: 0, count: 0 };
        e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
        e.count += 1;
        byKernel.set(k.name, e);
      }
      const total = [...byKernel.values()].reduce((a, e) => a + e.ms, 0);
      const top = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 16).map(([n, e]) => `${n} ${e.ms.toFixed(1)}ms/${e.count}`);
      log(`${label} training step profile (kernel time, top kernels)`, { kernels: info.kernels.length, kernel_ms_total: round(total), top: top.join('; ') });
    } catch (error) {
      log('profile failed', { error: String(error).slice(0, 400) });
    }
    useFilterGradient('tfjs');
    const nativeMs = await pipelinedMs(inFlight(3), () => [step()]);
    useFilterGradient({});
    log(`${label} training step with tfjs' Conv2DBackpropFilter`, { pipelined_ms: round(nativeMs), split_k_speedup: +(nativeMs / stepMs).toFixed(2), filter_gradient_calls: calls.length });
    // The same step with FusedAdam's element-wise ops and one tfjs program per batch-norm output (what the seventh
    // session measured): the multi-output kernels' gain on this GPU, in this run.
    registerWebGpuBatchNormKernels('webgpu', { multiOutputShaders: false });
    const opsOptimizer = new FusedAdam(network.trainableVariables(), { learningRate: config.learningRate, beta1: config.betas[0], beta2: config.betas[1], stepKernel: false });
    const opsStep = () => opsOptimizer.minimize(() => restorationLoss(features, network.forward(features, template), config.lossForm));
    const opsCounted = await countDispatches(opsStep);
    const opsMs = await pipelinedMs(inFlight(5), () => [opsStep()]);
    opsOptimizer.dispose();
    registerWebGpuBatchNormKernels('webgpu', { multiOutputShaders: true });
    log(`${label} training step with one shader per output (FusedAdam's ops, 7 batch-norm shaders per layer)`, { pipelined_ms: round(opsMs), multi_output_speedup: +(opsMs / stepMs).toFixed(2), compute_shaders: opsCounted.shaders });
    useInputGradient('tfjs');
    const tfjsInputMs = await pipelinedMs(inFlight(3), () => [step()]);
    useInputGradient('composed');
    log(`${label} training step with tfjs' Conv2DBackpropInput`, { pipelined_ms: round(tfjsInputMs), composed_input_gradient_speedup: +(tfjsInputMs / stepMs).toFixed(2), input_gradient_calls: paperInputCalls.length });
    if (sections.includes('variants')) for (const v of VARIANTS) {
      useVariant(v);
      const ms = await pipelinedMs(inFlight(5), () => [step()]);
      log(`${label} training step variant`, { ...v, pipelined_ms: round(ms) });
    }
    useVariant(VARIANTS[0]);
    paperFilterCalls = calls;
  }
  optimizer.dispose();
  const model = new ThfrModel({ config, backbone, levels, network, bank });
  network.eval();
  const inferenceMs = new Map<number, number>();
  for (const batch of [1, BATCH]) {
    const x = tf.randomUniform([batch, SIZE, SIZE, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const once = async () => { const out = await model.predictTensors(x); notePeak(); await out.scores.data(); tf.dispose([out.map, out.scores, ...out.levelMaps]); };
    const single = await latencyMs(inFlight(5), once);
    // k predictions in flight: each awaits only its template search's read-back, so the queue stays full.
    const queued = inFlight(8);
    const predict = async () => { const o = await model.predictTensors(x); tf.dispose(o.levelMaps); return [o.map, o.scores]; };
    const ms = await concurrentMs(queued, predict);
    inferenceMs.set(batch, ms);
    log(`${label} inference (backbone + search + restoration + map)`, { batch, pipelined_ms: round(ms), images_per_s: +((batch * 1000) / ms).toFixed(1), latency_ms: round(single), peak_bytes: peakBytes });
    if (sections.includes('gemm')) {
      useGemm(true);
      const gemmMs = await concurrentMs(queued, predict);
      useGemm(false);
      log(`${label} inference with the tiled GEMM`, { batch, pipelined_ms: round(gemmMs), images_per_s: +((batch * 1000) / gemmMs).toFixed(1), gemm_speedup: +(ms / gemmMs).toFixed(2) });
      const auto = useAutoKernels(false);
      const autoMs = await concurrentMs(queued, predict);
      log(`${label} inference with the tiled GEMM on auto`, { batch, pipelined_ms: round(autoMs), images_per_s: +((batch * 1000) / autoMs).toFixed(1), speedup: +(ms / autoMs).toFixed(2), ...summariseChoices(auto.tuner!.choices()) });
      auto.restore();
    }
    if (batch === BATCH && label === 'paper' && sections.includes('variants')) {
      for (const v of VARIANTS) {
        useVariant(v);
        const variantMs = await concurrentMs(queued, predict);
        log(`${label} inference variant`, { ...v, batch, pipelined_ms: round(variantMs), images_per_s: +((batch * 1000) / variantMs).toFixed(1) });
      }
      useVariant(VARIANTS[0]);
    }
    x.dispose();
  }
  const onnxMs = sections.includes('onnx') ? await onnxWebGpuInference(label, model, backbone, inferenceMs) : new Map<number, number>();
  if (sections.includes('peer') || (!SMALL && process.env.GPU_CHECKS_PEER !== '0')) {
    const probeIdx = [0, 1];
    const probeFeatures = features.map((f) => tf.gather(f, probeIdx) as tf.Tensor4D);
    const probeTemplate = config.template ? bank.gather(probeIdx.map((i) => (i + 1) % BATCH))[0] : undefined;
    for (const tf32 of ['0', '1']) {
      process.env.THFR_PEER_TF32 = tf32;
      try {
        const peer = await benchNetworkAgainstPytorch(network, backbone, { features: probeFeatures, template: probeTemplate }, {
          config, codeSize: network.codeSize, adamEpsilon: tf.backend().epsilon(), bankImages: BATCH, batches: [1, BATCH], trainBatch: BATCH, repeats: SMALL ? 2 : 10,
        }, PYTHON, output);
        const ratio = (peerMs: number | undefined, ms: number | undefined) => (peerMs && ms ? +(peerMs / ms).toFixed(3) : null);
        log(`${label} PyTorch peer (${peer.device}, ${peer.tf32 ? 'TF32' : 'fp32'})`, {
          torch: peer.torch, restored_levels_rel_diff: +peer.probeMaxRelativeDiff.toExponential(1),
          train_ms: round(peer.trainStep.ms), train_ratio_vs_pytorch: ratio(peer.trainStep.ms, stepMs),
          inference: peer.inference.map((r) => ({ batch: r.batch, ms: round(r.msPerBatch), images_per_s: +((r.batch * 1000) / r.msPerBatch).toFixed(0), ratio_vs_pytorch: ratio(r.msPerBatch, inferenceMs.get(r.batch)), onnx_webgpu_ratio_vs_pytorch: ratio(r.msPerBatch, onnxMs.get(r.batch)) })),
        });
        if (peer.device !== 'cuda') break; // TF32 is a CUDA setting
      } catch (error) {
        log(`${label} PyTorch peer failed`, { error: String(error).slice(0, 600) });
      }
    }
    tf.dispose([...probeFeatures, ...(probeTemplate ? [probeTemplate] : [])]);
  }
  tf.dispose([template, images, ...features]);
  model.dispose();
  backbone.dispose();
}

async function main(): Promise<number> {
  // The conv gradients are registered here instead of by initRuntime, so that tfjs' own can be put back.
  const runtime = await initRuntime({ prefer: ['webgpu'], dawnOptions: process.argv.slice(2), webgpuConvGradients: false }).catch((e: Error) => { console.error(`webgpu unavailable: ${e.message}`); return null; });
  console.log(`tf.getBackend() = ${tf.getBackend()}`);
  if (!runtime || tf.getBackend() !== 'webgpu') return 1;
  useFilterGradient({});
  useInputGradient('composed');
  console.log(`backend: ${formatBackendDescription(runtime.description)}`);
  const failures = await opSuite();
  // Most wanted first: a run cut short by its time limit keeps the figures printed so far.
  if (sections.includes('paper')) await configBench('paper', SMALL ? { ...PAPER_CONFIG, imageSize: SIZE, decoderBlocks: [1, 1, 1] } : { ...PAPER_CONFIG }, 'wide_resnet50_2');
  if (sections.includes('backbone') && !SMALL) {
    await backboneBench('wide_resnet50_2');
    await backboneBench('resnet50');
  }
  if (sections.includes('default')) await configBench('default', { ...THFR_PRESETS.default, imageSize: SIZE }, 'resnet50');
  if (sections.includes('filter')) {
    // tfjs' kernel first (the reference), then split-K slabs of 512..4096 rows; the runtime's default comes back after.
    const slabs = [512, 1024, 2048, 4096].map((rowsPerSlab) => ({ name: `splitK${rowsPerSlab}`, use: () => useFilterGradient({ rowsPerSlab }) }));
    await benchKernelGeometries('Conv2DBackpropFilter', paperFilterCalls, [{ name: 'tfjs', use: () => useFilterGradient('tfjs') }, ...slabs], 'filter gradient');
    useFilterGradient({});
  }
  if (sections.includes('gemm')) {
    // Every geometry on the GEMM, also those under its default size threshold, for the figures to set it by.
    for (const kernelName of ['Conv2D', 'BatchMatMul', 'FusedConv2D'] as const) {
      await benchKernelGeometries(kernelName, gemmCalls[kernelName], [{ name: 'tfjs', use: () => useGemm(false) }, { name: 'gemm', use: () => useGemm(true, { minMultiplyAdds: 1 }) }], `${kernelName} (tiled GEMM)`);
      useGemm(false);
    }
  }
  if (sections.includes('input')) {
    await benchKernelGeometries('Conv2DBackpropInput', paperInputCalls, [{ name: 'tfjs', use: () => useInputGradient('tfjs') }, { name: 'thfr', use: () => useInputGradient('composed') }], 'input gradient');
  }
  console.log(failures === 0 ? 'gpu-checks: all op cases match cpu' : `gpu-checks: ${failures} op case(s) FAILED`);
  return failures === 0 ? 0 : 1;
}

main().then((code) => { clearTimeout(deadline); process.exit(code); }, (e) => { console.error(e); process.exit(1); });
