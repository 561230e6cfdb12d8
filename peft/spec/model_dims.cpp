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

ModelDims dims_of(const model::DecoderConfig& c) {
  ModelDims d;
  d.hidden = c.hidden_size;
  d.intermediate = c.intermediate_size;
  d.layers = c.num_layers;
  d.heads = c.num_heads;
  d.kv_heads = c.num_kv_heads;
  d.vocab = c.vocab_size;
  d.pooler = false;
  d.q_width = c.num_heads * c.head_dim;
  d.kv_width = c.num_kv_heads * c.head_dim;
  d.attention_bias = c.attention_bias;
  d.mlp_bias = c.mlp_bias;
  d.tied_embeddings = c.tie_word_embeddings;
  if (c.family == model::DecoderFamily::gpt2) {
    d.family = "gpt2";
    d.max_positions = c.max_positions;
  } else {
    d.family = "llama";
    d.gated_ffn = true;
  }
  return d;
}

ModelDims dims_of(const model::T5Config& c) {
  ModelDims d;
  d.family = "t5";
  d.hidden = c.d_model;
  d.intermediate = c.d_ff;
  d.layers = c.num_layers + c.num_decoder_layers;
  d.encoder_layers = c.num_layers;
  d.heads = d.kv_heads = c.num_heads;
  d.q_width = d.kv_width = c.inner_dim();
  d.vocab = c.vocab_size;
  d.pooler = false;
  d.gated_ffn = c.gated;
  d.attention_bias = d.mlp_bias = false;
  d.tied_embeddings = c.tie_word_embeddings;
  d.relative_buckets = c.relative_attention_num_buckets;
  return d;
}

ModelDims at_layer(const ModelDims& dims, std::int64_t layer) {
  auto d = dims;
  d.cross_attention = d.family == "t5" && layer >= d.encoder_layers;
  return d;
}

std::vector<std::string> prefix_locations(const ModelDims& d, std::int64_t layer) {
  if (d.family != "t5") return {"self"};
  if (layer < d.encoder_layers) return {"encoder"};
  return {"self", "cross"};
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

namespace {
// GPT-2: token and position tables, per layer two LayerNorms, c_attn [3H], c_proj, c_fc, the
// FFN's c_proj, all with biases; ln_f. Llama: the token table, per layer q, k, v, o (biases
// with attention_bias), gate, up, down (biases with mlp_bias) and two RMSNorm weights; the final
// norm. An untied LM head is pretrained too.
std::int64_t decoder_parameters(const ModelDims& d) {
  const auto H = d.hidden, I = d.intermediate, Q = query_width(d), KV = key_value_width(d);
  const std::int64_t head = d.tied_embeddings ? 0 : d.vocab * H;
  if (d.family == "gpt2") {
    const std::int64_t layer = 4 * H + (H * 3 * H + 3 * H) + (H * H + H) + (H * I + I) + (I * H + H);
    return (d.vocab + d.max_positions) * H + d.layers * layer + 2 * H + head;
  }
  const std::int64_t attention = 2 * H * Q + 2 * H * KV + (d.attention_bias ? Q + 2 * KV + H : 0);
  const std::int64_t ffn = (d.gated_ffn ? 3 : 2) * H * I + (d.mlp_bias ? (d.gated_ffn ? 2 : 1) * I + H : 0);
  return d.vocab * H + d.layers * (attention + ffn + 2 * H) + H + head;
}
}  // namespace

// T5: the shared table; per layer q, k, v, o (no biases), cross-attention's in decoder layers, the
// FFN (wi or wi_0 and wi_1, wo) and an RMSNorm weight per sublayer; block 0 of each stack has the
// relative-position table [buckets, heads]; two final norms; an untied LM head.
std::int64_t t5_parameters(const ModelDims& d) {
  const auto D = d.hidden, I = query_width(d), F = d.intermediate;
  const std::int64_t attention = 4 * D * I + D, ffn = (d.gated_ffn ? 3 : 2) * D * F + D;
  const auto decoder_layers = d.layers - d.encoder_layers;
  return d.vocab * D + d.encoder_layers * (attention + ffn) + decoder_layers * (2 * attention + ffn) +
         2 * d.relative_buckets * d.heads + 2 * D + (d.tied_embeddings ? 0 : d.vocab * D);
}

std::int64_t backbone_parameters(const ModelDims& d) {
  if (d.family == "gpt2" || d.family == "llama") return decoder_parameters(d);
  if (d.family == "t5") return t5_parameters(d);
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
