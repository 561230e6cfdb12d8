#include "peft/spec/model_dims.h"

#include "core/errors.h"

namespace autopeft::peft {

ModelDims dims_of(const model::EncoderConfig& c, bool with_pooler) {
  ModelDims d;
  d.hidden = c.hidden_size;
  d.intermediate = c.intermediate_size;
  d.layers = c.num_layers;
  d.heads = c.num_heads;
  d.vocab = c.vocab_size;
  d.max_positions = c.max_position_embeddings;
  d.type_vocab = c.type_vocab_size;
  d.pooler = with_pooler;
  d.family = c.family == model::EncoderFamily::bert ? "bert" : "roberta";
  return d;
}

ModelDims bert_base_dims() {
  ModelDims d;
  d.hidden = 768;
  d.intermediate = 3072;
  d.layers = 12;
  d.heads = 12;
  d.vocab = 30522;
  d.max_positions = 512;
  d.type_vocab = 2;
  return d;
}

std::int64_t backbone_parameters(const ModelDims& d) {
  const auto H = d.hidden, I = d.intermediate;
  const std::int64_t embeddings = (d.vocab + d.max_positions + d.type_vocab) * H + 2 * H;
  const std::int64_t attention = 4 * (H * H + H) + 2 * H;      // q, k, v, o + LayerNorm
  const std::int64_t ffn = (H * I + I) + (I * H + H) + 2 * H;  // in, out + LayerNorm
  return embeddings + d.layers * (attention + ffn) + (d.pooler ? H * H + H : 0);
}

std::int64_t head_parameters(const ModelDims& d, const std::string& head, std::int64_t labels) {
  const auto H = d.hidden;
  if (head == "none") return 0;
  if (head == "token") return H * labels + labels;
  if (head == "sequence")
    return d.family == "roberta" ? (H * H + H) + (H * labels + labels) : H * labels + labels;
  if (head == "mlm") return (H * H + H) + 2 * H + d.vocab;  // transform dense, LayerNorm, bias; decoder tied
  throw_user_error("head", "unknown head '" + head + "'");
}

}  // namespace autopeft::peft
