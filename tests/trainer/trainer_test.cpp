// The training loop on a tiny BERT and a learnable synthetic task: learning, bit-reproducibility,
// failures, pruning, best-checkpoint restore, gradient accumulation, token tasks and masked LM.
#include "trainer/trainer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "core/errors.h"
#include "peft/spec/peft_config.h"
#include "tests/support/test_support.h"
#include "tests/support/tiny_model.h"
#include "tests/support/torch_support.h"
#include "trainer/activation_cache.h"
#include "trainer/training_run.h"

namespace autopeft::trainer {
namespace {

using autopeft::testing::TempDir;

class TrainerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    autopeft::testing::write_tiny_bert(*dir_ / "bert");
    task_ = autopeft::testing::write_tiny_task(*dir_ / "task", 320, 80);
    ner_ = autopeft::testing::write_tiny_task(*dir_ / "ner", 320, 80, "token-classification");
  }
  static void TearDownTestSuite() { delete dir_; }

  static TrainOptions options() {
    TrainOptions o;
    o.eval_on = "dev";
    o.batch_size = 16;
    o.learning_rate = 3e-3;
    o.epochs = 2;
    return o;
  }
  static TrainTarget lora() {
    TrainTarget t;
    t.config = peft::PeftConfig::from_json(
        {{"autopeft_peft_config", 1}, {"all_layers", {{"lora", {{"r", 4}}}}}}, "t");
    return t;
  }
  static std::string model() { return (*dir_ / "bert").string(); }

  static inline TempDir* dir_ = nullptr;
  static inline std::string task_, ner_;
};

TEST_F(TrainerTest, FullFineTuningLearnsTheTask) {
  const auto o = options();
  const PreparedTask prepared(model(), TaskSpec::from_file(task_), o);
  TrainTarget full;
  full.full_finetune = true;
  auto o3 = o;
  o3.epochs = 4;
  const auto run = run_training(prepared, full, o3);
  EXPECT_EQ(run.train.status, "complete") << run.train.reason;
  EXPECT_GT(run.train.best_metric, 0.9);
  ASSERT_EQ(run.train.curve.size(), 4u);  // one evaluation per epoch
  EXPECT_LT(run.train.curve.back().train_loss, run.train.curve.front().train_loss);
  EXPECT_EQ(run.train.steps, 4 * 20);  // 320 / 16 per epoch
}

TEST_F(TrainerTest, SameSeedGivesTheSameBitsOnCpuAndAnotherSeedDoesNot) {
  const auto o = options();
  const PreparedTask prepared(model(), TaskSpec::from_file(task_), o);
  auto a = run_training(prepared, lora(), o);
  auto b = run_training(prepared, lora(), o);
  auto o2 = o;
  o2.seed = 1;
  auto c = run_training(prepared, lora(), o2);
  ASSERT_EQ(a.train.curve.size(), b.train.curve.size());
  for (std::size_t i = 0; i < a.train.curve.size(); ++i) {
    EXPECT_EQ(a.train.curve[i].loss, b.train.curve[i].loss);  // bit for bit
    EXPECT_EQ(a.train.curve[i].train_loss, b.train.curve[i].train_loss);
  }
  const auto& pa = a.model->trainable();
  const auto& pb = b.model->trainable();
  const auto& pc = c.model->trainable();
  ASSERT_EQ(pa.size(), pb.size());
  bool any_differs = false;
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(torch::equal(pa[i].second, pb[i].second)) << pa[i].first;
    any_differs = any_differs || !torch::equal(pa[i].second, pc[i].second);
  }
  EXPECT_TRUE(any_differs);
}

TEST_F(TrainerTest, TheBestCheckpointIsRestored) {
  auto o = options();
  o.eval_every = 3;
  const PreparedTask prepared(model(), TaskSpec::from_file(task_), o);
  auto run = run_training(prepared, lora(), o);
  ASSERT_GT(run.train.curve.size(), 3u);
  double best = -1;
  for (const auto& p : run.train.curve) best = std::max(best, p.metric);
  EXPECT_EQ(run.train.best_metric, best);
  Trainer again(*run.model, o, prepared.context());
  EXPECT_DOUBLE_EQ(again.evaluate(prepared.eval_features()).metric, best);
}

