#!/usr/bin/env python3
"""Cross-checks autopeft against the Hugging Face libraries themselves, where they are installed
(transformers, peft, tokenizers, safetensors: the GPU machine's image has them, Debian 12 does not):

  base    transformers writes tiny random BERT, GPT-2, Llama (grouped-query) and T5 (v1.0 and v1.1)
          checkpoints with save_pretrained; `autopeft model run` on the same ids must give the
          library's logits and hidden states;
  peft    for each family and PEFT method, `autopeft peft export` writes a native and an hf-peft
          export of the same random PEFT weights; `autopeft model run --peft` (ours) must equal
          PeftModel.from_pretrained(base, hf-peft export) (theirs), and differ from the base model;
  tok     tokenizers trains WordPiece, byte-level BPE and Unigram tokenizers on the repository's
          docs; `autopeft model run --text` must give the ids the fast tokenizers give;
  cuda    where CUDA is available: `model run --device cuda` (float32 and bfloat16) against the CPU
          run, and `autopeft train --device cuda` on a small task of each family.

One JSON line per check as it runs, then a summary line {"checks", "passed", "failed", ...}.
Run: python3 bench/hf_crosscheck.py [--exe build/autopeft] [--json OUT.json]"""
import argparse, json, os, random, shutil, subprocess, sys, tempfile, time, traceback

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ap = argparse.ArgumentParser()
ap.add_argument('--exe', default=os.path.join(ROOT, 'build', 'autopeft'))
ap.add_argument('--json', default=None, help='also write every result to this file')
ap.add_argument('--only', default='base,peft,tok,cuda')
args = ap.parse_args()
ONLY = set(args.only.split(','))
TOL = 1e-4  # float32, tiny models: the two sides differ by summation order only
V = 400     # every model's vocabulary (the tokenizers below stay under it)
IDS = [5, 17, 3, 42, 9, 28, 77, 2]
DEC = [0, 12, 7, 33]
results = []


def record(check, **kw):
    r = {'check': check, **kw}
    results.append(r)
    print(json.dumps(r), flush=True)


def ours(*a):
    p = subprocess.run([args.exe, '--log-level', 'warn', *a], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f'autopeft {" ".join(a[:2])}: exit {p.returncode}: {p.stderr.strip()[-800:]}')
    return p.stdout


def checked(check, fn):
    t0 = time.time()
    try:
        fn()
    except Exception as e:  # one failed check does not stop the others
        record(check, ok=False, error=f'{type(e).__name__}: {e}'[-1500:],
               trace=traceback.format_exc()[-1500:], seconds=round(time.time() - t0, 1))


