"""The PyTorch side of `thfr bench --peer pytorch` for a restoration network (THFR, RD4AD): runs the SAME network
with the SAME weights as the tfjs run, built from the NetworkGraph its modules record (@thfr/nn), and prints one JSON
line of timings. Usage (the CLI calls it; Debian's python3-torch):

    /usr/bin/python3 pytorch_network_peer.py EXPORT_DIR --batches 1,8 --train-batch 8 --repeats 2 --threads 2

EXPORT_DIR holds:
- network.json: the NetworkGraph (ops over NHWC values, weights named by state-dict keys, tfjs layouts) plus the
  run's settings: imageSize, sigma, lossForm, learningRate, betas, epsilon, codeSize, bankImages;
- network.safetensors: the state dict, float32;
- backbone.json + its safetensors (what `serializeResNetBackbone` writes; pytorch_peer.py builds the backbone).
- probe.safetensors: levels (and template) the tfjs side restored, with its outputs, to check it is the same network.

Timed, as on the tfjs side: full inference (backbone -> image-level nearest template among `bankImages` -> network ->
per-level 1 - cosine, bilinear upsampling, sum, Gaussian blur, max) under torch.no_grad(), and one training step on
fixed features (forward in training mode, the restoration loss, backward, Adam). One warm-up call, then
pytorch_peer.timed_ms: the median of `repeats` calls on the CPU, their mean with one synchronisation on CUDA.
"""
import argparse
import json
import math
import os

import torch
import torch.nn.functional as F

from pytorch_peer import blas_library, timed_ms, build as build_backbone, forward as backbone_forward, read_safetensors, set_precision


def torch_weights(graph, state, device):
    """State dict in PyTorch layouts: conv HWIO -> OIHW, transposed conv [k, k, out, in] -> [in, out, k, k]."""
    layout = {}
    for node in graph['nodes']:
        w = node.get('params', {}).get('weight')
        if node['op'] == 'conv2d':
            layout[w] = (3, 2, 0, 1)
        elif node['op'] == 'conv_transpose2d':
            layout[w] = (3, 2, 0, 1)
    out = {}
    for name, value in state.items():
        t = torch.from_numpy(value.copy())
        if name in layout:
            t = t.permute(*layout[name]).contiguous()
        out[name] = t.to(device)
    return out


def run_graph(graph, w, inputs, training):
    """inputs: NCHW tensors by name. Batch norm uses batch statistics (and updates the running ones) when training."""
    values = dict(inputs)
    for node in graph['nodes']:
        x = [values[n] for n in node['inputs']]
        p = node.get('params', {})
        a = node.get('attrs', {})
        op = node['op']
        if op == 'conv2d':
            y = F.conv2d(x[0], w[p['weight']], w.get(p.get('bias')) if 'bias' in p else None, stride=int(a['stride']), padding=int(a['pad']))
        elif op == 'conv_transpose2d':
            k = int(a['kernel'])
            y = F.conv_transpose2d(x[0], w[p['weight']], w[p['bias']] if 'bias' in p else None, stride=k)
        elif op == 'batch_norm':
            y = F.batch_norm(x[0], w[p['mean']], w[p['variance']], w[p['weight']], w[p['bias']], training=training, momentum=a['momentum'], eps=a['epsilon'])
        elif op == 'relu':
            y = F.relu(x[0])
        elif op == 'add':
            y = x[0] + x[1]
        elif op == 'concat':
            y = torch.cat(x, 1)
        elif op == 'slice_channels':
            y = x[0][:, int(a['start']):int(a['start'] + a['size'])]
        elif op == 'global_max_pool':
            y = torch.amax(x[0], dim=(2, 3), keepdim=True)
        elif op == 'pairwise_relation':
            b, e, h, wd = x[0].shape
            q = x[0].reshape(b, e, h * wd).transpose(1, 2)
            k = x[1].reshape(b, e, h * wd)
            affinity = torch.bmm(q, k) * a['scale']
            y = torch.cat([affinity, affinity.transpose(1, 2)], 2).transpose(1, 2).reshape(b, 2 * h * wd, h, wd)
        else:
            raise ValueError(f'unknown op {op}')
        values[node['output']] = y
    return [values[n] for n in graph['outputs']]


def restoration_loss(features, restored, form):
    total = 0
    for f, r in zip(features, restored):
        if form == 'position':
            total = total + (1 - F.cosine_similarity(f, r, dim=1, eps=1e-8)).mean()
        else:
            total = total + (1 - F.cosine_similarity(f.reshape(f.shape[0], -1), r.reshape(r.shape[0], -1), dim=1, eps=1e-8)).mean()
    return total


def gaussian_kernel(sigma, device):
    radius = int(4 * sigma + 0.5)
    xs = torch.arange(-radius, radius + 1, dtype=torch.float32, device=device)
    k = torch.exp(-(xs ** 2) / (2 * sigma * sigma))
    return k / k.sum()


