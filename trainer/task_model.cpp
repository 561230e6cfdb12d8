#include "trainer/task_model.h"

#include <torch/nn/modules/dropout.h>

#include <stdexcept>

#include "core/errors.h"
#include "model/format/decoder_config.h"
#include "model/format/t5_config.h"
#include "trainer/seeding.h"

namespace autopeft::trainer {

model::HeadKind head_for_task(const std::string& task_type) {
  if (task_type == "classification" || task_type == "pair-classification" || task_type == "regression")
    return model::HeadKind::sequence;
  if (task_type == "token-classification") return model::HeadKind::token;
  if (task_type == "mlm") return model::HeadKind::mlm;
  if (task_type == "seq2seq" || task_type == "causal-lm") return model::HeadKind::none;
  throw_user_error("task type", "'" + task_type + "' is not a task type");
}

void set_dropout(torch::nn::Module& module, double p) {
  for (const auto& m : module.modules(/*include_self=*/true))
    if (auto* d = dynamic_cast<torch::nn::DropoutImpl*>(m.get())) d->options.p(p);
}

TaskModel::TaskModel(const TaskModelOptions& o) : full_(o.full_finetune) {
  seed_everything(o.init_seed);
  if (o.task_type == "seq2seq" || o.task_type == "causal-lm") {
    const auto type = model::model_type_of(o.model_dir);
    const bool seq2seq = o.task_type == "seq2seq";
    if (seq2seq ? !model::is_t5_model_type(type) : !model::is_decoder_model_type(type))
      throw_user_error(o.model_dir, "a " + o.task_type + " task needs " +
                                        (seq2seq ? "a T5" : "a GPT-2 or Llama") +
                                        " model; this folder holds '" + type + "'");
    model::DecoderLoadOptions lo;
    lo.device = o.device;
    if (seq2seq) {
      t5_ = model::load_t5(o.model_dir, lo);
      if (!full_) peft_ = std::make_unique<peft::PeftModel>(t5_.model, o.config, o.config_source);
    } else {
      lm_ = model::load_causal_lm(o.model_dir, lo);
      if (!full_) peft_ = std::make_unique<peft::PeftModel>(lm_.model, o.config, o.config_source);
    }
    if (o.dropout >= 0) set_dropout(module(), o.dropout);
    collect_trainable(module(), "");
    module().train();
    return;
  }
  model::LoadOptions lo;
  const auto head = head_for_task(o.task_type);
  lo.head = std::string(model::head_kind_name(head));
  lo.num_labels = o.task_type == "regression" ? 1 : o.num_labels;
  lo.device = o.device;
  loaded_ = model::load_encoder(o.model_dir, lo);
  if (head == model::HeadKind::sequence && loaded_.model->num_labels() != lo.num_labels)
    throw_user_error(o.model_dir, "its classifier has " + std::to_string(loaded_.model->num_labels()) +
                                      " labels, the task " + std::to_string(lo.num_labels));
  auto& m = loaded_.model;
  if (!full_) peft_ = std::make_unique<peft::PeftModel>(m->base, o.config, o.config_source);
  if (o.dropout >= 0) set_dropout(*m, o.dropout);                   // the modules the PEFT config added too
  collect_trainable(*m, m->named_children().begin()->key() + ".");  // "bert." / "roberta."
  m->train();
}

void TaskModel::collect_trainable(torch::nn::Module& network, const std::string& peft_prefix) {
  if (full_) {
    for (auto& p : network.named_parameters()) {
      p.value().set_requires_grad(true);
      trainable_.emplace_back(p.key(), p.value());
    }
    return;
  }
  for (auto& [name, t] : peft_->named_parameters()) trainable_.emplace_back(peft_prefix + name, t);
  for (auto& [name, t] : head_tensors()) {
    t.set_requires_grad(true);
    trainable_.emplace_back(name, t);
  }
}

model::EncoderForTask& TaskModel::model() {
  if (generative()) throw std::logic_error("TaskModel::model(): a generative model has no task head");
  return loaded_.model;
}

const model::EncoderConfig& TaskModel::config() const {
  if (lm_.model || t5_.model) throw std::logic_error("TaskModel::config(): a generative model");
  return loaded_.config;
}

torch::nn::Module& TaskModel::module() {
  if (lm_.model) return *lm_.model;
  if (t5_.model) return *t5_.model;
  return *loaded_.model;
}

c10::Device TaskModel::device() {
  if (lm_.model) return lm_.model->word_embeddings().device();
  if (t5_.model) return t5_.model->word_embeddings().device();
  return loaded_.model->base->embeddings->word_embeddings->weight.device();
}

std::int64_t TaskModel::trainable_count() const {
  std::int64_t n = 0;
  for (const auto& [name, t] : trainable_) n += t.numel();
  return n;
}

std::vector<std::pair<std::string, torch::Tensor>> TaskModel::head_tensors() const {
  if (lm_.model || t5_.model) return {};
  return loaded_.model->named_head_parameters();
}

}  // namespace autopeft::trainer
