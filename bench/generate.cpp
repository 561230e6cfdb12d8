// Greedy generation with the KV cache on a GPT-2-shaped causal LM (random weights; GPT-2 small by
// default): a prompt of --prompt tokens, --new tokens generated (no EOS), --iters timed runs after
// one warm-up. --save DIR writes the model in Hugging Face's layout first (for the Python peer of
// bench/generate.py). Prints one JSON line: median ms per generation, new tokens per second, and
// the generated tokens.
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "model/causal_lm.h"
#include "model/generation.h"
#include "model/runtime.h"

int main(int argc, char** argv) {
  CLI::App app("bench_generate");
  int layers = 12, hidden = 768, heads = 12, vocab = 50257, positions = 1024, prompt = 32, fresh = 64,
      threads = 2, iters = 3;
  std::string save;
  app.add_option("--layers", layers);
  app.add_option("--hidden", hidden);
  app.add_option("--heads", heads);
  app.add_option("--vocab", vocab);
  app.add_option("--prompt", prompt);
  app.add_option("--new", fresh);
  app.add_option("--threads", threads);
  app.add_option("--iters", iters);
  app.add_option("--save", save);
  CLI11_PARSE(app, argc, argv);
  autopeft::model::set_threads(threads);
  const nlohmann::json cfg_json = {{"model_type", "gpt2"}, {"n_embd", hidden},    {"n_layer", layers},
                                   {"n_head", heads},      {"vocab_size", vocab}, {"n_positions", positions},
                                   {"eos_token_id", 0},    {"bos_token_id", 0}};
  const auto cfg = autopeft::model::parse_decoder_config(cfg_json, "bench");
  torch::manual_seed(0);
  auto model = autopeft::model::make_causal_lm(cfg);
  model->eval();
  if (!save.empty()) autopeft::model::save_causal_lm(save, *model, cfg_json);
  std::vector<std::int64_t> ids;
  for (int i = 0; i < prompt; ++i) ids.push_back(1 + (i * 7919) % (vocab - 1));
  autopeft::model::GenerationOptions o;
  o.max_new_tokens = fresh;
  o.eos = std::vector<std::int64_t>{};
  std::vector<double> ms;
  autopeft::model::Generation g;
  for (int i = 0; i < iters + 1; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    g = autopeft::model::generate(*model, ids, o);
    const double dt =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (i > 0) ms.push_back(dt);
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  std::cout << nlohmann::json{{"impl", "autopeft"},
                              {"median_ms", median},
                              {"tokens_per_s", fresh / (median / 1000.0)},
                              {"tokens", g.tokens}}
                   .dump()
            << "\n";
  return 0;
}
