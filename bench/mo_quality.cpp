// Quality of the multi-objective search engine on standard bi-objective problems: our BO
// (search::propose, default options: a GP per objective and exact EHVI) and random search
// (SearchSpace::sample) on ZDT1, ZDT2 (d=6), DTLZ2 (d=6, 2 objectives) and BraninCurrin (d=2),
// --evaluations per run, --seeds runs each. The problems, reference points and the true fronts'
// hypervolumes are those of ../shared/peers/optuna_mo.py (both objectives minimised). Prints one
// JSON line: per problem and sampler the final hypervolume (mean, std, per seed) and the mean
// hypervolume of the first --checkpoint evaluations of the same runs. Torch-free.
// bench/mo.py runs it beside Optuna's samplers.
//   bench_mo_quality [--evaluations 60] [--seeds 5] [--checkpoint 30] [--problems zdt1,dtlz2]
//                    [--samplers gp,random] [--candidates 1000] [--local-steps 40]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "search/bo.h"
#include "search/pareto.h"
#include "search/search_space.h"

using namespace autopeft::search;

namespace {

bool trace = false;
bool give_reference = false;  // --given-reference: the BO knows the problem's reference point
// --noise F: the BO sees each objective plus N(0, (F |ref_k|)^2); the hypervolume is always that
// of the true values of the evaluated points (as noisy benchmarks score it).
double noise = 0.0;

using Objectives = std::function<Eigen::Vector2d(const std::vector<double>&)>;

struct Problem {
  std::string name;
  Objectives f;
  int dims;
  Eigen::Vector2d ref;
  double hv_max;
};

Eigen::Vector2d zdt(const std::vector<double>& x, double (*second)(double)) {
  const double f1 = x[0];
  double sum = 0;
  for (std::size_t i = 1; i < x.size(); ++i) sum += x[i];
  const double g = 1 + 9 * sum / static_cast<double>(x.size() - 1);
  return {f1, g * second(f1 / g)};
}

Eigen::Vector2d dtlz2(const std::vector<double>& x) {  // m = 2, k = d - 1
  double g = 0;
  for (std::size_t i = 1; i < x.size(); ++i) g += (x[i] - 0.5) * (x[i] - 0.5);
  return {(1 + g) * std::cos(x[0] * M_PI / 2), (1 + g) * std::sin(x[0] * M_PI / 2)};
}

Eigen::Vector2d branin_currin(const std::vector<double>& x) {  // BoTorch's evaluate_true
  const double u = 15 * x[0] - 5, v = 15 * x[1];
  const double t = v - 5.1 / (4 * M_PI * M_PI) * u * u + 5 / M_PI * u - 6;
  const double branin = t * t + 10 * (1 - 1 / (8 * M_PI)) * std::cos(u) + 10;
  const double f1 = x[1] > 0 ? 1 - std::exp(-1 / (2 * x[1])) : 1.0;
  const double currin = f1 * (2300 * std::pow(x[0], 3) + 1900 * x[0] * x[0] + 2092 * x[0] + 60) /
                        (100 * std::pow(x[0], 3) + 500 * x[0] * x[0] + 4 * x[0] + 20);
  return {branin, currin};
}

std::vector<Problem> all_problems() {
  return {
      {"zdt1",
       [](const auto& x) { return zdt(x, [](double r) { return 1 - std::sqrt(r); }); },
       6,
       {11.0, 11.0},
       121 - 1.0 / 3},
      {"zdt2",
       [](const auto& x) { return zdt(x, [](double r) { return 1 - r * r; }); },
       6,
       {11.0, 11.0},
       121 - 2.0 / 3},
      {"dtlz2", dtlz2, 6, {1.1, 1.1}, 1.21 - M_PI / 4},
      {"branincurrin", branin_currin, 2, {18.0, 6.0}, 59.36011874867746},
  };
}

SearchSpace unit_box(int dims) {
  nlohmann::json dims_json = nlohmann::json::array();
  for (int i = 0; i < dims; ++i)
    dims_json.push_back({{"name", "x" + std::to_string(i)}, {"type", "float"}, {"low", 0.0}, {"high", 1.0}});
  return SearchSpace::from_json(dims_json, "bench");
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

double round4(double x) { return std::round(x * 1e4) / 1e4; }

double mean(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / v.size(); }

double stdev(const std::vector<double>& v) {  // sample standard deviation (Python's statistics.stdev)
  if (v.size() < 2) return 0.0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

struct RunResult {
  double hv_final, hv_checkpoint, seconds;
};

RunResult run(const Problem& problem, const std::string& sampler, std::uint64_t seed, int evaluations,
              int checkpoint, const BoOptions& base) {
  const auto space = unit_box(problem.dims);
  std::vector<Observation> history;
  BoState state;
  BoOptions options = base;
  options.budget = evaluations;
  options.design_seed = seed;  // each seed its own scrambled Sobol design
  if (give_reference)
    options.reference = {-problem.ref[0], -problem.ref[1]};  // minimised -> larger is better
  std::mt19937_64 rng(seed), noise_rng(seed * 7919 + 17);
  std::normal_distribution<double> standard;
  Eigen::MatrixXd f(evaluations, 2);
  RunResult r{0, 0, 0};
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < evaluations; ++i) {
    const auto p =
        sampler == "random"
            ? space.sample(rng)
            : propose(space, history, {}, seed * 100003 + static_cast<std::uint64_t>(i), options, state);
    std::vector<double> x(static_cast<std::size_t>(problem.dims));
    for (int k = 0; k < problem.dims; ++k)
      x[static_cast<std::size_t>(k)] = p["x" + std::to_string(k)].get<double>();
    const Eigen::Vector2d y = problem.f(x);
    f.row(i) = y.transpose();
    if (trace)
      std::cerr << problem.name << " " << sampler << " seed " << seed << " #" << i << " f " << y[0] << " "
                << y[1] << " x " << p.dump() << "\n";
    const double n0 = noise * std::abs(problem.ref[0]) * standard(noise_rng),
                 n1 = noise * std::abs(problem.ref[1]) * standard(noise_rng);
    history.push_back(
        {p, {-(y[0] + n0), -(y[1] + n1)}});  // propose maximises: negate the minimised objectives
    if (i + 1 == checkpoint) r.hv_checkpoint = hypervolume_2d(f.topRows(i + 1), problem.ref);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.hv_final = hypervolume_2d(f, problem.ref);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("hypervolume of autopeft's BO and random search on bi-objective test problems");
  int evaluations = 60, seeds = 5, checkpoint = 30;
  std::string problems_arg = "zdt1,zdt2,dtlz2,branincurrin", samplers_arg = "gp,random";
  BoOptions base;
  app.add_option("--evaluations", evaluations);
  app.add_option("--seeds", seeds);
  app.add_option("--checkpoint", checkpoint, "also report the hypervolume after this many evaluations");
  app.add_option("--problems", problems_arg, "comma-separated: zdt1,zdt2,dtlz2,branincurrin");
  app.add_option("--samplers", samplers_arg, "comma-separated: gp,random");
  app.add_option("--candidates", base.candidates, "BoOptions::candidates");
  app.add_option("--local-steps", base.local_steps, "BoOptions::local_steps");
  app.add_option("--initial-design", base.initial_design, "BoOptions::initial_design (-1: default)");
  app.add_option("--reference-point", base.reference_point, "BoOptions::reference_point: observed or front");
  app.add_option("--design", base.initial_design_type, "BoOptions::initial_design_type: sobol or random");
  app.add_option("--output-transform", base.output_transform,
                 "BoOptions::output_transform: standardize or copula");
  app.add_option("--noise", noise, "observation noise sd as a fraction of each objective's reference value");
  app.add_option("--multi-objective", base.multi_objective,
                 "BoOptions::multi_objective: ehvi, nehvi or parego");
  app.add_option("--lengthscale-prior", base.lengthscale_prior,
                 "BoOptions::lengthscale_prior: dimension-scaled or saas");
  app.add_flag("--trace", trace, "print every evaluation to stderr");
  app.add_flag(
      "--given-reference", give_reference,
      "give the BO the problem's reference point (BoOptions::reference), as BoTorch's benchmarks do");
  CLI11_PARSE(app, argc, argv);

  const auto wanted = split(problems_arg);
  const auto samplers = split(samplers_arg);
  nlohmann::ordered_json results = nlohmann::ordered_json::object();
  for (const auto& problem : all_problems()) {
    if (std::find(wanted.begin(), wanted.end(), problem.name) == wanted.end()) continue;
    nlohmann::ordered_json per = nlohmann::ordered_json::object();
    per["ref"] = {problem.ref[0], problem.ref[1]};
    per["hv_max"] = round4(problem.hv_max);
    for (const auto& sampler : samplers) {
      if (sampler != "gp" && sampler != "random") {
        std::cerr << "unknown sampler " << sampler << "\n";
        return 2;
      }
      std::vector<double> hv, hv_at, secs;
      for (int s = 0; s < seeds; ++s) {
        const auto r = run(problem, sampler, static_cast<std::uint64_t>(s), evaluations, checkpoint, base);
        hv.push_back(r.hv_final);
        hv_at.push_back(r.hv_checkpoint);
        secs.push_back(r.seconds);
      }
      nlohmann::ordered_json row;
      row["hv_mean"] = round4(mean(hv));
      row["hv_std"] = round4(stdev(hv));
      row["hv"] = nlohmann::ordered_json::array();
      for (double h : hv) row["hv"].push_back(round4(h));
      row["hv_mean_at_checkpoint"] = round4(mean(hv_at));
      row["hv_std_at_checkpoint"] = round4(stdev(hv_at));
      row["seconds_per_run"] = std::round(mean(secs) * 1000) / 1000;
      per[sampler] = row;
    }
    results[problem.name] = per;
  }
  nlohmann::ordered_json out;
  out["bench"] = "mo_quality";
  out["evaluations"] = evaluations;
  out["checkpoint"] = checkpoint;
  out["seeds"] = seeds;
  out["bo_options"] = {
      {"initial_design", base.initial_design},     {"candidates", base.candidates},
      {"local_steps", base.local_steps},           {"multi_objective", base.multi_objective},
      {"reference_point", base.reference_point},   {"design", base.initial_design_type},
      {"given_reference", give_reference},         {"noise", noise},
      {"output_transform", base.output_transform}, {"lengthscale_prior", base.lengthscale_prior}};
  out["results"] = results;
  std::cout << out.dump() << std::endl;
  return 0;
}
