#pragma once
// How a trial or a full training runs: optimiser, schedule, fidelity, evaluation. A plain struct
// with JSON round-trip (the "fidelity" object of a study spec and `autopeft train --options`
// use these keys). Torch-free. Defaults follow AutoPEFT's trials (transformers' run_glue with
// lr 1e-4, batch 32, AdamW without weight decay, linear decay, clipping at 1.0).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace autopeft::trainer {

struct TrainOptions {
  // Optimiser (torch AdamW, decoupled weight decay) and schedule.
  double learning_rate = 1e-4;
  double weight_decay = 0.0;
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_epsilon = 1e-8;
  std::string schedule =
      "linear";               // "linear" (warm-up, then linear decay to 0) or "constant" (after warm-up)
  double warmup_ratio = 0.0;  // fraction of the optimiser steps; warmup_steps wins when > 0
  std::int64_t warmup_steps = 0;
  double max_grad_norm = 1.0;          // gradient-norm clipping; 0 = off
  std::int64_t grad_accumulation = 1;  // batches per optimiser step
  std::int64_t batch_size = 32;        // examples per batch
  std::int64_t eval_batch_size = 64;
  double dropout = -1;  // every dropout probability; < 0 keeps the model's config

  // Fidelity (how much of the work a short trial does).
  double epochs = 1;            // may be fractional; ignored when max_steps > 0
  std::int64_t max_steps = 0;   // optimiser steps; 0 = from epochs
  std::int64_t max_train = 0;   // first N training examples; 0 = all
  double train_fraction = 1.0;  // then this fraction of them (the first ones)
  std::int64_t max_eval = 0;    // first N evaluation examples; 0 = all

  // Evaluation and selection.
  std::string eval_on = "holdout";  // "holdout": a split held out from the training data (search
                                    // trials); "dev": the task's dev set (final numbers)
  double holdout_fraction = 0.1;    // share of the (capped) training examples held out ...
  std::int64_t holdout_max = 2000;  // ... at most this many
  std::int64_t eval_every = 0;      // evaluate every N optimiser steps; 0 = after every epoch
  std::int64_t patience = 0;        // early stopping after N evaluations without improvement; 0 = off
  bool keep_best = true;            // restore the weights of the best evaluation at the end
  std::string test_on;              // "dev": after training (selected on the holdout), evaluate the
                                    // model once on the task's dev set, for final numbers; "" = no

  // Inputs.
  std::int64_t max_length = 0;    // 0 = the task's max_length
  std::string pad = "dynamic";    // "dynamic" (to each batch's longest) or "max_length"
  bool bucket = true;             // length bucketing of training batches
  double mlm_probability = 0.15;  // masked-LM tasks
  bool activation_cache = true;   // reuse the outputs of unmodified bottom layers where a cache is given
                                  // (study trials); the cached layers run without dropout

  std::uint64_t seed = 0;

  static TrainOptions from_json(const nlohmann::json& j, const std::string& where);
  nlohmann::json to_json() const;
  // UserError naming the field for values out of range.
  void validate(const std::string& where) const;
};

// The learning-rate multiplier at optimiser step `step` (0-based) of `total`, as transformers'
// get_linear_schedule_with_warmup / get_constant_schedule_with_warmup compute it.
double schedule_factor(const std::string& schedule, std::int64_t step, std::int64_t total,
                       std::int64_t warmup);

}  // namespace autopeft::trainer
