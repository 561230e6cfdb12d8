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
  torch::Tensor labels;     // [B] int64 (classification), [B] float (regression), [B, S] int64 (token, mlm)
  std::int64_t tokens = 0;  // real tokens (no padding)
};

struct CollateOptions {
  std::int64_t pad_to = 0;  // pad every batch to this length (0: to the batch's longest)
  c10::Device device = c10::Device(c10::kCPU);
  // Masked LM: masking of every non-special token (features hold the plain ids).
  const std::set<std::int64_t>* special = nullptr;
  std::int64_t mask_id = -1;
  std::int64_t vocab_size = 0;
  double mlm_probability = 0.15;
};

// `rng` draws the masked-LM masks (unused for other tasks).
Batch collate(const FeatureSet& features, const std::vector<std::size_t>& indices,
              const CollateOptions& options, std::mt19937_64& rng);

}  // namespace autopeft::trainer
