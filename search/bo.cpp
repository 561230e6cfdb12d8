#include "search/bo.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "core/errors.h"
#include "search/acquisition.h"
#include "search/gp_fit.h"

namespace autopeft::search {

namespace {}  // namespace

nlohmann::json random_new(const SearchSpace& space, std::mt19937_64& rng, const std::set<std::string>& seen,
                          const std::function<bool(const nlohmann::json&)>& feasible) {
  bool any_feasible = false;
  for (int attempt = 0; attempt < 10000; ++attempt) {
    auto p = space.sample(rng);
    if (feasible && !feasible(p)) continue;
    any_feasible = true;
    if (!seen.count(p.dump())) return p;
  }
  if (!any_feasible)
    throw_user_error("constraints", "10,000 random points of the search space all break the constraints");
  throw_user_error("search space", "no configuration is left that was not evaluated or pending");
}

namespace {}  // namespace

nlohmann::json propose(const SearchSpace& space, const std::vector<Observation>& complete,
                       const std::vector<nlohmann::json>& pending, std::uint64_t seed,
                       const BoOptions& options, BoState& state) {
  std::mt19937_64 rng(seed);
  std::set<std::string> seen;
  for (const auto& o : complete) seen.insert(o.params.dump());
  for (const auto& p : pending) seen.insert(p.dump());
  const int d = space.encoded_size();
  const int init = options.initial_design >= 0
                       ? options.initial_design
                       : std::max(5, std::min(2 * d, std::max(1, options.budget / 5)));
  if (static_cast<int>(complete.size() + pending.size()) < init || complete.size() < 2)
    return random_new(space, rng, seen, options.feasible);

  // The target: one objective as it is, several scalarised (ParEGO).
  const std::size_t m = complete.front().values.size();
  const auto n = static_cast<Eigen::Index>(complete.size());
  Eigen::VectorXd y(n);
  if (m == 1) {
    for (Eigen::Index i = 0; i < n; ++i) y[i] = complete[static_cast<std::size_t>(i)].values[0];
  } else {
    std::exponential_distribution<double> e(1.0);
    std::vector<double> w(m);
    double sum = 0;
    for (auto& x : w) sum += (x = e(rng));
    for (auto& x : w) x /= sum;
    std::vector<double> lo(m, 1e300), hi(m, -1e300);
    for (const auto& o : complete)
      for (std::size_t k = 0; k < m; ++k) {
        lo[k] = std::min(lo[k], o.values[k]);
        hi[k] = std::max(hi[k], o.values[k]);
      }
    for (Eigen::Index i = 0; i < n; ++i) {
      // Augmented Chebyshev on the shortfall from the best (normalised): to be minimised.
      double worst = 0, total = 0;
      for (std::size_t k = 0; k < m; ++k) {
        const double range = hi[k] > lo[k] ? hi[k] - lo[k] : 1.0;
        const double f = w[k] * (hi[k] - complete[static_cast<std::size_t>(i)].values[k]) / range;
        worst = std::max(worst, f);
        total += f;
      }
      y[i] = -(worst + 0.05 * total);
    }
  }
  const double mean = y.mean();
  const double sd =
      std::max(1e-12, std::sqrt((y.array() - mean).square().sum() / std::max<Eigen::Index>(1, n - 1)));
  const Eigen::VectorXd ys = (y.array() - mean) / sd;
  Eigen::MatrixXd X(n, d);
  for (Eigen::Index i = 0; i < n; ++i)
    X.row(i) = space.encode(complete[static_cast<std::size_t>(i)].params).transpose();

  GaussianProcess gp(KernelType::matern52, d);
  const std::string key = m == 1 ? "single" : "parego";
  if (state.gp_params.is_object() && state.gp_params.contains(key)) {
    const auto& saved = state.gp_params[key];
    if (saved.is_array() && static_cast<int>(saved.size()) == gp.num_params()) {
      Eigen::VectorXd theta(gp.num_params());
      for (int i = 0; i < gp.num_params(); ++i) theta[i] = saved[static_cast<std::size_t>(i)].get<double>();
      gp.set_params(theta);
    }
  }
  GpFitOptions fit;
  fit.seed = rng();
  fit_hyperparameters(gp, X, ys, fit);
  const Eigen::VectorXd theta = gp.params();
  if (!state.gp_params.is_object()) state.gp_params = nlohmann::json::object();
  state.gp_params[key] = std::vector<double>(theta.data(), theta.data() + theta.size());
  const double best = ys.maxCoeff();

  // Kriging believer: pending points as observations at the posterior mean.
  if (!pending.empty()) {
    Eigen::MatrixXd Xp(n + static_cast<Eigen::Index>(pending.size()), d);
    Eigen::VectorXd yp(Xp.rows());
    Xp.topRows(n) = X;
    yp.head(n) = ys;
    for (std::size_t i = 0; i < pending.size(); ++i) {
      const Eigen::VectorXd u = space.encode(pending[i]);
      Eigen::VectorXd mu, var;
      gp.predict(u.transpose(), mu, var);
      Xp.row(n + static_cast<Eigen::Index>(i)) = u.transpose();
      yp[n + static_cast<Eigen::Index>(i)] = mu[0];
    }
    gp.fit(Xp, yp);
  }
  const auto acq = make_acquisition(options.acquisition, {&gp, best, nullptr});

  // Random candidates, then local search from the best few.
  std::vector<std::pair<double, nlohmann::json>> scored;
  for (int c = 0; c < options.candidates; ++c) {
    auto p = space.sample(rng);
    if (seen.count(p.dump()) || (options.feasible && !options.feasible(p))) continue;
    scored.emplace_back(acq->value(space.encode(p)), p);
  }
  if (scored.empty()) return random_new(space, rng, seen, options.feasible);
  std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  scored.resize(std::min<std::size_t>(5, scored.size()));
  std::normal_distribution<double> step(0.0, 0.05);
  auto best_pair = scored.front();
  for (auto& [value, p] : scored) {
    for (int s = 0; s < options.local_steps; ++s) {
      Eigen::VectorXd u = space.encode(p);
      for (Eigen::Index i = 0; i < u.size(); ++i) u[i] = std::clamp(u[i] + step(rng), 0.0, 1.0);
      auto q = space.decode(u);
      if (seen.count(q.dump()) || (options.feasible && !options.feasible(q))) continue;
      const double v = acq->value(space.encode(q));
      if (v > value) {
        value = v;
        p = q;
      }
    }
    if (value > best_pair.first) best_pair = {value, p};
  }
  return best_pair.second;
}

}  // namespace autopeft::search
