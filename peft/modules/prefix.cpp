#include "peft/modules/prefix.h"

#include <torch/torch.h>

#include <algorithm>

namespace autopeft::peft {

PrefixGeneratorImpl::PrefixGeneratorImpl(std::int64_t H, std::int64_t K, std::int64_t heads, std::int64_t W,
                                         std::vector<std::int64_t> lengths)
    : hidden_(H), width_(K), heads_(heads), lengths_(std::move(lengths)) {
  const auto pmax = *std::max_element(lengths_.begin(), lengths_.end());
  const auto n = static_cast<std::int64_t>(lengths_.size());
  wte = register_module("wte", torch::nn::Embedding(pmax, H));  // N(0, 1), as nn.Embedding
  mlp_in = register_module("mlp_in", torch::nn::Linear(H, W));
  mlp_out = register_module("mlp_out", torch::nn::Linear(W, n * 2 * K));
}

std::pair<torch::Tensor, torch::Tensor> PrefixGeneratorImpl::slot(std::size_t j) {
  const auto P = lengths_.at(j);
  // Only the rows and output columns this slot uses are computed.
  auto e = wte->weight.narrow(0, 0, P);
  auto h = torch::tanh(mlp_in->forward(e));
  const auto cols = static_cast<std::int64_t>(j) * 2 * width_;
  auto w = mlp_out->weight.narrow(0, cols, 2 * width_);
  auto b = mlp_out->bias.narrow(0, cols, 2 * width_);
  auto kv = torch::nn::functional::linear(h, w, b);  // [P, 2K]
  return {kv.narrow(1, 0, width_), kv.narrow(1, width_, width_)};
}

void LayerPrefix::make_gate(bool with_gate, std::int64_t H) {
  if (!with_gate) return;
  gate = register_module("gate", torch::nn::Linear(H, 1));
  torch::NoGradGuard g;
  gate->weight.normal_(0.0, 0.02);
}

LayerPrefix::LayerPrefix(PrefixGenerator generator, std::size_t slot, bool with_gate, std::int64_t H)
    : generator_(std::move(generator)), slot_(slot), heads_(generator_->heads()) {
  make_gate(with_gate, H);
}

LayerPrefix::LayerPrefix(std::int64_t length, std::int64_t K, std::int64_t heads, bool with_gate,
                         std::int64_t H)
    : heads_(heads) {
  keys = register_parameter("prefix_keys", torch::randn({length, K}));
  values = register_parameter("prefix_values", torch::randn({length, K}));
  make_gate(with_gate, H);
}

std::pair<torch::Tensor, torch::Tensor> LayerPrefix::table() {
  return ejected() ? std::make_pair(keys, values) : generator_->slot(slot_);
}

std::pair<torch::Tensor, torch::Tensor> LayerPrefix::forward(const torch::Tensor& x) {
  auto [k, v] = table();
  const auto B = x.size(0), P = k.size(0), K = k.size(1), nh = heads_;
  auto heads = [&](const torch::Tensor& t) {
    return t.view({1, P, nh, K / nh}).transpose(1, 2).expand({B, nh, P, K / nh});
  };
  auto hk = heads(k), hv = heads(v);
  if (!gate.is_empty()) {
    auto g = torch::sigmoid(gate->forward(x)).mean(1).view({B, 1, 1, 1});  // [B, 1, 1, 1]
    hk = hk * g;
    hv = hv * g;
  }
  return {hk, hv};
}

void LayerPrefix::eject() {
  if (ejected()) return;
  torch::NoGradGuard g;
  auto [k, v] = table();
  keys = register_parameter("prefix_keys", k.clone());
  values = register_parameter("prefix_values", v.clone());
}

}  // namespace autopeft::peft
