// `autopeft model inspect|run|generate` for causal LMs and T5.
#include "cli/generative_commands.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/peft_loading.h"
#include "core/errors.h"
#include "model/causal_lm.h"
#include "model/encoder_task.h"  // parse_model_dtype
#include "model/format/decoder_config.h"
#include "model/format/t5_config.h"
#include "model/generation.h"
#include "model/generation_tokenizer.h"
#include "model/runtime.h"
#include "model/t5.h"
#include "model/tensor_io.h"
#include "peft/peft_model.h"
#include "peft/spec/config_import.h"

namespace autopeft::cli {

namespace {

// A loaded causal LM or T5 behind what the commands need.
struct Generative {
  std::string dir, model_type;
  model::LoadedCausalLm lm;  // lm.model set for causal LMs
  model::LoadedT5 t5;        // t5.model set for T5
  bool is_t5() const { return static_cast<bool>(t5.model); }
  std::int64_t vocab() const { return is_t5() ? t5.config.vocab_size : lm.config.vocab_size; }
  torch::nn::Module& module() { return is_t5() ? static_cast<torch::nn::Module&>(*t5.model) : *lm.model; }
  std::unique_ptr<model::GenerationTokenizer> tokenizer() const {
    return is_t5() ? model::load_t5_tokenizer(dir, t5.config)
                   : model::load_causal_lm_tokenizer(dir, lm.config);
  }
  std::vector<model::InjectionPoint> points() const {
    return is_t5() ? t5.model->injection_points() : lm.model->injection_points();
  }
};

Generative load(const std::string& dir, const std::string& device, const std::string& dtype,
                bool allow_unexpected) {
  model::DecoderLoadOptions lo;
  lo.allow_unexpected = allow_unexpected;
  lo.device = model::parse_device(device);
  lo.dtype = model::parse_model_dtype(dtype);
  Generative g;
  g.dir = dir;
  g.model_type = model::model_type_of(dir);
  if (model::is_t5_model_type(g.model_type))
    g.t5 = model::load_t5(dir, lo);
  else
    g.lm = model::load_causal_lm(dir, lo);
  return g;
}

// The input's ids: --text through the folder's tokenizer, or --input-ids checked against the
// vocabulary.
std::vector<std::int64_t> input_ids(const Generative& g, const std::string& text,
                                    const std::string& ids_option) {
  if (text.empty() == ids_option.empty())
    throw_user_error("model", "give exactly one of --text and --input-ids");
  if (!text.empty()) {
    auto ids = g.tokenizer()->encode(text);
    if (ids.empty()) throw_user_error("--text", "the text gives no tokens");
    return ids;
  }
  auto ids = parse_token_ids(ids_option);
  for (auto id : ids)
    if (id >= g.vocab())
      throw_user_error("--input-ids", fmt::format("{} is outside the vocabulary of {}", id, g.vocab()));
  return ids;
}

struct GenerateOptions {
  std::string dir, text, input_ids, device = "cpu", dtype = "float32";
  std::string peft;  // a `peft export --format native` folder to apply first
  std::int64_t max_new_tokens = 20;
  int beams = 1;
  double length_penalty = 1.0;
  bool json = false, allow_unexpected = false;
};

// Installs a native PEFT export in the causal LM or T5.
std::unique_ptr<peft::PeftModel> apply_peft(Generative& g, const std::string& dir) {
  return g.is_t5() ? apply_native_export(g.t5.model, peft::dims_of(g.t5.config), dir)
                   : apply_native_export(g.lm.model, peft::dims_of(g.lm.config), dir);
}

int generate(const GenerateOptions& o) {
  auto g = load(o.dir, o.device, o.dtype, o.allow_unexpected);
  const auto peft_model = o.peft.empty() ? nullptr : apply_peft(g, o.peft);
  const auto input = input_ids(g, o.text, o.input_ids);
  model::GenerationOptions opts;
  opts.max_new_tokens = o.max_new_tokens;
  opts.beams = o.beams;
  opts.length_penalty = o.length_penalty;
  const auto result =
      g.is_t5() ? model::generate(*g.t5.model, input, opts) : model::generate(*g.lm.model, input, opts);
  std::unique_ptr<model::GenerationTokenizer> tok;
  try {
    tok = g.tokenizer();
  } catch (const UserError&) {
    if (!o.text.empty()) throw;  // --text already needed it
  }
  // A causal LM's text is the prompt and its continuation; T5's is the decoder's output.
  auto shown = g.is_t5() ? std::vector<std::int64_t>{} : input;
  shown.insert(shown.end(), result.tokens.begin(), result.tokens.end());
  if (o.json) {
    nlohmann::ordered_json j;
    j["input_ids"] = input;
    j["new_ids"] = result.tokens;
    j["score"] = result.score;
    if (tok) {
      j["text"] = tok->decode(shown);
      j["new_text"] = tok->decode(result.tokens);
    }
    // A random or tiny model can emit byte tokens that are not UTF-8 on their own: replaced (U+FFFD).
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  if (tok) {
    std::cout << tok->decode(shown) << "\n";
  } else {
    std::string ids;
    for (auto id : shown) ids += (ids.empty() ? "" : ",") + std::to_string(id);
    std::cout << ids << "\n";
  }
  return 0;
}

}  // namespace

bool is_generative_folder(const std::string& dir) {
  const auto type = model::model_type_of(dir);
  return model::is_decoder_model_type(type) || model::is_t5_model_type(type);
}

int inspect_generative(const std::string& dir, bool json, bool allow_unexpected) {
  auto g = load(dir, "cpu", "float32", allow_unexpected);
  std::string tokenizer;
  try {
    g.tokenizer();
    tokenizer = g.model_type == "gpt2" ? "byte-level BPE" : "sentencepiece";
  } catch (const UserError& e) {
    tokenizer = std::string("none: ") + e.what();
  }
  const auto points = g.points();
  nlohmann::ordered_json j;
  j["model_type"] = g.model_type;
  if (g.is_t5()) {
    const auto& c = g.t5.config;
    j["family"] = "t5";
    j["layers"] = c.num_layers;
    j["decoder_layers"] = c.num_decoder_layers;
    j["hidden_size"] = c.d_model;
    j["heads"] = c.num_heads;
    j["head_dim"] = c.d_kv;
    j["intermediate_size"] = c.d_ff;
    j["vocab_size"] = c.vocab_size;
    j["activation"] = (c.gated ? "gated-" : "") + c.activation;
    j["tied_lm_head"] = c.tie_word_embeddings;
  } else {
    const auto& c = g.lm.config;
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
  }
  std::int64_t n = 0;
  for (const auto& p : g.module().parameters()) n += p.numel();
  j["parameters"] = n;
  j["tokenizer"] = tokenizer;
  j["ignored_keys"] = g.is_t5() ? g.t5.ignored.size() : g.lm.ignored.size();
  return print_inspection(j, points, json);
}

int run_generative(const GenerativeRunRequest& r) {
  auto g = load(r.dir, r.device, r.dtype, r.allow_unexpected);
  const auto peft_model = r.peft.empty() ? nullptr : apply_peft(g, r.peft);
  const auto ids = input_ids(g, r.text, r.input_ids);
  if (!r.decoder_input_ids.empty() && !g.is_t5())
    throw_user_error("--decoder-input-ids", "only an encoder-decoder (T5) has a decoder input");
  const auto device = model::parse_device(r.device);
  const auto input = torch::tensor(ids).view({1, static_cast<std::int64_t>(ids.size())});
  torch::InferenceMode guard;
  std::vector<std::pair<std::string, torch::Tensor>> tensors = {{"input_ids", input}};
  torch::Tensor hidden, logits;
  if (g.is_t5()) {
    // The decoder's input: given, or the start token alone.
    auto dec = r.decoder_input_ids.empty() ? std::vector<std::int64_t>{g.t5.config.decoder_start_token_id}
                                           : parse_token_ids(r.decoder_input_ids, "--decoder-input-ids");
    for (auto id : dec)
      if (id >= g.vocab())
        throw_user_error("--decoder-input-ids",
                         fmt::format("{} is outside the vocabulary of {}", id, g.vocab()));
    const auto dec_t = torch::tensor(dec).view({1, static_cast<std::int64_t>(dec.size())});
    auto out = g.t5.model->forward(input.to(device), torch::ones_like(input).to(device), dec_t.to(device));
    tensors.emplace_back("decoder_input_ids", dec_t);
    tensors.emplace_back("encoder_last_hidden_state",
                         out.encoder_hidden_state.to(torch::kCPU, torch::kFloat32));
    hidden = out.last_hidden_state;
    logits = out.logits;
  } else {
    auto out = g.lm.model->forward(input.to(device));
    hidden = out.last_hidden_state;
    logits = out.logits;
  }
  tensors.emplace_back("last_hidden_state", hidden.to(torch::kCPU, torch::kFloat32));
  tensors.emplace_back("logits", logits.to(torch::kCPU, torch::kFloat32));
  model::save_safetensors(r.out, tensors);
  nlohmann::ordered_json j;
  j["out"] = r.out;
  j["tokens"] = ids.size();
  j["hidden_size"] = hidden.size(2);
  j["logits_shape"] = logits.sizes().vec();
  std::cout << j.dump() << "\n";
  return 0;
}

void add_generate_command(CLI::App& model_cmd, CommandRegistry& registry) {
  auto o = std::make_shared<GenerateOptions>();
  auto* cmd = model_cmd.add_subcommand(
      "generate",
      "Generate text with a causal LM (GPT-2, Llama: continues the prompt) or T5 (the decoder's "
      "output for the input): greedy or beam search, with a KV cache");
  cmd->add_option("dir", o->dir, "Model folder")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--text", o->text, "Input text (the folder's tokenizer: Llama adds BOS, T5 appends EOS)");
  cmd->add_option("--input-ids", o->input_ids, "Input token ids, comma-separated, used as given");
  cmd->add_option("--max-new-tokens", o->max_new_tokens, "Tokens to generate at most (an EOS stops earlier)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--beams", o->beams, "Beam width (1: greedy)")->check(CLI::PositiveNumber);
  cmd->add_option("--length-penalty", o->length_penalty,
                  "Beam scores are sum(log p) / new_tokens^penalty (1.0; 0 compares sums)");
  cmd->add_option("--device", o->device, "cpu, cuda, cuda:N or auto");
  cmd->add_option("--dtype", o->dtype, "float32 or bfloat16");
  cmd->add_option(
         "--peft", o->peft,
         "A PEFT configuration and its weights to apply first: a `peft export --format native` folder")
      ->check(CLI::ExistingDirectory);
  cmd->add_flag("--json", o->json, "One JSON line: input_ids, new_ids, score, text, new_text");
  cmd->add_flag("--allow-unexpected", o->allow_unexpected, "Ignore checkpoint keys that match nothing");
  registry.add(cmd, [o]() { return generate(*o); });
}

}  // namespace autopeft::cli
