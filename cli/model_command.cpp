// `autopeft model inspect DIR` and `autopeft model run DIR ...`: check a converted checkpoint
// (causal LMs and T5 are handed to generative_commands.cpp).
#include <fmt/format.h>
#include <torch/torch.h>

#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/generative_commands.h"
#include "cli/peft_loading.h"
#include "core/errors.h"
#include "model/encoder_task.h"
#include "model/format/checkpoint_files.h"
#include "model/runtime.h"
#include "model/tensor_io.h"
#include "model/tokenizers.h"

namespace autopeft::cli {

namespace {

struct InspectOptions {
  std::string dir;
  bool json = false;
  bool allow_unexpected = false;
};

struct RunOptions {
  std::string dir;
  std::string text;
  std::string text_pair;
  std::string input_ids;
  std::string decoder_input_ids;  // T5
  std::string out;
  std::string device = "cpu";
  std::string dtype = "float32";
  std::string peft;  // a `peft export --format native` folder to apply first
  bool allow_unexpected = false;
};

}  // namespace

std::vector<std::int64_t> parse_token_ids(const std::string& list, const std::string& option) {
  std::vector<std::int64_t> ids;
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto comma = list.find(',', start);
    const auto item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || v < 0)
      throw_user_error(option, "'" + item + "' is not a token id (expected e.g. 101,7592,102)");
    ids.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return ids;
}

