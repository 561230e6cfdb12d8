#!/usr/bin/python3
"""Cross-checks `autopeft model run` against the independent Python reference of BERT in
../shared/peers/hf_layout.py: writes a random BERT checkpoint there (optionally with the old
LayerNorm gamma/beta names), runs both on the same texts, prints the max abs differences as one
JSON line. Run: /usr/bin/python3 bench/hf_parity.py [--build build]"""
import argparse, json, os, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.join(HERE, '..', '..', 'shared', 'peers')
sys.path.insert(0, PEERS)
import torch  # noqa: E402
import hf_layout as hf  # noqa: E402
import make_tiny_bert  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument('--build', default=os.path.join(HERE, '..', 'build'))
args = ap.parse_args()
exe = os.path.join(args.build, 'autopeft')
texts = [('Hello, world!', 'Café déjà vu'), ('The quick brown fox jumps over the lazy dog.', None),
         ('unaffable tokenization of 中文 text', 'and a second sentence, longer than the first one is')]
report = {}
with tempfile.TemporaryDirectory() as d:
    for legacy in (False, True):
        ck = os.path.join(d, f'bert-{legacy}')
        model, cfg = make_tiny_bert.make(ck, layers=2, hidden=64, heads=4, ffn=128, num_labels=3, seed=1)
        if legacy:  # rewrite with gamma/beta names
            m2, _ = hf.load_bert(ck)
            hf.save_bert(ck, m2, cfg, make_tiny_bert.VOCAB, legacy_ln_names=True)
        model.eval()
        tok = hf.WordPiece.from_dir(ck)
        worst_h = worst_l = 0.0
        ids_equal = True
        for a, b in texts:
            out = os.path.join(d, 'o.safetensors')
            cmd = [exe, '--log-level', 'warn', 'model', 'run', ck, '--text', a, '--out', out]
            if b:
                cmd += ['--text-pair', b]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            ours, _ = hf.load_safetensors(out)
            e = tok.encode(a, b)
            ids, tt, am = hf.pad_batch([e])
            with torch.no_grad():
                logits, h, _ = model(ids, tt, am)
            ids_equal &= ours['input_ids'].tolist() == ids.tolist()
            worst_h = max(worst_h, (ours['last_hidden_state'] - h).abs().max().item())
            worst_l = max(worst_l, (ours['logits'] - logits).abs().max().item())
        report['legacy_names' if legacy else 'current_names'] = {
            'ids_equal': ids_equal, 'max_abs_diff_hidden': worst_h, 'max_abs_diff_logits': worst_l}
print(json.dumps(report))
