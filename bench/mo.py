#!/usr/bin/python3
"""Multi-objective search quality: autopeft's BO (bench_mo_quality: a GP per objective and exact
EHVI; and random search) beside Optuna 3.1's samplers (../shared/peers/optuna_mo.py: NSGA-II with
population 50 and 10, MOTPE, random) on ZDT1, ZDT2, DTLZ2 (d=6) and BraninCurrin (d=2), same
problems and reference points, --trials evaluations, --seeds seeds; the two run side by side.
Prints one JSON line: final hypervolume mean/std per problem and sampler, ours also after
--checkpoint evaluations, and whether the targets hold:
  final:      our GP's mean at --trials >= the best Optuna sampler's mean at --trials, every problem;
  checkpoint: our GP's mean after --checkpoint >= the best Optuna sampler's mean at --trials.
--given-reference gives our BO each problem's reference point (a study spec's objective
"reference"; BoTorch's benchmarks give it to qEHVI likewise); without it the BO infers one from
the observations. Optuna's samplers take no reference point.
Run: /usr/bin/python3 bench/mo.py [--build build] [--trials 60] [--seeds 5] [--checkpoint 30]
     [--given-reference]"""
import argparse, json, os, subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, '..', '..', 'shared', 'peers', 'optuna_mo.py')

ap = argparse.ArgumentParser()
ap.add_argument('--build', default=os.path.join(HERE, '..', 'build'))
ap.add_argument('--trials', type=int, default=60)
ap.add_argument('--seeds', type=int, default=5)
ap.add_argument('--checkpoint', type=int, default=30)
ap.add_argument('--optuna-samplers', default='nsga2,nsga2_p10,motpe,random')
ap.add_argument('--given-reference', action='store_true')
a = ap.parse_args()

ours_cmd = [os.path.join(a.build, 'bench', 'bench_mo_quality'), '--evaluations', str(a.trials), '--seeds',
            str(a.seeds), '--checkpoint', str(a.checkpoint)] + (['--given-reference'] if a.given_reference else [])
peer_cmds = [['/usr/bin/python3', PEER, '--problem', 'all', '--sampler', s, '--trials', str(a.trials), '--seeds',
              str(a.seeds)] for s in a.optuna_samplers.split(',')]
procs = [subprocess.Popen(c, stdout=subprocess.PIPE, text=True) for c in [ours_cmd] + peer_cmds]
outs = []
for c, p in zip([ours_cmd] + peer_cmds, procs):
    out, _ = p.communicate()
    if p.returncode:
        raise SystemExit(f'{" ".join(c)} failed with status {p.returncode}')
    outs.append(out)

ours = json.loads(outs[0].strip().splitlines()[-1])['results']
optuna = {}
for out in outs[1:]:
    for line in out.strip().splitlines():
        r = json.loads(line)
        optuna.setdefault(r['problem'], {})[r['sampler']] = dict(hv_mean=r['hv_mean'], hv_std=r['hv_std'],
                                                                 overhead_ms=r['overhead_ms_per_trial'])

problems, final_ok, checkpoint_ok = {}, True, True
for prob, res in ours.items():
    peers = optuna.get(prob, {})
    best_name = max(peers, key=lambda s: peers[s]['hv_mean'])
    best = peers[best_name]['hv_mean']
    gp = res['gp']
    f_ok, c_ok = gp['hv_mean'] >= best, gp['hv_mean_at_checkpoint'] >= best
    final_ok &= f_ok
    checkpoint_ok &= c_ok
    problems[prob] = dict(
        ref=res['ref'], hv_max=res['hv_max'],
        ours_gp=dict(hv_mean=gp['hv_mean'], hv_std=gp['hv_std'], hv_mean_at_checkpoint=gp['hv_mean_at_checkpoint'],
                     seconds_per_run=gp['seconds_per_run']),
        ours_random=dict(hv_mean=res['random']['hv_mean'], hv_std=res['random']['hv_std'],
                         hv_mean_at_checkpoint=res['random']['hv_mean_at_checkpoint']),
        optuna=peers, optuna_best=best_name, optuna_best_hv=best,
        gp_final_ge_optuna_best=f_ok, gp_checkpoint_ge_optuna_best=c_ok)
print(json.dumps(dict(bench='mo_quality', given_reference=a.given_reference, trials=a.trials, seeds=a.seeds, checkpoint=a.checkpoint, problems=problems,
                      target_final_holds=final_ok, target_checkpoint_holds=checkpoint_ok)))
