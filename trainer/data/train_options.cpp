#include "trainer/data/train_options.h"

#include <algorithm>

#include "core/errors.h"
#include "core/json_fields.h"

namespace autopeft::trainer {

namespace {

// One list of (key, field) pairs serves reading and writing.
template <typename Options, typename F>
void for_each_field(Options& o, F&& f) {
  f("learning_rate", o.learning_rate);
  f("weight_decay", o.weight_decay);
  f("adam_beta1", o.adam_beta1);
  f("adam_beta2", o.adam_beta2);
  f("adam_epsilon", o.adam_epsilon);
  f("schedule", o.schedule);
  f("warmup_ratio", o.warmup_ratio);
  f("warmup_steps", o.warmup_steps);
  f("max_grad_norm", o.max_grad_norm);
  f("grad_accumulation", o.grad_accumulation);
  f("batch_size", o.batch_size);
  f("eval_batch_size", o.eval_batch_size);
  f("dropout", o.dropout);
  f("epochs", o.epochs);
  f("max_steps", o.max_steps);
  f("max_train", o.max_train);
  f("train_fraction", o.train_fraction);
  f("max_eval", o.max_eval);
  f("eval_on", o.eval_on);
  f("holdout_fraction", o.holdout_fraction);
  f("holdout_max", o.holdout_max);
  f("eval_every", o.eval_every);
  f("patience", o.patience);
  f("keep_best", o.keep_best);
  f("test_on", o.test_on);
  f("max_length", o.max_length);
  f("pad", o.pad);
  f("bucket", o.bucket);
  f("mlm_probability", o.mlm_probability);
  f("activation_cache", o.activation_cache);
  f("seed", o.seed);
}

}  // namespace

TrainOptions TrainOptions::from_json(const nlohmann::json& j, const std::string& where) {
  TrainOptions o;
  JsonFields fields(j, where);
  for_each_field(o, [&](const char* key, auto& field) { fields.read(key, field); });
  fields.finish();
  o.validate(where);
  return o;
}

nlohmann::json TrainOptions::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for_each_field(*this, [&](const char* key, const auto& field) { j[key] = field; });
  return j;
}

void TrainOptions::validate(const std::string& where) const {
  auto fail = [&](const char* key, const std::string& what) { throw_user_error(where + "." + key, what); };
  if (!(learning_rate > 0)) fail("learning_rate", "must be > 0");
  if (weight_decay < 0) fail("weight_decay", "must be >= 0");
  if (schedule != "linear" && schedule != "constant")
    fail("schedule", "'" + schedule + "' is not linear or constant");
  if (warmup_ratio < 0 || warmup_ratio > 1) fail("warmup_ratio", "must be in [0, 1]");
  if (warmup_steps < 0) fail("warmup_steps", "must be >= 0");
  if (max_grad_norm < 0) fail("max_grad_norm", "must be >= 0");
  if (grad_accumulation < 1) fail("grad_accumulation", "must be >= 1");
  if (batch_size < 1) fail("batch_size", "must be >= 1");
  if (eval_batch_size < 1) fail("eval_batch_size", "must be >= 1");
  if (dropout >= 1) fail("dropout", "must be < 1");
  if (!(epochs > 0) && max_steps <= 0) fail("epochs", "must be > 0 (or set max_steps)");
  if (max_steps < 0) fail("max_steps", "must be >= 0");
  if (max_train < 0) fail("max_train", "must be >= 0");
  if (!(train_fraction > 0) || train_fraction > 1) fail("train_fraction", "must be in (0, 1]");
  if (max_eval < 0) fail("max_eval", "must be >= 0");
  if (eval_on != "holdout" && eval_on != "dev") fail("eval_on", "'" + eval_on + "' is not holdout or dev");
  if (!test_on.empty() && test_on != "dev") fail("test_on", "'" + test_on + "' is not dev (or empty)");
  if (test_on == "dev" && eval_on == "dev")
    fail("test_on", "the dev set cannot be both the selection and the test set (eval_on is dev)");
  if (!(holdout_fraction > 0) || holdout_fraction >= 1) fail("holdout_fraction", "must be in (0, 1)");
  if (holdout_max < 1) fail("holdout_max", "must be >= 1");
  if (eval_every < 0) fail("eval_every", "must be >= 0");
  if (patience < 0) fail("patience", "must be >= 0");
  if (max_length < 0) fail("max_length", "must be >= 0");
  if (pad != "dynamic" && pad != "max_length") fail("pad", "'" + pad + "' is not dynamic or max_length");
  if (!(mlm_probability > 0) || mlm_probability >= 1) fail("mlm_probability", "must be in (0, 1)");
}

double schedule_factor(const std::string& schedule, std::int64_t step, std::int64_t total,
                       std::int64_t warmup) {
  if (step < warmup)
    return static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, warmup));
  if (schedule == "constant") return 1.0;
  return std::max(0.0, static_cast<double>(total - step) /
                           static_cast<double>(std::max<std::int64_t>(1, total - warmup)));
}

}  // namespace autopeft::trainer
