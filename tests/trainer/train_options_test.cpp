// TrainOptions: JSON round-trip, errors naming the key, and the learning-rate schedules against
// values worked by hand from transformers' get_linear_schedule_with_warmup and
// get_constant_schedule_with_warmup:
//   warm-up:  step / max(1, warmup)
//   linear:   max(0, (total - step) / max(1, total - warmup))
//   constant: 1
#include "trainer/data/train_options.h"

#include <gtest/gtest.h>

#include "core/errors.h"

namespace autopeft::trainer {
namespace {

std::string error_of(const nlohmann::json& j, const std::string& where = "study.json: fidelity") {
  try {
    TrainOptions::from_json(j, where);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(TrainOptionsTest, DefaultsAndEmptyObject) {
  const auto o = TrainOptions::from_json(nlohmann::json::object(), "x");
  EXPECT_DOUBLE_EQ(o.learning_rate, 1e-4);
  EXPECT_EQ(o.batch_size, 32);
  EXPECT_EQ(o.schedule, "linear");
  EXPECT_EQ(o.eval_on, "holdout");
  EXPECT_EQ(o.to_json(), TrainOptions().to_json());
  EXPECT_EQ(o.to_json().size(), 31u);  // every field is written
}

TEST(TrainOptionsTest, JsonRoundTripKeepsEveryField) {
  TrainOptions o;
  o.learning_rate = 3e-5;
  o.weight_decay = 0.01;
  o.adam_beta1 = 0.8;
  o.adam_beta2 = 0.98;
  o.adam_epsilon = 1e-6;
  o.schedule = "constant";
  o.warmup_ratio = 0.06;
  o.warmup_steps = 17;
  o.max_grad_norm = 0;
  o.grad_accumulation = 4;
  o.batch_size = 8;
  o.eval_batch_size = 128;
  o.dropout = 0.05;
  o.epochs = 2.5;
  o.max_steps = 1234;
  o.max_train = 5000;
  o.train_fraction = 0.25;
  o.max_eval = 300;
  o.eval_on = "dev";
  o.holdout_fraction = 0.2;
  o.holdout_max = 500;
  o.eval_every = 100;
  o.patience = 3;
  o.keep_best = false;
  o.max_length = 256;
  o.pad = "max_length";
  o.bucket = false;
  o.mlm_probability = 0.3;
  o.seed = 18446744073709551557ull;  // beyond int64
  const nlohmann::json j = o.to_json();
  EXPECT_EQ(j.at("schedule"), "constant");
  EXPECT_EQ(j.at("warmup_steps"), 17);
  EXPECT_EQ(j.at("keep_best"), false);
  // Through text, as a study stores it.
  const auto back = TrainOptions::from_json(nlohmann::json::parse(j.dump()), "x");
  EXPECT_EQ(back.to_json(), j);
  EXPECT_DOUBLE_EQ(back.learning_rate, 3e-5);
  EXPECT_DOUBLE_EQ(back.epochs, 2.5);
  EXPECT_EQ(back.max_steps, 1234);
  EXPECT_EQ(back.eval_on, "dev");
  EXPECT_EQ(back.pad, "max_length");
  EXPECT_FALSE(back.bucket);
  EXPECT_FALSE(back.keep_best);
  EXPECT_EQ(back.seed, 18446744073709551557ull);
  // A partial object keeps the other defaults.
  const auto partial = TrainOptions::from_json({{"batch_size", 16}, {"epochs", 3}}, "x");
  EXPECT_EQ(partial.batch_size, 16);
  EXPECT_DOUBLE_EQ(partial.epochs, 3.0);
  EXPECT_DOUBLE_EQ(partial.learning_rate, 1e-4);
}

TEST(TrainOptionsTest, UnknownKeyAndWrongTypeNameTheKey) {
  auto err = error_of({{"epochs", 2}, {"lerning_rate", 1e-3}});
  EXPECT_NE(err.find("study.json: fidelity.lerning_rate"), std::string::npos) << err;
  EXPECT_NE(err.find("unknown key"), std::string::npos) << err;
  EXPECT_NE(err.find("learning_rate"), std::string::npos) << err;  // the known keys are listed
  err = error_of({{"epochs", "two"}});
  EXPECT_NE(err.find("study.json: fidelity.epochs"), std::string::npos) << err;
  EXPECT_NE(err.find("\"two\""), std::string::npos) << err;
  err = error_of({{"bucket", "yes"}});
  EXPECT_NE(err.find("fidelity.bucket"), std::string::npos) << err;
  err = error_of({{"batch_size", 2.5}});
  EXPECT_NE(err.find("fidelity.batch_size"), std::string::npos) << err;
  err = error_of({{"seed", -1}});
  EXPECT_NE(err.find("fidelity.seed"), std::string::npos) << err;
  err = error_of(nlohmann::json::array({1, 2}));
  EXPECT_NE(err.find("study.json: fidelity"), std::string::npos) << err;
}

TEST(TrainOptionsTest, ValidateNamesTheField) {
  const std::vector<std::pair<std::string, nlohmann::json>> bad = {
      {"learning_rate", 0},    {"learning_rate", -1e-3}, {"weight_decay", -0.1},
      {"schedule", "cosine"},  {"warmup_ratio", 1.5},    {"warmup_ratio", -0.1},
      {"warmup_steps", -1},    {"max_grad_norm", -1},    {"grad_accumulation", 0},
      {"batch_size", 0},       {"eval_batch_size", 0},   {"dropout", 1.0},
      {"epochs", 0},           {"max_steps", -5},        {"max_train", -1},
      {"train_fraction", 0},   {"train_fraction", 1.5},  {"max_eval", -1},
      {"eval_on", "test"},     {"test_on", "holdout"},   {"holdout_fraction", 0},
      {"holdout_fraction", 1}, {"holdout_max", 0},       {"eval_every", -1},
      {"patience", -2},        {"max_length", -1},       {"pad", "longest"},
      {"mlm_probability", 0},  {"mlm_probability", 1.0},
  };
  for (const auto& [key, value] : bad) {
    const auto err = error_of({{key, value}}, "opts.json");
    EXPECT_NE(err.find("opts.json." + key + ":"), std::string::npos) << key << " = " << value << ": " << err;
  }
  // epochs 0 is fine when max_steps sets the length; dropout < 0 keeps the model's.
  EXPECT_NO_THROW(TrainOptions::from_json({{"epochs", 0}, {"max_steps", 10}, {"dropout", -1}}, "x"));
  EXPECT_NO_THROW(TrainOptions::from_json({{"train_fraction", 1.0}, {"warmup_ratio", 1.0}}, "x"));
  EXPECT_NE(error_of({{"schedule", "cosine"}}).find("'cosine'"), std::string::npos);
  // The dev set is the test set only when it is not also the selection set.
  EXPECT_NO_THROW(TrainOptions::from_json({{"test_on", "dev"}}, "x"));
  EXPECT_NE(error_of({{"test_on", "dev"}, {"eval_on", "dev"}}, "opts.json").find("opts.json.test_on:"),
            std::string::npos);
}

TEST(ScheduleFactorTest, LinearWithWarmupMatchesTransformers) {
  // total 10, warmup 2.
  EXPECT_DOUBLE_EQ(schedule_factor("linear", 0, 10, 2), 0.0);
  EXPECT_DOUBLE_EQ(schedule_factor("linear", 1, 10, 2), 0.5);
  EXPECT_DOUBLE_EQ(schedule_factor("linear", 2, 10, 2), 1.0);
  EXPECT_DOUBLE_EQ(schedule_factor("linear", 3, 10, 2), 7.0 / 8.0);
  EXPECT_DOUBLE_EQ(schedule_factor("linear", 6, 10, 2), 0.5);
  EXPECT_DOUBLE_EQ(schedule_factor("linear", 9, 10, 2), 0.125);
  EXPECT_DOUBLE_EQ(schedule_factor("linear", 10, 10, 2), 0.0);
  EXPECT_DOUBLE_EQ(schedule_factor("linear", 12, 10, 2), 0.0);  // clamped at 0
  // No warm-up: starts at 1.
  EXPECT_DOUBLE_EQ(schedule_factor("linear", 0, 4, 0), 1.0);
  EXPECT_DOUBLE_EQ(schedule_factor("linear", 1, 4, 0), 0.75);
  EXPECT_DOUBLE_EQ(schedule_factor("linear", 3, 4, 0), 0.25);
  // Warm-up as long as training: max(1, 0) guards the division.
  EXPECT_DOUBLE_EQ(schedule_factor("linear", 1, 2, 2), 0.5);
  EXPECT_DOUBLE_EQ(schedule_factor("linear", 2, 2, 2), 0.0);
  // Warm-up of 3 steps: 0, 1/3, 2/3, then the decay over 6 - 3 = 3 steps.
  EXPECT_DOUBLE_EQ(schedule_factor("linear", 2, 6, 3), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(schedule_factor("linear", 4, 6, 3), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(schedule_factor("linear", 5, 6, 3), 1.0 / 3.0);
}

TEST(ScheduleFactorTest, ConstantWithWarmupMatchesTransformers) {
  EXPECT_DOUBLE_EQ(schedule_factor("constant", 0, 10, 2), 0.0);
  EXPECT_DOUBLE_EQ(schedule_factor("constant", 1, 10, 2), 0.5);
  EXPECT_DOUBLE_EQ(schedule_factor("constant", 2, 10, 2), 1.0);
  EXPECT_DOUBLE_EQ(schedule_factor("constant", 9, 10, 2), 1.0);
  EXPECT_DOUBLE_EQ(schedule_factor("constant", 0, 10, 0), 1.0);
  EXPECT_DOUBLE_EQ(schedule_factor("constant", 3, 10, 4), 0.75);
}

}  // namespace
}  // namespace autopeft::trainer
