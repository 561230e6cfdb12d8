#pragma once
// Helpers shared by the method specs of this folder.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "peft/spec/method_spec.h"

namespace autopeft::peft::methods {

// A module whose size field is 0 is absent; options beside a zero size are an error (they would
// silently do nothing). Returns true when the module is absent.
bool absent_if_zero(const nlohmann::json& options, const char* size_key, const std::string& where);

// The bottleneck adapter parameters of one location: down H->m and up m->H with biases, plus
// the optional LayerNorms, learned scaling and gate.
std::int64_t bottleneck_parameters(std::int64_t hidden, std::int64_t size, bool ln_before, bool ln_after,
                                   bool learned_scaling, bool gate);

// "scaling": a number (fixed) or "learned" (a trained scalar initialised to 1).
nlohmann::json parse_scaling(const nlohmann::json& options, double fallback, const std::string& where);

// A list of strings, each from `choices`, no repeats; `fallback` when absent.
std::vector<std::string> option_subset(const nlohmann::json& options, const char* key,
                                       const std::vector<std::string>& fallback,
                                       const std::vector<std::string>& choices, const std::string& where);

// The UniPELT gate option "gate" (default false). A gate is the mean over the sequence of
// sigmoid(Linear(x)) (AdapterHub's use_gating): in a causal LM that mean would read tokens after
// the one predicted, and cached decoding could not reproduce it, so gates are refused there
// (AdapterHub computes them for GPT-2 all the same; we differ on purpose).
bool option_gate(const nlohmann::json& options, const ModelDims& dims, const std::string& where);

// 0, 1, 2, 4, ... up to `top` (powers of two): the per-layer space's bottleneck sizes and ranks.
std::vector<std::int64_t> zero_and_powers_of_two(std::int64_t top);

}  // namespace autopeft::peft::methods
