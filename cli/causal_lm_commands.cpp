// `autopeft model inspect|run|generate` for causal LMs.
#include "cli/causal_lm_commands.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "model/causal_lm.h"
#include "model/causal_lm_tokenizer.h"
#include "model/encoder_task.h"  // parse_model_dtype
#include "model/generation.h"
#include "model/runtime.h"
#include "model/tensor_io.h"

namespace autopeft::cli {

namespace {

model::LoadedCausalLm load(const std::string& dir, const std::string& device, const std::string& dtype,
                           bool allow_unexpected) {
  model::DecoderLoadOptions lo;
  lo.allow_unexpected = allow_unexpected;
  lo.device = model::parse_device(device);
  lo.dtype = model::parse_model_dtype(dtype);
  return model::load_causal_lm(dir, lo);
}

// The prompt's ids: --text through the folder's tokenizer, or --input-ids checked against the
// vocabulary.
std::vector<std::int64_t> prompt_ids(const std::string& dir, const model::DecoderConfig& config,
                                     const std::string& text, const std::string& input_ids) {
  if (text.empty() == input_ids.empty())
    throw_user_error("model", "give exactly one of --text and --input-ids");
  if (!text.empty()) {
    auto ids = model::load_causal_lm_tokenizer(dir, config)->encode(text);
    if (ids.empty()) throw_user_error("--text", "the text gives no tokens");
    return ids;
  }
  auto ids = parse_token_ids(input_ids);
  for (auto id : ids)
    if (id >= config.vocab_size)
      throw_user_error("--input-ids",
                       fmt::format("{} is outside the vocabulary of {}", id, config.vocab_size));
  return ids;
}

std::int64_t numel(const std::vector<torch::Tensor>& params) {
  std::int64_t n = 0;
  for (const auto& p : params) n += p.numel();
  return n;
}

struct GenerateOptions {
  std::string dir, text, input_ids, device = "cpu", dtype = "float32";
  std::int64_t max_new_tokens = 20;
  int beams = 1;
  double length_penalty = 1.0;
  bool json = false, allow_unexpected = false;
};

int generate(const GenerateOptions& o) {
  auto loaded = load(o.dir, o.device, o.dtype, o.allow_unexpected);
  const auto prompt = prompt_ids(o.dir, loaded.config, o.text, o.input_ids);
  model::GenerationOptions g;
  g.max_new_tokens = o.max_new_tokens;
  g.beams = o.beams;
  g.length_penalty = o.length_penalty;
  const auto result = model::generate(*loaded.model, prompt, g);
  std::unique_ptr<model::CausalLmTokenizer> tok;
  try {
    tok = model::load_causal_lm_tokenizer(o.dir, loaded.config);
  } catch (const UserError&) {
    if (!o.text.empty()) throw;  // --text already needed it
  }
  auto all = prompt;
  all.insert(all.end(), result.tokens.begin(), result.tokens.end());
  if (o.json) {
    nlohmann::ordered_json j;
    j["prompt_ids"] = prompt;
    j["new_ids"] = result.tokens;
    j["score"] = result.score;
    if (tok) {
      j["text"] = tok->decode(all);
      j["new_text"] = tok->decode(result.tokens);
    }
    // A random or tiny model can emit byte tokens that are not UTF-8 on their own: replaced (U+FFFD).
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  if (tok) {
    std::cout << tok->decode(all) << "\n";
  } else {
    std::string ids;
    for (auto id : all) ids += (ids.empty() ? "" : ",") + std::to_string(id);
    std::cout << ids << "\n";
  }
  return 0;
}

}  // namespace

int inspect_causal_lm(const std::string& dir, bool json, bool allow_unexpected) {
  auto loaded = load(dir, "cpu", "float32", allow_unexpected);
  const auto& c = loaded.config;
  std::string tokenizer;
  try {
    model::load_causal_lm_tokenizer(dir, c);
    tokenizer = c.family == model::DecoderFamily::gpt2 ? "byte-level BPE" : "sentencepiece";
  } catch (const UserError& e) {
    tokenizer = std::string("none: ") + e.what();
  }
  const auto points = loaded.model->injection_points();
  nlohmann::ordered_json j;
  j["model_type"] = c.model_type;
  j["family"] = c.family == model::DecoderFamily::gpt2 ? "gpt2" : "llama";
  j["layers"] = c.num_layers;
  j["hidden_size"] = c.hidden_size;
  j["heads"] = c.num_heads;
  j["kv_heads"] = c.num_kv_heads;
  j["head_dim"] = c.head_dim;
  j["intermediate_size"] = c.intermediate_size;
  j["vocab_size"] = c.vocab_size;
  j["max_positions"] = c.max_positions;
  j["activation"] = c.activation;
  j["tied_lm_head"] = c.tie_word_embeddings;
  j["parameters"] = numel(loaded.model->parameters());
  j["tokenizer"] = tokenizer;
  j["ignored_keys"] = loaded.ignored.size();
  j["injection_points"] = points.size();
  if (json) {
    nlohmann::ordered_json list = nlohmann::json::array();
    for (const auto& p : points)
      list.push_back({{"name", p.name},
                      {"kind", model::injection_kind_name(p.kind)},
                      {"in", p.in_features},
                      {"out", p.out_features},
                      {"hf_module", p.hf_module}});
    j["injection_points"] = list;
    std::cout << j.dump() << "\n";
    return 0;
  }
  for (const auto& [key, value] : j.items())
    std::cout << fmt::format("{:<20} {}\n", key, value.is_string() ? value.get<std::string>() : value.dump());
  std::cout << "\ninjection points (layer 0; every layer has the same):\n";
  for (const auto& p : points)
    if (p.layer <= 0)
      std::cout << fmt::format("  {:<22} {:<10} {:>6} -> {:<6} {}\n", p.name,
                               model::injection_kind_name(p.kind), p.in_features, p.out_features,
                               p.hf_module);
  return 0;
}

int run_causal_lm(const CausalLmRunRequest& r) {
  auto loaded = load(r.dir, r.device, r.dtype, r.allow_unexpected);
  const auto ids = prompt_ids(r.dir, loaded.config, r.text, r.input_ids);
  const auto T = static_cast<std::int64_t>(ids.size());
  torch::InferenceMode guard;
  const auto input = torch::tensor(ids).view({1, T});
  auto out = loaded.model->forward(input.to(model::parse_device(r.device)));
  model::save_safetensors(r.out,
                          {{"input_ids", input},
                           {"last_hidden_state", out.last_hidden_state.to(torch::kCPU, torch::kFloat32)},
                           {"logits", out.logits.to(torch::kCPU, torch::kFloat32)}});
  nlohmann::ordered_json j;
  j["out"] = r.out;
  j["tokens"] = T;
  j["hidden_size"] = out.last_hidden_state.size(2);
  j["logits_shape"] = out.logits.sizes().vec();
  std::cout << j.dump() << "\n";
  return 0;
}

void add_generate_command(CLI::App& model_cmd, CommandRegistry& registry) {
  auto o = std::make_shared<GenerateOptions>();
  auto* cmd = model_cmd.add_subcommand(
      "generate",
      "Continue a prompt with a causal LM (GPT-2, Llama): greedy or beam search, with a KV cache");
  cmd->add_option("dir", o->dir, "Model folder")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--text", o->text, "Prompt text (the folder's tokenizer; Llama adds BOS)");
  cmd->add_option("--input-ids", o->input_ids, "Prompt token ids, comma-separated, used as given");
  cmd->add_option("--max-new-tokens", o->max_new_tokens, "Tokens to generate at most (an EOS stops earlier)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--beams", o->beams, "Beam width (1: greedy)")->check(CLI::PositiveNumber);
  cmd->add_option("--length-penalty", o->length_penalty,
                  "Beam scores are sum(log p) / new_tokens^penalty (1.0; 0 compares sums)");
  cmd->add_option("--device", o->device, "cpu, cuda, cuda:N or auto");
  cmd->add_option("--dtype", o->dtype, "float32 or bfloat16");
  cmd->add_flag("--json", o->json, "One JSON line: prompt_ids, new_ids, score, text, new_text");
  cmd->add_flag("--allow-unexpected", o->allow_unexpected, "Ignore checkpoint keys that match nothing");
  registry.add(cmd, [o]() { return generate(*o); });
}

}  // namespace autopeft::cli
