#!/usr/bin/python3
"""The activation cache's gain: a study of 10 trials whose configurations leave the bottom half of
the layers unmodified (LoRA of rank 1-16 on q and v of the top layers only), run with the cache and
without it ("fidelity": {"activation_cache": false}), alternating, --runs runs each. The
checkpoint comes from make_tiny_bert.py (--layers 4 --hidden 256 --heads 4 --ffn 1024); the data
are SST-2's first 2000 training examples (trials evaluate on 200 held out of them), 1 epoch.
Prints one JSON line: median study seconds with and without the cache and their ratio.
Run: /usr/bin/python3 bench/cache.py [--build build] [--runs 3] [--epochs 1]"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, '..', '..', 'shared')
ap = argparse.ArgumentParser()
ap.add_argument('--build', default=os.path.join(HERE, '..', 'build'))
ap.add_argument('--runs', type=int, default=3)
ap.add_argument('--trials', type=int, default=10)
ap.add_argument('--epochs', type=int, default=1)
ap.add_argument('--layers', type=int, default=4)
ap.add_argument('--hidden', type=int, default=256)
ap.add_argument('--unmodified', type=int, default=-1, help='bottom layers without a module (default: half)')
a = ap.parse_args()
exe = os.path.join(a.build, 'autopeft')
tmp = tempfile.mkdtemp(prefix='autopeft-cache-bench-')
model = os.path.join(tmp, 'bert')
subprocess.run(['/usr/bin/python3', os.path.join(SHARED, 'peers', 'make_tiny_bert.py'), '--layers', str(a.layers),
                '--hidden', str(a.hidden), '--heads', '4', '--ffn', str(4 * a.hidden), '--out', model],
               check=True, stdout=subprocess.DEVNULL)
glue = os.path.abspath(os.path.join(SHARED, 'data', 'glue', 'SST-2'))
json.dump({'name': 'sst2', 'type': 'classification', 'train': os.path.join(glue, 'train.tsv'),
           'dev': os.path.join(glue, 'dev.tsv'), 'format': 'tsv', 'header': True, 'text': 'sentence',
           'label': 'label', 'metric': 'accuracy', 'max_length': 128}, open(os.path.join(tmp, 'sst2.json'), 'w'))
unmodified = a.layers // 2 if a.unmodified < 0 else a.unmodified
top = range(unmodified, a.layers)
space = [d for i in top for d in ({'name': f'layer.{i}.lora.r', 'type': 'ordinal', 'values': [1, 2, 4, 8, 16]},
                                   {'name': f'layer.{i}.lora.alpha', 'type': 'ordinal', 'values': [1, 2, 4, 8, 16, 32]})]


def study(cache, run):
    spec = {'study': 'cache', 'model': model, 'task': os.path.join(tmp, 'sst2.json'), 'space': space,
            'sampler': {'type': 'random'}, 'budget': {'trials': a.trials}, 'seed': run,
            'fidelity': {'epochs': a.epochs, 'max_train': 2000, 'holdout_max': 200, 'learning_rate': 1e-3,
                         'activation_cache': cache}}
    path = os.path.join(tmp, f'spec-{cache}-{run}.json')
    json.dump(spec, open(path, 'w'))
    db = os.path.join(tmp, f'{cache}-{run}.db')
    subprocess.run([exe, 'study', 'create', path, '--db', db], check=True, stdout=subprocess.DEVNULL)
    t = time.perf_counter()
    subprocess.run([exe, '--threads', '2', 'study', 'run', '--db', db, '--progress', 'quiet'], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - t
    trials = json.loads(subprocess.run([exe, 'study', 'trials', '--db', db, '--format', 'json'], check=True,
                                       capture_output=True, text=True).stdout)
    return seconds, [t['values'][0] for t in trials]


times = {True: [], False: []}
metrics = {True: [], False: []}
for run in range(a.runs):
    for cache in (False, True):
        s, m = study(cache, run)
        times[cache].append(s)
        metrics[cache].append(sum(m) / len(m))
        print(json.dumps({'cache': cache, 'seconds': round(s, 2), 'mean_metric': round(metrics[cache][-1], 4)}),
              file=sys.stderr)
on, off = statistics.median(times[True]), statistics.median(times[False])
print(json.dumps(dict(bench='activation_cache', trials=a.trials, layers=a.layers, hidden=a.hidden,
                      unmodified_layers=unmodified, epochs=a.epochs, runs=a.runs, cache_s=round(on, 2),
                      no_cache_s=round(off, 2), speedup=round(off / on, 2),
                      mean_metric_cache=[round(x, 4) for x in metrics[True]],
                      mean_metric_no_cache=[round(x, 4) for x in metrics[False]])))
