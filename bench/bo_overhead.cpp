// Cost of one BO proposal: milliseconds of search::propose (two objectives, default options:
// a GP per objective, MAP fit with restarts, exact EHVI over 1,000 candidates plus local search)
// with a cold BoState (no stored hyper-parameters) and a warm one (the state the previous
// proposal left, as a study stores it), and of one cold full hyper-parameter fit
// (fit_hyperparameters, default GpFitOptions, one objective), for n observations in d
// dimensions. Observations are synthetic: n + 1 uniform random points of [0, 1]^d (floats) with
// two conflicting smooth objectives plus a little noise. Cold: propose on the first n
// observations; warm: propose on n + 1 with the state the cold call left (beyond
// BoOptions::full_fit_below a warm proposal only refits from the stored hyper-parameters);
// amortised: one cold and full_fit_every - 1 warm proposals, as a long study pays them. Sizes of n at or
// above
// --optional-from are skipped (and the output says so, with the estimate) when their estimated
// time, from one likelihood-and-gradient evaluation, is above --max-config-seconds. Prints one
// JSON line. Torch-free.
//   bench_bo_overhead [--n 50,200,500,1000] [--d 15,48,96] [--repeats 3] [--max-config-seconds 60]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "search/bo.h"
#include "search/gaussian_process.h"
#include "search/gp_fit.h"
#include "search/search_space.h"

using namespace autopeft::search;

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::vector<int> split_ints(const std::string& s) {
  std::vector<int> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(std::stoi(item));
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto k = v.size() / 2;
  return v.size() % 2 ? v[k] : 0.5 * (v[k - 1] + v[k]);
}

double round3(double x) { return std::round(x * 1e3) / 1e3; }

SearchSpace unit_box(int dims) {
  nlohmann::json dims_json = nlohmann::json::array();
  for (int i = 0; i < dims; ++i)
    dims_json.push_back({{"name", "x" + std::to_string(i)}, {"type", "float"}, {"low", 0.0}, {"high", 1.0}});
  return SearchSpace::from_json(dims_json, "bench");
}

// n uniform points with two conflicting objectives (larger is better): minus the mean squared
// distance to 0.3 and to 0.7 per coordinate, plus N(0, 0.01^2) noise.
std::vector<Observation> synthetic(int n, int d, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::normal_distribution<double> noise(0.0, 0.01);
  std::vector<Observation> obs;
  for (int i = 0; i < n; ++i) {
    nlohmann::json p = nlohmann::json::object();
    double a = 0, b = 0;
    for (int k = 0; k < d; ++k) {
      const double x = unit(rng);
      p["x" + std::to_string(k)] = x;
      a += (x - 0.3) * (x - 0.3);
      b += (x - 0.7) * (x - 0.7);
    }
    obs.push_back({p, {-a / d + noise(rng), -b / d + noise(rng)}});
  }
  return obs;
}

