#pragma once
// Prompt tuning (Lester et al. 2021) and P-tuning (Liu et al. 2021) as HF PEFT builds them: N
// vectors, trained directly (prompt tuning) or produced by an encoder from an N-row embedding
// (P-tuning: MLP, or a 2-layer bidirectional LSTM and an MLP head), prepended to the word
// embeddings with mask ones.
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>

#include <string>

#include "model/injection.h"

namespace autopeft::peft {

class PromptEmbedding : public model::EmbeddingHook {
 public:
  // encoder: "none" (prompt tuning), "mlp" or "lstm" (P-tuning) with width `hidden`.
  // `init_rows` (optional, [N, H]) initialises the table (prompt tuning's "vocab" init).
  PromptEmbedding(std::int64_t length, std::int64_t hidden_size, const std::string& encoder,
                  std::int64_t hidden, const torch::Tensor& init_rows = {});
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& word,
                                                  const torch::Tensor& mask) override;
  // The prompt vectors [N, H] (the encoder's output for P-tuning): what an export stores.
  torch::Tensor table();
  bool has_encoder() const { return encoder_ != "none"; }
  std::int64_t length() const override { return prompt_embeddings.size(0); }

  torch::Tensor prompt_embeddings;  // [N, H]
  torch::nn::Linear mlp1{nullptr}, mlp2{nullptr}, mlp3{nullptr};
  torch::nn::LSTM lstm{nullptr};

 private:
  std::string encoder_;
};

}  // namespace autopeft::peft
