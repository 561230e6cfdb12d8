#pragma once
// Our linear targets and the Hugging Face modules they stand for, per family: what HF PEFT's
// target_modules, rank_pattern and keys name. Torch-free (the importer needs it; the exporter
// checks it against the built model's injection points in tests).
#include <cstdint>
#include <string>
#include <vector>

#include "peft/spec/model_dims.h"

namespace autopeft::peft {

// The LoRA / IA3 targets that have a Hugging Face module of their own: q, k, v, o, (ffn.gate on
// gated FFNs), ffn.in, ffn.out; on GPT-2 qkv (c_attn) in place of q, k, v, its row slices.
std::vector<std::string> hf_targets(const ModelDims& dims);

// The module paths of `target` on `layer`, named as in the model HF PEFT wraps:
//   BERT / RoBERTa   encoder.layer.3.attention.self.query (a task model adds "bert." / "roberta.")
//   GPT-2            transformer.h.3.attn.c_attn (qkv; q, k and v are row slices of it)
//   Llama            model.layers.3.self_attn.q_proj, model.layers.3.mlp.gate_proj, ...
//   T5               encoder.block.1.layer.0.SelfAttention.q; on a decoder layer (layers count the
//                    encoder's first) an attention target names the self-attention's module and
//                    the cross-attention's (decoder.block.0.layer.1.EncDecAttention.q), as our
//                    LoRA / IA3 adapt both; FFN: DenseReluDense.wi (wi_1 gated, wi_0 its gate), wo
// UserError for a target the family does not have.
std::vector<std::string> hf_linear_modules(const ModelDims& dims, std::int64_t layer,
                                           const std::string& target);

// What a task model puts before those names ("bert.", "roberta."); "" for the generative models,
// whose HF PEFT names are the paths above.
std::string hf_task_prefix(const ModelDims& dims);

// GPT-2's attention projections share the fused c_attn.
inline bool fused_qkv(const ModelDims& dims) { return dims.family == "gpt2"; }

}  // namespace autopeft::peft
