// Alternatives to the exported graph's slowest convolutions on onnxruntime, measured and dropped (docs/benchmarks.md,
// "Seventeenth session"): each pair is built with the same random weights, checked equal, and timed by turns in one
// process (medians of `rounds` runs). Build first, then from the repo:
//   node packages/cli/bench/layout-alternatives-ab.mjs [rounds=30]
//   THFR_AB_WEB=1 node packages/cli/bench/layout-alternatives-ab.mjs      (onnxruntime-web's wasm, one thread)
// 1. a kernel = stride = 2 transposed conv, as ONNX's ConvTranspose (NCHW) and as a MatMul over NHWC rows;
// 2. a stride-2 3x3 conv, as one Conv and as four stride-1 convs on the input's phases (Slice with steps) summed;
// 3. the THFR default decoder (three stages of 1x1 conv, transposed conv, 1x1 conv, transposed-conv shortcut, from
//    8 x 8 x 512) in NCHW, as MatMuls over rows in the order the transposed convs leave them, with each stage's rows
//    interleaved back to raster order (a rank-5 transpose, C innermost, or two half MatMuls and a Concat), and with
//    the rows transposed back to NCHW.
import { createRequire } from 'node:module';
import { OnnxGraphBuilder, encodeOnnxModel, float32ValueInfo, onnxAttribute as attr } from '@thfr/backbone-onnx';
import { loadOnnxRuntimeNode } from '@thfr/backbone-onnx/node';

const rounds = Number(process.argv[2] ?? 30);
const web = Boolean(process.env.THFR_AB_WEB);
// onnxruntime-web is the browser example's dependency; onnxruntime-node @thfr/backbone-onnx's.
const ort = web ? createRequire(new URL('../../../examples/browser/package.json', import.meta.url))('onnxruntime-web') : await loadOnnxRuntimeNode();
if (web) ort.env.wasm.numThreads = 1;

let seed = 1;
const random = (n, scale = 0.05) => Float32Array.from({ length: n }, () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return (seed / 2 ** 31 - 0.5) * scale;
});

/** A model whose outputs (Identity copies, shapes left to inference) are what `build` returns. */
function model(inputName, inputDims, build) {
  const b = new OnnxGraphBuilder([inputName]);
  const outputs = build(b).map((name) => b.node('Identity', `${name}.out`, [name]));
  const output = (name) => {
    const info = float32ValueInfo(name, []);
    delete info.type.tensorType.shape;
    return info;
  };
  return encodeOnnxModel({
    irVersion: 7, opsetImport: [{ domain: '', version: 13 }], producerName: 'layout-alternatives-ab', metadataProps: [],
    graph: { name: 'ab', node: b.nodes, initializer: b.initializers, input: [float32ValueInfo(inputName, inputDims)], output: outputs.map(output) },
  });
}

const open = (bytes) => ort.InferenceSession.create(bytes, { executionProviders: [web ? 'wasm' : 'cpu'], graphOptimizationLevel: 'all', executionMode: 'sequential', intraOpNumThreads: 2, logSeverityLevel: 3 });

/** Runs the sessions by turns (variants: [label, model, its feeds if not `feeds`]); prints each one's median and minimum; returns each one's last outputs. */
async function byTurns(title, variants, feeds) {
  const sessions = await Promise.all(variants.map(([, bytes]) => open(bytes)));
  const times = variants.map(() => []);
  const last = [];
  for (let round = -3; round < rounds; round++) {
    for (let i = 0; i < sessions.length; i++) {
      const started = performance.now();
      last[i] = await sessions[i].run(variants[i][2] ?? feeds);
      if (round >= 0) times[i].push(performance.now() - started);
    }
  }
  console.log(title);
  variants.forEach(([label], i) => {
    const sorted = times[i].sort((a, b) => a - b);
    console.log(`  ${label.padEnd(58)} median ${sorted[sorted.length >> 1].toFixed(2)} ms, min ${sorted[0].toFixed(2)} ms`);
  });
  await Promise.all(sessions.map((s) => s.release()));
  return last;
}

/** Largest absolute difference between `a` and `b` read through `index` (b's position of a's element i). */
function largestDifference(a, b, index = (i) => i) {
  let most = 0;
  for (let i = 0; i < a.length; i++) most = Math.max(most, Math.abs(a[i] - b[index(i)]));
  return most;
}

