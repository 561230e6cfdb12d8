#pragma once
// The training loop of trials and full training: AdamW with a warm-up / linear-decay schedule,
// gradient clipping and accumulation, evaluation every N steps or per epoch (inference mode),
// best-checkpoint selection, early stopping, a pruning callback, and failure (non-finite loss,
// out of memory) reported as a result rather than thrown. On CPU, the same seed gives the same
// numbers bit for bit (the init, dropout, data order and masking each draw from their own
// derived seed).
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "trainer/data/features.h"
#include "trainer/data/task.h"
#include "trainer/data/train_options.h"
#include "trainer/task_model.h"

namespace autopeft::trainer {

// What evaluation needs besides the features.
struct TaskContext {
  std::string type;                        // the task's type
  std::string metric;                      // the task's metric
  std::vector<std::string> vocabulary;     // labels / tags by index
  const Dataset* eval_examples = nullptr;  // gold tags of token tasks (FeatureSet::items[i].example)
  // Masked LM.
  std::set<std::int64_t> special_ids;
  std::int64_t mask_id = -1;
  std::int64_t vocab_size = 0;
  // Generative tasks: evaluation generates greedily up to max_new_tokens from each source and
  // scores decode(tokens) against the example's target (exact_match on texts trimmed of
  // surrounding whitespace; bleu and chrf as sacrebleu, which trims too).
  std::function<std::string(const std::vector<std::int64_t>&)> decode;
  std::int64_t max_new_tokens = 0;
  std::int64_t decoder_start = 0;  // seq2seq
};

// UserError when `metric` cannot score a task of `type` (e.g. spearman for classification).
void check_metric(const std::string& type, const std::string& metric);

struct EvalResult {
  double metric = 0;
  double loss = 0;  // mean over examples (masked-LM: over masked tokens)
  std::int64_t examples = 0;
  double seconds = 0;
};

struct EvalPoint {
  std::int64_t step = 0;
  double epoch = 0;
  double metric = 0;
  double loss = 0;        // evaluation loss
  double train_loss = 0;  // mean training loss since the previous evaluation
  nlohmann::json to_json() const;
};

struct TrainEvents {
  // After every evaluation; returning false stops the run as pruned.
  std::function<bool(const EvalPoint&)> on_evaluation;
  // After every optimiser step.
  std::function<void(std::int64_t step, std::int64_t total, double loss)> on_step;
};

struct TrainResult {
  std::string status = "complete";  // complete, pruned or failed
  std::string reason;               // why failed / pruned / stopped early
  double best_metric = std::numeric_limits<double>::quiet_NaN();
  std::int64_t best_step = -1;
  std::vector<EvalPoint> curve;
  std::int64_t steps = 0;
  std::int64_t total_steps = 0;
  std::int64_t train_tokens = 0;   // real tokens seen in training
  std::int64_t padded_tokens = 0;  // tokens incl. padding
  double train_seconds = 0;        // training loop without evaluations
  double eval_seconds = 0;
  std::int64_t cached_layers = 0;  // bottom layers served by the activation cache (0: none)
  nlohmann::json to_json() const;
};

class ActivationCache;
class LayerInputs;

class Trainer {
 public:
  Trainer(TaskModel& model, const TrainOptions& options, TaskContext context);
  // Uses `cache` for the outputs of the layers below the first PEFT module (activation_cache.h);
  // `key` names the data (model, task, splits, maximum length) so that trials can share entries.
  void use_cache(ActivationCache* cache, std::string key);
  TrainResult train(const FeatureSet& train, const FeatureSet& eval, const TrainEvents& events = {});
  // `inputs`: cached inputs of a layer for these features (nullptr: the whole model runs).
  EvalResult evaluate(const FeatureSet& eval, const LayerInputs* inputs = nullptr);
  // The optimiser steps `train` will take for this many training features.
  std::int64_t total_steps(std::size_t train_examples) const;

 private:
  TaskModel& model_;
  TrainOptions options_;
  TaskContext context_;
  ActivationCache* cache_ = nullptr;
  std::string cache_key_;
};

}  // namespace autopeft::trainer
