#include "trainer/task_model.h"

#include <torch/nn/modules/dropout.h>

#include "core/errors.h"
#include "trainer/seeding.h"

namespace autopeft::trainer {

model::HeadKind head_for_task(const std::string& task_type) {
  if (task_type == "classification" || task_type == "pair-classification" || task_type == "regression")
    return model::HeadKind::sequence;
  if (task_type == "token-classification") return model::HeadKind::token;
  if (task_type == "mlm") return model::HeadKind::mlm;
  throw_user_error("task type", "'" + task_type +
                                    "' needs a decoder backbone (T5, GPT-2, Llama), which this "
                                    "build does not have yet");
}

void set_dropout(torch::nn::Module& module, double p) {
  for (const auto& m : module.modules(/*include_self=*/true))
    if (auto* d = dynamic_cast<torch::nn::DropoutImpl*>(m.get())) d->options.p(p);
}

TaskModel::TaskModel(const TaskModelOptions& o) : full_(o.full_finetune) {
  seed_everything(o.init_seed);
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
  if (o.dropout >= 0) set_dropout(*m, o.dropout);
  const std::string base_name = m->named_children().begin()->key();  // "bert" / "roberta"
  if (full_) {
    for (auto& p : m->named_parameters()) {
      p.value().set_requires_grad(true);
      trainable_.emplace_back(p.key(), p.value());
    }
  } else {
    peft_ = std::make_unique<peft::PeftModel>(m->base, o.config, o.config_source);
    if (o.dropout >= 0) set_dropout(*m, o.dropout);  // modules the PEFT config added
    for (auto& [name, t] : peft_->named_parameters()) trainable_.emplace_back(base_name + "." + name, t);
    for (auto& [name, t] : head_tensors()) {
      t.set_requires_grad(true);
      trainable_.emplace_back(name, t);
    }
  }
  m->train();
}

std::int64_t TaskModel::trainable_count() const {
  std::int64_t n = 0;
  for (const auto& [name, t] : trainable_) n += t.numel();
  return n;
}

std::vector<std::pair<std::string, torch::Tensor>> TaskModel::head_tensors() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  const auto& m = loaded_.model;
  const std::string base_name = m->named_children().begin()->key();
  for (const auto& p : m->named_parameters())
    if (p.key().rfind(base_name + ".", 0) != 0) out.emplace_back(p.key(), p.value());
  return out;
}

}  // namespace autopeft::trainer