TEST_F(TrainerTest, NonFiniteLossFailsTheRunAndTheProcessGoesOn) {
  const auto o = options();
  const PreparedTask prepared(model(), TaskSpec::from_file(task_), o);
  TaskModelOptions mo;
  mo.model_dir = model();
  mo.task_type = "classification";
  mo.num_labels = 2;
  mo.config = lora().config;
  TaskModel m(mo);
  {
    torch::NoGradGuard g;
    m.head_tensors().front().second.fill_(std::nan(""));
  }
  auto eff = o;
  eff.max_length = prepared.max_length();
  Trainer t(m, eff, prepared.context());
  const auto r = t.train(prepared.train_features(), prepared.eval_features());
  EXPECT_EQ(r.status, "failed");
  EXPECT_NE(r.reason.find("NaN"), std::string::npos) << r.reason;
  EXPECT_EQ(r.steps, 0);
  const auto ok = run_training(prepared, lora(), o);  // the next run is unaffected
  EXPECT_EQ(ok.train.status, "complete");
}

TEST_F(TrainerTest, ThePruningCallbackStopsTheRun) {
  auto o = options();
  o.eval_every = 5;
  const PreparedTask prepared(model(), TaskSpec::from_file(task_), o);
  int evaluations = 0;
  TrainEvents events;
  events.on_evaluation = [&](const EvalPoint& p) {
    ++evaluations;
    EXPECT_EQ(p.step % 5, 0);
    return evaluations < 2;
  };
  const auto run = run_training(prepared, lora(), o, events);
  EXPECT_EQ(run.train.status, "pruned");
  EXPECT_EQ(run.train.steps, 10);
  EXPECT_EQ(evaluations, 2);
}

TEST_F(TrainerTest, EarlyStoppingEndsAfterPatienceEvaluationsWithoutImprovement) {
  auto o = options();
  o.eval_every = 1;
  o.patience = 2;
  o.learning_rate = 1e-9;  // nothing improves after the first evaluation
  o.epochs = 3;
  const PreparedTask prepared(model(), TaskSpec::from_file(task_), o);
  const auto run = run_training(prepared, lora(), o);
  EXPECT_EQ(run.train.status, "complete");
  EXPECT_NE(run.train.reason.find("early stopping"), std::string::npos) << run.train.reason;
  EXPECT_LT(run.train.steps, run.train.total_steps);
}

TEST_F(TrainerTest, GradientAccumulationMatchesALargerBatch) {
  auto o = options();
  o.dropout = 0;
  o.bucket = false;
  o.epochs = 1;
  o.batch_size = 16;
  const PreparedTask prepared(model(), TaskSpec::from_file(task_), o);
  auto big = run_training(prepared, lora(), o);
  o.batch_size = 8;
  o.grad_accumulation = 2;
  auto small = run_training(prepared, lora(), o);
  EXPECT_EQ(big.train.steps, small.train.steps);
  for (std::size_t i = 0; i < big.model->trainable().size(); ++i)
    EXPECT_TENSOR_NEAR(small.model->trainable()[i].second, big.model->trainable()[i].second, 2e-5);
}

TEST_F(TrainerTest, TokenClassificationScoresEntitiesOnWords) {
  auto o = options();
  o.epochs = 10;
  o.learning_rate = 5e-3;
  const PreparedTask prepared(model(), TaskSpec::from_file(ner_), o);
  EXPECT_EQ(prepared.vocabulary(), (std::vector<std::string>{"B-POS", "I-POS", "O"}));
  TrainTarget full;
  full.full_finetune = true;
  const auto run = run_training(prepared, full, o);
  EXPECT_EQ(run.train.status, "complete") << run.train.reason;
  EXPECT_GT(run.train.best_metric, 0.9);  // entity F1: "good" and "very good" are easy
}

TEST_F(TrainerTest, MaskedLmTrainsAndScoresMaskedTokens) {
  TempDir tmp;
  {
    std::ofstream f(tmp / "text.txt");
    for (int i = 0; i < 200; ++i) f << "the movie was good and the plot was fine\n";
  }
  std::ofstream(tmp / "mlm.json") << R"({"name": "mlm", "type": "mlm", "train": "text.txt", "dev": "text.txt",
    "format": "text", "metric": "accuracy", "max_length": 16})";
  auto o = options();
  o.eval_on = "holdout";
  o.epochs = 3;
  const PreparedTask prepared(model(), TaskSpec::from_file((tmp / "mlm.json").string()), o);
  TrainTarget full;
  full.full_finetune = true;
  const auto run = run_training(prepared, full, o);
  EXPECT_EQ(run.train.status, "complete") << run.train.reason;
  EXPECT_LT(run.train.curve.back().loss, run.train.curve.front().loss);
  EXPECT_GT(run.train.best_metric, 0.3);  // one sentence repeated: masked words are predictable
}

