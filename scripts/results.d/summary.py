#!/usr/bin/env python3
"""docs/results/*.json and docs/RESULTS.md from scripts/results' work folder.

Usage: summary.py AUTOPEFT_EXE WORK_DIR REPO_DIR

Reads what the stages wrote (the backbone's pretraining summary, each final training's result
line, each study file through `autopeft study trials --format json`) and writes the figures as
JSON under docs/results/ and the tables of docs/RESULTS.md. Hand-written text comes from
docs/results/*.md (intro.md, then TASK.md after each task's tables), so that rerunning this
script never loses it. Standard library only.
"""
import json
import math
import os
import subprocess
import sys
from datetime import datetime

BASELINES = ["linear-probe", "full", "lora", "pfeiffer", "prefix", "parallel", "mam", "unipelt"]
SEARCHES = ["random-per-layer", "gp-autopeft", "gp-per-layer"]
PICKS = ["knee", "best"]
# Per task: its title, backbone folder, baselines, searches, and the hypervolume reference point,
# the same for every search of a task: chance accuracy (0.5 on the two balanced binary tasks,
# 1/3 on the three NLI classes) and 10 % of the backbone's parameters (the studies' constraint).
TASKS = [
    {"name": "sst2", "title": "SST-2", "backbone": "backbone", "baselines": BASELINES, "searches": SEARCHES,
     "hv_ref": (0.5, 10.0)},
    {"name": "rte", "title": "RTE", "backbone": "backbone", "baselines": BASELINES, "searches": SEARCHES,
     "hv_ref": (0.5, 10.0)},
    {"name": "esnli", "title": "esnli_si (Slovene NLI, on the Slovene backbone)", "backbone": "backbone-sl",
     "baselines": ["linear-probe", "full", "lora", "pfeiffer"], "searches": ["gp-per-layer"],
     "hv_ref": (0.3333, 10.0)},
]


def load(path):
    with open(path) as f:
        return json.load(f)


def hypervolume_2d(points, ref):
    """Area dominated by (accuracy up, params down) points, bounded by ref = (acc_min, params_max)."""
    pts = sorted((p for p in points if p[0] > ref[0] and p[1] < ref[1]), key=lambda p: (p[1], -p[0]))
    # By increasing params, the front is the points that beat every cheaper point's accuracy; between
    # two front points the dominated height is the cheaper one's accuracy.
    front, best_acc = [], ref[0]
    for acc, par in pts:
        if acc > best_acc:
            front.append((acc, par))
            best_acc = acc
    area = 0.0
    for i, (acc, par) in enumerate(front):
        nxt = front[i + 1][1] if i + 1 < len(front) else ref[1]
        area += (acc - ref[0]) * (nxt - par)
    return area