// ConvTranspose weight [in, out, 2, 2] as a matrix [in, 4 * out], columns (dy, dx, out); or one dy's half [in, 2 * out].
const transposedConvMatrix = (w, cin, cout, dys = [0, 1]) => {
  const m = new Float32Array(cin * dys.length * 2 * cout);
  for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) dys.forEach((dy, d) => {
    for (let dx = 0; dx < 2; dx++) m[i * dys.length * 2 * cout + (d * 2 + dx) * cout + o] = w[((i * cout + o) * 2 + dy) * 2 + dx];
  });
  return m;
};
const conv1x1Matrix = (w, cout, cin) => {
  const m = new Float32Array(cin * cout);
  for (let o = 0; o < cout; o++) for (let i = 0; i < cin; i++) m[i * cout + o] = w[o * cin + i];
  return m;
};
const repeated = (v, times) => {
  const r = new Float32Array(v.length * times);
  for (let t = 0; t < times; t++) r.set(v, t * v.length);
  return r;
};
const ints = (b, name, values) => b.int64(name, [values.length], values);
const k2s2 = [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2])];

// 1. One transposed conv.
for (const [cin, cout, side] of [[512, 256, 32], [1024, 512, 16]]) {
  const w = random(cin * cout * 4);
  const bias = random(cout);
  const x = random(cin * side * side, 2);
  const rows = new Float32Array(x.length);
  for (let c = 0; c < cin; c++) for (let p = 0; p < side * side; p++) rows[p * cin + c] = x[c * side * side + p];
  const nchw = model('x', [1, cin, side, side], (b) => [b.node('ConvTranspose', 'y', ['x', b.float32('w', [cin, cout, 2, 2], w), b.float32('b', [cout], bias)], k2s2)]);
  const asMatMul = model('x', [side * side, cin], (b) => [b.node('Add', 'y', [b.node('MatMul', 'm', ['x', b.float32('w', [cin, 4 * cout], transposedConvMatrix(w, cin, cout))]), b.float32('b', [4 * cout], repeated(bias, 4))])]);
  const [a, b] = await byTurns(`transposed conv ${cin} -> ${cout} at ${side} px`, [
    ['ConvTranspose (NCHW)', nchw, { x: new ort.Tensor('float32', x, [1, cin, side, side]) }],
    ['MatMul over NHWC rows', asMatMul, { x: new ort.Tensor('float32', rows, [side * side, cin]) }],
  ]);
  // Output (o, 2y + dy, 2x + dx) is the MatMul's row (y, x), column (dy, dx, o).
  const at = (i) => {
    const o = Math.floor(i / (4 * side * side));
    const yy = Math.floor(i / (2 * side)) % (2 * side);
    const xx = i % (2 * side);
    return ((yy >> 1) * side + (xx >> 1)) * 4 * cout + ((yy & 1) * 2 + (xx & 1)) * cout + o;
  };
  console.log(`  the two differ by ${largestDifference(a['y.out'].data, b['y.out'].data, at).toExponential(1)}`);
}

