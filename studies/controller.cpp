#include "studies/controller.h"

#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <set>

#include "core/errors.h"
#include "search/bo.h"
#include "studies/peft_problem.h"

namespace autopeft::studies {

namespace {
std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  std::uint64_t z = a + 0x9E3779B97F4A7C15ULL * (b + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
}  // namespace

std::int64_t counted_trials(const std::vector<TrialRecord>& trials) {
  std::int64_t n = 0;
  for (const auto& t : trials) n += t.state == TrialState::complete || t.state == TrialState::pruned;
  return n;
}

namespace {
// A new proposal started as RUNNING, or nothing when another worker took its index meanwhile.
std::optional<TrialRecord> start_new_proposal(Storage& storage, const StudyRecord& study,
                                              const std::string& worker) {
  const auto spec = StudySpec::from_definition(study.definition);
  const auto space = spec.search_space();
  const auto trials = storage.trials(study.id);
  std::int64_t proposals = 0;
  std::set<std::string> seen;
  for (const auto& t : trials) {
    proposals = std::max(proposals, t.proposal + 1);
    if (t.state != TrialState::failed) seen.insert(t.params.dump());
  }
  // Seeded by the study seed and the proposal index, so a resumed study repeats the
  // uninterrupted one's proposals.
  const std::uint64_t seed = mix(study.seed, static_cast<std::uint64_t>(proposals));
  std::function<bool(const nlohmann::json&)> feasible;
  std::shared_ptr<PeftProblem> problem;
  if (spec.runner == "trainer") {
    problem = std::make_shared<PeftProblem>(spec);
    if (problem->constraints().params_percent_max > 0)
      feasible = [problem](const nlohmann::json& p) { return problem->feasible(p); };
  }
  nlohmann::json params;
  if (spec.sampler == "random") {
    std::mt19937_64 rng(seed);
    params = search::random_new(space, rng, seen, feasible);
  } else {
    std::vector<search::Observation> complete;
    std::vector<nlohmann::json> pending;
    for (const auto& t : trials) {
      if (t.state == TrialState::running && !t.params.contains("config")) pending.push_back(t.params);
      if (t.state != TrialState::complete) continue;
      // Trials enqueued as whole configurations ({"config": ...}) are not points of the space:
      // they are kept (and shown on the Pareto front) but do not inform the surrogate.
      try {
        space.validate(t.params, "trial " + std::to_string(t.number));
      } catch (const UserError&) {
        continue;
      }
      search::Observation o{t.params, {}};
      for (std::size_t k = 0; k < study.objectives.size(); ++k)
        o.values.push_back(study.objectives[k].direction == "maximize" ? t.values[k] : -t.values[k]);
      complete.push_back(std::move(o));
    }
    search::BoOptions options;
    options.budget = static_cast<int>(spec.budget_trials.value_or(100));
    options.feasible = feasible;
    options.initial_design = spec.initial_design;
    options.initial_design_type = spec.design;
    options.output_transform = spec.output_transform;
    options.lengthscale_prior = spec.lengthscale_prior;
    options.multi_objective = spec.multi_objective;
    options.design_seed = study.seed;
    options.design_index = proposals;
    // EHVI's reference point: the spec's, objective by objective; for params_percent under a
    // params_percent_max constraint, that budget (nothing above it can be proposed anyway).
    options.reference.assign(study.objectives.size(), std::nan(""));
    for (std::size_t k = 0; k < study.objectives.size(); ++k) {
      double r = k < spec.references.size() ? spec.references[k] : std::nan("");
      if (std::isnan(r) && problem && study.objectives[k].name == "params_percent" &&
          problem->constraints().params_percent_max > 0)
        r = problem->constraints().params_percent_max;
      options.reference[k] = study.objectives[k].direction == "maximize" ? r : -r;
    }
    search::BoState state{storage.study_attr(study.id, "bo_state")};
    params = search::propose(space, complete, pending, seed, options, state);
    storage.set_study_attr(study.id, "bo_state", state.gp_params);
  }
  return storage.start_proposal(study.id, params, worker, proposals, epoch_seconds());
}
}  // namespace

TrialRecord ask(Storage& storage, const StudyRecord& study, const std::string& worker) {
  for (;;) {
    if (auto waiting = storage.claim_waiting(study.id, worker, epoch_seconds())) return *waiting;
    if (auto started = start_new_proposal(storage, study, worker)) return *started;
    // Another worker started this proposal index meanwhile: propose again, seeing its trial.
  }
}

void tell(Storage& storage, const StudyRecord& study, std::int64_t number, TrialState state,
          const std::vector<double>& values, const std::string& reason) {
  for (const auto& t : storage.trials(study.id)) {
    if (t.number != number) continue;
    if (t.state != TrialState::running)
      throw_user_error("--trial " + std::to_string(number),
                       "the trial is " + std::string(state_name(t.state)) +
                           ", not running: finished trials are immutable");
    if (state == TrialState::complete && values.size() != study.objectives.size())
      throw_user_error("--values", std::to_string(values.size()) + " values for " +
                                       std::to_string(study.objectives.size()) + " objectives");
    for (double v : values)
      if (!std::isfinite(v))
        throw_user_error("--values", "values must be finite (report a failed trial instead)");
    storage.finish_trial(t.id, state, state == TrialState::complete ? values : std::vector<double>{}, reason);
    return;
  }
  throw_user_error("--trial " + std::to_string(number), "no such trial in study '" + study.name + "'");
}

}  // namespace autopeft::studies
