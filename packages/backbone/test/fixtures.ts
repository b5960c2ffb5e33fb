import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

export interface ParityFixture {
  name: string;
  spec: { block: 'basic' | 'bottleneck'; layers: [number, number, number, number]; widths: [number, number, number, number]; stemWidth: number; widthPerGroup: number };
  weightDtype: string;
  inputs: Array<{ dtype: 'float32' | 'int32'; shape: [number, number, number, number] }>;
  outputs: Array<{ input: number; level: string; shape: number[]; offset: number; length: number }>;
}

export function readParityFixture(name: string) {
  const meta = JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as ParityFixture;
  const features = readFileSync(join(FIXTURES, `${name}.features.bin`));
  const featureValues = new Float32Array(features.buffer.slice(features.byteOffset, features.byteOffset + features.byteLength));
  const inputsBytes = readFileSync(join(FIXTURES, 'inputs.bin'));
  const inputsBuffer = inputsBytes.buffer.slice(inputsBytes.byteOffset, inputsBytes.byteOffset + inputsBytes.byteLength);
  let offset = 0;
  const inputs = meta.inputs.map((input) => {
    const count = input.shape.reduce((a, b) => a * b, 1);
    const values = input.dtype === 'float32' ? new Float32Array(inputsBuffer, offset, count) : new Int32Array(inputsBuffer, offset, count);
    offset += count * 4;
    return { ...input, values };
  });
  const safetensorsPath = join(FIXTURES, `${name}.safetensors`);
  return { meta, inputs, featureValues, safetensorsPath, safetensors: readFileSync(safetensorsPath) };
}