// 2. A stride-2 3x3 conv and its four phases.
for (const [cin, cout, side] of [[256, 128, 64], [512, 256, 32]]) {
  const w = random(cout * cin * 9);
  const bias = random(cout);
  const x = random(cin * side * side, 2);
  const strided = model('x', [1, cin, side, side], (b) => [b.node('Conv', 'y', ['x', b.float32('w', [cout, cin, 3, 3], w), b.float32('b', [cout], bias)], [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [2, 2]), attr.ints('pads', [1, 1, 1, 1])])]);
  const phases = model('x', [1, cin, side, side], (b) => {
    // Output row i reads input rows 2i - 1, 2i, 2i + 1: phase 0 (even rows) takes tap 1, phase 1 (odd) taps 0 and 2,
    // tap 0 one phase-row up (padding 1 before). The same per column.
    const terms = [];
    for (const py of [0, 1]) for (const px of [0, 1]) {
      const phase = b.node('Slice', `phase${py}${px}`, ['x', ints(b, `starts${py}${px}`, [py, px]), ints(b, `ends${py}${px}`, [side, side]), ints(b, `axes${py}${px}`, [2, 3]), ints(b, `steps${py}${px}`, [2, 2])]);
      const ky = py === 0 ? [1] : [0, 2];
      const kx = px === 0 ? [1] : [0, 2];
      const sub = new Float32Array(cout * cin * ky.length * kx.length);
      for (let o = 0; o < cout; o++) for (let i = 0; i < cin; i++) ky.forEach((ty, a) => kx.forEach((tx, c) => { sub[((o * cin + i) * ky.length + a) * kx.length + c] = w[((o * cin + i) * 3 + ty) * 3 + tx]; }));
      const inputs = [phase, b.float32(`w${py}${px}`, [cout, cin, ky.length, kx.length], sub), ...(py === 0 && px === 0 ? [b.float32('b', [cout], bias)] : [])];
      terms.push(b.node('Conv', `conv${py}${px}`, inputs, [attr.ints('kernel_shape', [ky.length, kx.length]), attr.ints('pads', [ky.length - 1, kx.length - 1, 0, 0])]));
    }
    return [b.node('Sum', 'y', terms)];
  });
  const [a, b] = await byTurns(`stride-2 3x3 conv ${cin} -> ${cout} at ${side} px`, [['one Conv', strided], ['four stride-1 convs on the phases, summed', phases]], { x: new ort.Tensor('float32', x, [1, cin, side, side]) });
  console.log(`  the two differ by ${largestDifference(a['y.out'].data, b['y.out'].data).toExponential(1)}`);
}

