#include "peft/modules/prompt.h"

#include <torch/torch.h>

namespace autopeft::peft {

PromptEmbedding::PromptEmbedding(std::int64_t N, std::int64_t H, const std::string& encoder, std::int64_t h,
                                 const torch::Tensor& init_rows)
    : encoder_(encoder) {
  prompt_embeddings =
      register_parameter("prompt_embeddings", init_rows.defined() ? init_rows.clone() : torch::randn({N, H}));
  if (encoder == "mlp") {
    mlp1 = register_module("mlp1", torch::nn::Linear(H, h));
    mlp2 = register_module("mlp2", torch::nn::Linear(h, h));
    mlp3 = register_module("mlp3", torch::nn::Linear(h, H));
  } else if (encoder == "lstm") {
    lstm = register_module(
        "lstm",
        torch::nn::LSTM(torch::nn::LSTMOptions(H, h).num_layers(2).bidirectional(true).batch_first(true)));
    mlp1 = register_module("mlp1", torch::nn::Linear(2 * h, 2 * h));
    mlp3 = register_module("mlp3", torch::nn::Linear(2 * h, H));
  }
}

torch::Tensor PromptEmbedding::table() {
  if (encoder_ == "mlp")
    return mlp3->forward(torch::relu(mlp2->forward(torch::relu(mlp1->forward(prompt_embeddings)))));
  if (encoder_ == "lstm") {
    auto out = std::get<0>(lstm->forward(prompt_embeddings.unsqueeze(0))).squeeze(0);  // [N, 2h]
    return mlp3->forward(torch::relu(mlp1->forward(out)));
  }
  return prompt_embeddings;
}

std::pair<torch::Tensor, torch::Tensor> PromptEmbedding::forward(const torch::Tensor& word,
                                                                 const torch::Tensor& mask) {
  const auto B = word.size(0);
  auto prompts = table().to(word.dtype()).unsqueeze(0).expand({B, -1, -1});
  auto ones = torch::ones({B, prompts.size(1)}, mask.options());
  return {torch::cat({prompts, word}, 1), torch::cat({ones, mask}, 1)};
}

}  // namespace autopeft::peft
