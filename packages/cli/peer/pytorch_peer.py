"""The PyTorch side of `thfr bench --peer pytorch`: runs the SAME backbone with the SAME weights as the tfjs run
and prints one JSON line of timings. Usage (the CLI calls it; Debian's python3-torch):

    /usr/bin/python3 pytorch_peer.py EXPORT_DIR --size 256 --batches 1,8 --repeats 3 --threads 2

EXPORT_DIR holds what `serializeResNetBackbone` writes: backbone.json (the ResNetSpec, the taps, the
preprocessing) and a float32 safetensors file of the folded convs (`<conv>.filter` HWIO, `<conv>.bias`). The network
is rebuilt here from the spec (stem 7x7/2 p3 + ReLU, max pool 3x3/2 p1, Bottleneck/BasicBlock stages, stride on
the 1x1 or the 3x3 conv as `strideOn` says), as plain NCHW convs with biases: what the tfjs side runs.
Timings: `torch.no_grad()`, one warm-up call, then `repeats` calls: on the CPU the median call (as the tfjs side's
latencyMs: a burst of load on a shared host lands on one call), on CUDA the mean of the calls queued with one wait.
"""
import argparse
import json
import os
import struct
import time

import numpy as np
import torch
import torch.nn.functional as F

LAYERS = ['layer1', 'layer2', 'layer3', 'layer4']


def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        if info['dtype'] not in ('F32', 'F16'):
            raise ValueError(f'{path}: {name} has dtype {info["dtype"]}')
        begin, end = info['data_offsets']
        dtype = '<f4' if info['dtype'] == 'F32' else '<f2'
        out[name] = np.frombuffer(data[begin:end], dtype=dtype).astype(np.float32).reshape(info['shape'])
    return out


def build(manifest, weights, device):
    spec = manifest['spec']
    stride_on_1x1 = spec.get('strideOn') == 'conv1x1'
    expansion = 4 if spec['block'] == 'bottleneck' else 1
    convs = {}

    def conv(name, stride, pad):
        w = torch.from_numpy(np.ascontiguousarray(weights[f'{name}.filter'].transpose(3, 2, 0, 1))).to(device)
        b = torch.from_numpy(weights[f'{name}.bias'].copy()).to(device)
        convs[name] = (w, b, stride, pad)
        return name

    plan = {'stem': conv('conv1', 2, 3), 'stages': []}
    inplanes = spec['stemWidth']
    last = max(LAYERS.index(level) for level in manifest['levels'])
    for s, name in enumerate(LAYERS[:last + 1]):
        planes = spec['widths'][s]
        blocks = []
        for b in range(spec['layers'][s]):
            stride = (1 if s == 0 else 2) if b == 0 else 1
            p = f'{name}.{b}'
            if spec['block'] == 'bottleneck':
                names = [conv(f'{p}.conv1', stride if stride_on_1x1 else 1, 0),
                         conv(f'{p}.conv2', 1 if stride_on_1x1 else stride, 1),
                         conv(f'{p}.conv3', 1, 0)]
            else:
                names = [conv(f'{p}.conv1', stride, 1), conv(f'{p}.conv2', 1, 1)]
            down = None
            if b == 0 and (stride != 1 or inplanes != planes * expansion):
                down = conv(f'{p}.downsample.0', stride, 0)
            blocks.append((names, down))
            inplanes = planes * expansion
        plan['stages'].append((name, blocks))
    return plan, convs


def forward(plan, convs, x, preprocessing, levels):
    def c(name, h, relu):
        w, b, stride, pad = convs[name]
        y = F.conv2d(h, w, b, stride=stride, padding=pad)
        return F.relu(y) if relu else y

    if preprocessing == 'caffe':
        x = x.flip(1) * 255.0 - torch.tensor([103.939, 116.779, 123.68], device=x.device).view(1, 3, 1, 1)
    else:
        x = (x - torch.tensor([0.485, 0.456, 0.406], device=x.device).view(1, 3, 1, 1)) / torch.tensor([0.229, 0.224, 0.225], device=x.device).view(1, 3, 1, 1)
    h = F.max_pool2d(c(plan['stem'], x, True), 3, 2, 1)
    taps = []
    for name, blocks in plan['stages']:
        for names, down in blocks:
            identity = c(down, h, False) if down else h
            y = h
            for i, n in enumerate(names):
                y = c(n, y, i < len(names) - 1)
            h = F.relu(y + identity)
        if name in levels:
            taps.append(h)
    return taps