TEST(TrainerMetricTest, MetricsMustFitTheTaskType) {
  EXPECT_NO_THROW(check_metric("classification", "matthews"));
  EXPECT_NO_THROW(check_metric("regression", "spearman"));
  EXPECT_THROW(check_metric("classification", "spearman"), UserError);
  EXPECT_THROW(check_metric("token-classification", "f1"), UserError);
}

}  // namespace
}  // namespace autopeft::trainer

namespace autopeft::trainer {
namespace {

class ActivationCacheTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new autopeft::testing::TempDir();
    autopeft::testing::write_tiny_bert(*dir_ / "bert", 3);
    task_ = autopeft::testing::write_tiny_task(*dir_ / "task", 160, 48);
  }
  static void TearDownTestSuite() { delete dir_; }
  static TrainTarget top_lora() {  // layers 0 and 1 unmodified
    TrainTarget t;
    t.config = peft::PeftConfig::from_json(
        {{"autopeft_peft_config", 1}, {"layers", {{"2", {{"lora", {{"r", 4}}}}}}}}, "t");
    return t;
  }
  static TrainOptions options() {
    TrainOptions o;
    o.eval_on = "dev";
    o.batch_size = 16;
    o.learning_rate = 3e-3;
    o.dropout = 0;  // the cached layers run without dropout; with none anywhere both paths agree
    return o;
  }
  static inline autopeft::testing::TempDir* dir_ = nullptr;
  static inline std::string task_;
};

TEST_F(ActivationCacheTest, SameTrainingAsWithoutTheCacheAndSharedAcrossTrials) {
  const auto o = options();
  const PreparedTask prepared((*dir_ / "bert").string(), TaskSpec::from_file(task_), o);
  auto plain = run_training(prepared, top_lora(), o);
  EXPECT_EQ(plain.train.cached_layers, 0);
  for (const std::size_t budget_mb : {2048u, 0u}) {  // in memory, and spilled to a file
    ActivationCache cache(budget_mb);
    auto cached = run_training(prepared, top_lora(), o, {}, c10::Device(c10::kCPU), &cache);
    EXPECT_EQ(cached.train.cached_layers, 2);
    EXPECT_EQ(cache.entries(), 2u);  // the training and the evaluation split
    EXPECT_EQ(cache.memory_bytes() == 0, budget_mb == 0);
    ASSERT_EQ(cached.train.curve.size(), plain.train.curve.size());
    for (std::size_t i = 0; i < plain.train.curve.size(); ++i) {
      EXPECT_NEAR(cached.train.curve[i].loss, plain.train.curve[i].loss, 1e-5);
      EXPECT_NEAR(cached.train.curve[i].metric, plain.train.curve[i].metric, 1e-9);
    }
    for (std::size_t i = 0; i < plain.model->trainable().size(); ++i)
      EXPECT_TENSOR_NEAR(cached.model->trainable()[i].second, plain.model->trainable()[i].second, 1e-4);
    auto again = run_training(prepared, top_lora(), o, {}, c10::Device(c10::kCPU), &cache);
    EXPECT_EQ(cache.hits(), 2u);  // a second trial with the same k computes nothing
    EXPECT_EQ(again.train.curve.back().loss, cached.train.curve.back().loss);
  }
}

TEST_F(ActivationCacheTest, OnlyLayersBelowTheFirstModuleAreCached) {
  const auto o = options();
  const PreparedTask prepared((*dir_ / "bert").string(), TaskSpec::from_file(task_), o);
  TaskModelOptions mo;
  mo.model_dir = (*dir_ / "bert").string();
  mo.task_type = "classification";
  mo.num_labels = 2;
  auto k_of = [&](const nlohmann::json& cfg, bool full = false) {
    auto m = mo;
    m.full_finetune = full;
    if (!full) m.config = peft::PeftConfig::from_json(cfg, "t");
    TaskModel model(m);
    return cacheable_layers(model);
  };
  EXPECT_EQ(k_of({{"autopeft_peft_config", 1}, {"layers", {{"1", {{"serial_adapter", {{"size", 4}}}}}}}}), 1);
  EXPECT_EQ(k_of({{"autopeft_peft_config", 1}, {"all_layers", {{"lora", {{"r", 2}}}}}}), 0);
  EXPECT_EQ(k_of({{"autopeft_peft_config", 1}}), 3);  // linear probe: the whole encoder
  EXPECT_EQ(k_of({{"autopeft_peft_config", 1}, {"embeddings", {{"prompt_tuning", {{"length", 4}}}}}}), 0);
  EXPECT_EQ(k_of({}, true), 0);  // full fine-tuning
}

}  // namespace
}  // namespace autopeft::trainer
