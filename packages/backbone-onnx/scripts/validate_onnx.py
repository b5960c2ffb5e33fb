"""Validates ONNX files written by thfr (`thfr export-onnx`: a backbone, a network, a whole inference pipeline) with
the ONNX project's own tools, independently of the TypeScript writer that made them:

- `onnx.checker.check_model(full_check=True)`: the protobuf, the opset, every node against its operator schema;
- `onnx.shape_inference.infer_shapes(strict_mode=True, check_type=True, data_prop=True)`: every node's types and
  shapes, and the outputs' shapes as ONNX infers them (what Triton and other servers read);
- one run on Python's onnxruntime (CPU) with a random input at the inputs' fixed sizes (symbolic batch -> 1, other
  symbolic sizes -> --size): every output finite.

Prints one block per file and exits 1 if any check fails. Needs `pip install onnx onnxruntime numpy` (here: the
wheels in /opt/pypi/files, in a virtual environment); CI does not run it (no Python there).

    thfr export-onnx --out backbone.onnx
    thfr export-onnx --model models/bottle --pipeline --out bottle.onnx
    python3 packages/backbone-onnx/scripts/validate_onnx.py backbone.onnx bottle.onnx [--size 256]
"""
import argparse
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import shape_inference


def dims(value_info):
    return [d.dim_value if d.HasField('dim_value') else d.dim_param for d in value_info.type.tensor_type.shape.dim]


def feed_shape(shape, size):
    # A symbolic batch gets 1 image; other symbolic sizes (height, width of a size-agnostic backbone) --size.
    return [d if isinstance(d, int) else (1 if 'batch' in str(d) else size) for d in shape]


def validate(path, size):
    failures = []
    model = onnx.load(path)
    opsets = ', '.join(f"{o.domain or 'ai.onnx'} {o.version}" for o in model.opset_import)
    print(f'{path}: IR {model.ir_version}, opset {opsets}, producer {model.producer_name} {model.producer_version}, {len(model.graph.node)} nodes')
    try:
        onnx.checker.check_model(model, full_check=True)
        print('  onnx.checker (full_check): ok')
    except Exception as error:  # the checker raises ValidationError or InferenceError
        failures.append(f'checker: {error}')
    try:
        inferred = shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
        print('  strict shape inference: ok; outputs ' + ', '.join(f'{o.name} {dims(o)}' for o in inferred.graph.output))
    except Exception as error:
        failures.append(f'shape inference: {error}')
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    rng = np.random.default_rng(0)
    feeds = {}
    for spec in session.get_inputs():
        shape = feed_shape(spec.shape, size)
        if spec.type == 'tensor(float)':
            feeds[spec.name] = rng.random(shape, dtype=np.float32)
        elif spec.type == 'tensor(int64)':
            feeds[spec.name] = np.full(shape, -1, dtype=np.int64)  # a pipeline's excluded template: none
        else:
            failures.append(f'input {spec.name}: unexpected type {spec.type}')
    if not failures:
        for spec, value in zip(session.get_outputs(), session.run(None, feeds)):
            finite = bool(np.isfinite(value).all()) if value.dtype.kind == 'f' else True
            print(f'  onnxruntime {ort.__version__}: {spec.name} {value.dtype} {list(value.shape)}' + ('' if finite else ' NOT FINITE'))
            if not finite:
                failures.append(f'output {spec.name} holds NaN or infinity')
    for failure in failures:
        print(f'  FAILED {failure[:600]}')
    return not failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('files', nargs='+', help='.onnx files written by thfr')
    parser.add_argument('--size', type=int, default=128, help='pixels for a symbolic height or width (default 128)')
    args = parser.parse_args()
    results = [validate(path, args.size) for path in args.files]
    print(f'{sum(results)} of {len(results)} files valid')
    sys.exit(0 if all(results) else 1)


if __name__ == '__main__':
    main()
