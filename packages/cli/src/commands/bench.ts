import { tf } from '@thfr/tensor';
import { FusedAdam } from '@thfr/nn';
import { TemplateBank } from '@thfr/template-bank';
import { THFR_PRESETS, ThfrNetwork, measureLevelsAsync, restorationLoss, resolveConfig, templateReference, ThfrModel, type ThfrConfig } from '@thfr/model';
import { ResNetBackbone, type FeatureExtractor } from '@thfr/backbone';
import { benchBackboneAgainstPytorch, describePeer, type PeerResult } from './bench-peer.js';
import { benchBackboneOnOnnxRuntime, type OnnxBenchRow } from './bench-onnx.js';
import { benchNetworkAgainstPytorch, type NetworkPeerResult } from './bench-network.js';
import { concurrentMs, latencyMs, pipelinedMs } from './bench-timing.js';
import { DISPATCH_TWIN_WIDTH_DIVISOR, countDispatches, countTrainingStepDispatches } from './bench-dispatches.js';
import { OnnxNetworkRunner, OnnxPipelineRunner, exportRestorationNetworkToOnnxAsync, exportRestorationPipelineToOnnxAsync, readPipelineOnnxInfo } from '@thfr/restoration-onnx';
import { measureMatrixPeak, profileOnnxGraph, type GraphProfile, type MatrixPeak } from './bench-roofline.js';
import { OnnxAcceleratedBackbone, type OnnxRuntimeLike } from '@thfr/backbone-onnx';
import { loadOnnxRuntimeNode } from '@thfr/backbone-onnx/node';
import { activeOrtKernels, withOrtKernels } from '@thfr/ort-kernels';
import { numberOption, type CommandSpec } from '../command.js';
import { DEFAULT_BACKBONE_NAME, openBackbone } from '../backbones.js';
import { setupRuntime } from '../runtime.js';
import type { Output } from '../output.js';

/**
 * Inference timed with an onnxruntime engine and batch size: onnxruntime's CPU at `threads`, or the execution
 * provider `executionProvider` ('webgpu': onnxruntime-node's own Dawn) when the bench runs on a GPU backend.
 */
interface OnnxInferenceRow { engine: string; threads?: number; executionProvider: string; batch: number; msPerBatch: number; imagesPerSecond: number }

/** How the bench opens an onnxruntime engine (OnnxRunnerOptions' part that differs between rows). */
interface OnnxEngine { label: string; threads?: number; executionProvider: 'cpu' | 'webgpu' }

interface ConfigBench {
  config: string;
  backbone: string;
  parameters: number;
  trainStepMs: { batch: number; ms: number; error?: string; dispatches?: number; unfusedDispatches?: number; wasmOnlyMs?: number; pipelinedMs?: number };
  imageSize: number;
  /** Engine of the backbone's async extraction ('onnxruntime' with --features auto/onnx where it loads). */
  backboneEngine: string;
  inference: Array<{ batch: number; msPerBatch: number; imagesPerSecond: number; pipelinedMsPerBatch?: number }>;
  /** The same inference with the network on onnxruntime (exported by @thfr/restoration-onnx), per thread count. */
  onnxNetwork?: OnnxInferenceRow[];
  onnxNetworkSkipped?: string;
  /** The whole inference (backbone, search, network, map) as one onnxruntime graph (@thfr/restoration-onnx's pipeline), per thread count. */
  onnxPipeline?: OnnxInferenceRow[];
  onnxPipelineSkipped?: string;
  /**
   * The one graph's kernels by onnxruntime's profile (batch 1, the most --onnx-threads) against the fastest float32
   * matrix work onnxruntime reaches on this machine: `floorMs` = its matrix products' work at that rate.
   */
  onnxPipelineProfile?: { threads: number; batch: number; runs: number; profile: GraphProfile; peak: MatrixPeak; floorMs: number } | { skipped: string };
  /** The same network and weights in PyTorch (--peer pytorch). */
  peer?: NetworkPeerResult;
  bankMemory: Array<{ ratio: number; templates: number; float32Bytes: number; float16Bytes: number }>;
}

