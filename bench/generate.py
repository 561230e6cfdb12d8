#!/usr/bin/python3
"""Greedy generation with a KV cache on a GPT-2-small-shaped model (random weights): autopeft's
LibTorch decoder (bench_generate) beside the same loop in Python PyTorch (a plain GPT-2 forward
with a key/value cache written here, reading the checkpoint bench_generate saves in Hugging Face's
layout), same threads, alternating runs. Checks that both generate the same tokens and prints one
JSON line with the medians and the ratio.
Run: /usr/bin/python3 bench/generate.py [--build build] [--runs 3] [--layers 12 --hidden 768 ...]"""
import argparse, json, math, os, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'shared', 'peers'))

ap = argparse.ArgumentParser()
ap.add_argument('--build', default=os.path.join(HERE, '..', 'build'))
ap.add_argument('--runs', type=int, default=3)
ap.add_argument('--python-worker', default=None, help=argparse.SUPPRESS)
for k, v in dict(layers=12, hidden=768, heads=12, vocab=50257, prompt=32, new=64, threads=2, iters=3).items():
    ap.add_argument('--' + k, type=int, default=v)
a = ap.parse_args()
shape = ['--' + k for k in ('layers', 'hidden', 'heads', 'vocab', 'prompt', 'new', 'threads', 'iters')]


def python_worker(folder):
    import torch
    import torch.nn.functional as F
    from hf_layout import load_safetensors
    torch.set_num_threads(a.threads)
    t = {k: v.float() for k, v in load_safetensors(os.path.join(folder, 'model.safetensors'))[0].items()}
    H, nh = a.hidden, a.heads
    D = H // nh

    def forward(ids, start, cache):
        x = t['transformer.wte.weight'][ids] + t['transformer.wpe.weight'][start:start + ids.shape[1]]
        for i in range(a.layers):
            p = f'transformer.h.{i}.'
            h = F.layer_norm(x, (H,), t[p + 'ln_1.weight'], t[p + 'ln_1.bias'], 1e-5)
            q, k, v = (h @ t[p + 'attn.c_attn.weight'] + t[p + 'attn.c_attn.bias']).split(H, -1)
            q, k, v = (z.view(1, -1, nh, D).transpose(1, 2) for z in (q, k, v))
            if i in cache:
                k, v = torch.cat([cache[i][0], k], 2), torch.cat([cache[i][1], v], 2)
            cache[i] = (k, v)
            s = q @ k.transpose(-1, -2) / math.sqrt(D)
            S, T = q.shape[2], k.shape[2]
            s = s.masked_fill(torch.ones(S, T, dtype=torch.bool).triu(T - S + 1), float('-inf'))
            c = (s.softmax(-1) @ v).transpose(1, 2).reshape(1, S, H)
            x = x + c @ t[p + 'attn.c_proj.weight'] + t[p + 'attn.c_proj.bias']
            h = F.layer_norm(x, (H,), t[p + 'ln_2.weight'], t[p + 'ln_2.bias'], 1e-5)
            h = F.gelu(h @ t[p + 'mlp.c_fc.weight'] + t[p + 'mlp.c_fc.bias'], approximate='tanh')
            x = x + h @ t[p + 'mlp.c_proj.weight'] + t[p + 'mlp.c_proj.bias']
        x = F.layer_norm(x, (H,), t['transformer.ln_f.weight'], t['transformer.ln_f.bias'], 1e-5)
        return x[:, -1] @ t['transformer.wte.weight'].t()

    prompt = [1 + (i * 7919) % (a.vocab - 1) for i in range(a.prompt)]
    ms, tokens = [], []
    with torch.inference_mode():
        for it in range(a.iters + 1):
            t0 = time.perf_counter()
            cache, out = {}, []
            logits = forward(torch.tensor([prompt]), 0, cache)
            for step in range(a.new):
                tok = int(logits.argmax(-1))
                out.append(tok)
                if step + 1 < a.new:
                    logits = forward(torch.tensor([[tok]]), a.prompt + step, cache)
            if it > 0:
                ms.append((time.perf_counter() - t0) * 1000)
            tokens = out
    med = statistics.median(ms)
    print(json.dumps(dict(impl='python', median_ms=med, tokens_per_s=a.new / (med / 1000), tokens=tokens)))


if a.python_worker:
    python_worker(a.python_worker)
    sys.exit(0)

args = sum(([f, str(getattr(a, f[2:]))] for f in shape), [])
exe = os.path.join(a.build, 'bench', 'bench_generate')
ours, peer, same = [], [], True
with tempfile.TemporaryDirectory() as folder:
    for r in range(a.runs):  # alternate, so drift hits both alike
        out = json.loads(subprocess.run([exe] + args + (['--save', folder] if r == 0 else []), check=True,
                                        capture_output=True, text=True).stdout.strip().splitlines()[-1])
        ours.append(out['median_ms'])
        ref = json.loads(subprocess.run(['/usr/bin/python3', __file__, '--python-worker', folder] + args, check=True,
                                        capture_output=True, text=True).stdout.strip().splitlines()[-1])
        peer.append(ref['median_ms'])
        same = same and out['tokens'] == ref['tokens']
o, p = statistics.median(ours), statistics.median(peer)
print(json.dumps(dict(bench='generate', layers=a.layers, hidden=a.hidden, vocab=a.vocab, prompt=a.prompt,
                      new_tokens=a.new, threads=a.threads, runs=a.runs, same_tokens=same,
                      autopeft_ms=round(o, 1), python_ms=round(p, 1),
                      autopeft_tokens_per_s=round(a.new / o * 1000, 1), python_tokens_per_s=round(a.new / p * 1000, 1),
                      speed_ratio_autopeft_over_python=round(p / o, 3), autopeft_runs_ms=ours, python_runs_ms=peer)))
