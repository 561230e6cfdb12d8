#!/usr/bin/python3
"""Training-step speed: bench_train_step (autopeft, LibTorch, through TaskModel and our PEFT
modules) beside ../shared/peers/torch_step.py (plain PyTorch), alternating, --runs runs each, same
threads and BLAS, for LoRA (r 8 on q, v), Houlsby adapters (64) and full fine-tuning, at
(a) 4 layers / hidden 256 and (b) BERT-base size; plus the 2048^2 matmul rate measured in the same
command. FLOPs per step are the peer's step_gflop. Prints one JSON line at the end.
Run: /usr/bin/python3 bench/step.py [--build build] [--runs 3] [--sizes small,base] [--steps 10]"""
import argparse, json, os, statistics, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, '..', '..', 'shared', 'peers', 'torch_step.py')
ap = argparse.ArgumentParser()
ap.add_argument('--build', default=os.path.join(HERE, '..', 'build'))
ap.add_argument('--runs', type=int, default=3)
ap.add_argument('--threads', type=int, default=2)
ap.add_argument('--steps', type=int, default=10)
ap.add_argument('--sizes', default='small,base')
ap.add_argument('--pefts', default='lora,adapter,none')
a = ap.parse_args()
SIZES = {'small': ['--layers', '4', '--hidden', '256', '--heads', '4', '--ffn', '1024'],
         'base': ['--layers', '12', '--hidden', '768', '--heads', '12', '--ffn', '3072']}


def run(cmd):
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().split('\n')[-1])


peak = run(['/usr/bin/python3', PEER, '--matmul-peak', '--threads', str(a.threads)])['gflops']
out = {'bench': 'train_step', 'threads': a.threads, 'runs': a.runs, 'matmul_gflops': peak, 'cases': []}
for size in a.sizes.split(','):
    steps = a.steps if size == 'small' else max(3, a.steps // 2)
    for peft in a.pefts.split(','):
        common = SIZES[size] + ['--seq', '128', '--batch', '16', '--peft', peft, '--threads', str(a.threads),
                                '--warmup', '2', '--steps', str(steps)]
        ours, peer = [], []
        for _ in range(a.runs):
            peer.append(run(['/usr/bin/python3', PEER] + common))
            ours.append(run([os.path.join(a.build, 'bench', 'bench_train_step')] + common))
        gf = peer[0]['gflop_step']
        o, p = statistics.median(x['median_ms'] for x in ours), statistics.median(x['median_ms'] for x in peer)
        case = dict(size=size, peft=peft, ours_ms=round(o, 1), peer_ms=round(p, 1), peer_over_ours=round(p / o, 3),
                    ours_tokens_per_s=round(16 * 128 / o * 1e3), peer_tokens_per_s=round(16 * 128 / p * 1e3),
                    gflop_step=gf, ours_fraction_of_matmul=round(gf / o * 1e3 / peak, 3),
                    peer_fraction_of_matmul=round(gf / p * 1e3 / peak, 3))
        print(json.dumps(case), file=sys.stderr)
        out['cases'].append(case)
print(json.dumps(out))