/**
 * Forward time of each pretrained backbone at `size` px (taps at strides 4/8/16), with the tensor memory it holds;
 * for the ResNets also on onnxruntime-node (exported to ONNX) with each of `onnx.threads`, next to PyTorch when
 * `peer` is given (same run, so the ratios share the machine's load).
 */
async function benchBackbones(names: string[], batches: number[], size: number, repeats: number, output: Output, gpu: boolean, peer?: { python: string; results: PeerResult[] }, onnx?: { threads: number[]; rows: OnnxBenchRow[]; skipped?: string }): Promise<BackboneRow[]> {
  const rows: BackboneRow[] = [];
  for (const name of names) {
    const before = tf.memory().numBytes;
    const backbone = await openBackbone({ name, features: 'tfjs' }); // the tfjs row; onnxruntime has rows of its own
    const weightBytes = tf.memory().numBytes - before;
    try {
      for (const batch of batches) {
        const images = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
        const ms = await latencyMs(repeats, async () => {
          const features = backbone.extract(images);
          await Promise.all(features.map((f) => f.data()));
          tf.dispose(features);
        });
        // On a GPU: also k batches in flight and one read-back (what the device sustains).
        const pipelined = gpu ? await pipelinedMs(Math.max(repeats, 5), () => backbone.extract(images)) : undefined;
        images.dispose();
        rows.push({ backbone: name, batch, msPerBatch: ms, msPerImage: ms / batch, weightBytes, pipelinedMsPerBatch: pipelined });
        output.line(`backbone ${name} at ${size} px, batch ${batch}: ${ms.toFixed(0)} ms per batch, ${(ms / batch).toFixed(0)} ms per image${pipelined === undefined ? '' : ` (pipelined: ${pipelined.toFixed(1)} ms per batch)`} (weights held: ${(weightBytes / 2 ** 20).toFixed(0)} MiB)`);
      }
      let peerResult: PeerResult | undefined;
      if (peer && backbone instanceof ResNetBackbone) {
        const own = new Map(rows.filter((r) => r.backbone === name).map((r) => [r.batch, r.msPerBatch]));
        peerResult = await benchBackboneAgainstPytorch(backbone, own, size, repeats, peer.python, output);
        peer.results.push(peerResult);
      }
      if (onnx && onnx.threads.length > 0 && backbone instanceof ResNetBackbone) {
        const result = await benchBackboneOnOnnxRuntime(backbone, batches, size, repeats, onnx.threads, output, peerResult);
        if ('rows' in result) onnx.rows.push(...result.rows);
        else onnx.skipped = result.skipped;
      }
    } finally {
      backbone.dispose();
    }
  }
  return rows;
}

interface BackboneRow {
  backbone: string;
  batch: number;
  /** Awaited calls: a read-back after each. */
  msPerBatch: number;
  msPerImage: number;
  weightBytes: number;
  /** GPU backends: k calls in flight, one read-back. */
  pipelinedMsPerBatch?: number;
}

/** Random images through a random-weight network: the timings do not depend on the values. */
interface ConfigBenchOptions {
  /** onnxruntime engines for the network and the one graph ([] = skip): CPU at each --onnx-threads, or WebGPU. */
  onnxEngines: OnnxEngine[];
  /** Python with torch, for the PyTorch peer of the network. */
  peerPython?: string;
  /** A GPU backend: time k calls in flight with one read-back too. */
  gpu: boolean;
}