int print_inspection(nlohmann::ordered_json j, const std::vector<model::InjectionPoint>& points, bool json) {
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
  j["injection_points"] = points.size();
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

namespace {

std::int64_t count(const std::vector<torch::Tensor>& params) {
  std::int64_t n = 0;
  for (const auto& p : params) n += p.numel();
  return n;
}

int inspect(const InspectOptions& o) {
  if (is_generative_folder(o.dir)) return inspect_generative(o.dir, o.json, o.allow_unexpected);
  model::LoadOptions lo;
  lo.allow_unexpected = o.allow_unexpected;
  auto loaded = model::load_encoder(o.dir, lo);
  const auto& c = loaded.config;
  model::CheckpointFiles files(o.dir);
  std::map<std::string, std::int64_t> dtypes;
  for (const auto& [name, entry] : files.tensors())
    dtypes[std::string(model::dtype_name(entry.info->dtype))] += 1;
  const auto head_params = count(loaded.model->head_parameters());
  const auto all = count(loaded.model->parameters());
  std::string tokenizer;
  try {
    auto tok = model::load_tokenizer(o.dir, c);
    tokenizer = fmt::format("{} tokens, max length {}", tok->vocab_size(), tok->model_max_length());
  } catch (const UserError& e) {
    tokenizer = std::string("none: ") + e.what();
  }
  const auto points = loaded.model->base->injection_points();

  nlohmann::ordered_json j;
  j["model_type"] = c.model_type;
  j["family"] = c.family == model::EncoderFamily::bert ? "bert" : "roberta";
  j["layers"] = c.num_layers;
  j["hidden_size"] = c.hidden_size;
  j["heads"] = c.num_heads;
  j["intermediate_size"] = c.intermediate_size;
  j["vocab_size"] = c.vocab_size;
  j["max_positions"] = c.max_tokens();
  j["activation"] = c.hidden_act;
  j["head"] = model::head_kind_name(loaded.model->head());
  j["labels"] = loaded.model->num_labels();
  j["parameters"] = all;
  j["backbone_parameters"] = all - head_params;
  j["head_parameters"] = head_params;
  j["dtypes"] = dtypes;
  j["files"] = files.files().size();
  j["tokenizer"] = tokenizer;
  j["ignored_keys"] = loaded.report.ignored.size();
  return print_inspection(j, points, o.json);
}

int run(const RunOptions& o) {
  if (o.text.empty() == o.input_ids.empty())
    throw_user_error("model run", "give exactly one of --text and --input-ids");
  if (!o.text_pair.empty() && o.text.empty()) throw_user_error("--text-pair", "needs --text");
  if (is_generative_folder(o.dir)) {
    if (!o.text_pair.empty()) throw_user_error("--text-pair", "a generative model takes one text");
    return run_generative({o.dir, o.text, o.input_ids, o.decoder_input_ids, o.out, o.device, o.dtype, o.peft,
                           o.allow_unexpected});
  }
  model::LoadOptions lo;
  lo.allow_unexpected = o.allow_unexpected;
  lo.device = model::parse_device(o.device);
  lo.dtype = model::parse_model_dtype(o.dtype);
  auto loaded = model::load_encoder(o.dir, lo);
  // A native export installs in the backbone; the checkpoint's own head (if any) stays as loaded.
  const auto peft_model =
      o.peft.empty()
          ? nullptr
          : apply_native_export(loaded.model->base,
                                peft::dims_of(loaded.config, loaded.model->base->has_pooler()), o.peft);
  if (peft_model) loaded.model->eval();
  model::Encoding enc;
  if (!o.text.empty()) {
    auto tok = model::load_tokenizer(o.dir, loaded.config);
    enc = tok->encode(o.text, o.text_pair.empty() ? std::nullopt : std::optional<std::string>(o.text_pair));
  } else {
    enc.input_ids = parse_token_ids(o.input_ids);
    enc.token_type_ids.assign(enc.input_ids.size(), 0);
    enc.attention_mask.assign(enc.input_ids.size(), 1);
    for (auto id : enc.input_ids)
      if (id >= loaded.config.vocab_size)
        throw_user_error("--input-ids",
                         fmt::format("{} is outside the vocabulary of {}", id, loaded.config.vocab_size));
    if (static_cast<std::int64_t>(enc.input_ids.size()) > loaded.config.max_tokens())
      throw_user_error("--input-ids", fmt::format("{} ids, more than the model's {} positions",
                                                  enc.input_ids.size(), loaded.config.max_tokens()));
  }
  const auto T = static_cast<std::int64_t>(enc.input_ids.size());
  auto to_tensor = [&](const std::vector<std::int64_t>& v) {
    return torch::tensor(v).view({1, T}).to(lo.device);
  };
  torch::InferenceMode guard;
  auto out = loaded.model->forward(to_tensor(enc.input_ids), to_tensor(enc.attention_mask),
                                   to_tensor(enc.token_type_ids));
  std::vector<std::pair<std::string, torch::Tensor>> tensors = {
      {"input_ids", torch::tensor(enc.input_ids).view({1, T})},
      {"last_hidden_state", out.last_hidden_state.to(torch::kCPU, torch::kFloat32)}};
  if (out.logits.defined()) tensors.emplace_back("logits", out.logits.to(torch::kCPU, torch::kFloat32));
  model::save_safetensors(o.out, tensors);
  nlohmann::ordered_json j;
  j["out"] = o.out;
  j["tokens"] = T;
  j["hidden_size"] = out.last_hidden_state.size(2);
  if (out.logits.defined()) j["logits_shape"] = out.logits.sizes().vec();
  std::cout << j.dump() << "\n";
  return 0;
}

}  // namespace

void add_model_command(CLI::App& app, CommandRegistry& registry, const GlobalOptions&) {
  auto* model_cmd = app.add_subcommand("model", "Inspect and run Hugging Face model folders");
  model_cmd->require_subcommand(1);

  auto io = std::make_shared<InspectOptions>();
  auto* inspect_cmd = model_cmd->add_subcommand(
      "inspect", "Family, sizes, parameter counts, dtypes, tokenizer and injection points of a model folder");
  inspect_cmd->add_option("dir", io->dir, "Model folder (config.json, *.safetensors, tokenizer files)")
      ->required()
      ->check(CLI::ExistingDirectory);
  inspect_cmd->add_flag("--json", io->json, "One JSON line, with every injection point");
  inspect_cmd->add_flag("--allow-unexpected", io->allow_unexpected,
                        "Ignore checkpoint keys that match nothing");
  registry.add(inspect_cmd, [io]() { return inspect(*io); });

  auto ro = std::make_shared<RunOptions>();
  auto* run_cmd = model_cmd->add_subcommand(
      "run",
      "Run the model on one input and write input_ids, last_hidden_state and logits to a safetensors file");
  run_cmd->add_option("dir", ro->dir, "Model folder")->required()->check(CLI::ExistingDirectory);
  run_cmd->add_option("--text", ro->text,
                      "Text, tokenised as the checkpoint's tokenizer says (special tokens added)");
  run_cmd->add_option("--text-pair", ro->text_pair, "Second text of a pair");
  run_cmd->add_option("--input-ids", ro->input_ids, "Token ids, comma-separated, used as given");
  run_cmd->add_option("--decoder-input-ids", ro->decoder_input_ids,
                      "T5: the decoder's input ids (default: the decoder start token); logits and "
                      "last_hidden_state are then the decoder's");
  run_cmd->add_option("--out", ro->out, "Output .safetensors file")->required();
  run_cmd->add_option("--device", ro->device, "cpu, cuda, cuda:N or auto");
  run_cmd->add_option("--dtype", ro->dtype, "float32 or bfloat16 (outputs are written as float32)");
  run_cmd
      ->add_option("--peft", ro->peft,
                   "A PEFT configuration and its weights to apply first: a `peft export --format native` "
                   "folder")
      ->check(CLI::ExistingDirectory);
  run_cmd->add_flag("--allow-unexpected", ro->allow_unexpected, "Ignore checkpoint keys that match nothing");
  registry.add(run_cmd, [ro]() { return run(*ro); });
  add_generate_command(*model_cmd, registry);
}

}  // namespace autopeft::cli
