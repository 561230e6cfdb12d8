// Search quality on a PEFT-like problem: the `per-layer` space of a BERT-base-sized encoder
// (12 layers x {serial adapter, parallel adapter, prefix length, LoRA rank}: 48 ordinal
// dimensions), two objectives: a synthetic accuracy (maximised) and the exact params_percent of
// the configuration (minimised, closed form from peft/spec), under a params_percent_max
// constraint. autopeft's GP + EHVI (the study controller's options: scrambled Sobol design,
// params_percent's reference at the budget) against random search over the feasible
// configurations, both with the same evaluations; hypervolume with the reference point
// (accuracy 0.5, params_percent = the budget). Prints one JSON line. Torch-free.
//
// The synthetic accuracy has the structure AutoPEFT reports: the upper layers matter more,
// returns diminish within a layer (modules at one layer partly substitute for each other),
// prefix-tuning helps little in the lowest layers, and the whole saturates:
//   c_l   = sqrt(a_s log2(1+s) + a_p log2(1+p) + a_q(l) log2(1+q) + a_r log2(1+r))   (layer l)
//   acc   = 0.5 + 0.4 (1 - exp(-sum_l w_l c_l / 12)) + N(0, 0.003^2),  w_l = 0.4 + 1.2 l / 11
//   bench_peft_like [--evaluations 100] [--seeds 3] [--budget-percent 2] [--checkpoint 50]
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "peft/spec/peft_config.h"
#include "peft/spec/search_spaces.h"
#include "search/bo.h"
#include "search/pareto.h"
#include "search/search_space.h"

using namespace autopeft;

namespace {

double accuracy(const nlohmann::json& p, std::mt19937_64& noise_rng) {
  double total = 0;
  for (int l = 0; l < 12; ++l) {
    const std::string L = "layer." + std::to_string(l) + ".";
    auto v = [&](const std::string& key) { return std::log2(1.0 + p.at(L + key).get<double>()); };
    const double prefix_weight = l < 4 ? 0.1 : 0.6;
    const double c = std::sqrt(0.8 * v("serial_adapter.size") + 0.7 * v("parallel_adapter.size") +
                               prefix_weight * v("prefix.length") + 0.9 * v("lora.r"));
    total += (0.4 + 1.2 * l / 11.0) * c;
  }
  std::normal_distribution<double> noise(0.0, 0.003);
  return 0.5 + 0.4 * (1.0 - std::exp(-total / 12.0)) + noise(noise_rng);
}

struct Run {
  double hv_final = 0, hv_checkpoint = 0, seconds = 0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("hypervolume of GP + EHVI and of random search on a PEFT-like per-layer problem");
  int evaluations = 100, seeds = 3, checkpoint = 50;
  double budget = 2.0;
  app.add_option("--evaluations", evaluations);
  app.add_option("--seeds", seeds);
  app.add_option("--checkpoint", checkpoint);
  app.add_option("--budget-percent", budget, "params_percent_max");
  std::vector<std::string> samplers = {"gp", "random"};
  app.add_option("--samplers", samplers, "gp, gp-saas (the SAAS lengthscale prior), random")->delimiter(',');
  CLI11_PARSE(app, argc, argv);

  const auto dims = peft::bert_base_dims();
  const auto space = search::SearchSpace::from_json(peft::space_preset("per-layer", dims), "per-layer");
  auto percent = [&](const nlohmann::json& p) {
    return peft::count_parameters(peft::config_from_params("per-layer", p, dims), dims).params_percent;
  };
  const auto feasible = [&](const nlohmann::json& p) { return percent(p) <= budget; };
  const Eigen::Vector2d ref(-0.5, budget);  // minimised: -accuracy, params_percent

  auto run = [&](const std::string& sampler, std::uint64_t seed) {
    std::mt19937_64 rng(seed), noise_rng(seed * 7919 + 1);
    std::vector<search::Observation> history;
    search::BoState state;
    search::BoOptions o;
    o.budget = evaluations;
    o.feasible = feasible;
    o.design_seed = seed;
    o.reference = {std::nan(""), -budget};  // as the controller sets it under params_percent_max
    o.lengthscale_prior = sampler == "gp-saas" ? "saas" : "dimension-scaled";
    std::set<std::string> seen;
    Eigen::MatrixXd f(evaluations, 2);
    Run r;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < evaluations; ++i) {
      o.design_index = i;
      const auto p = sampler == "random" ? search::random_new(space, rng, seen, feasible)
                                         : search::propose(space, history, {}, seed * 100003 + i, o, state);
      seen.insert(p.dump());
      const double acc = accuracy(p, noise_rng), pct = percent(p);
      f.row(i) << -acc, pct;
      history.push_back({p, {acc, -pct}});
      if (i + 1 == checkpoint) r.hv_checkpoint = search::hypervolume_2d(f.topRows(i + 1), ref);
    }
    r.hv_final = search::hypervolume_2d(f, ref);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
  };

  nlohmann::ordered_json results;
  for (const auto& sampler : samplers) {
    std::vector<double> finals, checks, secs;
    for (int s = 0; s < seeds; ++s) {
      const auto r = run(sampler, static_cast<std::uint64_t>(s));
      finals.push_back(r.hv_final);
      checks.push_back(r.hv_checkpoint);
      secs.push_back(r.seconds);
      std::cerr << sampler << " seed " << s << ": hv " << r.hv_final << " (" << r.seconds << " s)"
                << std::endl;
    }
    auto mean = [](const std::vector<double>& v) {
      double t = 0;
      for (double x : v) t += x;
      return t / static_cast<double>(v.size());
    };
    auto sd = [&](const std::vector<double>& v) {
      const double m = mean(v);
      double t = 0;
      for (double x : v) t += (x - m) * (x - m);
      return v.size() > 1 ? std::sqrt(t / static_cast<double>(v.size() - 1)) : 0.0;
    };
    results[sampler] = {{"hv_mean", mean(finals)},
                        {"hv_std", sd(finals)},
                        {"hv", finals},
                        {"hv_mean_at_checkpoint", mean(checks)},
                        {"seconds_per_run", mean(secs)}};
  }
  nlohmann::ordered_json out;
  out["bench"] = "peft_like";
  out["space"] = "per-layer, 12 layers (48 ordinal dimensions), BERT-base dimensions";
  out["evaluations"] = evaluations;
  out["checkpoint"] = checkpoint;
  out["seeds"] = seeds;
  out["params_percent_max"] = budget;
  out["reference"] = {{"accuracy", 0.5}, {"params_percent", budget}};
  out["results"] = results;
  if (results.contains("random"))
    for (const auto& s : samplers)
      if (s != "random")
        out[s + "_over_random"] =
            results[s]["hv_mean"].get<double>() / results["random"]["hv_mean"].get<double>();
  std::cout << out.dump() << std::endl;
}
