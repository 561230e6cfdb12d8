// Forward throughput of a BERT-family encoder with random weights, in inference mode.
// Prints one JSON line: median ms per forward and tokens per second.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "model/encoder.h"
#include "model/runtime.h"

int main(int argc, char** argv) {
  std::map<std::string, long> a = {{"layers", 12}, {"hidden", 768}, {"heads", 12},
                                   {"ffn", 3072},  {"batch", 8},    {"seq", 128},
                                   {"threads", 2}, {"warmup", 2},   {"iters", 5}};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0 || !a.count(k.substr(2))) {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 1;
    }
    a[k.substr(2)] = std::atol(argv[i + 1]);
  }
  autopeft::model::set_threads(static_cast<int>(a["threads"]));
  torch::manual_seed(0);
  autopeft::model::EncoderConfig c;
  c.model_type = "bert";
  c.vocab_size = 30522;
  c.hidden_size = a["hidden"];
  c.num_layers = a["layers"];
  c.num_heads = a["heads"];
  c.intermediate_size = a["ffn"];
  autopeft::model::EncoderModel model(c, true);
  model->eval();
  auto ids = torch::randint(1000, 30000, {a["batch"], a["seq"]});
  auto mask = torch::ones_like(ids);
  torch::InferenceMode guard;
  std::vector<double> ms;
  for (long i = 0; i < a["warmup"] + a["iters"]; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto out = model->forward(ids, mask);
    const double dt =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (i >= a["warmup"]) ms.push_back(dt);
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  nlohmann::json j = {{"impl", "autopeft"},    {"threads", a["threads"]},
                      {"layers", a["layers"]}, {"hidden", a["hidden"]},
                      {"batch", a["batch"]},   {"seq", a["seq"]},
                      {"median_ms", median},   {"tokens_per_s", a["batch"] * a["seq"] / (median / 1000.0)}};
  std::printf("%s\n", j.dump().c_str());
  return 0;
}
