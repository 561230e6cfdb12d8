#include "peft/spec/hf_modules.h"

#include <map>

#include "core/errors.h"

namespace autopeft::peft {

std::vector<std::string> hf_targets(const ModelDims& dims) {
  if (fused_qkv(dims)) return {"qkv", "o", "ffn.in", "ffn.out"};
  if (dims.gated_ffn) return {"q", "k", "v", "o", "ffn.gate", "ffn.in", "ffn.out"};
  return {"q", "k", "v", "o", "ffn.in", "ffn.out"};
}

namespace {

std::string module_in(const std::map<std::string, std::string>& names, const std::string& target,
                      const ModelDims& dims) {
  const auto it = names.find(target);
  if (it == names.end())
    throw_user_error("target " + target, "a " + dims.family + " layer has no such linear layer");
  return it->second;
}

}  // namespace

std::vector<std::string> hf_linear_modules(const ModelDims& dims, std::int64_t layer,
                                           const std::string& target) {
  const auto l = std::to_string(layer);
  if (dims.family == "gpt2") {
    static const std::map<std::string, std::string> m = {
        {"q", "attn.c_attn"}, {"k", "attn.c_attn"},   {"qkv", "attn.c_attn"},   {"v", "attn.c_attn"},
        {"o", "attn.c_proj"}, {"ffn.in", "mlp.c_fc"}, {"ffn.out", "mlp.c_proj"}};
    return {"transformer.h." + l + "." + module_in(m, target, dims)};
  }
  if (dims.family == "llama") {
    static const std::map<std::string, std::string> m = {
        {"q", "self_attn.q_proj"},   {"k", "self_attn.k_proj"},     {"v", "self_attn.v_proj"},
        {"o", "self_attn.o_proj"},   {"ffn.gate", "mlp.gate_proj"}, {"ffn.in", "mlp.up_proj"},
        {"ffn.out", "mlp.down_proj"}};
    return {"model.layers." + l + "." + module_in(m, target, dims)};
  }
  if (dims.family == "t5") {
    const bool decoder = layer >= dims.encoder_layers;
    const std::string block =
        (decoder ? "decoder.block." + std::to_string(layer - dims.encoder_layers) : "encoder.block." + l) +
        ".layer.";
    if (target == "q" || target == "k" || target == "v" || target == "o") {
      std::vector<std::string> out = {block + "0.SelfAttention." + target};
      if (decoder) out.push_back(block + "1.EncDecAttention." + target);
      return out;
    }
    const std::map<std::string, std::string> ffn =
        dims.gated_ffn
            ? std::map<std::string, std::string>{{"ffn.gate", "wi_0"}, {"ffn.in", "wi_1"}, {"ffn.out", "wo"}}
            : std::map<std::string, std::string>{{"ffn.in", "wi"}, {"ffn.out", "wo"}};
    return {block + (decoder ? "2" : "1") + ".DenseReluDense." + module_in(ffn, target, dims)};
  }
  static const std::map<std::string, std::string> m = {
      {"q", "attention.self.query"},   {"k", "attention.self.key"},      {"v", "attention.self.value"},
      {"o", "attention.output.dense"}, {"ffn.in", "intermediate.dense"}, {"ffn.out", "output.dense"}};
  return {"encoder.layer." + l + "." + module_in(m, target, dims)};
}

std::string hf_task_prefix(const ModelDims& dims) {
  return is_causal(dims) ? std::string() : dims.family + ".";
}

}  // namespace autopeft::peft
