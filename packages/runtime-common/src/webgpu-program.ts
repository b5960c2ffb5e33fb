/**
 * What thfr's WGSL kernels need of tfjs-backend-webgpu, typed structurally (this package imports no backend): the
 * shape of a program that `runWebGPUProgram` accepts, and a one-thread-per-output-element program builder.
 */
import type { TensorInfo } from './composed-kernel.js';

export type Uniform = { type: 'int32' | 'float32'; data: number[] };

export interface WebGpuProgramLike {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number];
  size: boolean;
  uniforms: string;
  getUserCode(): string;
}

export interface WebGpuBackendLike {
  runWebGPUProgram(program: WebGpuProgramLike, inputs: TensorInfo[], outputDtype: 'float32', uniforms?: Uniform[]): TensorInfo;
}

const WORKGROUP = 64;
/** WebGPU's default maxComputeWorkgroupsPerDimension. */
export const MAX_WORKGROUPS_PER_DIMENSION = 65535;

/**
 * A program with one thread per element of `outputShape`: `body` runs with the flat output `index` (tfjs' _start turns
 * the up-to-2-d workgroup grid back into it), reads the inputs named in `variableNames` and the fields of `uniforms`
 * (a WGSL struct body, e.g. 'rows : i32, epsilon : f32,'), and calls setOutputAtIndex.
 */
export function flatProgram(outputShape: number[], shaderKey: string, variableNames: string[], uniforms: string, body: string): WebGpuProgramLike {
  const dispatch = workgroupGrid(Math.ceil(outputShape.reduce((a, b) => a * b, 1) / WORKGROUP));
  return {
    outputShape,
    shaderKey,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch,
    variableNames,
    workgroupSize: [WORKGROUP, 1, 1],
    size: true,
    uniforms,
    getUserCode: () => `
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        ${body}
      }`,
  };
}

/**
 * `groups` workgroups as a grid within `maxPerDimension` (WebGPU's default limit unless the device's is given): one row
 * while they fit, else rows of `maxPerDimension`; the shader turns (x, y) back into a flat index.
 */
export function workgroupGrid(groups: number, maxPerDimension = MAX_WORKGROUPS_PER_DIMENSION): [number, number, number] {
  const x = Math.min(groups, maxPerDimension);
  return [x, Math.ceil(groups / x), 1];
}