def trials_of(exe, db):
    out = subprocess.run([exe, "study", "trials", "--db", db, "--format", "json"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def backbone_summary(work, folder="backbone"):
    b = os.path.join(work, folder)
    pre = load(os.path.join(b, "model", "pretraining.json"))
    run = pre["runs"][0]
    last = run["curve"][-1]
    timing = load(os.path.join(b, "pretrain.time"))
    init = json.loads(open(os.path.join(b, "init.out")).read().strip().splitlines()[-1])
    config = load(os.path.join(b, "model", "config.json"))
    with open(os.path.join(b, "corpus.txt")) as f:
        lines = words = 0
        for line in f:
            lines += 1
            words += len(line.split())
    return {
        "layers": config["num_hidden_layers"], "hidden": config["hidden_size"],
        "heads": config["num_attention_heads"], "ffn": config["intermediate_size"],
        "vocab": config["vocab_size"], "parameters": init["parameters"],
        "corpus_lines": lines, "corpus_words": words,
        "steps": run["steps"], "batch_size": pre["options"]["batch_size"],
        "learning_rate": pre["options"]["learning_rate"], "seconds": timing["seconds"],
        "threads": timing["threads"], "train_tokens": run["train_tokens"],
        "final_mlm_loss": last["loss"], "final_mlm_accuracy": last["metric"],
        "final_train_loss": last["train_loss"],
        "curve": [{"step": p["step"], "mlm_loss": p["loss"], "mlm_accuracy": p["metric"]} for p in run["curve"]],
    }


def final_summary(dir_):
    if not os.path.exists(os.path.join(dir_, "done.json")):
        return None
    line = load(os.path.join(dir_, "result.json"))
    done = load(os.path.join(dir_, "done.json"))
    runs = load(os.path.join(dir_, "run", "summary.json"))["runs"]
    return {
        "params_percent": line["params_percent"], "trainable": line["trainable"], "stored": line["stored"],
        "holdout_mean": line["mean"], "holdout_std": line["std"], "holdout_values": line["values"],
        "dev_mean": line["test"]["mean"], "dev_std": line["test"]["std"], "dev_values": line["test"]["values"],
        # Training and evaluation time per seed as the trainer measured it (the wall time of the
        # stage also counts start-up, exports and any pause of the pipeline).
        "seconds": done["seconds"],
        "seconds_per_seed": sum(r.get("train_seconds", 0) + r.get("eval_seconds", 0) for r in runs)
        / max(1, len(runs)),
        "config": done["config"], "command": done["command"],
        "options": load(os.path.join(dir_, "options.json")),
    }


def search_summary(exe, dir_, name, hv_ref):
    db = os.path.join(dir_, name + ".db")
    if not os.path.exists(db):
        return None
    trials = trials_of(exe, db)
    done = [t for t in trials if t["state"] == "complete"]
    hv, pts = [], []
    for t in sorted(trials, key=lambda t: t["number"]):
        if t["state"] == "complete":
            pts.append((t["values"][0], t["values"][1]))
        if t["state"] in ("complete", "pruned", "failed"):
            hv.append(hypervolume_2d(pts, hv_ref))
    picks = {}
    for pick in PICKS:
        p = os.path.join(dir_, f"{name}-{pick}", "trial.json")
        if os.path.exists(p):
            picks[pick] = load(p)
    seconds = 0.0
    for t in done:
        if t.get("started") and t.get("finished"):
            f = "%Y-%m-%dT%H:%M:%SZ"
            seconds += (datetime.strptime(t["finished"], f) - datetime.strptime(t["started"], f)).total_seconds()
    return {
        "spec": load(os.path.join(dir_, name + ".json")),
        "trials": len(trials), "complete": len(done),
        "failed": sum(t["state"] == "failed" for t in trials),
        "hypervolume_by_trial": hv, "trial_seconds": seconds,
        "best_selection_accuracy": max((t["values"][0] for t in done), default=None),
        "picks": picks,
    }


def fmt_ms(mean, std):
    return f"{mean:.4f} ± {std:.4f}"


def task_section(task, data, out):
    title, hv_ref = task["title"], task["hv_ref"]
    w = out.append
    finals, searches = data["final"], data["search"]
    w(f"## {title}\n")
    w("### Final training (3 seeds; selection on the held-out split, then one evaluation on dev)\n")
    w("| configuration | params % | trainable | learning rate | held-out acc. (selection) | dev acc. | train+eval s / seed |")
    w("|---|---:|---:|---:|---:|---:|---:|")
    rows = sorted(((k, v) for k, v in finals.items() if v), key=lambda kv: kv[1]["params_percent"])
    for k, v in rows:
        w(f"| {k} | {v['params_percent']:.3f} | {v['trainable']:,} | {v['options']['learning_rate']:g} "
          f"| {fmt_ms(v['holdout_mean'], v['holdout_std'])} "
          f"| {fmt_ms(v['dev_mean'], v['dev_std'])} | {v['seconds_per_seed']:.0f} |")
    missing = [k for k, v in finals.items() if not v]
    if missing:
        w(f"\nNot yet run: {', '.join(missing)}.")
    w("")
    if any(searches.values()):
        w("### Searches (40 trials each; short trials, selection on the held-out split)\n")
        w(f"Hypervolume of the complete trials' (held-out accuracy, params %) points, reference point "
          f"accuracy {hv_ref[0]}, params {hv_ref[1]} %: after 10, 20, 30 and 40 finished trials.\n")
        w("| search | trials | failed | HV@10 | HV@20 | HV@30 | HV@40 | best held-out acc. | trial time (min) |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for s, v in searches.items():
            if not v:
                w(f"| {s} | not yet run | | | | | | | |")
                continue
            hv = v["hypervolume_by_trial"]
            at = [f"{hv[n - 1]:.4f}" if len(hv) >= n else "" for n in (10, 20, 30, 40)]
            w(f"| {s} | {v['trials']} | {v['failed']} | {' | '.join(at)} | {v['best_selection_accuracy']:.4f} "
              f"| {v['trial_seconds'] / 60:.1f} |")
        w("")
        # Domination: each pick against each hand-picked baseline, on the dev means.
        w("### Do the searches' picks dominate the hand-picked baselines?\n")
        w("A pick dominates a baseline when its dev accuracy (mean of 3 seeds) is higher at no more "
          "parameters. Listed per pick: the baselines it dominates, and those that dominate it.\n")
        w("| pick | params % | dev acc. | dominates | dominated by |")
        w("|---|---:|---:|---|---|")
        base = {k: finals.get(k) for k in task["baselines"] if finals.get(k) and k not in ("full",)}
        for s in task["searches"]:
            for pick in PICKS:
                key = f"{s}-{pick}"
                v = finals.get(key)
                if not v:
                    continue
                dom = [b for b, bv in base.items()
                       if v["dev_mean"] > bv["dev_mean"] and v["params_percent"] <= bv["params_percent"]]
                by = [b for b, bv in base.items()
                      if bv["dev_mean"] > v["dev_mean"] and bv["params_percent"] <= v["params_percent"]]
                w(f"| {key} | {v['params_percent']:.3f} | {v['dev_mean']:.4f} | {', '.join(dom) or '—'} "
                  f"| {', '.join(by) or '—'} |")
        w("")


BACKBONES = {
    "backbone": ("Backbone", "`raw_text_en`"),
    "backbone-sl": ("Slovene backbone", "Slovene text from training splits only (ssj500k train, esnli_si "
                    "train_4k, SloSuperGLUE train files; never dev or test text)"),
}


def backbone_section(work, repo, res, folder, out):
    heading, corpus = BACKBONES[folder]
    if not os.path.exists(os.path.join(work, folder, "model", "pretraining.json")):
        return
    bb = backbone_summary(work, folder)
    with open(os.path.join(res, folder + ".json"), "w") as f:
        f.write(scrub(bb, work, repo))
    out += [f"## {heading}\n",
            f"A {bb['layers']}-layer encoder, hidden {bb['hidden']}, {bb['heads']} heads, FFN {bb['ffn']}, "
            f"{bb['vocab']:,}-piece case-folded sentencepiece vocabulary: {bb['parameters']:,} parameters "
            f"(with the masked-LM head). Masked-LM pretraining on {corpus} ({bb['corpus_lines']:,} lines, "
            f"{bb['corpus_words']:,} words; 1,000 lines held out): {bb['steps']:,} steps of batch "
            f"{bb['batch_size']}, learning rate {bb['learning_rate']}, {bb['train_tokens']:,} tokens, "
            f"{bb['seconds'] / 60:.0f} min on {bb['threads']} thread(s). Final held-out MLM loss "
            f"**{bb['final_mlm_loss']:.3f}** (masked-token accuracy {bb['final_mlm_accuracy']:.3f}; "
            f"training loss {bb['final_train_loss']:.3f}).\n",
            "| step | held-out MLM loss | masked-token accuracy |", "|---:|---:|---:|"]
    out += [f"| {p['step']} | {p['mlm_loss']:.3f} | {p['mlm_accuracy']:.3f} |" for p in bb["curve"]]
    out.append("")


def scrub(obj, work, repo):
    """The JSON with this machine's paths made relative (the work folder as .results/)."""
    text = json.dumps(obj, indent=1)
    for path, name in ((os.path.abspath(work), '.results'), (os.path.abspath(repo), '.')):
        text = text.replace(path + '/', name + '/').replace(path, name)
    return text


def main():
    exe, work, repo = sys.argv[1:4]
    docs = os.path.join(repo, "docs")
    res = os.path.join(docs, "results")
    os.makedirs(res, exist_ok=True)
    out = ["# Results on real tasks", ""]
    intro = os.path.join(res, "intro.md")
    if os.path.exists(intro):
        out += [open(intro).read().rstrip(), ""]
    backbone_section(work, repo, res, "backbone", out)
    for task in TASKS:
        name = task["name"]
        base = os.path.join(work, name)
        if not os.path.isdir(base):
            continue
        data = {"final": {}, "search": {}}
        for b in task["baselines"]:
            data["final"][b] = final_summary(os.path.join(base, "final", b))
        for s in task["searches"]:
            data["search"][s] = search_summary(exe, os.path.join(base, "search"), s, task["hv_ref"])
            for pick in PICKS:
                data["final"][f"{s}-{pick}"] = final_summary(os.path.join(base, "final", f"{s}-{pick}"))
        # Finals run by hand (`scripts/results final TASK NAME CONFIG [LR]`, e.g. a baseline at
        # another learning rate), after the standard ones.
        extra = os.path.join(base, "final")
        for b in sorted(os.listdir(extra)) if os.path.isdir(extra) else []:
            if b not in data["final"] and final_summary(os.path.join(extra, b)):
                data["final"][b] = final_summary(os.path.join(extra, b))
        with open(os.path.join(res, name + ".json"), "w") as f:
            f.write(scrub(data, work, repo))
        if task["backbone"] != "backbone":
            backbone_section(work, repo, res, task["backbone"], out)
        task_section(task, data, out)
        notes = os.path.join(res, name + ".md")
        if os.path.exists(notes):
            out += [open(notes).read().rstrip(), ""]
    with open(os.path.join(docs, "RESULTS.md"), "w") as f:
        f.write("\n".join(out).rstrip() + "\n")


if __name__ == "__main__":
    main()
