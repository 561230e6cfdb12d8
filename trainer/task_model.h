#pragma once
// The model a trial trains: a backbone from a model folder with the head its task needs, and
// either a PEFT configuration installed (backbone frozen; the PEFT modules and the head train)
// or full fine-tuning (every parameter trains). Encoder tasks get an encoder with a task head;
// generative ones (seq2seq: T5; causal-lm: GPT-2, Llama) the model with its own LM head.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/causal_lm.h"
#include "model/encoder_task.h"
#include "model/t5.h"
#include "peft/peft_model.h"
#include "peft/spec/peft_config.h"

namespace autopeft::trainer {

struct TaskModelOptions {
  std::string model_dir;
  std::string task_type;        // the task's type (decides the head)
  std::int64_t num_labels = 0;  // classification and token tasks
  bool full_finetune = false;   // every parameter trains; `config` must be empty
  peft::PeftConfig config;      // the PEFT modules (an empty config: only the head trains)
  std::string config_source = "config";
  double dropout = -1;          // < 0: the model's own probabilities
  std::uint64_t init_seed = 0;  // seeds the new head and the PEFT modules
  c10::Device device = c10::Device(c10::kCPU);
};

class TaskModel {
 public:
  explicit TaskModel(const TaskModelOptions& options);

  // Encoder tasks only (a std::logic_error for a generative model).
  model::EncoderForTask& model();
  const model::EncoderConfig& config() const;
  // Generative tasks: the causal LM or T5 (nullptr otherwise).
  model::CausalLmImpl* causal_lm() { return lm_.model.get(); }
  model::T5ModelImpl* t5() { return t5_.model.get(); }
  bool generative() const { return lm_.model || t5_.model; }
  torch::nn::Module& module();  // the whole network
  c10::Device device();
  peft::PeftModel* peft() { return peft_.get(); }
  bool full_finetune() const { return full_; }
  const model::LoadReport& load_report() const { return loaded_.report; }

  // Parameters that train, with names (the backbone's keys, PEFT paths, head keys).
  const std::vector<std::pair<std::string, torch::Tensor>>& trainable() const { return trainable_; }
  std::int64_t trainable_count() const;
  // The head's parameters with transformers' names ("classifier.weight", ...); none for a
  // generative model (its LM head is a pretrained weight).
  std::vector<std::pair<std::string, torch::Tensor>> head_tensors() const;

 private:
  void collect_trainable(torch::nn::Module& network, const std::string& peft_prefix);

  model::LoadedEncoder loaded_;
  model::LoadedCausalLm lm_;
  model::LoadedT5 t5_;
  std::unique_ptr<peft::PeftModel> peft_;
  bool full_ = false;
  std::vector<std::pair<std::string, torch::Tensor>> trainable_;
};

// The head a task type uses: "sequence" (classification, regression), "token", "mlm"; "none"
// for generative tasks (their model's LM head).
model::HeadKind head_for_task(const std::string& task_type);

// Sets the probability of every dropout module of `module` (not functional dropouts inside PEFT
// modules, which keep their configured rate).
void set_dropout(torch::nn::Module& module, double p);

}  // namespace autopeft::trainer