// 3. The default decoder: [in, width, out] per stage from 8 x 8 x 512.
const stages = [[512, 512, 1024], [1024, 256, 512], [512, 128, 256]];
const weights = stages.map(([cin, width, cout]) => ({ c1: random(width * cin), b1: random(width), up: random(width * width * 4), bUp: random(width), c3: random(cout * width), b3: random(cout), short: random(cin * cout * 4), bShort: random(cout) }));
const base = 8;
const decoderNchw = model('x', [1, 512, base, base], (b) => {
  let x = 'x';
  return stages.map(([cin, width, cout], s) => {
    const w = weights[s];
    let h = b.node('Relu', `relu1_${s}`, [b.node('Conv', `conv1_${s}`, [x, b.float32(`w1_${s}`, [width, cin, 1, 1], w.c1), b.float32(`b1_${s}`, [width], w.b1)], [attr.ints('kernel_shape', [1, 1])])]);
    h = b.node('Relu', `relu2_${s}`, [b.node('ConvTranspose', `up_${s}`, [h, b.float32(`wUp_${s}`, [width, width, 2, 2], w.up), b.float32(`bUp_${s}`, [width], w.bUp)], k2s2)]);
    h = b.node('Conv', `conv3_${s}`, [h, b.float32(`w3_${s}`, [cout, width, 1, 1], w.c3), b.float32(`b3_${s}`, [cout], w.b3)], [attr.ints('kernel_shape', [1, 1])]);
    const shortcut = b.node('ConvTranspose', `short_${s}`, [x, b.float32(`wShort_${s}`, [cin, cout, 2, 2], w.short), b.float32(`bShort_${s}`, [cout], w.bShort)], k2s2);
    x = b.node('Relu', `out${s}`, [b.node('Add', `add_${s}`, [h, shortcut])]);
    return x;
  });
});
/** The decoder over rows; `finish` turns stage s's rows (in their order) into what the graph outputs. */
const decoderRows = (order) => model('x', [1, 512, base, base], (b) => {
  let x = b.node('Reshape', 'rows', [b.node('Transpose', 'nhwc', ['x'], [attr.ints('perm', [0, 2, 3, 1])]), ints(b, 'rowsShape', [-1, 512])]);
  const matMul = (name, input, matrix, dims, bias) => b.node('Add', `${name}.bias`, [b.node('MatMul', name, [input, b.float32(`${name}.w`, dims, matrix)]), b.float32(`${name}.b`, [bias.length], bias)]);
  /** A transposed conv over rows: all four (dy, dx) at once (rows then in (row, dy, dx) order), or raster by halves. */
  const upsample = (name, input, w, bias, cin, cout, side) => {
    if (order !== 'raster') return b.node('Reshape', `${name}.rows`, [matMul(name, input, transposedConvMatrix(w, cin, cout), [cin, 4 * cout], repeated(bias, 4)), ints(b, `${name}.shape`, [-1, cout])]);
    const halves = [0, 1].map((dy) => b.node('Reshape', `${name}.half${dy}`, [matMul(`${name}.dy${dy}`, input, transposedConvMatrix(w, cin, cout, [dy]), [cin, 2 * cout], repeated(bias, 2)), ints(b, `${name}.halfShape${dy}`, [side, 1, side * 2 * cout])]));
    return b.node('Reshape', `${name}.rows`, [b.node('Concat', `${name}.interleaved`, halves, [attr.int('axis', 1)]), ints(b, `${name}.shape`, [-1, cout])]);
  };
  return stages.map(([cin, width, cout], s) => {
    const w = weights[s];
    const side = base * 2 ** s;
    let h = b.node('Relu', `relu1_${s}`, [matMul(`conv1_${s}`, x, conv1x1Matrix(w.c1, width, cin), [cin, width], w.b1)]);
    h = b.node('Relu', `relu2_${s}`, [upsample(`up_${s}`, h, w.up, w.bUp, width, width, side)]);
    h = matMul(`conv3_${s}`, h, conv1x1Matrix(w.c3, cout, width), [width, cout], w.b3);
    x = b.node('Relu', `out${s}`, [b.node('Add', `add_${s}`, [h, upsample(`short_${s}`, x, w.short, w.bShort, cin, cout, side)])]);
    if (order === 'interleave') {
      // (y, x, dy, dx) -> (y, dy, x, dx): raster rows again, C contiguous.
      x = b.node('Reshape', `raster${s}`, [b.node('Transpose', `interleave${s}`, [b.node('Reshape', `split${s}`, [x, ints(b, `splitShape${s}`, [side, side, 2, 2, cout])])], [attr.ints('perm', [0, 2, 1, 3, 4])]), ints(b, `rasterShape${s}`, [-1, cout])]);
      return x;
    }
    if (order !== 'nchw') return x;
    // Rows in (y0, x0, dy1, dx1, ..., dy_{s+1}, dx_{s+1}) order -> NCHW.
    const k = s + 1;
    const dims = [base, base, ...Array.from({ length: k }, () => [2, 2]).flat(), cout];
    const perm = [2 + 2 * k, 0, ...Array.from({ length: k }, (_, i) => 2 + 2 * i), 1, ...Array.from({ length: k }, (_, i) => 3 + 2 * i)];
    const full = base * 2 ** k;
    return b.node('Reshape', `nchw${s}`, [b.node('Transpose', `back${s}`, [b.node('Reshape', `deep${s}`, [x, ints(b, `deepShape${s}`, dims)])], [attr.ints('perm', perm)]), ints(b, `nchwShape${s}`, [1, cout, full, full])]);
  });
});
const [nchw, , interleaved, raster, backToNchw] = await byTurns('the default decoder (three stages from 8 x 8 x 512)', [
  ['NCHW: Conv and ConvTranspose', decoderNchw],
  ['rows, left in the transposed convs\' order', decoderRows('rows')],
  ['rows, each stage interleaved to raster (rank-5 transpose)', decoderRows('interleave')],
  ['rows, raster by two half MatMuls and a Concat', decoderRows('raster')],
  ['rows, transposed back to NCHW', decoderRows('nchw')],
], { x: new ort.Tensor('float32', random(512 * base * base, 2), [1, 512, base, base]) });
stages.forEach(([, , cout], s) => {
  const reference = nchw[`out${s}.out`].data;
  const positions = reference.length / cout;
  const fromRaster = (i) => (i % positions) * cout + Math.floor(i / positions); // NCHW element i in raster rows
  console.log(`  stage ${s + 1}: interleaved ${largestDifference(reference, interleaved[`raster${s}.out`].data, fromRaster).toExponential(1)}, raster ${largestDifference(reference, raster[`out${s}.out`].data, fromRaster).toExponential(1)}, back to NCHW ${largestDifference(reference, backToNchw[`nchw${s}.out`].data).toExponential(1)} from NCHW`);
});
process.exit(0);
