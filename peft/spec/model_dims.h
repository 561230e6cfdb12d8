#pragma once
// The sizes of a backbone that PEFT parameter counts depend on. Torch-free.
#include <cstdint>
#include <string>
#include <vector>

#include "model/format/decoder_config.h"
#include "model/format/model_config.h"
#include "model/format/t5_config.h"

namespace autopeft::peft {

struct ModelDims {
  std::int64_t hidden = 0;
  std::int64_t intermediate = 0;
  std::int64_t layers = 0;
  std::int64_t heads = 0;
  std::int64_t vocab = 0;
  std::int64_t max_positions = 0;  // rows of the position table
  std::int64_t type_vocab = 0;
  bool pooler = true;           // BERT keeps it; RoBERTa task models drop it
  std::string family = "bert";  // "bert", "roberta", "gpt2" or "llama"
  // Attention widths where they differ from `hidden` (0: hidden): the query and attention-output
  // width heads x head_dim, and the key/value width kv_heads x head_dim (grouped-query attention).
  std::int64_t q_width = 0, kv_width = 0;
  std::int64_t kv_heads = 0;  // 0: heads
  // Decoders: Llama's gate projection beside ffn.in; projection biases; an LM head tied to the
  // word embeddings (untied, it is part of the pretrained backbone).
  bool gated_ffn = false;
  bool attention_bias = true, mlp_bias = true;
  bool tied_embeddings = true;
  // T5: `layers` counts both stacks, the encoder's first (AdapterHub's global layer ids):
  // layers 0 .. encoder_layers - 1 are the encoder's, the rest the decoder's. 0 elsewhere.
  std::int64_t encoder_layers = 0;
  std::int64_t relative_buckets = 0;  // T5: relative-position buckets (block 0 of each stack)
  // Set by at_layer(): the layer has cross-attention (a T5 decoder layer), where LoRA and IA3 on
  // q, k, v, o adapt the cross-attention projections too (as HF PEFT's and AdapterHub's name
  // matching does) and a prefix has a cross-attention part.
  bool cross_attention = false;
};

// `dims` for one layer (sets cross_attention).
ModelDims at_layer(const ModelDims& dims, std::int64_t layer);
// The attention places a prefix on `layer` goes to, each with its own generator (AdapterHub's
// locations): "self" (encoders, GPT-2, Llama, T5 decoder self-attention), "encoder" (T5
// encoder), "cross" (T5 cross-attention, beside "self" on decoder layers).
std::vector<std::string> prefix_locations(const ModelDims& dims, std::int64_t layer);

// A model with a causal stack (GPT-2, Llama, T5's decoder).
inline bool is_causal(const ModelDims& d) {
  return d.family == "gpt2" || d.family == "llama" || d.family == "t5";
}
inline std::int64_t query_width(const ModelDims& d) { return d.q_width ? d.q_width : d.hidden; }
inline std::int64_t key_value_width(const ModelDims& d) { return d.kv_width ? d.kv_width : d.hidden; }

// Dims of an encoder config. `with_pooler` as the task model has it (see model/encoder_task.h).
ModelDims dims_of(const model::EncoderConfig& config, bool with_pooler);
// Dims of a causal LM (GPT-2, Llama); no pooler, no position-free token types.
ModelDims dims_of(const model::DecoderConfig& config);
// Dims of a T5 (both stacks; see encoder_layers).
ModelDims dims_of(const model::T5Config& config);

// bert-base-uncased (12 x 768, vocab 30522): the size AutoPEFT's and UniPELT's figures use.
ModelDims bert_base_dims();

// Parameters of the pretrained backbone (embeddings, layers, pooler when present), each tied
// weight once, no head: the denominator of params_percent.
std::int64_t backbone_parameters(const ModelDims& dims);

// Parameters of a task head: "none", "sequence", "token" or "mlm" with `labels` outputs.
std::int64_t head_parameters(const ModelDims& dims, const std::string& head, std::int64_t labels);

}  // namespace autopeft::peft