async function benchConfig(label: string, config: ThfrConfig, backbone: FeatureExtractor, batches: number[], trainBatch: number, repeats: number, output: Output, options: ConfigBenchOptions): Promise<ConfigBench> {
  const levels = await measureLevelsAsync(backbone, config.imageSize);
  const network = new ThfrNetwork(levels, config);
  const bankImages = 16;
  const images = tf.randomUniform([bankImages, config.imageSize, config.imageSize, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const features = backbone.extract(images);
  const reference = templateReference(features, network.codeSize);
  const bank = await TemplateBank.fromFeatures(features[features.length - 1], [reference]);
  tf.dispose([reference]);
  const model = new ThfrModel({ config, backbone, levels, network, bank });
  try {
    // Inference first: a training step that exhausts the backend's memory must not cost these figures.
    network.eval();
    /**
     * Full inference (backbone, template search, network, anomaly map, read-back of the scores) at one batch size;
     * on a GPU backend also with calls in flight, unless `pipelined` is false.
     */
    const timeInference = async (batch: number, engine: string, pipelined = options.gpu) => {
      output.note(`${label}: timing inference with the network on ${engine} at batch ${batch}`);
      const x = tf.randomUniform([batch, config.imageSize, config.imageSize, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
      const ms = await latencyMs(repeats, async () => {
        const out = await model.predictTensors(x);
        await out.scores.data();
        tf.dispose([out.map, out.scores, ...out.levelMaps]);
      });
      const pipelinedMs = pipelined ? await concurrentMs(Math.max(repeats, 5), async () => {
        const out = await model.predictTensors(x);
        tf.dispose(out.levelMaps);
        return [out.map, out.scores];
      }) : undefined;
      x.dispose();
      return { batch, msPerBatch: ms, imagesPerSecond: (batch * 1000) / ms, pipelinedMsPerBatch: pipelinedMs };
    };
    const inference = [];
    for (const batch of batches) inference.push(await timeInference(batch, 'tfjs'));
    /**
     * The same inference with an onnxruntime engine installed on the model, at each of --onnx-threads: `prepare`
     * exports what the engine runs (once) and returns how to install it at a thread count; `uninstall` goes back.
     */
    const timeOnOnnxRuntime = async (what: string, prepare: (ort: OnnxRuntimeLike) => Promise<(engine: OnnxEngine) => Promise<void>>, uninstall: () => void) => {
      if (options.onnxEngines.length === 0) return {};
      try {
        const install = await prepare(await loadOnnxRuntimeNode());
        const rows: OnnxInferenceRow[] = [];
        for (const engine of options.onnxEngines) {
          await install(engine);
          for (const batch of batches) {
            // No 'pipelined' figure: onnxruntime-node runs one call of a session at a time, so calls in flight queue.
            const { pipelinedMsPerBatch: _none, ...timed } = await timeInference(batch, `${what} (${engine.label})`, false);
            rows.push({ engine: engine.label, threads: engine.threads, executionProvider: engine.executionProvider, ...timed });
          }
          uninstall();
        }
        return { rows };
      } catch (error) {
        uninstall();
        return { skipped: error instanceof Error ? error.message : String(error) };
      }
    };
    const runnerOptions = (engine: OnnxEngine) => ({ threads: engine.threads, executionProviders: [engine.executionProvider] });
    // The network on onnxruntime (everything else unchanged).
    const onNetwork = await timeOnOnnxRuntime('onnxruntime', async (ort) => {
      const bytes = await exportRestorationNetworkToOnnxAsync(network);
      return async (engine) => model.useNetworkRunner(await OnnxNetworkRunner.create(ort, bytes, runnerOptions(engine)));
    }, () => model.useNetworkRunner(undefined));
    // The whole inference as one onnxruntime graph: the ResNet exported at this size, the bank, the network, the map.
    const resnet = backbone instanceof OnnxAcceleratedBackbone ? backbone.tfjs : backbone instanceof ResNetBackbone ? backbone : undefined;
    let pipelineBytes: Uint8Array | undefined;
    const onPipeline = resnet ? await timeOnOnnxRuntime('one onnxruntime graph', async (ort) => {
      const bytes = await exportRestorationPipelineToOnnxAsync(resnet, await model.inferenceSpec());
      pipelineBytes = bytes;
      return async (engine) => model.usePipelineRunner(await OnnxPipelineRunner.create(ort, bytes, runnerOptions(engine)));
    }, () => model.usePipelineRunner(undefined)) : {};
    // The floor under the one graph's time on this machine's CPU (the roofline of bench-roofline.ts).
    const cpuThreads = options.onnxEngines.filter((e) => e.executionProvider === 'cpu').map((e) => e.threads ?? 1);
    const onnxPipelineProfile = pipelineBytes && onPipeline.rows && cpuThreads.length > 0 ? await profilePipeline(pipelineBytes, Math.max(...cpuThreads), output) : undefined;
    // The same network and weights in PyTorch, before the training step: a step that exhausts the wasm heap
    // leaves the backend unusable.
    let peer: NetworkPeerResult | undefined;
    if (options.peerPython) {
      const probeIdx = [0, 1];
      const probeFeatures = features.map((f) => tf.gather(f, probeIdx) as tf.Tensor4D);
      const probeTemplate = config.template ? bank.gather(probeIdx.map((i) => i + 1))[0] : undefined;
      try {
        peer = await benchNetworkAgainstPytorch(network, backbone, { features: probeFeatures, template: probeTemplate }, {
          config, codeSize: network.codeSize, adamEpsilon: tf.backend().epsilon(), bankImages, batches, trainBatch, repeats,
        }, options.peerPython, output);
      } finally {
        tf.dispose([...probeFeatures, ...(probeTemplate ? [probeTemplate] : [])]);
      }
    }
    // One training step on cached features (what training does every step; the backbone ran once).
    output.note(`${label}: timing a training step at batch ${trainBatch}`);
    let trainStepMs: ConfigBench['trainStepMs'];
    const idx = tf.tensor1d(Int32Array.from({ length: trainBatch }, (_, i) => i % bankImages), 'int32');
    const batchFeatures = features.map((f) => tf.gather(f, idx) as tf.Tensor4D);
    const [template] = bank.gather(Array.from({ length: trainBatch }, (_, i) => (i + 1) % bankImages));
    const optimizer = new FusedAdam(network.trainableVariables(), { learningRate: config.learningRate, beta1: config.betas[0], beta2: config.betas[1] });
    try {
      network.train();
      const step = () => optimizer.minimize(() => restorationLoss(batchFeatures, network.forward(batchFeatures, template), config.lossForm));
      // One step, awaited: its loss read back (the step's whole queue has run).
      const awaitedStep = async () => {
        const loss = step();
        await loss.data();
        loss.dispose();
      };
      const ms = await latencyMs(repeats, awaitedStep);
      const pipelined = options.gpu ? await pipelinedMs(Math.max(repeats, 5), () => [step()]) : undefined;
      // Kernel dispatches of one step (forward, backward and the fused Adam update), against tf.train.adam's update.
      const { dispatches } = await countDispatches(step);
      const unfused = tf.train.adam(config.learningRate, config.betas[0], config.betas[1]);
      const variables = network.trainableVariables();
      const { dispatches: unfusedDispatches } = await countDispatches(() => unfused.minimize(() => restorationLoss(batchFeatures, network.forward(batchFeatures, template), config.lossForm), true, variables)!);
      unfused.dispose();
      // The same step with every kernel on wasm (@thfr/ort-kernels off), in the same run for the ratio.
      let wasmOnlyMs: number | undefined;
      if (activeOrtKernels()) {
        output.note(`${label}: timing the training step with the convolutions on wasm`);
        wasmOnlyMs = await withOrtKernels(undefined, () => latencyMs(repeats, awaitedStep));
      }
      trainStepMs = { batch: trainBatch, ms, dispatches, unfusedDispatches, wasmOnlyMs, pipelinedMs: pipelined };
    } catch (error) {
      trainStepMs = { batch: trainBatch, ms: NaN, error: error instanceof Error ? error.message : String(error) };
    } finally {
      tf.dispose([idx, template, ...batchFeatures]);
      optimizer.dispose();
    }
    // Bank memory for 100 images at each subsampling ratio (values = T, keys = flattened I_K).
    const perTemplateKey = levels[levels.length - 1].channels * levels[levels.length - 1].size ** 2 * 4;
    const perTemplateValue = network.templateChannels * network.codeSize ** 2;
    const bankMemory = [0.1, 0.25, 0.5, 1].map((ratio) => {
      const templates = Math.ceil(ratio * 100);
      return { ratio, templates, float32Bytes: templates * (perTemplateKey + perTemplateValue * 4), float16Bytes: templates * (perTemplateKey + perTemplateValue * 2) };
    });
    const backboneEngine = 'onnx' in backbone ? 'onnxruntime' : 'tfjs';
    return { config: label, backbone: backbone.identity.architecture, parameters: network.parameterCount(), imageSize: config.imageSize, backboneEngine, trainStepMs, inference, onnxNetwork: onNetwork.rows, onnxNetworkSkipped: onNetwork.skipped, onnxPipeline: onPipeline.rows, onnxPipelineSkipped: onPipeline.skipped, onnxPipelineProfile, peer, bankMemory };
  } finally {
    tf.dispose([images, ...features]);
    model.dispose();
  }
}

/** Batch 1 of the one graph profiled by onnxruntime, and this machine's matrix peak at the same threads (ConfigBench.onnxPipelineProfile). */
async function profilePipeline(bytes: Uint8Array, threads: number, output: Output): Promise<ConfigBench['onnxPipelineProfile']> {
  const runs = 5;
  output.note(`profiling the one onnxruntime graph (${threads} threads, ${runs} runs) and timing this machine's matrix peak`);
  try {
    const ort = await loadOnnxRuntimeNode();
    const info = readPipelineOnnxInfo(bytes);
    const side = info.imageSize;
    const image = Float32Array.from({ length: side * side * 3 }, (_, i) => (i % 255) / 255);
    const profile = await profileOnnxGraph(ort, bytes, { [info.input]: new ort.Tensor('float32', image, [1, side, side, 3]) }, threads, runs);
    const peak = await measureMatrixPeak(ort, threads);
    return { threads, batch: 1, runs, profile, peak, floorMs: profile.matrixFlops / (peak.bestGflops * 1e6) };
  } catch (error) {
    return { skipped: error instanceof Error ? error.message : String(error) };
  }
}

function printConfigBench(row: ConfigBench, backend: string, output: Output): void {
  const peer = row.peer;
  const ratio = (peerMs: number | undefined, ms: number) => (peerMs === undefined ? '' : ` (${(peerMs / ms).toFixed(2)}x PyTorch)`);
  output.line(`${row.config} (${row.backbone}, ${row.imageSize} px, ${(row.parameters / 1e6).toFixed(2)} M trainable parameters) on ${backend}, backbone on ${row.backboneEngine}:`);
  const t = row.trainStepMs;
  output.line(`  training step, batch ${t.batch}: ${t.error ? `not measured: ${t.error}` : `${t.ms.toFixed(0)} ms${ratio(peer?.trainStep.ms, t.ms)}${t.pipelinedMs === undefined ? '' : ` (pipelined: ${t.pipelinedMs.toFixed(0)} ms${ratio(peer?.trainStep.ms, t.pipelinedMs)})`}, ${t.dispatches} kernel dispatches (with tf.train.adam: ${t.unfusedDispatches})${t.wasmOnlyMs ? `; convolutions on onnxruntime (@thfr/ort-kernels), on wasm: ${t.wasmOnlyMs.toFixed(0)} ms (${(t.wasmOnlyMs / t.ms).toFixed(2)}x slower)` : ''}`}`);
  const peerInference = (batch: number) => peer?.inference.find((r) => r.batch === batch)?.msPerBatch;
  for (const r of row.inference) output.line(`  inference, network on tfjs, batch ${r.batch}: ${r.msPerBatch.toFixed(0)} ms per batch (${(r.msPerBatch / r.batch).toFixed(0)} ms per image), ${r.imagesPerSecond.toFixed(2)} images/s${ratio(peerInference(r.batch), r.msPerBatch)}${r.pipelinedMsPerBatch === undefined ? '' : `; pipelined ${r.pipelinedMsPerBatch.toFixed(1)} ms per batch, ${((r.batch * 1000) / r.pipelinedMsPerBatch).toFixed(1)} images/s${ratio(peerInference(r.batch), r.pipelinedMsPerBatch)}`}`);
  for (const r of row.onnxNetwork ?? []) output.line(`  inference, network on onnxruntime (${r.engine}), batch ${r.batch}: ${r.msPerBatch.toFixed(0)} ms per batch (${(r.msPerBatch / r.batch).toFixed(0)} ms per image), ${r.imagesPerSecond.toFixed(2)} images/s${ratio(peerInference(r.batch), r.msPerBatch)}`);
  if (row.onnxNetworkSkipped) output.line(`  network on onnxruntime: skipped (${row.onnxNetworkSkipped})`);
  for (const r of row.onnxPipeline ?? []) output.line(`  inference, the whole of it as one onnxruntime graph (${r.engine}), batch ${r.batch}: ${r.msPerBatch.toFixed(0)} ms per batch (${(r.msPerBatch / r.batch).toFixed(0)} ms per image), ${r.imagesPerSecond.toFixed(2)} images/s${ratio(peerInference(r.batch), r.msPerBatch)}`);
  if (row.onnxPipelineSkipped) output.line(`  whole inference on onnxruntime: skipped (${row.onnxPipelineSkipped})`);
  const profiled = row.onnxPipelineProfile;
  if (profiled && 'skipped' in profiled) output.line(`  the one graph's profile: skipped (${profiled.skipped})`);
  else if (profiled) {
    const { profile, peak } = profiled;
    output.line(`  the one graph's kernels (onnxruntime's profile, ${profiled.threads} threads, batch 1, ${profiled.runs} runs): ${profile.kernelMs.toFixed(0)} ms per image, of which convolutions and matrix products ${profile.matrixMs.toFixed(0)} ms for ${(profile.matrixFlops / 1e9).toFixed(2)} GFLOP (${(profile.matrixFlops / (profile.matrixMs * 1e6)).toFixed(0)} GFLOP/s); the rest ${(profile.kernelMs - profile.matrixMs).toFixed(0)} ms (${profile.operators.filter((o) => o.flops === 0).slice(0, 4).map((o) => `${o.op} ${o.ms.toFixed(1)}`).join(', ')})`);
    output.line(`  this machine's float32 matrix peak on onnxruntime (${profiled.threads} threads, best of 10): MatMul 1024^3 ${peak.matMulGflops.toFixed(0)} GFLOP/s, conv 3x3 256 ch at 64 x 64 ${peak.convGflops.toFixed(0)} GFLOP/s: at that rate the graph's matrix products alone need ${profiled.floorMs.toFixed(0)} ms per image here, ${(profiled.floorMs + profile.kernelMs - profile.matrixMs).toFixed(0)} ms with the rest as profiled`);
  }
  if (peer) {
    output.line(`  ${describePeer(peer)}, same network (${(peer.parameters / 1e6).toFixed(2)} M parameters; restored levels differ by ${peer.probeMaxRelativeDiff.toExponential(1)} relative): training step ${peer.trainStep.ms.toFixed(0)} ms; inference ${peer.inference.map((r) => `batch ${r.batch} ${r.msPerBatch.toFixed(0)} ms`).join(', ')}`);
  }
}

/** Template search time per query for banks of N random templates with D-dim keys. */
async function benchSearch(sizes: number[], keyDim: number, output: Output): Promise<Array<{ templates: number; keyDim: number; msPerQuery: number }>> {
  const rows = [];
  for (const n of sizes) {
    output.note(`template search: N = ${n}, D = ${keyDim}`);
    const keys = tf.randomNormal([n, keyDim], 0, 1, 'float32', 3);
    const values = tf.zeros([n, 1, 1, 1]) as tf.Tensor4D;
    const bank = await TemplateBank.fromFeatures(keys, [values]);
    tf.dispose([keys, values]);
    const query = tf.randomNormal([1, keyDim], 0, 1, 'float32', 4);
    const ms = await latencyMs(5, async () => { await bank.search(query, { topN: 1 }); });
    rows.push({ templates: n, keyDim, msPerQuery: ms });
    tf.dispose(query);
    bank.dispose();
  }
  return rows;
}

export const benchCommand: CommandSpec = {
  name: 'bench',
  summary: 'Benchmark the default and paper configurations: ms per training step, inference images/s at batch 1 and 16, bank memory per subsampling ratio, template-search time per query for N = 100 / 1,000 / 10,000.',
  usage: 'thfr bench [--configs default,fast,paper] [--repeats N] [--json]',
  options: {
    configs: { type: 'string', help: 'which configurations to time', default: 'default,paper', valueName: 'LIST' },
    batches: { type: 'string', help: 'inference batch sizes', default: '1,16', valueName: 'LIST' },
    repeats: { type: 'string', help: 'timed repetitions after one warm-up', default: '2', valueName: 'N' },
    'search-sizes': { type: 'string', help: 'bank sizes for the search benchmark', default: '100,1000,10000', valueName: 'LIST' },
    'search-dim': { type: 'string', help: 'key dimension for the search benchmark (the paper\'s exact I3 key is 262144; 4096 = I3 average-pooled to 2x2)', default: '4096', valueName: 'D' },
    weights: { type: 'string', help: 'WideResNet50-2 safetensors for the paper config (default: random weights, same speed)', valueName: 'FILE' },
    backbone: { type: 'string', help: 'backbone of the default config (default: resnet50_imagenet_v1)', valueName: 'NAME' },
    backbones: { type: 'string', help: "pretrained backbones whose forward time is measured at 256 px ('' to skip)", default: 'resnet50_imagenet_v1,mobilenet_v2', valueName: 'LIST' },
    peer: { type: 'string', help: "'pytorch': also time the ResNet backbones in PyTorch with the same weights (Debian python3-torch) and print the ratios", valueName: 'NAME' },
    'onnx-threads': { type: 'string', help: "onnxruntime-node intra-op thread counts for the ResNet backbones exported to ONNX and, on wasm/cpu, for the network and the whole inference as one graph (when onnxruntime-node is installed; on webgpu those two run on onnxruntime's WebGPU execution provider; '' to skip)", default: '1,2', valueName: 'LIST' },
    python: { type: 'string', help: 'the Python with torch for --peer pytorch', default: '/usr/bin/python3', valueName: 'PATH' },
    'train-batch': { type: 'string', help: "batch size of the timed training step (default: each configuration's batch size)", valueName: 'N' },
    'image-size': { type: 'string', help: "input size of the configurations' inference and training step (default: each configuration's own: 256 px for default and paper, 128 for fast)", valueName: 'PX' },
    features: { type: 'string', help: "engine of the configurations' backbone: 'auto' (onnxruntime-node for ResNets when it loads), 'onnx' or 'tfjs'", default: 'auto', valueName: 'ENGINE' },
  },
  examples: ['thfr bench', 'thfr bench --configs default --batches 1,16 --json', 'thfr bench --backend webgpu'],
  async run(values, output) {
    // Flags are checked before the runtime starts, so a typo fails at once.
    const onnxThreads = String(values['onnx-threads'] ?? '1,2').split(',').filter((t) => t.length > 0).map((t) => {
      const n = Number(t);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--onnx-threads takes positive integers, got '${t}'`);
      return n;
    });
    const backend = await setupRuntime(values.backend as string | undefined, output, Boolean(values.verbose));
    const repeats = numberOption(values, 'repeats', { integer: true, min: 1 }) ?? 2;
    const batches = String(values.batches ?? '1,16').split(',').map(Number);
    const configs = String(values.configs ?? 'default,paper').split(',').filter((c) => c.length > 0);
    const sizes = String(values['search-sizes'] ?? '100,1000,10000').split(',').map(Number);
    const keyDim = numberOption(values, 'search-dim', { integer: true, min: 1 }) ?? 4096;
    const backboneNames = String(values.backbones ?? 'resnet50_imagenet_v1,mobilenet_v2').split(',').filter((n) => n.length > 0);
    if (values.peer !== undefined && values.peer !== 'pytorch') throw new Error(`--peer takes 'pytorch', got '${String(values.peer)}'`);
    const peer = values.peer === 'pytorch' ? { python: String(values.python ?? '/usr/bin/python3'), results: [] as PeerResult[] } : undefined;
    const onnx = { threads: onnxThreads, rows: [] as OnnxBenchRow[], skipped: undefined as string | undefined };
    const gpu = backend === 'webgpu' || backend === 'webgl';
    // The network and the one graph on onnxruntime: its CPU next to tfjs' wasm/cpu; its WebGPU next to tfjs' webgpu.
    const onnxEngines: OnnxEngine[] = backend === 'wasm' || backend === 'cpu'
      ? onnxThreads.map((threads) => ({ label: `${threads} thread${threads === 1 ? '' : 's'}`, threads, executionProvider: 'cpu' }))
      : backend === 'webgpu' && onnxThreads.length > 0 ? [{ label: 'webgpu', executionProvider: 'webgpu' }] : [];
    const backbones = await benchBackbones(backboneNames, [1, 8], 256, repeats, output, gpu, peer, onnx);
    const search = await benchSearch(sizes, keyDim, output);
    for (const s of search) output.line(`template search, N = ${s.templates}, D = ${s.keyDim}: ${s.msPerQuery.toFixed(2)} ms per query`);
    const results: ConfigBench[] = [];
    const stepDispatches: Array<{ config: string; dispatches: number; byKernel: Record<string, number>; shaders?: number }> = [];
    const failures: Array<{ config: string; backend: string; error: string }> = [];
    for (const label of configs) {
      if (!Object.hasOwn(THFR_PRESETS, label)) throw new Error(`--configs takes presets among ${Object.keys(THFR_PRESETS).join(', ')}, got '${label}'`);
      const config = resolveConfig({ imageSize: numberOption(values, 'image-size', { integer: true, min: 32 }) }, THFR_PRESETS[label]);
      const features = values.features as string | undefined;
      const backbone = await openBackbone(label === 'paper'
        ? { name: 'wide_resnet50_2', weights: values.weights as string | undefined, randomSeed: values.weights ? undefined : 0, features }
        : { name: (values.backbone as string | undefined) ?? DEFAULT_BACKBONE_NAME, features });
      // Counted first, on a narrow twin: the paper network's step does not fit the wasm heap, and a step that
      // exhausts it leaves the backend unusable.
      const counted = await countTrainingStepDispatches(config, await measureLevelsAsync(backbone, config.imageSize));
      stepDispatches.push({ config: label, ...counted });
      output.line(`${label}: ${counted.dispatches} kernel dispatches per training step on ${backend}${counted.shaders !== undefined ? ` (${counted.shaders} compute shaders)` : ''} (forward, backward, FusedAdam; counted on the same layers at 1/${DISPATCH_TWIN_WIDTH_DIVISOR} width, batch 1: the count depends on the layers only)`);
      try {
        let row: ConfigBench;
        try {
          row = await benchConfig(label, config, backbone, batches, numberOption(values, 'train-batch', { integer: true, min: 1 }) ?? config.batchSize, repeats, output, { onnxEngines, peerPython: peer?.python, gpu });
        } catch (error) {
          // e.g. the paper network (166 M parameters + Adam state) does not fit the wasm backend's 4 GiB heap.
          const message = error instanceof Error ? error.message : String(error);
          output.line(`${label} on ${backend}: not measured: ${message}`);
          failures.push({ config: label, backend, error: message });
          continue;
        }
        results.push(row);
        printConfigBench(row, backend, output);
        output.line(`  bank memory for 100 images: ${row.bankMemory.map((b) => `${b.ratio * 100}% ${(b.float32Bytes / 2 ** 20).toFixed(1)} MiB (fp16 values ${(b.float16Bytes / 2 ** 20).toFixed(1)})`).join(', ')}`);
      } finally {
        backbone.dispose();
      }
    }
    const ortKernels = activeOrtKernels();
    output.result({ backend, ortKernels: ortKernels ? { onnxruntime: ortKernels.onnxruntimeVersion, threads: ortKernels.threads, calls: ortKernels.stats() } : undefined, backbones, peer: peer?.results, onnx: onnx.skipped ? { skipped: onnx.skipped } : onnx.rows, configs: results, stepDispatches, failures, search });
  },
};
