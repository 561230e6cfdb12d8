#pragma once
// Text generation with a causal LM or T5 and their key-value caches: greedy decoding and beam
// search.
//
// Beam search keeps `beams` running sequences; each step extends every beam by every token,
// keeps the 2 x beams best extensions by summed log-probability, moves those that end in EOS
// (and rank among the first `beams`) to the finished list, and runs on with the best `beams`
// others, as transformers' beam search does. A finished sequence scores
// sum(log p) / new_tokens^length_penalty; we count its EOS in new_tokens (transformers counts
// the tokens before it), so that an immediate EOS has length 1. The search stops when `beams`
// sequences have finished and no running beam can beat the worst of them at its current length
// (transformers' early_stopping=False rule), or after max_new_tokens; running beams then join
// the finished ones, and the best score wins.
#include <cstdint>
#include <optional>
#include <vector>

#include "model/causal_lm.h"
#include "model/t5.h"

namespace autopeft::model {

struct GenerationOptions {
  std::int64_t max_new_tokens = 20;
  int beams = 1;                // 1: greedy
  double length_penalty = 1.0;  // beam scores divide by new_tokens^length_penalty
  // Tokens that end a sequence; nullopt: the config's eos_token_id (an empty list: none).
  std::optional<std::vector<std::int64_t>> eos;
  bool use_cache = true;  // false recomputes the whole sequence every step (slow; for checks)
};

struct Generation {
  std::vector<std::int64_t> tokens;  // the new tokens (a final EOS included)
  double score = 0;                  // sum of their log-probabilities (beam: length-normalised)
};

// Generates a continuation of `prompt` (token ids, at least one).
Generation generate(CausalLmImpl& model, const std::vector<std::int64_t>& prompt,
                    const GenerationOptions& options);
// Generates the decoder's output for `input` (encoder token ids), starting from
// decoder_start_token_id (not in the result); EOS: the config's eos_token_id.
Generation generate(T5ModelImpl& model, const std::vector<std::int64_t>& input,
                    const GenerationOptions& options);

// Greedy decoding of several inputs at once, as evaluation needs it: the rows are padded
// (causal LMs on the left, T5's encoder on the right) and masked, and the batch runs with the
// cache until every row has ended or max_new_tokens. Row i equals generate(model, inputs[i],
// options).tokens with options.beams = 1 (options.beams must be 1; use_cache is ignored).
std::vector<std::vector<std::int64_t>> generate_greedy(CausalLmImpl& model,
                                                       const std::vector<std::vector<std::int64_t>>& prompts,
                                                       const GenerationOptions& options);
std::vector<std::vector<std::int64_t>> generate_greedy(T5ModelImpl& model,
                                                       const std::vector<std::vector<std::int64_t>>& inputs,
                                                       const GenerationOptions& options);

}  // namespace autopeft::model
