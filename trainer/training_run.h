#pragma once
// One training run from files: a model folder, a task, options and a PEFT configuration (or full
// fine-tuning). The task side (splits, tokenizer, features) is prepared once and shared by every
// run on it: the seeds of `autopeft train` and the trials of a study.
#include <memory>
#include <string>

#include "model/format/tokenizer.h"
#include "model/generation_tokenizer.h"
#include "peft/spec/model_dims.h"
#include "peft/spec/peft_config.h"
#include "trainer/activation_cache.h"
#include "trainer/data/features.h"
#include "trainer/data/splits.h"
#include "trainer/data/task.h"
#include "trainer/data/train_options.h"
#include "trainer/task_model.h"
#include "trainer/trainer.h"

namespace autopeft::trainer {

class PreparedTask {
 public:
  // Reads the splits `options` asks for and tokenises them with the model folder's tokenizer.
  // Encoder folders take the encoder task types; seq2seq needs a T5 folder, causal-lm a GPT-2 or
  // Llama one (UserErrors otherwise).
  PreparedTask(const std::string& model_dir, const TaskSpec& task, const TrainOptions& options);

  const std::string& model_dir() const { return model_dir_; }
  const TaskSpec& task() const { return task_; }
  const model::EncoderConfig& model_config() const { return config_; }  // encoder folders
  // The backbone's dims as the task builds it (an encoder's pooler when its head uses one).
  const peft::ModelDims& dims() const { return dims_; }
  const TrialSplits& splits() const { return splits_; }
  const std::vector<std::string>& vocabulary() const { return vocabulary_; }
  const FeatureSet& train_features() const { return train_; }
  const FeatureSet& eval_features() const { return eval_; }
  const FeatureSet& test_features() const { return test_; }  // empty unless options.test_on
  bool has_test() const { return !splits_.test.examples.empty(); }
  std::int64_t max_length() const { return max_length_; }
  TaskContext context() const;
  TaskContext test_context() const;  // as context(), scoring the test split
  // Labels for the head (classification / token tasks; 1 for regression; vocabulary for mlm).
  std::int64_t num_labels() const;
  nlohmann::json summary() const;  // examples, truncation, label vocabulary

 private:
  std::string model_dir_;
  TaskSpec task_;
  model::EncoderConfig config_;
  peft::ModelDims dims_;
  std::unique_ptr<model::Tokenizer> tokenizer_;                       // encoders
  std::unique_ptr<model::GenerationTokenizer> generation_tokenizer_;  // generative models
  std::int64_t decoder_start_ = 0;
  TrialSplits splits_;
  std::vector<std::string> vocabulary_;
  FeatureSet train_, eval_, test_;
  std::int64_t max_length_ = 0;
};

// A PEFT configuration, or full fine-tuning.
struct TrainTarget {
  peft::PeftConfig config;
  bool full_finetune = false;
  std::string source = "config";  // names the configuration in errors
};

// The closed-form counts of a target on a prepared task's model (full fine-tuning: every
// backbone weight trains and is stored, 100 %).
peft::CountReport count_target(const PreparedTask& prepared, const TrainTarget& target);

struct RunResult {
  TrainResult train;
  peft::CountReport counts;
  std::unique_ptr<TaskModel> model;  // trained (best checkpoint restored)
};

// Builds the model (init seeded by options.seed) and trains it. Configuration errors are
// UserErrors; a failing run (NaN, out of memory) comes back with train.status = "failed".
// With `cache`, the outputs of layers below the first PEFT module come from (and go to) it.
RunResult run_training(const PreparedTask& prepared, const TrainTarget& target, const TrainOptions& options,
                       const TrainEvents& events = {}, c10::Device device = c10::Device(c10::kCPU),
                       ActivationCache* cache = nullptr);

// The trained model of `run` evaluated once on the prepared test split (options.test_on).
EvalResult evaluate_test(RunResult& run, const PreparedTask& prepared, const TrainOptions& options);

}  // namespace autopeft::trainer

namespace autopeft::trainer {

// Writes a trained run into `out_dir`: for a PEFT configuration, one folder per export format of
// peft/ that can express it (native/, hf-peft/, adapters/), each with the task head beside it
// (head.safetensors, transformers' key names); for full fine-tuning, the whole model as a
// Hugging Face folder (model/). Returns {"written": [folders], "skipped": {format: why}}.
nlohmann::json export_run(RunResult& run, const PreparedTask& prepared, const TrainTarget& target,
                          const std::string& out_dir);

}  // namespace autopeft::trainer
