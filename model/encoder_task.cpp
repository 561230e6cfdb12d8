#include "model/encoder_task.h"

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/errors.h"
#include "core/logging.h"
#include "model/format/checkpoint_files.h"
#include "model/tensor_io.h"

namespace autopeft::model {

c10::ScalarType parse_model_dtype(const std::string& name) {
  if (name == "float32") return torch::kFloat32;
  if (name == "bfloat16") return torch::kBFloat16;
  throw_user_error("--dtype", "unsupported dtype '" + name + "' (expected float32 or bfloat16)");
}

std::string_view head_kind_name(HeadKind kind) {
  switch (kind) {
    case HeadKind::none: return "none";
    case HeadKind::sequence: return "sequence";
    case HeadKind::token: return "token";
    case HeadKind::mlm: return "mlm";
  }
  return "?";
}

HeadKind parse_head_kind(std::string_view name) {
  for (auto k : {HeadKind::none, HeadKind::sequence, HeadKind::token, HeadKind::mlm})
    if (head_kind_name(k) == name) return k;
  throw_user_error("--head",
                   "unknown head '" + std::string(name) + "' (expected none, sequence, token or auto)");
}

RobertaClassificationHeadImpl::RobertaClassificationHeadImpl(const EncoderConfig& c,
                                                             std::int64_t num_labels) {
  dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
  out_proj = register_module("out_proj", torch::nn::Linear(c.hidden_size, num_labels));
  dropout_ = register_module("dropout", torch::nn::Dropout(c.classifier_dropout.value_or(c.hidden_dropout)));
}

torch::Tensor RobertaClassificationHeadImpl::forward(const torch::Tensor& hidden) {
  auto x = dropout_->forward(hidden.select(1, 0));
  x = torch::tanh(dense->forward(x));
  return out_proj->forward(dropout_->forward(x));
}

MaskedLmHeadImpl::MaskedLmHeadImpl(const EncoderConfig& c)
    : act_(c.family == EncoderFamily::bert ? c.hidden_act : std::string("gelu")) {
  dense = torch::nn::Linear(c.hidden_size, c.hidden_size);
  norm = torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps));
  if (c.family == EncoderFamily::bert) {
    auto transform = register_module("transform", std::make_shared<torch::nn::Module>());
    transform->register_module("dense", dense);
    transform->register_module("LayerNorm", norm);
  } else {
    register_module("dense", dense);
    register_module("layer_norm", norm);
  }
  bias = register_parameter("bias", torch::zeros({c.vocab_size}));
}

torch::Tensor MaskedLmHeadImpl::forward(const torch::Tensor& hidden, const torch::Tensor& word_embeddings) {
  auto x = norm->forward(activation(act_, dense->forward(hidden)));
  return torch::matmul(x, word_embeddings.t()) + bias;
}

EncoderForTaskImpl::EncoderForTaskImpl(const EncoderConfig& c, HeadKind head, std::int64_t num_labels)
    : head_(head), num_labels_(head == HeadKind::none ? 0 : num_labels) {
  if (head != HeadKind::none && head != HeadKind::mlm && num_labels < 1)
    throw_user_error("num_labels",
                     "a " + std::string(head_kind_name(head)) + " head needs at least one label");
  const bool roberta_sequence = c.family == EncoderFamily::roberta && head == HeadKind::sequence;
  // transformers: BERT models keep the pooler; RoBERTa task models drop it.
  const bool pooler = task_model_has_pooler(c, head);
  base = register_module(c.base_prefix().substr(0, c.base_prefix().size() - 1), EncoderModel(c, pooler));
  if (head == HeadKind::none) return;
  if (head == HeadKind::mlm) {
    num_labels_ = c.vocab_size;
    if (c.family == EncoderFamily::bert) {
      auto cls = register_module("cls", std::make_shared<torch::nn::Module>());
      mlm_head_ = cls->register_module("predictions", MaskedLmHead(c));
    } else {
      mlm_head_ = register_module("lm_head", MaskedLmHead(c));
    }
    return;
  }
  if (roberta_sequence) {
    roberta_head_ = register_module("classifier", RobertaClassificationHead(c, num_labels));
  } else {
    dropout_ =
        register_module("dropout", torch::nn::Dropout(c.classifier_dropout.value_or(c.hidden_dropout)));
    linear_head_ = register_module("classifier", torch::nn::Linear(c.hidden_size, num_labels));
  }
}