def anomaly_map(features, restored, size, kernel):
    total = 0
    for f, r in zip(features, restored):
        d = (1 - F.cosine_similarity(f, r, dim=1, eps=1e-8)).unsqueeze(1)
        total = total + F.interpolate(d, size=(size, size), mode='bilinear', align_corners=False)
    pad = kernel.numel() // 2
    m = F.pad(total, (pad, pad, pad, pad), mode='reflect')
    m = F.conv2d(m, kernel.view(1, 1, 1, -1))
    m = F.conv2d(m, kernel.view(1, 1, -1, 1))
    return m, torch.amax(m, dim=(1, 2, 3))


def template_reference(levels, size):
    return torch.cat([F.avg_pool2d(f, f.shape[2] // size) if f.shape[2] != size else f for f in levels], 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('export_dir')
    ap.add_argument('--batches', default='1,8')
    ap.add_argument('--train-batch', type=int, default=8)
    ap.add_argument('--repeats', type=int, default=2)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    tf32 = set_precision()
    d = args.export_dir
    spec = json.load(open(os.path.join(d, 'network.json')))
    graph = spec['graph']
    w = torch_weights(graph, read_safetensors(os.path.join(d, 'network.safetensors')), device)
    manifest = json.load(open(os.path.join(d, 'backbone.json')))
    plan, convs = build_backbone(manifest, read_safetensors(os.path.join(d, manifest['weights']['path'])), device)
    levels = manifest['levels']
    level_names = [i['name'] for i in graph['inputs'] if i['name'] != 'template']
    uses_template = any(i['name'] == 'template' for i in graph['inputs'])
    size, code = spec['imageSize'], spec['codeSize']
    to_nchw = lambda t: torch.from_numpy(t.copy()).permute(0, 3, 1, 2).contiguous().to(device)

    # Same network? Restore the tfjs side's probe levels and compare with its outputs.
    probe = read_safetensors(os.path.join(d, 'probe.safetensors'))
    with torch.no_grad():
        inputs = {name: to_nchw(probe[name]) for name in level_names}
        if uses_template:
            inputs['template'] = to_nchw(probe['template'])
        out = run_graph(graph, w, inputs, training=False)
        probe_diff = max(float((o - to_nchw(probe[f'restored_{i}'])).abs().max() / to_nchw(probe[f'restored_{i}']).abs().max()) for i, o in enumerate(out))

    kernel = gaussian_kernel(spec['sigma'], device)
    gen = torch.Generator().manual_seed(7)
    with torch.no_grad():
        bank_images = torch.rand(spec['bankImages'], 3, size, size, generator=gen).to(device)
        bank_levels = backbone_forward(plan, convs, bank_images, manifest['preprocessing'], levels)
        keys = F.normalize(bank_levels[-1].reshape(bank_levels[-1].shape[0], -1), dim=1)
        values = template_reference(bank_levels, code)

    def infer(images):
        feats = backbone_forward(plan, convs, images, manifest['preprocessing'], levels)
        inputs = dict(zip(level_names, feats))
        if uses_template:
            query = F.normalize(feats[-1].reshape(feats[-1].shape[0], -1), dim=1)
            inputs['template'] = values[torch.argmax(query @ keys.t(), dim=1)]
        restored = run_graph(graph, w, inputs, training=False)
        return anomaly_map(feats, restored, size, kernel)

    inference = []
    with torch.no_grad():
        for batch in [int(b) for b in args.batches.split(',')]:
            images = torch.rand(batch, 3, size, size, generator=gen).to(device)
            inference.append({'batch': batch, 'msPerBatch': timed_ms(args.repeats, lambda: infer(images), device)})

    # One training step on fixed features, as the tfjs side times it (cached backbone features).
    params = {k: v.clone().requires_grad_(True) for k, v in w.items() if not (k.endswith('running_mean') or k.endswith('running_var'))}
    state = {**w, **params}
    optimiser = torch.optim.Adam(list(params.values()), lr=spec['learningRate'], betas=tuple(spec['betas']), eps=spec['epsilon'])
    with torch.no_grad():
        images = torch.rand(args.train_batch, 3, size, size, generator=gen).to(device)
        feats = backbone_forward(plan, convs, images, manifest['preprocessing'], levels)
        train_inputs = dict(zip(level_names, feats))
        if uses_template:
            train_inputs['template'] = values[torch.arange(args.train_batch) % values.shape[0]]

    def step():
        optimiser.zero_grad(set_to_none=True)
        loss = restoration_loss(feats, run_graph(graph, state, train_inputs, training=True), spec['lossForm'])
        loss.backward()
        optimiser.step()
        return loss

    train_ms = timed_ms(args.repeats, step, device)
    print(json.dumps({'peer': 'pytorch', 'torch': torch.__version__, 'device': device, 'blas': blas_library(), 'tf32': tf32 if device == 'cuda' else False, 'threads': torch.get_num_threads(),
                      'probeMaxRelativeDiff': probe_diff, 'parameters': sum(p.numel() for p in params.values()),
                      'inference': inference, 'trainStep': {'batch': args.train_batch, 'ms': train_ms}}))


if __name__ == '__main__':
    main()