void design(const SearchSpace& space, const std::vector<Observation>& obs, int n, Eigen::MatrixXd& X,
            Eigen::VectorXd& ys) {
  X.resize(n, space.encoded_size());
  Eigen::VectorXd y(n);
  for (int i = 0; i < n; ++i) {
    X.row(i) = space.encode(obs[static_cast<std::size_t>(i)].params).transpose();
    y[i] = obs[static_cast<std::size_t>(i)].values[0];
  }
  const double m = y.mean();
  const double sd = std::sqrt((y.array() - m).square().sum() / std::max(1, n - 1));
  ys = (y.array() - m) / std::max(1e-12, sd);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("milliseconds per BO proposal (cold and warm) and per full hyper-parameter fit");
  std::string n_arg = "50,200,500,1000", d_arg = "15,48,96";
  int repeats = 3, optional_from = 1000;
  double max_config_seconds = 60;
  std::uint64_t seed = 0;
  app.add_option("--n", n_arg, "observation counts, comma-separated");
  app.add_option("--d", d_arg, "dimensions, comma-separated");
  app.add_option("--repeats", repeats, "repetitions (median) for n <= 200; larger n run once");
  app.add_option("--optional-from", optional_from, "n at or above which a configuration may be skipped");
  app.add_option("--max-config-seconds", max_config_seconds,
                 "skip an optional configuration estimated above this");
  app.add_option("--seed", seed);
  std::string prior = BoOptions{}.lengthscale_prior;
  app.add_option("--lengthscale-prior", prior, "BoOptions::lengthscale_prior: saas or dimension-scaled");
  CLI11_PARSE(app, argc, argv);

  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  nlohmann::ordered_json skipped = nlohmann::ordered_json::array();
  const auto total0 = Clock::now();
  for (int d : split_ints(d_arg)) {
    const auto space = unit_box(d);
    int last_fit_evaluations = 5 * 150;  // GpFitOptions' restarts + 1 starts x max_evaluations
    for (int n : split_ints(n_arg)) {
      const auto obs = synthetic(n + 1, d, seed * 1000003 + static_cast<std::uint64_t>(d) * 7919 + n);
      Eigen::MatrixXd X;
      Eigen::VectorXd ys;
      design(space, obs, n, X, ys);

      // One likelihood-and-gradient evaluation at the default parameters: the unit of a fit.
      double eval_ms;
      {
        GaussianProcess gp(KernelType::matern52, d);
        const auto t0 = Clock::now();
        gp.fit(X, ys);
        (void)gp.log_marginal_likelihood();
        (void)gp.log_marginal_likelihood_gradient();
        eval_ms = ms_since(t0);
      }
      // A config costs about five fits (two per proposal, cold and warm, and the lone fit).
      const double estimate_s = 5.0 * last_fit_evaluations * eval_ms / 1000.0;
      if (n >= optional_from && estimate_s > max_config_seconds) {
        skipped.push_back({{"n", n},
                           {"d", d},
                           {"estimated_seconds", std::round(estimate_s)},
                           {"ms_per_likelihood_evaluation", round3(eval_ms)},
                           {"reason", "estimated above --max-config-seconds"}});
        continue;
      }
      const auto config0 = Clock::now();

      BoOptions options;
      options.initial_design = 2;  // always the model path, never the random initial design
      options.lengthscale_prior = prior;
      options.budget = n + 1;
      const int reps = n <= 200 ? std::max(1, repeats) : 1;
      const std::vector<Observation> first_n(obs.begin(), obs.begin() + n);
      std::vector<double> cold_ms, warm_ms;
      for (int r = 0; r < reps; ++r) {
        BoState state;
        auto t0 = Clock::now();
        propose(space, first_n, {}, seed * 101 + static_cast<std::uint64_t>(r), options, state);
        cold_ms.push_back(ms_since(t0));
        t0 = Clock::now();
        propose(space, obs, {}, seed * 101 + static_cast<std::uint64_t>(r) + 50, options, state);
        warm_ms.push_back(ms_since(t0));
      }

      std::vector<double> fit_ms;
      int fit_evaluations = 0;
      for (int r = 0; r < reps; ++r) {
        GaussianProcess gp(KernelType::matern52, d);
        GpFitOptions fit;
        fit.lengthscale_prior.saas = prior == "saas";
        fit.seed = seed * 7 + static_cast<std::uint64_t>(r);
        const auto t0 = Clock::now();
        const auto result = fit_hyperparameters(gp, X, ys, fit);
        fit_ms.push_back(ms_since(t0));
        fit_evaluations = result.evaluations;
      }
      last_fit_evaluations = std::max(1, fit_evaluations);

      nlohmann::ordered_json row;
      row["n"] = n;
      row["d"] = d;
      row["repeats"] = reps;
      row["propose_cold_ms"] = round3(median(cold_ms));
      row["propose_warm_ms"] = round3(median(warm_ms));
      // A study pays one cold (full-fit) proposal per full_fit_every beyond full_fit_below.
      const int every = n > options.full_fit_below ? options.full_fit_every : 1;
      row["propose_amortised_ms"] = round3((median(cold_ms) + (every - 1) * median(warm_ms)) / every);
      row["fit_cold_ms"] = round3(median(fit_ms));
      row["fit_evaluations"] = fit_evaluations;
      row["ms_per_likelihood_evaluation"] = round3(eval_ms);
      row["config_seconds"] = round3(ms_since(config0) / 1000);
      rows.push_back(row);
      std::cerr << row.dump() << std::endl;  // progress
    }
  }
  nlohmann::ordered_json out;
  out["bench"] = "bo_overhead";
  out["objectives"] = 2;
  out["options"] = {{"lengthscale_prior", prior},
                    {"candidates", BoOptions{}.candidates},
                    {"full_fit_below", BoOptions{}.full_fit_below},
                    {"full_fit_every", BoOptions{}.full_fit_every},
                    {"warm_fit_evaluations", BoOptions{}.warm_fit_evaluations},
                    {"local_steps", BoOptions{}.local_steps},
                    {"fit_restarts", GpFitOptions{}.restarts},
                    {"fit_max_evaluations_per_start", GpFitOptions{}.max_evaluations}};
  out["results"] = rows;
  out["skipped"] = skipped;
  out["total_seconds"] = round3(ms_since(total0) / 1000);
  std::cout << out.dump() << std::endl;
  return 0;
}
