#pragma once
// The sizes of a backbone that PEFT parameter counts depend on. Torch-free.
#include <cstdint>
#include <string>

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
  std::string family = "bert";  // "bert" or "roberta"
};

// Dims of an encoder config. `with_pooler` as the task model has it (see model/encoder_task.h).
ModelDims dims_of(const model::EncoderConfig& config, bool with_pooler);

// bert-base-uncased (12 x 768, vocab 30522): the size AutoPEFT's and UniPELT's figures use.
ModelDims bert_base_dims();

// Parameters of the pretrained backbone (embeddings, layers, pooler when present), each tied
// weight once, no head: the denominator of params_percent.
std::int64_t backbone_parameters(const ModelDims& dims);

// Parameters of a task head: "none", "sequence", "token" or "mlm" with `labels` outputs.
std::int64_t head_parameters(const ModelDims& dims, const std::string& head, std::int64_t labels);

}  // namespace autopeft::peft
