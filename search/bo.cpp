#include "search/bo.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <set>
#include <tuple>

#include "core/errors.h"
#include "search/acquisition.h"
#include "search/ehvi.h"
#include "search/gp_fit.h"
#include "search/nehvi.h"
#include "search/output_transform.h"
#include "search/pareto.h"
#include "search/sobol.h"

namespace autopeft::search {

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
  throw SpaceExhausted("search space: no configuration is left that was not evaluated or pending");
}

nlohmann::json propose(const SearchSpace& space, const std::vector<Observation>& complete,
                       const std::vector<nlohmann::json>& pending, std::uint64_t seed,
                       const BoOptions& options, BoState& state) {
  std::mt19937_64 rng(seed);
  std::set<std::string> seen;
  for (const auto& o : complete) seen.insert(o.params.dump());
  for (const auto& p : pending) seen.insert(p.dump());
  const int d = space.encoded_size();
  const int dims = static_cast<int>(space.dimensions().size());
  const int init = options.initial_design >= 0
                       ? options.initial_design
                       : std::max(5, std::min(2 * dims, std::max(1, options.budget / 5)));
  if (static_cast<int>(complete.size() + pending.size()) < init || complete.size() < 2) {
    if (options.initial_design_type == "sobol" && dims > 0) {
      const ScrambledSobol design(dims, options.design_seed);
      auto index = static_cast<std::uint64_t>(
          options.design_index >= 0 ? options.design_index
                                    : static_cast<std::int64_t>(complete.size() + pending.size()));
      for (int step = 0; step < 1000; ++step, ++index) {
        auto p = space.from_unit(design.point(index));
        if (!seen.count(p.dump()) && (!options.feasible || options.feasible(p))) return p;
      }
    }
    return random_new(space, rng, seen, options.feasible);
  }

  const std::size_t m = complete.front().values.size();
  const auto n = static_cast<Eigen::Index>(complete.size());
  Eigen::MatrixXd X(n, d);
  for (Eigen::Index i = 0; i < n; ++i)
    X.row(i) = space.encode(complete[static_cast<std::size_t>(i)].params).transpose();
  if (!state.gp_params.is_object()) state.gp_params = nlohmann::json::object();

  // One surrogate per target: a GP on the standardised values, warm-started from the stored
  // hyper-parameters, with pending points as Kriging-believer observations.
  auto surrogate = [&](const Eigen::VectorXd& y, const std::string& key) {
    OutputTransform transform(options.output_transform, y);
    const Eigen::VectorXd ys = transform(y);
    auto gp = std::make_unique<GaussianProcess>(KernelType::matern52, d);
    bool warm = false;
    if (state.gp_params.contains(key)) {
      const auto& saved = state.gp_params[key];
      if (saved.is_array() && static_cast<int>(saved.size()) == gp->num_params()) {
        Eigen::VectorXd theta(gp->num_params());
        for (int i = 0; i < gp->num_params(); ++i)
          theta[i] = saved[static_cast<std::size_t>(i)].get<double>();
        gp->set_params(theta);
        warm = true;
      }
    }
    // A full fit (random restarts) while the history is small, when nothing is stored, and every
    // full_fit_every new observations; between them a warm-started fit from the stored parameters.
    const std::string full_key = key + "@full_fit_n";
    const auto last_full = state.gp_params.value(full_key, std::int64_t{-1});
    const bool full =
        !warm || n <= options.full_fit_below || last_full < 0 || n - last_full >= options.full_fit_every;
    GpFitOptions fit;
    fit.seed = rng();
    fit.lengthscale_prior.saas = options.lengthscale_prior == "saas";
    if (!full) {
      fit.restarts = 0;
      fit.max_evaluations = options.warm_fit_evaluations;
    }
    fit_hyperparameters(*gp, X, ys, fit);
    const Eigen::VectorXd theta = gp->params();
    state.gp_params[key] = std::vector<double>(theta.data(), theta.data() + theta.size());
    if (full) state.gp_params[full_key] = static_cast<std::int64_t>(n);
    if (!pending.empty()) {
      Eigen::MatrixXd Xp(n + static_cast<Eigen::Index>(pending.size()), d);
      Eigen::VectorXd yp(Xp.rows());
      Xp.topRows(n) = X;
      yp.head(n) = ys;
      for (std::size_t i = 0; i < pending.size(); ++i) {
        const Eigen::VectorXd u = space.encode(pending[i]);
        Eigen::VectorXd mu, var;
        gp->predict(u.transpose(), mu, var);
        Xp.row(n + static_cast<Eigen::Index>(i)) = u.transpose();
        yp[n + static_cast<Eigen::Index>(i)] = mu[0];
      }
      gp->fit(Xp, yp);
    }
    return std::make_tuple(std::move(gp), ys, std::move(transform));
  };

  // The acquisition of every row of U (encoded points).
  std::function<Eigen::VectorXd(const Eigen::MatrixXd&)> score;
  std::vector<std::unique_ptr<GaussianProcess>> gps;
  std::unique_ptr<AcquisitionFunction> acq;
  const bool ehvi = m >= 2 && (options.multi_objective == "ehvi" || options.multi_objective == "nehvi");
  if (ehvi) {
    // EHVI in the transformed (minimised) space: exact for two objectives, Monte Carlo beyond.
    const auto M = static_cast<Eigen::Index>(m);
    Eigen::MatrixXd front(n, M);
    Eigen::VectorXd ref(M), given(M);
    const bool has_given = options.reference.size() == m;
    for (std::size_t k = 0; k < m; ++k) {
      Eigen::VectorXd y(n);
      for (Eigen::Index i = 0; i < n; ++i) y[i] = complete[static_cast<std::size_t>(i)].values[k];
      auto [gp, ys, transform] = surrogate(y, "ehvi." + std::to_string(k));
      front.col(static_cast<Eigen::Index>(k)) = -ys;       // larger is better -> minimise
      if (has_given && !std::isnan(options.reference[k]))  // as the GP's outputs
        given[static_cast<Eigen::Index>(k)] = -transform(options.reference[k]);
      gps.push_back(std::move(gp));
    }
    // The reference point: the worst of each objective (over every observation, or over the
    // non-dominated ones: the front's nadir, as BoTorch's infer_reference_point) plus 10 % of
    // that objective's range over the same points.
    Eigen::MatrixXd basis = front;
    if (options.reference_point == "front") {
      const auto idx = pareto_front(front);
      basis.resize(static_cast<Eigen::Index>(idx.size()), M);
      for (std::size_t i = 0; i < idx.size(); ++i)
        basis.row(static_cast<Eigen::Index>(i)) = front.row(idx[i]);
    }
    for (Eigen::Index k = 0; k < M; ++k) {
      const double worst = basis.col(k).maxCoeff(), best = basis.col(k).minCoeff();
      ref[k] = worst + 0.1 * std::max(1e-9, worst - best);
      if (has_given && !std::isnan(options.reference[static_cast<std::size_t>(k)])) ref[k] = given[k];
    }
    // Monte Carlo: the same standard normal draws for every candidate (common random numbers).
    Eigen::MatrixXd normals(m == 2 ? 0 : options.mc_samples, M);
    std::normal_distribution<double> standard;
    for (Eigen::Index r = 0; r < normals.rows(); ++r)
      for (Eigen::Index k = 0; k < M; ++k) normals(r, k) = standard(rng);
    if (options.multi_objective == "nehvi") {
      std::vector<const GaussianProcess*> models;
      for (const auto& gp : gps) models.push_back(gp.get());
      auto nehvi = std::make_shared<const NoisyEhvi>(models, ref, options.mc_samples, rng());
      score = [nehvi](const Eigen::MatrixXd& U) { return (*nehvi)(U); };
    }
    if (!score) {
      auto mc = std::make_shared<const MonteCarloEhvi>(front, ref, std::move(normals));
      score = [&, front, ref, mc, M](const Eigen::MatrixXd& U) {
        Eigen::MatrixXd mean(U.rows(), M), sd(U.rows(), M);
        for (Eigen::Index k = 0; k < M; ++k) {  // one batched prediction per objective
          Eigen::VectorXd mu, var;
          gps[static_cast<std::size_t>(k)]->predict(U, mu, var);
          mean.col(k) = -mu;
          sd.col(k) = var.cwiseMax(0.0).cwiseSqrt();
        }
        Eigen::VectorXd out(U.rows());
        for (Eigen::Index i = 0; i < U.rows(); ++i)
          out[i] = M == 2 ? ehvi_2d(front, ref.head<2>(), mean.row(i).transpose().head<2>(),
                                    sd.row(i).transpose().head<2>())
                          : (*mc)(mean.row(i).transpose(), sd.row(i).transpose());
        return out;
      };
    }
  } else {
    // One objective as it is; several scalarised (ParEGO: random simplex weights, augmented
    // Chebyshev of the objectives normalised to [0, 1]).
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
    auto [gp, ys, transform] = surrogate(y, m == 1 ? "single" : "parego");
    gps.push_back(std::move(gp));
    acq = make_acquisition(options.acquisition, {gps.front().get(), ys.maxCoeff(), nullptr});
    score = [&](const Eigen::MatrixXd& U) {
      Eigen::VectorXd out(U.rows());
      for (Eigen::Index i = 0; i < U.rows(); ++i) out[i] = acq->value(U.row(i).transpose());
      return out;
    };
  }

  // Random candidates (scored in one batch), then local search from the best few.
  std::vector<nlohmann::json> candidates;
  for (int c = 0; c < options.candidates; ++c) {
    auto p = space.sample(rng);
    if (seen.count(p.dump()) || (options.feasible && !options.feasible(p))) continue;
    candidates.push_back(std::move(p));
  }
  if (candidates.empty()) return random_new(space, rng, seen, options.feasible);
  Eigen::MatrixXd U(static_cast<Eigen::Index>(candidates.size()), d);
  for (std::size_t c = 0; c < candidates.size(); ++c)
    U.row(static_cast<Eigen::Index>(c)) = space.encode(candidates[c]).transpose();
  const Eigen::VectorXd values = score(U);
  std::vector<std::pair<double, nlohmann::json>> scored;
  for (std::size_t c = 0; c < candidates.size(); ++c)
    scored.emplace_back(values[static_cast<Eigen::Index>(c)], std::move(candidates[c]));
  std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  scored.resize(std::min<std::size_t>(5, scored.size()));
  // Local search over neighbours (one dimension one step: SearchSpace::neighbour) from the best
  // five candidates and from up to five observed non-dominated points (AutoPEFT restarts near its
  // Pareto points); every step scores one neighbour per start in one batch and keeps improvements.
  auto starts = scored;
  {
    Eigen::MatrixXd minimised(n, static_cast<Eigen::Index>(m));
    for (Eigen::Index i = 0; i < n; ++i)
      for (std::size_t k = 0; k < m; ++k)
        minimised(i, static_cast<Eigen::Index>(k)) = -complete[static_cast<std::size_t>(i)].values[k];
    auto front = pareto_front(minimised);
    std::shuffle(front.begin(), front.end(), rng);
    for (std::size_t i = 0; i < front.size() && i < 5; ++i)
      starts.emplace_back(-std::numeric_limits<double>::infinity(),
                          complete[static_cast<std::size_t>(front[i])].params);
  }
  // With float dimensions, each start also tries a joint move: every encoded coordinate by
  // N(0, 0.05^2), decoded (a single coordinate at a time is slow on smooth continuous problems).
  const bool joint = std::any_of(space.dimensions().begin(), space.dimensions().end(),
                                 [](const Dimension& dim) { return dim.type == DimType::real; });
  std::normal_distribution<double> jiggle(0.0, 0.05);
  for (int s = 0; s < options.local_steps; ++s) {
    std::vector<std::size_t> which;
    std::vector<nlohmann::json> moves;
    auto consider = [&](std::size_t i, nlohmann::json q) {
      if (seen.count(q.dump()) || (options.feasible && !options.feasible(q))) return;
      which.push_back(i);
      moves.push_back(std::move(q));
    };
    for (std::size_t i = 0; i < starts.size(); ++i) {
      consider(i, space.neighbour(starts[i].second, rng));
      if (joint) {
        Eigen::VectorXd u = space.encode(starts[i].second);
        for (Eigen::Index k = 0; k < u.size(); ++k) u[k] = std::clamp(u[k] + jiggle(rng), 0.0, 1.0);
        consider(i, space.decode(u));
      }
    }
    if (moves.empty()) continue;
    Eigen::MatrixXd M(static_cast<Eigen::Index>(moves.size()), d);
    for (std::size_t i = 0; i < moves.size(); ++i)
      M.row(static_cast<Eigen::Index>(i)) = space.encode(moves[i]).transpose();
    const Eigen::VectorXd v = score(M);
    for (std::size_t i = 0; i < moves.size(); ++i)
      if (v[static_cast<Eigen::Index>(i)] > starts[which[i]].first)
        starts[which[i]] = {v[static_cast<Eigen::Index>(i)], std::move(moves[i])};
  }
  auto best_pair = scored.front();
  for (const auto& start : starts)  // observed starts that never moved keep -inf (and are taken)
    if (start.first > best_pair.first) best_pair = start;
  return best_pair.second;
}

}  // namespace autopeft::search
