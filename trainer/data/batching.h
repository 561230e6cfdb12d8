#pragma once
// Which examples go into which batch. Torch-free.
// Training: every epoch the examples are shuffled (seeded); with length bucketing, each window of
// `bucket_batches` batches' worth of shuffled examples is sorted by length and cut into batches,
// and the batches are shuffled again, so a batch holds examples of similar length (little padding)
// while the order stays random. Evaluation: examples sorted by length (order does not matter).
#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include "trainer/data/features.h"

namespace autopeft::trainer {

using BatchPlan = std::vector<std::vector<std::size_t>>;  // indices into FeatureSet::items

struct BatchingOptions {
  std::size_t batch_size = 32;
  bool bucket = true;               // length bucketing (off: batches in shuffled order, as run_glue)
  std::size_t bucket_batches = 50;  // batches per sorting window
};

BatchPlan training_batches(const FeatureSet& features, const BatchingOptions& options, std::uint64_t seed);
BatchPlan evaluation_batches(const FeatureSet& features, std::size_t batch_size);

// Masked-LM inputs as transformers' DataCollatorForLanguageModeling makes them: each token that is
// not special (or padding) is chosen with probability `probability`; a chosen token's label is
// its id (others kIgnoreIndex), and its input becomes mask_id (80 %), a random id below
// vocab_size (10 %) or stays (10 %). At least one token is chosen when the text has any.
struct MaskedTokens {
  std::vector<std::int64_t> input_ids;
  std::vector<std::int64_t> labels;
};
MaskedTokens mask_tokens(const std::vector<std::int64_t>& ids, const std::set<std::int64_t>& special,
                         std::int64_t mask_id, std::int64_t vocab_size, double probability,
                         std::mt19937_64& rng);

}  // namespace autopeft::trainer
