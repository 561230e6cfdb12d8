#pragma once
// The generative side of `autopeft model` (causal LMs: GPT-2, Llama; encoder-decoders: T5):
// inspect and run dispatch here when a folder's model_type is one of them; `model generate` is
// theirs alone.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/command.h"
#include "model/injection.h"

namespace autopeft::cli {

struct GenerativeRunRequest {
  std::string dir, text, input_ids, decoder_input_ids, out, device = "cpu", dtype = "float32";
  std::string peft;  // a `peft export --format native` folder to apply first
  bool allow_unexpected = false;
};

// Token ids from "101,7592,102" (model_command.cpp); UserError naming `option` otherwise.
std::vector<std::int64_t> parse_token_ids(const std::string& list, const std::string& option = "--input-ids");

// Prints `autopeft model inspect`'s summary (key: value lines and layer 0's injection points), or
// with `json` one JSON line with every point (model_command.cpp).
int print_inspection(nlohmann::ordered_json summary, const std::vector<model::InjectionPoint>& points,
                     bool json);

// Whether a folder holds a model these commands handle (by config.json's model_type).
bool is_generative_folder(const std::string& dir);
int inspect_generative(const std::string& dir, bool json, bool allow_unexpected);
int run_generative(const GenerativeRunRequest& request);
// Adds `model generate` to the `model` command.
void add_generate_command(CLI::App& model_cmd, CommandRegistry& registry);

}  // namespace autopeft::cli