TaskOutput EncoderForTaskImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                       const torch::Tensor& token_type_ids) {
  return with_head(base->forward(input_ids, attention_mask, token_type_ids));
}

TaskOutput EncoderForTaskImpl::forward_from(std::int64_t k, const torch::Tensor& hidden,
                                            const torch::Tensor& attention_mask) {
  return with_head(base->forward_from(k, hidden, attention_mask));
}

TaskOutput EncoderForTaskImpl::with_head(const EncoderOutput& enc) {
  TaskOutput out{enc.last_hidden_state, enc.pooled, {}, enc.attention_mask, enc.prompt_tokens};
  if (head_ == HeadKind::sequence) {
    out.logits = !roberta_head_.is_empty() ? roberta_head_->forward(enc.last_hidden_state)
                                           : linear_head_->forward(dropout_->forward(enc.pooled));
  } else if (head_ == HeadKind::token) {
    out.logits = linear_head_->forward(dropout_->forward(enc.last_hidden_state));
  } else if (head_ == HeadKind::mlm) {
    out.logits = mlm_head_->forward(enc.last_hidden_state, base->embeddings->word_embeddings->weight);
  }
  return out;
}

torch::Tensor EncoderForTaskImpl::masked_lm_logits(const torch::Tensor& input_ids,
                                                   const torch::Tensor& attention_mask,
                                                   const torch::Tensor& token_type_ids,
                                                   const torch::Tensor& positions) {
  if (head_ != HeadKind::mlm) throw std::logic_error("masked_lm_logits needs a masked-LM head");
  auto enc = base->forward(input_ids, attention_mask, token_type_ids);
  auto hidden = enc.last_hidden_state;
  if (enc.prompt_tokens > 0) hidden = hidden.narrow(1, enc.prompt_tokens, input_ids.size(1));
  const auto rows = hidden.index({positions});  // [N, H]
  return mlm_head_->forward(rows.unsqueeze(0), base->embeddings->word_embeddings->weight).squeeze(0);
}

std::vector<torch::Tensor> EncoderForTaskImpl::head_parameters() const {
  if (!roberta_head_.is_empty()) return roberta_head_->parameters();
  if (!linear_head_.is_empty()) return linear_head_->parameters();
  if (!mlm_head_.is_empty()) return mlm_head_->parameters();
  return {};
}

std::vector<std::pair<std::string, torch::Tensor>> EncoderForTaskImpl::named_head_parameters() const {
  // Everything outside the backbone (registered first, as "bert" or "roberta").
  std::vector<std::pair<std::string, torch::Tensor>> out;
  const std::string base_name = named_children().begin()->key() + ".";
  for (const auto& p : named_parameters())
    if (p.key().rfind(base_name, 0) != 0) out.emplace_back(p.key(), p.value());
  return out;
}

// ---------------------------------------------------------------------------------------------

