#pragma once
// The decoder-only (GPT-2, Llama) side of `autopeft model`: inspect and run dispatch here when a
// folder's model_type is a causal LM; `model generate` is theirs alone.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "cli/command.h"

namespace autopeft::cli {

struct CausalLmRunRequest {
  std::string dir, text, input_ids, out, device = "cpu", dtype = "float32";
  bool allow_unexpected = false;
};

// Token ids from "101,7592,102" (model_command.cpp); UserError naming --input-ids otherwise.
std::vector<std::int64_t> parse_token_ids(const std::string& list);

int inspect_causal_lm(const std::string& dir, bool json, bool allow_unexpected);
int run_causal_lm(const CausalLmRunRequest& request);
// Adds `model generate` to the `model` command.
void add_generate_command(CLI::App& model_cmd, CommandRegistry& registry);

}  // namespace autopeft::cli
