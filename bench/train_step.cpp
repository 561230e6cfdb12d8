// Training steps of a BERT-style encoder in autopeft (LibTorch): the same measurement as
// ../shared/peers/torch_step.py (median ms of zero_grad + forward + cross-entropy + backward +
// AdamW on one fixed random batch, after warm-up), through our own model, PEFT and TaskModel
// code. Prints one JSON line. bench/step.py runs it beside the peer.
//   bench_train_step --layers 4 --hidden 256 --heads 4 --ffn 1024 --seq 128 --batch 16
//                    --peft lora|adapter|none --threads 2 --warmup 3 --steps 10
#include <torch/torch.h>

#include <unistd.h>  // getpid
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/files.h"
#include "model/encoder_task.h"
#include "model/format/model_config.h"
#include "model/runtime.h"
#include "trainer/task_model.h"

using namespace autopeft;

int main(int argc, char** argv) {
  CLI::App app("training steps of autopeft's encoder");
  int layers = 4, hidden = 256, heads = 4, ffn = 1024, seq = 128, batch = 16, vocab = 30522, rank = 8,
      adapter = 64;
  int threads = 2, warmup = 3, steps = 10;
  double alpha = 16, lr = 1e-4;
  std::string peft = "lora";
  app.add_option("--layers", layers);
  app.add_option("--hidden", hidden);
  app.add_option("--heads", heads);
  app.add_option("--ffn", ffn);
  app.add_option("--seq", seq);
  app.add_option("--batch", batch);
  app.add_option("--vocab", vocab);
  app.add_option("--rank", rank);
  app.add_option("--alpha", alpha);
  app.add_option("--adapter-dim", adapter);
  app.add_option("--threads", threads);
  app.add_option("--warmup", warmup);
  app.add_option("--steps", steps);
  app.add_option("--lr", lr);
  app.add_option("--peft", peft)->check(CLI::IsMember({"lora", "adapter", "none"}));
  CLI11_PARSE(app, argc, argv);
  model::set_threads(threads);
  torch::manual_seed(0);

  // A model folder with random weights, then the product's own path: TaskModel (load, head, PEFT).
  const auto dir = std::filesystem::temp_directory_path() / ("autopeft-step-" + std::to_string(::getpid()));
  const nlohmann::json cfg = {{"model_type", "bert"},        {"architectures", {"BertModel"}},
                              {"vocab_size", vocab},         {"hidden_size", hidden},
                              {"num_hidden_layers", layers}, {"num_attention_heads", heads},
                              {"intermediate_size", ffn},    {"max_position_embeddings", std::max(seq, 512)},
                              {"hidden_act", "gelu"}};
  {
    model::EncoderForTask m(model::parse_encoder_config(cfg, "bench"), model::HeadKind::none, 0);
    model::initialize_weights(m, 0.02);
    model::save_encoder(dir.string(), m, cfg);
  }
  trainer::TaskModelOptions o;
  o.model_dir = dir.string();
  o.task_type = "classification";
  o.num_labels = 2;
  o.full_finetune = peft == "none";
  if (peft == "lora")
    o.config = peft::PeftConfig::from_json(
        {{"autopeft_peft_config", 1},
         {"all_layers", {{"lora", {{"r", rank}, {"alpha", alpha}, {"targets", {"q", "v"}}}}}}},
        "bench");
  if (peft == "adapter")  // Houlsby: after the attention output and after the FFN, GELU
    o.config = peft::PeftConfig::from_json(
        {{"autopeft_peft_config", 1},
         {"all_layers",
          {{"serial_adapter", {{"size", adapter}, {"placement", "houlsby"}, {"activation", "gelu"}}}}}},
        "bench");
  trainer::TaskModel tm(o);
  remove_tree(dir.string());
  std::vector<torch::Tensor> params;
  std::int64_t trainable = 0, total = 0;
  for (const auto& [name, t] : tm.trainable()) {
    params.push_back(t);
    trainable += t.numel();
  }
  for (const auto& p : tm.model()->parameters()) total += p.numel();
  torch::optim::AdamW opt(params, torch::optim::AdamWOptions(lr).weight_decay(0.01));
  auto ids = torch::randint(0, vocab, {batch, seq}, torch::kLong);
  auto mask = torch::ones_like(ids);
  auto labels = torch::randint(0, 2, {batch}, torch::kLong);
  auto& net = tm.model();
  net->train();
  std::vector<double> ms;
  double first = 0, last = 0;
  for (int i = 0; i < warmup + steps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(net->forward(ids, mask).logits, labels);
    loss.backward();
    opt.step();
    const double dt =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    last = loss.item<double>();
    if (i == 0) first = last;
    if (i >= warmup) ms.push_back(dt);
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  nlohmann::ordered_json j = {{"impl", "autopeft"},
                              {"peft", peft},
                              {"layers", layers},
                              {"hidden", hidden},
                              {"seq", seq},
                              {"batch", batch},
                              {"threads", threads},
                              {"steps", steps},
                              {"params_total", total},
                              {"params_trainable", trainable},
                              {"median_ms", median},
                              {"tokens_per_s", batch * seq / median * 1e3},
                              {"loss_first", first},
                              {"loss_last", last}};
  std::cout << j.dump() << "\n";
  return 0;
}
