#!/usr/bin/python3
"""Forward throughput of a BERT-base-sized encoder (random weights, inference mode): autopeft's
LibTorch encoder (bench_encoder_forward) beside the same forward in Python PyTorch (the
transformers-layout BertModel of ../shared/peers/hf_layout.py), alternating, --runs runs each,
same threads and BLAS. Prints one JSON line with the medians and the ratio.
Run: /usr/bin/python3 bench/forward.py [--build build] [--runs 3] [--layers 12 --hidden 768 ...]"""
import argparse, json, os, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'shared', 'peers'))

ap = argparse.ArgumentParser()
ap.add_argument('--build', default=os.path.join(HERE, '..', 'build'))
ap.add_argument('--runs', type=int, default=3)
ap.add_argument('--python-worker', action='store_true', help=argparse.SUPPRESS)
for k, v in dict(layers=12, hidden=768, heads=12, ffn=3072, batch=8, seq=128, threads=2, warmup=2, iters=5).items():
    ap.add_argument('--' + k, type=int, default=v)
a = ap.parse_args()
shape = ['--' + k for k in ('layers', 'hidden', 'heads', 'ffn', 'batch', 'seq', 'threads', 'warmup', 'iters')]


def python_worker():
    import torch
    import hf_layout as hf
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = hf.bert_config(a.layers, a.hidden, a.heads, a.ffn)
    model = hf.BertModel(cfg).eval()
    ids = torch.randint(1000, 30000, (a.batch, a.seq))
    tt, mask = torch.zeros_like(ids), torch.ones_like(ids)
    ms = []
    with torch.inference_mode():
        for i in range(a.warmup + a.iters):
            t0 = time.perf_counter()
            model(ids, tt, mask)
            if i >= a.warmup:
                ms.append((time.perf_counter() - t0) * 1000)
    med = statistics.median(ms)
    print(json.dumps(dict(impl='python', median_ms=med, tokens_per_s=a.batch * a.seq / (med / 1000))))


if a.python_worker:
    python_worker()
    sys.exit(0)

args = sum(([f, str(getattr(a, f[2:]))] for f in shape), [])
ours, peer = [], []
for _ in range(a.runs):  # alternate, so drift hits both alike
    out = subprocess.run([os.path.join(a.build, 'bench', 'bench_encoder_forward')] + args, check=True,
                         capture_output=True, text=True).stdout
    ours.append(json.loads(out.strip().splitlines()[-1])['median_ms'])
    out = subprocess.run(['/usr/bin/python3', __file__, '--python-worker'] + args, check=True,
                         capture_output=True, text=True).stdout
    peer.append(json.loads(out.strip().splitlines()[-1])['median_ms'])
o, p = statistics.median(ours), statistics.median(peer)
tokens = a.batch * a.seq
print(json.dumps(dict(bench='encoder_forward', layers=a.layers, hidden=a.hidden, batch=a.batch, seq=a.seq,
                      threads=a.threads, runs=a.runs, autopeft_ms=round(o, 2), python_ms=round(p, 2),
                      autopeft_tokens_per_s=round(tokens / o * 1000, 1), python_tokens_per_s=round(tokens / p * 1000, 1),
                      speed_ratio_autopeft_over_python=round(p / o, 3), autopeft_runs_ms=ours, python_runs_ms=peer)))
