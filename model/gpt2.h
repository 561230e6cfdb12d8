#pragma once
// GPT-2 (transformers' GPT2LMHeadModel): learned absolute positions, pre-LayerNorm blocks,
// fused q/k/v projection c_attn, gelu_new FFN, final ln_f, LM head tied to wte. Parameter names
// are the checkpoint keys (transformer.h.3.attn.c_attn.weight, ...), but every linear is stored
// [out, in] as torch::nn::Linear is; HF's Conv1D keeps [in, out], so the loader transposes.
// Injection points per layer: attn.qkv (c_attn), attn.o (attn.c_proj), ffn.in (c_fc),
// ffn.out (mlp.c_proj).
#include <memory>

#include "model/causal_lm.h"

namespace autopeft::model {

std::shared_ptr<CausalLmImpl> make_gpt2(const DecoderConfig& config);
// The checkpoint keys stored transposed ([in, out]) in GPT-2 files.
bool gpt2_key_is_conv1d(const std::string& key);

}  // namespace autopeft::model
