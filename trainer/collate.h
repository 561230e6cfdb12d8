#pragma once
// Padding a batch of features into tensors.
#include <torch/types.h>

#include <random>
#include <set>
#include <vector>

#include "trainer/data/features.h"

namespace autopeft::trainer {

struct Batch {
  torch::Tensor input_ids, token_type_ids, attention_mask;  // [B, S] int64
  torch::Tensor labels;  // [B] int64 (classification), [B] float (regression), [B, S] int64 (token,
                         // mlm; causal-lm: the next token at each position, -100 on the prompt and
                         // padding), [B, T] int64 (seq2seq: the target)
  torch::Tensor decoder_input_ids;  // seq2seq: [B, T], decoder_start then the target shifted right
  std::int64_t tokens = 0;          // real tokens (no padding)
};

struct CollateOptions {
  std::int64_t pad_to = 0;  // pad every batch to this length (0: to the batch's longest)
  c10::Device device = c10::Device(c10::kCPU);
  // Masked LM: masking of every non-special token (features hold the plain ids).
  const std::set<std::int64_t>* special = nullptr;
  std::int64_t mask_id = -1;
  std::int64_t vocab_size = 0;
  double mlm_probability = 0.15;
  std::int64_t decoder_start = 0;  // seq2seq: the decoder's first input
};

// `rng` draws the masked-LM masks (unused for other tasks). Generative tasks: causal-lm rows are
// prompt + target, right-padded; seq2seq rows are the source, and the decoder's inputs beside.
Batch collate(const FeatureSet& features, const std::vector<std::size_t>& indices,
              const CollateOptions& options, std::mt19937_64& rng);

}  // namespace autopeft::trainer