namespace {

// transformers renames LayerNorm.gamma/beta of old checkpoints to weight/bias.
std::string normalise_key(std::string key) {
  auto ends_with = [&](const std::string& s) {
    return key.size() >= s.size() && key.compare(key.size() - s.size(), s.size(), s) == 0;
  };
  if (ends_with(".gamma"))
    key.replace(key.size() - 6, 6, ".weight");
  else if (ends_with(".beta"))
    key.replace(key.size() - 5, 5, ".bias");
  return key;
}

bool ends_with(const std::string& key, const std::string& s) {
  return key.size() >= s.size() && key.compare(key.size() - s.size(), s.size(), s) == 0;
}

bool is_pretraining_head(const std::string& key) {
  return key.rfind("cls.", 0) == 0 || key.rfind("lm_head.", 0) == 0;
}

// Keys skipped whatever the model: non-persistent buffers, BERT's next-sentence head, and the
// tied decoder of masked-LM heads (the word embeddings serve; its bias is the head's bias).
bool always_ignored(const std::string& key) {
  return ends_with(key, "position_ids") || ends_with(key, ".masked_bias") ||
         key.rfind("cls.seq_relationship.", 0) == 0 || key == "cls.predictions.decoder.weight" ||
         key == "lm_head.decoder.weight" || key == "cls.predictions.decoder.bias" ||
         key == "lm_head.decoder.bias";
}

HeadChoice choose_head_from(const std::string& dir, const EncoderConfig& config, const CheckpointFiles& files,
                            const LoadOptions& options) {
  HeadChoice c;
  const auto has = [&](const char* key) { return files.find(key) != nullptr; };
  if (options.head != "auto") {
    c.head = parse_head_kind(options.head);
  } else if (has("classifier.weight") || has("classifier.out_proj.weight")) {
    c.head = HeadKind::sequence;
    for (const auto& a : config.architectures)
      if (a.find("ForTokenClassification") != std::string::npos) c.head = HeadKind::token;
  } else if (has("cls.predictions.transform.dense.weight") || has("lm_head.dense.weight")) {
    c.head = HeadKind::mlm;
  }
  c.num_labels = options.num_labels > 0 ? options.num_labels : config.num_labels();
  if (c.head != HeadKind::none && options.num_labels == 0) {
    // A checkpoint head fixes the label count.
    for (const char* k : {"classifier.weight", "classifier.out_proj.weight"})
      if (const auto* e = files.find(k)) c.num_labels = e->info->shape.at(0);
  }
  if (c.head == HeadKind::mlm) c.num_labels = config.vocab_size;
  if (c.head == HeadKind::none) c.num_labels = 0;
  if (c.head != HeadKind::none && c.num_labels < 1)
    throw_user_error(
        dir, "a " + std::string(head_kind_name(c.head)) +
                 " head needs a label count: the config has no id2label/num_labels and none was given");
  return c;
}

}  // namespace

LoadedEncoder load_encoder(const std::string& dir, const LoadOptions& options) {
  LoadedEncoder out;
  out.config = load_encoder_config(dir);
  const auto& cfg = out.config;
  CheckpointFiles files(dir);

  // Checkpoint keys after renaming, in our naming (backbone under "bert." / "roberta.").
  const std::string prefix = cfg.base_prefix();
  bool prefixed = false;
  for (const auto& [key, entry] : files.tensors())
    if (key.rfind(prefix, 0) == 0) prefixed = true;
  std::map<std::string, std::string> ours_to_file;  // our key -> checkpoint key
  for (const auto& [key, entry] : files.tensors()) {
    if (always_ignored(key)) {
      out.report.ignored.push_back(key);
      continue;
    }
    std::string k = normalise_key(key);
    if (!prefixed &&
        (k.rfind("embeddings.", 0) == 0 || k.rfind("encoder.", 0) == 0 || k.rfind("pooler.", 0) == 0))
      k = prefix + k;
    if (!ours_to_file.emplace(k, key).second)
      throw_user_error(dir,
                       "checkpoint keys '" + ours_to_file[k] + "' and '" + key + "' name the same weight");
  }

  const auto choice = choose_head_from(dir, cfg, files, options);
  const HeadKind head = choice.head;
  const std::int64_t num_labels = choice.num_labels;
  if (head != HeadKind::mlm) {
    // Without a masked-LM head, pretraining heads are ignored, as transformers does.
    for (auto it = ours_to_file.begin(); it != ours_to_file.end();) {
      if (is_pretraining_head(it->first)) {
        out.report.ignored.push_back(it->second);
        it = ours_to_file.erase(it);
      } else {
        ++it;
      }
    }
  }
  out.model = EncoderForTask(cfg, head, num_labels);

  std::vector<std::string> missing, mismatched;
  std::set<std::string> used;
  {
    torch::NoGradGuard no_grad;
    for (auto& item : out.model->named_parameters()) {
      const auto& name = item.key();
      auto it = ours_to_file.find(name);
      if (it == ours_to_file.end()) {
        if (name.rfind("classifier.", 0) == 0 || is_pretraining_head(name)) {
          out.report.new_head.push_back(name);  // a new head keeps its random initialisation
          continue;
        }
        missing.push_back(name);
        continue;
      }
      used.insert(it->first);
      const auto& entry = *files.find(it->second);
      const std::vector<std::int64_t> want(item.value().sizes().begin(), item.value().sizes().end());
      if (entry.info->shape != want) {
        std::string have, need;
        for (auto d : entry.info->shape) have += (have.empty() ? "" : ",") + std::to_string(d);
        for (auto d : want) need += (need.empty() ? "" : ",") + std::to_string(d);
        mismatched.push_back(it->second + " [" + have + "] (model needs [" + need + "])");
        continue;
      }
      item.value().copy_(read_tensor(*entry.file, *entry.info).to(item.value().scalar_type()));
    }
  }
  std::vector<std::string> unexpected;
  for (const auto& [ours, key] : ours_to_file) {
    if (used.count(ours)) continue;
    // RoBERTa task models have no pooler: transformers ignores its weights.
    if (ours.rfind(prefix + "pooler.", 0) == 0 && !out.model->base->has_pooler()) {
      out.report.ignored.push_back(key);
      continue;
    }
    unexpected.push_back(key);
  }
  if (!missing.empty() || !mismatched.empty() || (!unexpected.empty() && !options.allow_unexpected)) {
    std::string msg = "checkpoint does not fit a " + cfg.model_type + " model of this config:";
    auto list = [&](const char* what, const std::vector<std::string>& v) {
      if (v.empty()) return;
      msg += std::string("\n  ") + what + " (" + std::to_string(v.size()) + "):";
      for (const auto& k : v) msg += "\n    " + k;
    };
    list("missing keys", missing);
    list("shape mismatches", mismatched);
    if (!options.allow_unexpected)
      list("unexpected keys (pass --allow-unexpected to ignore them)", unexpected);
    throw_user_error(dir, msg);
  }
  out.report.unexpected = unexpected;
  for (const auto& k : unexpected) log::warn("{}: ignoring unexpected checkpoint key {}", dir, k);
  if (!out.report.new_head.empty())
    log::debug("{}: new {} head with {} labels, randomly initialised", dir, head_kind_name(head), num_labels);
  out.model->to(options.device, options.dtype);
  out.model->eval();
  return out;
}

