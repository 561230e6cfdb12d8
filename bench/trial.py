#!/usr/bin/python3
"""The trial benchmark: one short AutoPEFT-style trial (SST-2's first 2000 training examples,
1 epoch, LoRA r=8 alpha=8 on q and v, batch 32, lr 1e-4, max length 128, dev evaluation) with
`autopeft train` beside ../shared/peers/torch_trial.py padded to 128 (AutoPEFT's way) and with
its own dynamic padding, alternating, --runs runs each, same threads. The checkpoint is written by
make_tiny_bert.py (--layers 4 --hidden 256 --heads 4 --ffn 1024). Prints one JSON line at the
end: median trial seconds (training + dev evaluation) of each, the speed-ups, and the dev metric.
Needs ../shared (data and peers). Run: /usr/bin/python3 bench/trial.py [--build build] [--runs 3]"""
import argparse, json, os, statistics, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, '..', '..', 'shared')
PEERS = os.path.join(SHARED, 'peers')

ap = argparse.ArgumentParser()
ap.add_argument('--build', default=os.path.join(HERE, '..', 'build'))
ap.add_argument('--runs', type=int, default=3)
ap.add_argument('--threads', type=int, default=2)
ap.add_argument('--max-train', type=int, default=2000)
ap.add_argument('--layers', type=int, default=4)
ap.add_argument('--hidden', type=int, default=256)
ap.add_argument('--peft', choices=['lora', 'adapter', 'none'], default='lora')
a = ap.parse_args()

tmp = tempfile.mkdtemp(prefix='autopeft-trial-bench-')
model = os.path.join(tmp, 'bert')
subprocess.run(['/usr/bin/python3', os.path.join(PEERS, 'make_tiny_bert.py'), '--layers', str(a.layers),
                '--hidden', str(a.hidden), '--heads', '4', '--ffn', str(4 * a.hidden), '--out', model],
               check=True, stdout=subprocess.DEVNULL)
glue = os.path.abspath(os.path.join(SHARED, 'data', 'glue', 'SST-2'))
task = os.path.join(tmp, 'sst2.json')
json.dump({'name': 'sst2', 'type': 'classification', 'train': os.path.join(glue, 'train.tsv'),
           'dev': os.path.join(glue, 'dev.tsv'), 'format': 'tsv', 'header': True, 'text': 'sentence',
           'label': 'label', 'metric': 'accuracy', 'max_length': 128}, open(task, 'w'))
configs = {'lora': {'autopeft_peft_config': 1, 'all_layers': {'lora': {'r': 8, 'alpha': 8, 'targets': ['q', 'v']}}},
           'adapter': {'autopeft_peft_config': 1, 'all_layers': {'serial_adapter': {'size': a.hidden // 16}}}}
config = os.path.join(tmp, 'peft.json')
if a.peft in configs:
    json.dump(configs[a.peft], open(config, 'w'))
else:
    config = 'full'


def ours():
    out = os.path.join(tmp, 'out')
    r = subprocess.run([os.path.join(a.build, 'autopeft'), '--threads', str(a.threads), 'train', '--model', model,
                        '--task', task, '--config', config, '--max-train', str(a.max_train), '--epochs', '1',
                        '--batch-size', '32', '--lr', '1e-4', '--eval-on', 'dev', '--progress', 'quiet',
                        '--out', out], check=True, capture_output=True, text=True)
    line = json.loads(r.stdout.strip().split('\n')[-1])
    run = json.load(open(os.path.join(out, 'summary.json')))['runs'][0]
    return dict(seconds=run['train_seconds'] + run['eval_seconds'], metric=line['mean'],
                steps=run['steps'], padded_tokens=run['padded_tokens'])


def peer(pad):
    peft = {'lora': 'lora', 'adapter': 'adapter', 'none': 'none'}[a.peft]
    r = subprocess.run(['/usr/bin/python3', os.path.join(PEERS, 'torch_trial.py'), '--model', model, '--task', 'sst2',
                        '--data', os.path.join(SHARED, 'data', 'glue'), '--peft', peft, '--max-train',
                        str(a.max_train), '--epochs', '1', '--pad', pad, '--threads', str(a.threads)],
                       check=True, capture_output=True, text=True)
    j = json.loads(r.stdout.strip().split('\n')[-1])
    return dict(seconds=j['train_wall_s'] + j['eval_wall_s'], metric=j['dev_metric'], steps=j['steps'],
                padded_tokens=j['train_tokens_incl_pad'])


results = {'ours': [], 'peer_max_length': [], 'peer_dynamic': []}
for i in range(a.runs):
    results['peer_max_length'].append(peer('max_length'))
    results['ours'].append(ours())
    results['peer_dynamic'].append(peer('dynamic'))
    print(json.dumps({k: v[-1] for k, v in results.items()}), file=sys.stderr)
med = {k: statistics.median(x['seconds'] for x in v) for k, v in results.items()}
print(json.dumps(dict(
    bench='trial', peft=a.peft, layers=a.layers, hidden=a.hidden, max_train=a.max_train, threads=a.threads,
    runs=a.runs, ours_s=round(med['ours'], 3), peer_max_length_s=round(med['peer_max_length'], 3),
    peer_dynamic_s=round(med['peer_dynamic'], 3),
    speedup_vs_max_length=round(med['peer_max_length'] / med['ours'], 2),
    speedup_vs_dynamic=round(med['peer_dynamic'] / med['ours'], 2),
    metric_ours=[x['metric'] for x in results['ours']],
    metric_peer_max_length=[x['metric'] for x in results['peer_max_length']],
    metric_peer_dynamic=[x['metric'] for x in results['peer_dynamic']],
    padded_tokens=dict(ours=results['ours'][0]['padded_tokens'],
                       peer_max_length=results['peer_max_length'][0]['padded_tokens'],
                       peer_dynamic=results['peer_dynamic'][0]['padded_tokens']))))