def set_precision():
    """Plain fp32 unless THFR_PEER_TF32=1 (PyTorch's default lets cuDNN convolutions round to TF32 on Ampere and later).
    Returns whether TF32 is allowed."""
    tf32 = os.environ.get('THFR_PEER_TF32') == '1'
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    return tf32


def timed_ms(repeats, fn, device):
    """ms per call after one warm-up: on the CPU the median of `repeats` calls (each synchronous; the lower median for
    an even count, as the tfjs side's latencyMs), on CUDA the mean of `repeats` calls queued with one
    torch.cuda.synchronize() at the end (what the GPU sustains)."""
    fn()
    if device == 'cuda':
        torch.cuda.synchronize()
        started = time.perf_counter()
        for _ in range(repeats):
            fn()
        torch.cuda.synchronize()
        return (time.perf_counter() - started) * 1000 / repeats
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return float(sorted(times)[(len(times) - 1) // 2])


def blas_library():
    """Which BLAS this process runs its CPU matrix products on, read from its loaded libraries after one product:
    'openblas', 'mkl', 'blis', 'reference' (Debian's libblas3, several times slower) or 'unknown'. Debian's torch
    takes whichever libblas.so.3 the system's alternatives point to, so a peer on the reference BLAS is not PyTorch at
    its speed."""
    torch.ones(64, 64, dtype=torch.float64) @ torch.ones(64, 64, dtype=torch.float64)
    try:
        maps = open('/proc/self/maps').read()
    except OSError:
        return 'unknown'
    libraries = {line.split()[-1] for line in maps.splitlines() if len(line.split()) >= 6}
    # libblas.so.3 is the alternatives' link, mapped under its real path (LAPACK may be OpenBLAS's while BLAS is not).
    blas = [path for path in libraries if os.path.basename(path).startswith('libblas.so')]
    for name in ('openblas', 'blis'):
        if any(name in path for path in blas):
            return name
    if any('/blas/' in path for path in blas):
        return 'reference'
    for name in ('mkl', 'openblas'):
        if any(name in os.path.basename(path) for path in libraries):
            return name
    return 'unknown'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('export_dir')
    ap.add_argument('--size', type=int, default=256)
    ap.add_argument('--batches', default='1,8')
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    tf32 = set_precision()
    manifest = json.load(open(os.path.join(args.export_dir, 'backbone.json')))
    weights = read_safetensors(os.path.join(args.export_dir, manifest['weights']['path']))
    plan, convs = build(manifest, weights, device)
    rows = []
    with torch.no_grad():
        # The deterministic probe image both sides build: value ((y * W + x) * 3 + c) % 251 / 250 (RGB in [0, 1]).
        s = args.size
        probe = ((torch.arange(s * s * 3, dtype=torch.float64) % 251) / 250).float().view(1, s, s, 3).permute(0, 3, 1, 2).contiguous().to(device)
        tap_means = [float(t.abs().mean()) for t in forward(plan, convs, probe, manifest['preprocessing'], manifest['levels'])]
        for batch in [int(b) for b in args.batches.split(',')]:
            x = torch.rand(batch, 3, args.size, args.size, generator=torch.Generator().manual_seed(7)).to(device)
            ms = timed_ms(args.repeats, lambda: forward(plan, convs, x, manifest['preprocessing'], manifest['levels']), device)
            rows.append({'batch': batch, 'msPerBatch': ms})
    print(json.dumps({'peer': 'pytorch', 'torch': torch.__version__, 'device': device, 'blas': blas_library(), 'tf32': tf32 if device == 'cuda' else False, 'threads': torch.get_num_threads(), 'size': args.size, 'tapMeans': tap_means, 'rows': rows}))


if __name__ == '__main__':
    main()