def randomise(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for n, p in model.named_parameters():
            r = torch.randn(p.shape, generator=g, dtype=torch.float32)
            leaf = n.split('.')
            norm = 'norm' in n.lower() or (len(leaf) > 1 and leaf[-2].startswith('ln_'))
            p.copy_((1 + 0.1 * r) if (norm and leaf[-1] == 'weight') else 0.1 * r)


def make_models(root):
    import transformers as tf
    specs = {
        'bert': (tf.BertForSequenceClassification,
                 tf.BertConfig(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                               intermediate_size=64, max_position_embeddings=64, num_labels=3)),
        'gpt2': (tf.GPT2LMHeadModel,
                 tf.GPT2Config(vocab_size=V, n_embd=32, n_layer=2, n_head=4, n_positions=64,
                               bos_token_id=V - 1, eos_token_id=V - 1)),
        'llama': (tf.LlamaForCausalLM,
                  tf.LlamaConfig(vocab_size=V, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                 num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                                 rope_theta=50000.0, rms_norm_eps=1e-6, tie_word_embeddings=False,
                                 bos_token_id=1, eos_token_id=2)),
        'llama-mha': (tf.LlamaForCausalLM,
                      tf.LlamaConfig(vocab_size=V, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                     num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=64,
                                     rope_theta=10000.0, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2)),
        't5': (tf.T5ForConditionalGeneration,
               tf.T5Config(vocab_size=V, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=3,
                           num_heads=4, relative_attention_num_buckets=8, relative_attention_max_distance=20,
                           feed_forward_proj='gated-gelu', tie_word_embeddings=False,
                           decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)),
        't5-v1.0': (tf.T5ForConditionalGeneration,
                    tf.T5Config(vocab_size=V, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
                                relative_attention_num_buckets=8, feed_forward_proj='relu',
                                tie_word_embeddings=True, decoder_start_token_id=0, pad_token_id=0,
                                eos_token_id=1)),
    }
    made = {}
    for i, (name, (cls, cfg)) in enumerate(specs.items()):
        torch.manual_seed(i)
        m = cls(cfg)
        randomise(m, 100 + i)
        m.eval()
        d = os.path.join(root, name)
        m.save_pretrained(d)
        made[name] = (cls, d)
    configs = {}
    for name in ('llama', 't5', 't5-v1.0', 'bert'):
        with open(os.path.join(root, name, 'config.json')) as f:
            configs[name] = json.load(f)
    record('env/configs', ok=True, transformers=tf.__version__, configs=configs)
    return made


def hf_forward(model, name, ids, dec=None):
    x = torch.tensor([ids])
    with torch.no_grad():
        if name.startswith('t5'):
            o = model(input_ids=x, attention_mask=torch.ones_like(x), decoder_input_ids=torch.tensor([dec]),
                      output_hidden_states=True)
            return o.logits[0], o.decoder_hidden_states[-1][0]
        o = model(input_ids=x, attention_mask=torch.ones_like(x), output_hidden_states=True)
        return o.logits[0], o.hidden_states[-1][0]


def our_forward(d, name, ids, dec=None, extra=()):
    from safetensors.torch import load_file
    with tempfile.TemporaryDirectory() as t:
        out = os.path.join(t, 'o.safetensors')
        a = ['model', 'run', d, '--input-ids', ','.join(map(str, ids)), '--out', out, *extra]
        if dec is not None:
            a += ['--decoder-input-ids', ','.join(map(str, dec))]
        ours(*a)
        r = load_file(out)
    return r['logits'][0], r['last_hidden_state'][0], r['input_ids'][0].tolist()


def tail_diff(a, b):
    """Max abs difference over the trailing positions both have (prompt methods prepend theirs)."""
    if a.dim() == 1:
        return (a - b).abs().max().item()
    n = min(a.shape[0], b.shape[0])
    return (a[-n:] - b[-n:]).abs().max().item()


def base_checks(made):
    for name, (cls, d) in made.items():
        def one(name=name, cls=cls, d=d):
            m = cls.from_pretrained(d).eval()
            dec = DEC if name.startswith('t5') else None
            hl, hh = hf_forward(m, name, IDS, dec)
            ol, oh, _ = our_forward(d, name, IDS, dec)
            dl, dh = tail_diff(ol, hl), tail_diff(oh, hh)
            record(f'base/{name}', ok=dl < TOL and dh < TOL, max_abs_diff_logits=dl,
                   max_abs_diff_hidden=dh, logits_scale=hl.abs().max().item())
        checked(f'base/{name}', one)


PEFT_CASES = {
    'bert': {
        'lora-qv': {'all_layers': {'lora': {'r': 2, 'alpha': 4, 'targets': ['q', 'v']}}},
        'lora-all-rank-pattern': {'layers': {'0': {'lora': {'r': 2, 'targets': ['q', 'k', 'v', 'o', 'ffn.in', 'ffn.out']}},
                                             '1': {'lora': {'r': 4, 'targets': ['q', 'k', 'v', 'o', 'ffn.in', 'ffn.out']}}}},
        'lora-rslora': {'all_layers': {'lora': {'r': 4, 'alpha': 8, 'use_rslora': True, 'targets': ['q', 'v']}}},
        'ia3': {'all_layers': {'ia3': {'targets': ['k', 'v', 'ffn']}}},
        'prefix': {'all_layers': {'prefix': {'length': 3}}, 'prefix_mlp': {'hidden': 0}},
        'prompt': {'embeddings': {'prompt_tuning': {'length': 3}}},
        'p-tuning': {'embeddings': {'p_tuning': {'length': 3, 'encoder': 'mlp', 'hidden': 16}}},
    },
    'gpt2': {
        'lora-qv': {'all_layers': {'lora': {'r': 2, 'targets': ['q', 'v']}}},
        'lora-qkv-ffn': {'all_layers': {'lora': {'r': 2, 'targets': ['qkv', 'o', 'ffn.in', 'ffn.out']}}},
        'ia3-ffn': {'all_layers': {'ia3': {'targets': ['ffn']}}},  # k, v: HF scales all of c_attn
        'prefix': {'all_layers': {'prefix': {'length': 3}}, 'prefix_mlp': {'hidden': 0}},
        'prompt': {'embeddings': {'prompt_tuning': {'length': 3}}},
        'p-tuning': {'embeddings': {'p_tuning': {'length': 3, 'encoder': 'mlp', 'hidden': 16}}},
    },
    'llama': {
        'lora-all': {'all_layers': {'lora': {'r': 2, 'targets': ['q', 'k', 'v', 'o', 'ffn.gate', 'ffn.in', 'ffn.out']}}},
        'lora-layer1': {'layers': {'1': {'lora': {'r': 4, 'targets': ['q', 'v']}}}},
        'ia3': {'all_layers': {'ia3': {'targets': ['k', 'v', 'ffn']}}},
        'prompt': {'embeddings': {'prompt_tuning': {'length': 3}}},
        # grouped-query attention: counted in key/value heads (differs by HF's position shift)
        'prefix-gqa': {'all_layers': {'prefix': {'length': 3}}, 'prefix_mlp': {'hidden': 0}},
    },
    'llama-mha': {
        'prefix': {'all_layers': {'prefix': {'length': 3}}, 'prefix_mlp': {'hidden': 0}},
    },
    't5': {
        'lora-qv': {'all_layers': {'lora': {'r': 2, 'targets': ['q', 'v']}}},
        'lora-ffn': {'all_layers': {'lora': {'r': 2, 'targets': ['o', 'ffn.gate', 'ffn.in', 'ffn.out']}}},
        'ia3': {'all_layers': {'ia3': {'targets': ['k', 'v', 'ffn']}}},
        'prompt': {'embeddings': {'prompt_tuning': {'length': 3}}},  # the encoder's, one submodule
    },
}


def peft_checks(made, root):
    from peft import PeftModel
    from safetensors.torch import load_file, save_file
    for fam, cases in PEFT_CASES.items():
        cls, d = made[fam]
        dec = DEC if fam.startswith('t5') else None
        for case, body in cases.items():
            def one(fam=fam, case=case, body=body, cls=cls, d=d, dec=dec):
                w = os.path.join(root, 'peft', fam, case)
                os.makedirs(w, exist_ok=True)
                cfg = os.path.join(w, 'cfg.json')
                with open(cfg, 'w') as f:
                    json.dump({'autopeft_peft_config': 1, **body}, f)
                ours('peft', 'export', '--model', d, '--config', cfg, '--format', 'native', '--out', w + '/init')
                t = load_file(w + '/init/peft_weights.safetensors')
                g = torch.Generator().manual_seed(7)
                save_file({k: (v.float() + 0.3 * torch.randn(v.shape, generator=g)).to(v.dtype).contiguous()
                           for k, v in t.items()}, w + '/w.safetensors')
                for fmt in ('native', 'hf-peft'):
                    ours('peft', 'export', '--model', d, '--config', cfg, '--weights', w + '/w.safetensors',
                         '--format', fmt, '--out', f'{w}/{fmt}')
                ol, oh, _ = our_forward(d, fam, IDS, dec, ['--peft', w + '/native'])
                bl, _, _ = our_forward(d, fam, IDS, dec)
                base = cls.from_pretrained(d).eval()
                pm = PeftModel.from_pretrained(base, w + '/hf-peft').eval()
                hl, hh = hf_forward(pm, fam, IDS, dec)
                with open(w + '/hf-peft/adapter_config.json') as f:
                    peft_type = json.load(f).get('peft_type')
                dl = tail_diff(ol, hl)
                effect = tail_diff(ol, bl)
                record(f'peft/{fam}/{case}', ok=dl < TOL and effect > 1e-3, peft_type=peft_type,
                       max_abs_diff_logits=dl, max_abs_diff_hidden=tail_diff(oh, hh), effect_on_logits=effect,
                       positions=[ol.shape[0], hl.shape[0]] if ol.dim() > 1 else None)
            checked(f'peft/{fam}/{case}', one)


TEXTS = [('Hello, world! The movie\'s plot was unaffable.', 'And a second sentence.'),
         ('  leading  spaces,\ttabs and\nnewlines  ', None),
         ('Café déjà vu — naïve façade', 'Ünïcödé'),
         ('数字 123 and 4,567.89 then an emoji 🙂!', None),
         ("don't won't I'm they'll", None),
         ('ALL CAPS and MiXeD case words', None)]


def corpus_file(root):
    path = os.path.join(root, 'corpus.txt')
    with open(path, 'w') as out:
        for base, _, files in os.walk(ROOT):
            if '/.git' in base or '/build' in base:
                continue
            for f in sorted(files):
                if f.endswith('.md'):
                    with open(os.path.join(base, f), errors='replace') as src:
                        out.write(src.read() + '\n')
        for a, b in TEXTS:
            out.write(a + '\n' + (b or '') + '\n')
    return path


def tokenizer_checks(made, root):
    """The reference is the tokenizers library itself (the fast tokenizers transformers wraps)."""
    import tokenizers as tk
    corpus = corpus_file(root)

    def copy_model(src, dst):
        shutil.copytree(src, dst)
        return dst

    def compare(check, d, fam, encode, pairs=False):
        worst = []
        for a, b in TEXTS:
            if not pairs:
                b = None
            extra = ['--text', a] + (['--text-pair', b] if b is not None else [])
            with tempfile.TemporaryDirectory() as t:
                from safetensors.torch import load_file
                out = os.path.join(t, 'o.safetensors')
                a2 = ['model', 'run', d, '--out', out, *extra]
                if fam.startswith('t5'):
                    a2 += ['--decoder-input-ids', '0']
                ours(*a2)
                got = load_file(out)['input_ids'][0].tolist()
            want = encode(a, b)
            if got != want:
                worst.append({'text': a, 'pair': b, 'ours': got, 'theirs': want})
        record(check, ok=not worst, texts=len(TEXTS), mismatches=worst[:3])

    def wordpiece():
        t = tk.BertWordPieceTokenizer(lowercase=True)
        t.train([corpus], vocab_size=V - 20, min_frequency=1)
        enc = lambda a, b: (t.encode(a, b) if b is not None else t.encode(a)).ids
        d = copy_model(made['bert'][1], os.path.join(root, 'tok-bert'))
        t.save_model(d)  # vocab.txt
        compare('tok/wordpiece-vocab.txt', d, 'bert', enc, pairs=True)
        d2 = copy_model(made['bert'][1], os.path.join(root, 'tok-bert-json'))
        t.save(os.path.join(d2, 'tokenizer.json'))
        compare('tok/wordpiece-tokenizer.json', d2, 'bert', enc, pairs=True)

    def bytelevel():
        t = tk.ByteLevelBPETokenizer()
        t.train([corpus], vocab_size=V - 1, min_frequency=2, special_tokens=['<|endoftext|>'])
        enc = lambda a, b: t.encode(a).ids
        d = copy_model(made['gpt2'][1], os.path.join(root, 'tok-gpt2'))
        t.save_model(d)  # vocab.json, merges.txt
        compare('tok/byte-level-bpe-vocab.json', d, 'gpt2', enc)
        d2 = copy_model(made['gpt2'][1], os.path.join(root, 'tok-gpt2-json'))
        t.save(os.path.join(d2, 'tokenizer.json'))
        compare('tok/byte-level-bpe-tokenizer.json', d2, 'gpt2', enc)

    def unigram():
        t = tk.SentencePieceUnigramTokenizer()
        t.train([corpus], vocab_size=V - 20, special_tokens=['<pad>', '</s>', '<unk>'], unk_token='<unk>')
        t.post_processor = tk.processors.TemplateProcessing(single='$A </s>', special_tokens=[('</s>', 1)])
        d = copy_model(made['t5'][1], os.path.join(root, 'tok-t5'))
        t.save(os.path.join(d, 'tokenizer.json'))
        with open(os.path.join(d, 'tokenizer.json')) as f:
            normalizer = json.load(f).get('normalizer')
        record('tok/unigram-normalizer', ok=True, normalizer=normalizer)
        compare('tok/unigram-tokenizer.json', d, 't5', lambda a, b: t.encode(a).ids)

    def llama3():
        # Llama 3's layout: a Split with its pattern, ByteLevel without a regex, ignore_merges.
        pattern = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                   r"|\s*[\r\n]+|\s+(?!\S)|\s+")
        t = tk.Tokenizer(tk.models.BPE(ignore_merges=True))
        t.pre_tokenizer = tk.pre_tokenizers.Sequence([
            tk.pre_tokenizers.Split(tk.Regex(pattern), behavior='isolated', invert=False),
            tk.pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
        t.decoder = tk.decoders.ByteLevel()
        t.train([corpus], tk.trainers.BpeTrainer(vocab_size=V - 10, special_tokens=['<|begin_of_text|>'],
                                                 initial_alphabet=tk.pre_tokenizers.ByteLevel.alphabet()))
        d = copy_model(made['llama'][1], os.path.join(root, 'tok-llama3'))
        t.save(os.path.join(d, 'tokenizer.json'))
        with open(os.path.join(d, 'config.json')) as f:
            bos = json.load(f)['bos_token_id']  # ours puts config.json's BOS in front
        compare('tok/llama3-tokenizer.json', d, 'llama', lambda a, b: [bos] + t.encode(a).ids)

    for name, fn in (('tok/wordpiece', wordpiece), ('tok/byte-level-bpe', bytelevel), ('tok/unigram', unigram),
                     ('tok/llama3', llama3)):
        checked(name, fn)


def cuda_checks(made, root):
    if not torch.cuda.is_available():
        record('cuda', ok=True, skipped='no CUDA device')
        return
    for name, (cls, d) in made.items():
        def one(name=name, d=d):
            dec = DEC if name.startswith('t5') else None
            cl, ch, _ = our_forward(d, name, IDS, dec)
            gl, gh, _ = our_forward(d, name, IDS, dec, ['--device', 'cuda'])
            bl, _, _ = our_forward(d, name, IDS, dec, ['--device', 'cuda', '--dtype', 'bfloat16'])
            record(f'cuda/run/{name}', ok=tail_diff(cl, gl) < 1e-3, max_abs_diff_fp32=tail_diff(cl, gl),
                   max_abs_diff_bf16=tail_diff(cl, bl), logits_scale=cl.abs().max().item())
        checked(f'cuda/run/{name}', one)

    rng = random.Random(0)
    words = 'alpha beta gamma delta kappa sigma omega zeta theta lambda'.split()

    def task(kind):
        t = os.path.join(root, 'task-' + kind)
        os.makedirs(t, exist_ok=True)
        for split, n in (('train', 96), ('dev', 24)):
            with open(os.path.join(t, split + '.jsonl'), 'w') as f:
                for _ in range(n):
                    s = [rng.choice(words) for _ in range(4)]
                    row = ({'sentence': ' '.join(s), 'label': 'abc'[words.index(s[0]) % 3]}  # the head's 3
                           if kind == 'cls' else {'source': ' '.join(s) + ' =', 'target': ' ' + s[0]})
                    f.write(json.dumps(row) + '\n')
        spec = ({'name': 'first-word-class', 'type': 'classification', 'text': 'sentence', 'label': 'label',
                 'metric': 'accuracy'} if kind == 'cls' else
                {'name': 'first-word', 'type': 'causal-lm' if kind == 'causal' else 'seq2seq',
                 'metric': 'exact_match', 'max_target_length': 6})
        spec.update({'format': 'jsonl', 'train': 'train.jsonl', 'dev': 'dev.jsonl', 'max_length': 32})
        with open(os.path.join(t, 'task.json'), 'w') as f:
            json.dump(spec, f)
        return os.path.join(t, 'task.json')

    for fam, kind, tokdir in (('bert', 'cls', 'tok-bert'), ('gpt2', 'causal', 'tok-gpt2'),
                              ('t5', 'seq2seq', 'tok-t5')):
        def one(fam=fam, kind=kind, tokdir=tokdir):
            d = os.path.join(root, tokdir)
            if not os.path.isdir(d):
                raise RuntimeError(f'{tokdir} missing (its tokenizer check failed)')
            cfg = os.path.join(root, 'train-lora.json')
            with open(cfg, 'w') as f:
                json.dump({'autopeft_peft_config': 1, 'all_layers': {'lora': {'r': 4, 'targets': ['q', 'v']}}}, f)
            line = {}
            for dev in ('cuda', 'cpu'):
                t0 = time.time()
                out = ours('train', '--model', d, '--task', task(kind), '--config', cfg, '--device', dev,
                           '--max-steps', '30', '--eval-on', 'dev', '--progress', 'quiet', '--out',
                           os.path.join(root, f'train-{fam}-{dev}'))
                s = json.loads(out.strip().splitlines()[-1])
                line[dev] = {'metric': s['metric'], 'mean': s['mean'], 'seconds': round(time.time() - t0, 1)}
            record(f'cuda/train/{fam}', ok=True, **line)
        checked(f'cuda/train/{fam}', one)


def main():
    root = tempfile.mkdtemp(prefix='autopeft-hf-')
    import transformers
    try:
        import peft
        pv = peft.__version__
    except ImportError:
        pv = None
    record('env', ok=True, torch=torch.__version__, transformers=transformers.__version__, peft=pv,
           cuda=torch.cuda.is_available(), exe=args.exe)
    made = make_models(root)
    if 'base' in ONLY:
        base_checks(made)
    if 'peft' in ONLY and pv:
        peft_checks(made, root)
    if 'tok' in ONLY:
        tokenizer_checks(made, root)
    if 'cuda' in ONLY:
        cuda_checks(made, root)
    failed = [r['check'] for r in results if not r.get('ok')]
    summary = {'checks': len(results), 'passed': len(results) - len(failed), 'failed': failed}
    print(json.dumps(summary), flush=True)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'results': results, 'summary': summary}, f, indent=1)
    return 0 if not failed else 1


if __name__ == '__main__':
    sys.exit(main())
