#pragma once
// Encoder task models with transformers' names and math, and loading them from a Hugging Face
// model folder.
//   sequence classification / regression:
//     BERT:    logits = classifier(dropout(pooler(h)))             keys classifier.{weight,bias}
//     RoBERTa: logits = out_proj(dropout(tanh(dense(dropout(h[:,0])))))  keys classifier.{dense,out_proj}.*
//   token classification (both): logits = classifier(dropout(h))   keys classifier.{weight,bias}
//   masked LM:
//     BERT:    logits = LN(act(dense(h))) W_word^T + bias   keys
//     cls.predictions.{transform.dense,transform.LayerNorm,bias} RoBERTa: logits = LN(gelu(dense(h)))
//     W_word^T + bias  keys lm_head.{dense,layer_norm,bias} (the decoder weight is tied to the word
//     embeddings, as in transformers)
#include <c10/core/Device.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

#include "model/encoder.h"

namespace autopeft::model {

// Parses "float32" or "bfloat16"; UserError otherwise.
c10::ScalarType parse_model_dtype(const std::string& name);

enum class HeadKind { none, sequence, token, mlm };
std::string_view head_kind_name(HeadKind kind);
HeadKind parse_head_kind(std::string_view name);  // "none", "sequence", "token", "mlm"; UserError otherwise

// RoBERTa's classification head (HF RobertaClassificationHead).
class RobertaClassificationHeadImpl : public torch::nn::Module {
 public:
  RobertaClassificationHeadImpl(const EncoderConfig& config, std::int64_t num_labels);
  torch::Tensor forward(const torch::Tensor& hidden);
  torch::nn::Linear dense{nullptr}, out_proj{nullptr};

 private:
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(RobertaClassificationHead);

// The masked-LM head of either family; registered under "cls.predictions" (BERT) or "lm_head"
// (RoBERTa) so that its keys are transformers'.
class MaskedLmHeadImpl : public torch::nn::Module {
 public:
  MaskedLmHeadImpl(const EncoderConfig& config);
  // hidden [B, S, H], word embeddings [V, H] -> logits [B, S, V].
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& word_embeddings);
  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm norm{nullptr};  // "transform.LayerNorm" / "layer_norm"
  torch::Tensor bias;                  // [V]

 private:
  std::string act_;
};
TORCH_MODULE(MaskedLmHead);

struct TaskOutput {
  torch::Tensor last_hidden_state;  // [B, S, H]
  torch::Tensor pooled;             // [B, H] when the backbone has a pooler
  torch::Tensor logits;  // [B, L] (sequence), [B, S, L] (token), [B, S, V] (mlm); undefined without a head
  torch::Tensor attention_mask;    // [B, S]
  std::int64_t prompt_tokens = 0;  // prompt vectors in front (token logits include them, as in HF PEFT)
};

// The backbone under "bert" / "roberta" and the head under "classifier".
class EncoderForTaskImpl : public torch::nn::Module {
 public:
  EncoderForTaskImpl(const EncoderConfig& config, HeadKind head, std::int64_t num_labels);
  TaskOutput forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask = {},
                     const torch::Tensor& token_type_ids = {});
  // Masked LM: the backbone's output with the head applied only where `positions` ([B, S] bool)
  // is set (training needs the logits of the masked tokens only: ~7x less head work than
  // forward()). Returns logits [N, V] for the N selected positions, in row-major order.
  torch::Tensor masked_lm_logits(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                 const torch::Tensor& token_type_ids, const torch::Tensor& positions);
  // Layers k.. and the head, from the input of layer k (EncoderModelImpl::hidden_before).
  TaskOutput forward_from(std::int64_t k, const torch::Tensor& hidden, const torch::Tensor& attention_mask);
  HeadKind head() const { return head_; }
  std::int64_t num_labels() const { return num_labels_; }
  const EncoderConfig& config() const { return base->config(); }
  // Parameters of the head only (they train with every PEFT method, and are counted apart).
  std::vector<torch::Tensor> head_parameters() const;
  // The same, with their names in the checkpoint (classifier.weight, classifier.dense.bias, ...).
  std::vector<std::pair<std::string, torch::Tensor>> named_head_parameters() const;

  EncoderModel base{nullptr};

 private:
  TaskOutput with_head(const EncoderOutput& enc);
  HeadKind head_;
  std::int64_t num_labels_;
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear linear_head_{nullptr};  // BERT sequence head, token heads
  RobertaClassificationHead roberta_head_{nullptr};
  MaskedLmHead mlm_head_{nullptr};
};
TORCH_MODULE(EncoderForTask);

struct LoadOptions {
  // none / sequence / token / mlm, or "auto": the head the checkpoint has (a classifier, from its
  // keys and architectures; else a masked-LM head when it has one), none when it has none.
  std::string head = "auto";
  // Labels of a head the checkpoint lacks (a new, randomly initialised head); 0 = from config.
  std::int64_t num_labels = 0;
  // Accept checkpoint keys that match nothing (besides the always-ignored pretraining heads and
  // position_ids buffers) instead of failing.
  bool allow_unexpected = false;
  c10::Device device = c10::Device(c10::kCPU);
  // Parameter type after loading: float32, or bfloat16 (meant for CUDA; runs on CPU too, slowly).
  c10::ScalarType dtype = c10::kFloat;
};

struct LoadReport {
  std::vector<std::string> ignored;     // keys skipped on purpose (cls.*, lm_head.*, position_ids, pooler)
  std::vector<std::string> unexpected;  // keys that matched nothing (only with allow_unexpected)
  std::vector<std::string> new_head;    // head parameters initialised randomly
};

// The head load_encoder builds for a folder and options, from the checkpoint's keys alone.
struct HeadChoice {
  HeadKind head = HeadKind::none;
  std::int64_t num_labels = 0;  // vocabulary size for mlm
};
HeadChoice choose_head(const std::string& dir, const EncoderConfig& config, const LoadOptions& options = {});
// Whether a task model with this head keeps the pooler (BERT always; RoBERTa only without a head).
bool task_model_has_pooler(const EncoderConfig& config, HeadKind head);

struct LoadedEncoder {
  EncoderConfig config;
  EncoderForTask model{nullptr};
  LoadReport report;
};

// Loads config.json and the safetensors weights of `dir`. Every missing key and every shape
// mismatch is listed in one UserError; unexpected keys are an error unless allowed. The model is
// returned in eval mode on options.device, in options.dtype.
LoadedEncoder load_encoder(const std::string& dir, const LoadOptions& options = {});

// Writes a model folder in Hugging Face layout (config.json + model.safetensors) from a model and
// its config JSON. For tests and for pretraining small backbones.
void save_encoder(const std::string& dir, EncoderForTask& model, const nlohmann::json& config_json);

}  // namespace autopeft::model

namespace autopeft::model {

// Re-initialises every weight as transformers' BertPreTrainedModel._init_weights does for a model
// trained from scratch: linear and embedding weights N(0, std), biases 0 (embedding rows of the
// padding index 0), LayerNorm weight 1 and bias 0.
void initialize_weights(EncoderForTask& model, double std = 0.02);

}  // namespace autopeft::model