HeadChoice choose_head(const std::string& dir, const EncoderConfig& config, const LoadOptions& options) {
  CheckpointFiles files(dir);
  return choose_head_from(dir, config, files, options);
}

bool task_model_has_pooler(const EncoderConfig& config, HeadKind head) {
  return config.family == EncoderFamily::bert || head == HeadKind::none;
}

void save_encoder(const std::string& dir, EncoderForTask& model, const nlohmann::json& config_json) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& item : model->named_parameters()) tensors.emplace_back(item.key(), item.value());
  save_safetensors((fs::path(dir) / "model.safetensors").string(), tensors);
  std::ofstream cfg(fs::path(dir) / "config.json");
  cfg << config_json.dump(2) << "\n";
  if (!cfg) throw_user_error(dir, "cannot write config.json");
}

}  // namespace autopeft::model

namespace autopeft::model {

void initialize_weights(EncoderForTask& model, double std) {
  torch::NoGradGuard no_grad;
  const auto pad = model->config().pad_token_id;
  for (const auto& m : model->modules(/*include_self=*/true)) {
    if (auto* linear = dynamic_cast<torch::nn::LinearImpl*>(m.get())) {
      linear->weight.normal_(0.0, std);
      if (linear->bias.defined()) linear->bias.zero_();
    } else if (auto* injectable = dynamic_cast<InjectableLinearImpl*>(m.get())) {
      injectable->weight.normal_(0.0, std);
      if (injectable->bias.defined()) injectable->bias.zero_();
    } else if (auto* emb = dynamic_cast<torch::nn::EmbeddingImpl*>(m.get())) {
      emb->weight.normal_(0.0, std);
      if (pad >= 0 && pad < emb->weight.size(0) && emb == model->base->embeddings->word_embeddings.get())
        emb->weight[pad].zero_();
    } else if (auto* ln = dynamic_cast<torch::nn::LayerNormImpl*>(m.get())) {
      ln->weight.fill_(1.0);
      ln->bias.zero_();
    }
  }
  for (auto& p : model->named_parameters())
    if (p.key().size() >= 4 && p.key().compare(p.key().size() - 4, 4, "bias") == 0 && p.value().dim() == 1 &&
        p.key().find("LayerNorm") == std::string::npos && p.key().find("layer_norm") == std::string::npos)
      p.value().zero_();  // the masked-LM output bias, among others
}

}  // namespace autopeft::model
