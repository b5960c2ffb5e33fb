// thfr bench's roofline: multiply-adds counted from onnxruntime's profile shapes, per-run sums of a real profile with
// the warm-up runs left out, and the matrix peak it divides by.
import { describe, expect, it } from 'vitest';
import { OnnxGraphBuilder, encodeOnnxModel, float32ValueInfo, onnxAttribute as attr } from '@thfr/backbone-onnx';
import { loadOnnxRuntimeNode } from '@thfr/backbone-onnx/node';
import { matrixFlops, measureMatrixPeak, profileOnnxGraph, summarizeOrtProfile, type OrtProfileEvent } from '../src/commands/bench-roofline.js';

const ortMissing = await loadOnnxRuntimeNode().then(() => false, () => true);

describe('matrixFlops', () => {
  it('counts a convolution by its output positions and weight (groups included)', () => {
    // 2 images, 8 -> 8 channels in 4 groups (weight [8, 2, 3, 3]), 5 x 5 output: each output element takes 2 x 3 x 3.
    expect(matrixFlops('Conv', [[2, 8, 9, 9], [8, 2, 3, 3]], [[2, 8, 5, 5]])).toBe(2 * (2 * 8 * 25) * (2 * 9));
    expect(matrixFlops('FusedConv', [[1, 3, 4, 4], [8, 3, 1, 1]], [[1, 8, 4, 4]])).toBe(2 * 16 * 24);
  });

  it('counts a transposed convolution by its input positions and weight, or with kernel = stride without the weight', () => {
    expect(matrixFlops('ConvTranspose', [[1, 6, 3, 3], [6, 4, 2, 2]], [[1, 4, 6, 6]])).toBe(2 * 9 * (6 * 4 * 4));
    // Weight pre-packed (the profile lists the bias second): each of the 4 x 6 x 6 outputs takes 6 multiply-adds.
    expect(matrixFlops('ConvTranspose', [[1, 6, 3, 3], [4]], [[1, 4, 6, 6]])).toBe(2 * 9 * (6 * 4 * 4));
  });

  it('counts a matrix product by its output and shared axis, and nothing for other operators', () => {
    expect(matrixFlops('MatMul', [[3, 10, 7], [7, 5]], [[3, 10, 5]])).toBe(2 * 150 * 7);
    expect(matrixFlops('Gemm', [[10, 7]], [[10, 5]])).toBe(2 * 50 * 7);
    // A transposed into the product (FusedMatMul with transA: A [3, 7, 10] read as [3, 10, 7]): still K = 7.
    expect(matrixFlops('FusedMatMul', [[3, 7, 10], [3, 7, 5]], [[3, 10, 5]])).toBe(2 * 150 * 7);
    expect(matrixFlops('Relu', [[1, 4, 4]], [[1, 4, 4]])).toBe(0);
  });

  it('refuses shapes that are not the operator\'s', () => {
    expect(() => matrixFlops('Conv', [[1, 3, 4, 4]], [[1, 8, 4, 4]])).toThrow(/Conv output \[1, 8, 4, 4\] and weight \[\]/);
    expect(() => matrixFlops('MatMul', [], [[2, 2]])).toThrow(/MatMul needs its input and output shapes/);
  });
});

describe('summarizeOrtProfile', () => {
  const kernel = (op: string, dur: number, input: number[][], output: number[][]): OrtProfileEvent => ({
    cat: 'Node', name: `${op.toLowerCase()}_kernel_time`, dur,
    args: { op_name: op, input_type_shape: input.map((d) => ({ float: d })), output_type_shape: output.map((d) => ({ float: d })) },
  });

  it('sums kernel times (microseconds) and multiply-adds per run, most time first, ignoring other events', () => {
    const events: OrtProfileEvent[] = [
      { cat: 'Session', name: 'session_initialization', dur: 9e6 },
      kernel('MatMul', 3000, [[4, 8]], [[4, 2]]),
      kernel('Relu', 500, [[4, 2]], [[4, 2]]),
      { cat: 'Node', name: 'relu_fence_before', dur: 7e6, args: { op_name: 'Relu' } },
      kernel('MatMul', 1000, [[4, 8]], [[4, 2]]),
      kernel('Relu', 1500, [[4, 2]], [[4, 2]]),
    ];
    const profile = summarizeOrtProfile(events, 2);
    expect(profile.kernelMs).toBeCloseTo(3, 12);
    expect(profile.matrixMs).toBeCloseTo(2, 12);
    expect(profile.matrixFlops).toBe(2 * 8 * 8);
    expect(profile.operators.map((o) => o.op)).toEqual(['MatMul', 'Relu']);
    expect(profile.operators[1]).toEqual({ op: 'Relu', ms: 1, flops: 0 });
  });

  it('refuses a profile without kernel events and a run count that is not a positive integer', () => {
    expect(() => summarizeOrtProfile([{ cat: 'Session', name: 'model_run', dur: 5 }], 1)).toThrow(/no kernel-time events/);
    expect(() => summarizeOrtProfile([], 0)).toThrow(/runs must be a positive integer/);
  });
});

describe.skipIf(ortMissing)('on onnxruntime-node', () => {
  it('profiles a graph: its multiply-adds per run exactly, the warm-up runs left out', async () => {
    const ort = await loadOnnxRuntimeNode();
    const b = new OnnxGraphBuilder(['x']);
    const fill = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i));
    // x [1, 16, 8, 8] -> 3x3 conv to 32 channels -> transposed conv (kernel = stride = 2) to 8 channels at 16 x 16.
    const conv = b.node('Conv', 'conv', ['x', b.float32('w1', [32, 16, 3, 3], fill(32 * 16 * 9))], [attr.ints('kernel_shape', [3, 3]), attr.ints('pads', [1, 1, 1, 1])]);
    b.node('ConvTranspose', 'y', [conv, b.float32('w2', [32, 8, 2, 2], fill(32 * 8 * 4)), b.float32('b2', [8], fill(8))], [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2])]);
    const model = encodeOnnxModel({
      irVersion: 7, opsetImport: [{ domain: '', version: 13 }], producerName: 'test', metadataProps: [],
      graph: { name: 'g', node: b.nodes, initializer: b.initializers, input: [float32ValueInfo('x', [1, 16, 8, 8])], output: [float32ValueInfo('y', [1, 8, 16, 16])] },
    });
    const profile = await profileOnnxGraph(ort, model, { x: new ort.Tensor('float32', fill(16 * 64), [1, 16, 8, 8]) }, 1, 3);
    // Counted by hand: the conv 2 x 64 positions x (32 x 16 x 9), the transposed conv 2 x 64 positions x (32 x 8 x 4).
    expect(profile.matrixFlops).toBe(2 * 64 * 32 * 16 * 9 + 2 * 64 * 32 * 8 * 4);
    expect(profile.matrixMs).toBeGreaterThan(0);
    expect(profile.kernelMs).toBeGreaterThanOrEqual(profile.matrixMs);
  });

  it('measures the matrix peak as two positive rates and their best', async () => {
    const peak = await measureMatrixPeak(await loadOnnxRuntimeNode(), 1, 2);
    expect(peak.matMulGflops).toBeGreaterThan(0);
    expect(peak.convGflops).toBeGreaterThan(0);
    expect(peak.bestGflops).toBe(Math.max(peak.matMulGflops, peak.convGflops));
  });
});
