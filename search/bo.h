#pragma once
// One Bayesian-optimisation proposal, stateless given the history (the study stores it):
//   - below the initial-design size (max(5, min(2d, budget/5)) unless set), the next point of a
//     scrambled Sobol design (or a random point);
//   - one objective: a GP (MAP hyper-parameters, warm-started) on the standardised outputs and
//     log-EI over the best observation;
//   - two objectives: a GP per objective and the exact expected hypervolume improvement
//     (search/ehvi.h) over the observed front, reference point inferred from the observations;
//   - more objectives: Monte-Carlo EHVI over independent per-objective GPs (search/ehvi.h;
//     the observed front taken as it is);
//   - multi_objective = "nehvi": Monte-Carlo noisy EHVI for any number of objectives
//     (search/nehvi.h): the front itself is sampled from the posterior, for noisy objectives;
//   - multi_objective = "parego": ParEGO (Knowles 2006): a random weight vector from the
//     simplex, the augmented Chebyshev scalarisation of the objectives normalised to [0, 1], a GP
//     on it and log-EI;
//   - pending points (running trials) enter as fantasies at the posterior mean (Kriging
//     believer), so parallel workers get different proposals; no proposal repeats an evaluated
//     or pending point;
//   - the acquisition is maximised over 1,000 random candidates (predicted in one batch), then a
//     local search over neighbours (one dimension one step) from the best five and from up to five
//     observed non-dominated points;
//   - hyper-parameters: full fits for small histories, amortised beyond (BoOptions).
// Every random choice comes from the seed given, so a proposal is reproducible.
#include <Eigen/Core>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "core/errors.h"
#include "search/search_space.h"

namespace autopeft::search {

struct Observation {
  nlohmann::json params;
  std::vector<double> values;  // oriented: larger is better for every objective
};

struct BoOptions {
  int initial_design = -1;  // -1: max(5, min(2d, budget / 5)), d = the number of dimensions
  // "sobol": the initial design is a scrambled Sobol sequence (search/sobol.h) seeded by
  // design_seed, point design_index (the proposal count; -1: complete + pending points) first,
  // stepping on past points that are infeasible or taken; "random": uniform random points.
  std::string initial_design_type = "sobol";
  std::uint64_t design_seed = 0;
  std::int64_t design_index = -1;
  int budget = 100;  // the study's trial budget (for the initial design size)
  int candidates = 1000;
  int local_steps = 40;
  std::string acquisition = "log_ei";  // one objective (and ParEGO's scalarisation)
  // Each objective's values before its GP: "standardize" or "copula" (AutoPEFT's normal copula,
  // search/output_transform.h).
  std::string output_transform = "standardize";
  // The GP lengthscales' prior: "saas" (half-Cauchy on inverse squared lengthscales, MAP;
  // search/gp_fit.h) or "dimension-scaled" (log-normal, BoTorch's default for its single-task GP).
  // saas is our default on purpose: on the 48-dimension per-layer PEFT-like problem it lifts the
  // hypervolume after 100 evaluations from 0.484 to 0.629 (random search: 0.455), and on the
  // low-dimensional test problems it ties or wins (DTLZ2 after 60: 0.390 vs 0.346; after 30:
  // 0.207 vs 0.066); bench_peft_like and bench_mo_quality measure both.
  std::string lengthscale_prior = "saas";
  // "ehvi": exact EHVI for two objectives, Monte-Carlo EHVI (mc_samples common normal draws)
  // for more; "nehvi": Monte-Carlo noisy EHVI (mc_samples joint posterior samples, any number of
  // objectives); "parego": ParEGO's random Chebyshev scalarisation with log-EI.
  std::string multi_objective = "ehvi";
  int mc_samples = 128;
  // EHVI's reference point: "observed" (the worst observation of each objective) or "front"
  // (the nadir of the observed front), each less 10 % of the range of the points it comes from.
  std::string reference_point = "observed";
  // A reference point given by the user (one value per objective, oriented like the
  // observations: larger is better), used instead of the inferred one; empty, or NaN for an
  // objective: infer that coordinate.
  std::vector<double> reference;
  // GP hyper-parameter fits: with at most full_fit_below observations every proposal fits fully
  // (random restarts; cheap there); beyond, a full fit every full_fit_every new observations and,
  // between them, a fit warm-started from the stored parameters of at most warm_fit_evaluations
  // likelihood evaluations (the amortisation BoTorch and limbo offer).
  int full_fit_below = 100;
  int full_fit_every = 25;
  int warm_fit_evaluations = 20;
  // Hard constraints (e.g. a parameter budget): infeasible points are never proposed. Empty: all
  // points are feasible.
  std::function<bool(const nlohmann::json&)> feasible;
};

struct BoState {
  // Per objective / scalarisation KEY: KEY the last hyper-parameters (warm start), and
  // KEY@full_fit_n the number of observations at its last full fit.
  nlohmann::json gp_params;
};

// Thrown when every configuration of a (discrete) space was evaluated or is pending.
class SpaceExhausted : public UserError {
 public:
  using UserError::UserError;
};

// A random point that is feasible and neither evaluated nor pending (`seen` holds their dumps);
// SpaceExhausted when none is found.
nlohmann::json random_new(const SearchSpace& space, std::mt19937_64& rng, const std::set<std::string>& seen,
                          const std::function<bool(const nlohmann::json&)>& feasible);

// The next point to evaluate. `state` is read and updated (store it with the study).
nlohmann::json propose(const SearchSpace& space, const std::vector<Observation>& complete,
                       const std::vector<nlohmann::json>& pending, std::uint64_t seed,
                       const BoOptions& options, BoState& state);

}  // namespace autopeft::search
