#pragma once
// Prefix-tuning (Li & Liang 2021) with AdapterHub's shared generator: one embedding of Pmax rows
// and one MLP, Linear(H, W) -> tanh -> Linear(W, n * 2 * K), serve the n layers that have a prefix;
// the j-th of them takes the first P_j rows of its slice as keys and values, split into heads.
// K is the key/value width: H for encoders and GPT-2, kv_heads x head_dim with grouped-query
// attention (AdapterHub uses num_key_value_heads where the config has it).
// eject() runs the MLP once and keeps the results as flat tables (for inference and export).
// With "prefix_mlp": {"hidden": 0} the tables are trained directly (HF PEFT's default, AdapterHub's
// flat=True). With a gate (UniPELT), keys and values are scaled by mean_seq(sigmoid(Linear(H, 1)(x))).
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include <vector>

#include "model/injection.h"

namespace autopeft::peft {

class PrefixGeneratorImpl : public torch::nn::Module {
 public:
  PrefixGeneratorImpl(std::int64_t hidden, std::int64_t width, std::int64_t heads, std::int64_t mlp_hidden,
                      std::vector<std::int64_t> lengths);
  // Keys and values of slot j (the j-th layer with a prefix): each [P_j, K].
  std::pair<torch::Tensor, torch::Tensor> slot(std::size_t j);
  const std::vector<std::int64_t>& lengths() const { return lengths_; }
  std::int64_t heads() const { return heads_; }

  torch::nn::Embedding wte{nullptr};
  torch::nn::Linear mlp_in{nullptr}, mlp_out{nullptr};

 private:
  std::int64_t hidden_, width_, heads_;
  std::vector<std::int64_t> lengths_;
};
TORCH_MODULE(PrefixGenerator);

// The provider installed at one layer's attention point.
class LayerPrefix : public model::PrefixProvider {
 public:
  LayerPrefix(PrefixGenerator generator, std::size_t slot, bool gate, std::int64_t hidden);
  // A flat prefix (no reparametrisation): tables [length, width] trained directly, N(0, 1) init.
  LayerPrefix(std::int64_t length, std::int64_t width, std::int64_t heads, bool gate, std::int64_t hidden);
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x) override;
  // The ungated keys and values, each [P, K]: from the flat tables, or computed by the generator.
  std::pair<torch::Tensor, torch::Tensor> table();
  // Replaces the generator by flat tables "prefix_keys"/"prefix_values" [P, K] (trainable copies).
  void eject();
  bool ejected() const { return keys.defined(); }

  torch::Tensor keys, values;  // after eject()
  torch::nn::Linear gate{nullptr};

 private:
  PrefixGenerator generator_{nullptr};
  std::size_t slot_ = 0;
  std::int64_t heads_ = 1;
  void make_gate(bool gate, std::int64_t hidden);
};

}  // namespace autopeft::peft
