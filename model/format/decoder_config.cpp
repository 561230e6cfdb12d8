#include "model/format/decoder_config.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/json_file.h"
#include "model/format/config_keys.h"

namespace autopeft::model {

using namespace config_keys;

namespace {

const std::vector<std::string> kDecoders = {"gpt2", "llama", "mistral"};
const std::vector<std::string> kActivations = {"gelu", "gelu_new", "gelu_pytorch_tanh",
                                               "relu", "silu",     "swish"};

std::string activation_key(const nlohmann::json& c, const char* key, const std::string& source,
                           const std::string& fallback) {
  const auto act = get<std::string>(c, key, source, fallback);
  if (std::find(kActivations.begin(), kActivations.end(), act) == kActivations.end())
    throw_user_error(
        source, std::string("unsupported ") + key + " '" + act + "' (supported: " + join(kActivations) + ")");
  return act;
}

// eos_token_id: an integer or a list of them (Llama 3 lists several).
std::vector<std::int64_t> token_ids(const nlohmann::json& c, const char* key, const std::string& source) {
  std::vector<std::int64_t> out;
  if (!c.contains(key) || c[key].is_null()) return out;
  const auto& v = c[key];
  if (v.is_number_integer()) return {v.get<std::int64_t>()};
  if (v.is_array()) {
    for (const auto& x : v) {
      if (!x.is_number_integer())
        throw_user_error(source, std::string("key '") + key + "' must be a token id or a list of them");
      out.push_back(x.get<std::int64_t>());
    }
    return out;
  }
  throw_user_error(source,
                   std::string("key '") + key + "' must be a token id or a list of them, got " + v.dump());
}

std::int64_t one_id(const nlohmann::json& c, const char* key, const std::string& source) {
  const auto ids = token_ids(c, key, source);
  return ids.empty() ? -1 : ids.front();
}

}  // namespace

const std::vector<std::string>& supported_decoder_types() { return kDecoders; }

bool is_decoder_model_type(const std::string& model_type) {
  return std::find(kDecoders.begin(), kDecoders.end(), model_type) != kDecoders.end();
}

std::string model_type_of(const std::string& dir_or_file) {
  namespace fs = std::filesystem;
  const fs::path p =
      fs::is_directory(dir_or_file) ? fs::path(dir_or_file) / "config.json" : fs::path(dir_or_file);
  const auto c = read_json_file(p.string(), "config (a model folder needs config.json)");
  return c.is_object() && c.contains("model_type") && c["model_type"].is_string()
             ? c["model_type"].get<std::string>()
             : std::string();
}

namespace {

RopeScaling rope_scaling_of(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw_user_error(where, "must be an object, got " + j.dump());
  RopeScaling r;
  const auto type_key = j.contains("rope_type") ? "rope_type" : "type";
  if (j.contains(type_key)) {
    if (!j[type_key].is_string()) throw_user_error(where + "." + type_key, "must be a string");
    r.type = j[type_key].get<std::string>();
  }
  if (r.type == "default") return r;
  if (r.type != "linear" && r.type != "llama3")
    throw_user_error(where + "." + type_key,
                     "'" + r.type +
                         "' is not supported (default, linear and llama3 are; dynamic, "
                         "yarn and longrope are not implemented)");
  const auto number = [&](const char* key) {
    if (!j.contains(key) || !j[key].is_number() || !(j[key].get<double>() > 0))
      throw_user_error(where + "." + key, "a positive number is required for rope_type " + r.type);
    return j[key].get<double>();
  };
  r.factor = number("factor");
  if (r.type == "llama3") {
    r.low_freq_factor = number("low_freq_factor");
    r.high_freq_factor = number("high_freq_factor");
    if (!(r.high_freq_factor > r.low_freq_factor))
      throw_user_error(where + ".high_freq_factor", "must be greater than low_freq_factor");
    r.original_max_positions = static_cast<std::int64_t>(number("original_max_position_embeddings"));
  }
  return r;
}

}  // namespace

DecoderConfig parse_decoder_config(const nlohmann::json& c, const std::string& source) {
  if (!c.is_object()) throw_user_error(source, "config must be a JSON object");
  DecoderConfig cfg;
  cfg.model_type = get<std::string>(c, "model_type", source, std::string());
  if (!is_decoder_model_type(cfg.model_type))
    throw_user_error(source, "unsupported decoder model_type '" + cfg.model_type +
                                 "' (supported: " + join(kDecoders) + ")");
  if (cfg.model_type == "gpt2") {
    cfg.family = DecoderFamily::gpt2;
    cfg.vocab_size = positive(c, "vocab_size", source, 50257);
    cfg.hidden_size = positive(c, "n_embd", source, 768);
    cfg.num_layers = positive(c, "n_layer", source, 12);
    cfg.num_heads = positive(c, "n_head", source, 12);
    cfg.num_kv_heads = cfg.num_heads;
    cfg.intermediate_size = positive(c, "n_inner", source, 4 * cfg.hidden_size);
    cfg.max_positions = positive(c, "n_positions", source, 1024);
    cfg.activation = activation_key(c, "activation_function", source, "gelu_new");
    cfg.norm_eps = get<double>(c, "layer_norm_epsilon", source, 1e-5);
    cfg.tie_word_embeddings = get<bool>(c, "tie_word_embeddings", source, true);
    cfg.scale_attn_weights = get<bool>(c, "scale_attn_weights", source, true);
    cfg.scale_attn_by_inverse_layer_idx = get<bool>(c, "scale_attn_by_inverse_layer_idx", source, false);
    if (get<bool>(c, "reorder_and_upcast_attn", source, false))
      throw_user_error(source, "reorder_and_upcast_attn is not supported");
    cfg.dropout = probability(c, "resid_pdrop", source, 0.1);
    cfg.embed_dropout = probability(c, "embd_pdrop", source, 0.1);
    cfg.attn_dropout = probability(c, "attn_pdrop", source, 0.1);
    cfg.attention_bias = cfg.mlp_bias = true;
    cfg.bos_token_id = one_id(c, "bos_token_id", source);
    if (cfg.bos_token_id < 0 && !c.contains("bos_token_id")) cfg.bos_token_id = 50256;
    cfg.eos_token_ids =
        c.contains("eos_token_id") ? token_ids(c, "eos_token_id", source) : std::vector<std::int64_t>{50256};
  } else {
    cfg.family = DecoderFamily::llama;
    cfg.vocab_size = positive(c, "vocab_size", source, 32000);
    cfg.hidden_size = positive(c, "hidden_size", source);
    cfg.num_layers = positive(c, "num_hidden_layers", source);
    cfg.num_heads = positive(c, "num_attention_heads", source);
    cfg.num_kv_heads = positive(c, "num_key_value_heads", source, cfg.num_heads);
    cfg.intermediate_size = positive(c, "intermediate_size", source);
    cfg.max_positions = positive(c, "max_position_embeddings", source, 2048);
    cfg.activation = activation_key(c, "hidden_act", source, "silu");
    cfg.norm_eps = get<double>(c, "rms_norm_eps", source, 1e-6);
    cfg.rope_theta = get<double>(c, "rope_theta", source, 10000.0);
    if (c.contains("rope_parameters") && !c["rope_parameters"].is_null()) {
      // transformers 5 writes theta and scaling together: {"rope_type", "rope_theta", "factor", ...}.
      const auto& rp = c["rope_parameters"];
      const auto where = source + ": rope_parameters";
      cfg.rope_scaling = rope_scaling_of(rp, where);
      if (rp.contains("rope_theta")) {
        if (!rp["rope_theta"].is_number()) throw_user_error(where + ".rope_theta", "must be a number");
        cfg.rope_theta = rp["rope_theta"].get<double>();
      }
    } else if (c.contains("rope_scaling") && !c["rope_scaling"].is_null()) {
      cfg.rope_scaling = rope_scaling_of(c["rope_scaling"], source + ": rope_scaling");
    }
    if (!(cfg.rope_theta > 1.0)) throw_user_error(source, "rope_theta must be greater than 1");
    if (c.contains("sliding_window") && !c["sliding_window"].is_null())
      throw_user_error(source, "sliding_window attention is not supported");
    cfg.tie_word_embeddings = get<bool>(c, "tie_word_embeddings", source, false);
    cfg.attention_bias = get<bool>(c, "attention_bias", source, false);
    cfg.mlp_bias = get<bool>(c, "mlp_bias", source, false);
    cfg.attn_dropout = probability(c, "attention_dropout", source, 0.0);
    cfg.bos_token_id = c.contains("bos_token_id") ? one_id(c, "bos_token_id", source) : 1;
    cfg.eos_token_ids =
        c.contains("eos_token_id") ? token_ids(c, "eos_token_id", source) : std::vector<std::int64_t>{2};
  }
  cfg.head_dim = positive(c, "head_dim", source, cfg.hidden_size / cfg.num_heads);
  if (!c.contains("head_dim") && cfg.hidden_size % cfg.num_heads != 0)
    throw_user_error(source, "hidden size " + std::to_string(cfg.hidden_size) +
                                 " is not divisible by the number of heads " + std::to_string(cfg.num_heads));
  if (cfg.num_heads % cfg.num_kv_heads != 0)
    throw_user_error(source, "num_attention_heads " + std::to_string(cfg.num_heads) +
                                 " is not a multiple of num_key_value_heads " +
                                 std::to_string(cfg.num_kv_heads));
  if (cfg.family == DecoderFamily::llama && cfg.head_dim % 2 != 0)
    throw_user_error(source, "rotary embeddings need an even head_dim, got " + std::to_string(cfg.head_dim));
  if (!(cfg.norm_eps > 0)) throw_user_error(source, "the normalisation epsilon must be positive");
  cfg.pad_token_id = one_id(c, "pad_token_id", source);
  for (auto id : cfg.eos_token_ids)
    if (id < 0 || id >= cfg.vocab_size)
      throw_user_error(source, "eos_token_id " + std::to_string(id) + " is outside the vocabulary");
  return cfg;
}

DecoderConfig load_decoder_config(const std::string& dir_or_file) {
  namespace fs = std::filesystem;
  const fs::path p =
      fs::is_directory(dir_or_file) ? fs::path(dir_or_file) / "config.json" : fs::path(dir_or_file);
  return parse_decoder_config(read_json_file(p.string(), "config (a model folder needs config.json)"),
                              p.string());
}

}  // namespace autopeft::model
