#pragma once
// The sizes of a backbone that PEFT parameter counts depend on. Torch-free.
#include <cstdint>
#include <string>

#include "model/format/decoder_config.h"
#include "model/format/model_config.h"

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
};

inline bool is_causal(const ModelDims& d) { return d.family == "gpt2" || d.family == "llama"; }
inline std::int64_t query_width(const ModelDims& d) { return d.q_width ? d.q_width : d.hidden; }
inline std::int64_t key_value_width(const ModelDims& d) { return d.kv_width ? d.kv_width : d.hidden; }

// Dims of an encoder config. `with_pooler` as the task model has it (see model/encoder_task.h).
ModelDims dims_of(const model::EncoderConfig& config, bool with_pooler);
// Dims of a causal LM (GPT-2, Llama); no pooler, no position-free token types.
ModelDims dims_of(const model::DecoderConfig& config);

// bert-base-uncased (12 x 768, vocab 30522): the size AutoPEFT's and UniPELT's figures use.
ModelDims bert_base_dims();

// Parameters of the pretrained backbone (embeddings, layers, pooler when present), each tied
// weight once, no head: the denominator of params_percent.
std::int64_t backbone_parameters(const ModelDims& dims);

// Parameters of a task head: "none", "sequence", "token" or "mlm" with `labels` outputs.
std::int64_t head_parameters(const ModelDims& dims, const std::string& head, std::int64_t labels);

}  // namespace autopeft::peft
