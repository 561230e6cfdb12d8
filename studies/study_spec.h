#pragma once
// The study spec (`autopeft study create SPEC.json`): what a study searches and how. Paths are
// relative to the spec's folder. Stored whole in the study file.
//   {"study": "zdt1", "runner": "external",
//    "space": [{"name": "x0", "type": "float", "low": 0, "high": 1}, ...],
//    "objectives": [{"name": "f1", "direction": "minimize"}, ...],
//    "sampler": {"type": "random"}, "budget": {"trials": 60}, "seed": 0}
// and, for studies that train: "model", "task", "space" (a preset name or a custom space),
// "constraints": {"params_percent_max": 2.0}, "fidelity": {...}; objectives default to the
// task metric (maximize) and params_percent (minimize).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "search/search_space.h"
#include "studies/storage.h"

namespace autopeft::studies {

struct StudySpec {
  std::string name;
  std::string runner = "trainer";  // "trainer" or "external"
  nlohmann::json space;            // preset name or custom list
  std::vector<Objective> objectives;
  // Per objective: the hypervolume reference point the BO's EHVI uses ("reference" in the
  // spec's objective, in the objective's own units); NaN: inferred from the observations.
  std::vector<double> references;
  std::string sampler = "gp";  // "gp" or "random"
  // GP sampler: points of the initial design (-1: max(5, min(2d, budget/5))) and its kind
  // ("sobol": scrambled Sobol; "random"). Spec: "sampler": {"type": "gp", "initial_design": 10}.
  int initial_design = -1;
  std::string design = "sobol";
  std::string output_transform = "standardize";  // or "copula" (AutoPEFT's normal copula)
  std::string multi_objective = "ehvi";          // or "nehvi" (noisy, sampled fronts) or "parego"
  std::string lengthscale_prior = "saas";        // or "dimension-scaled" (search/bo.h says why saas)
  std::optional<std::int64_t> budget_trials;
  std::optional<double> budget_hours;
  std::uint64_t seed = 0;
  nlohmann::json definition;  // the whole spec as stored (paths made absolute)

  static StudySpec from_json(const nlohmann::json& j, const std::string& source, const std::string& base_dir);
  static StudySpec from_file(const std::string& path);
  static StudySpec from_definition(const nlohmann::json& stored);
  // The search space: custom dimensions, or (trainer studies) a preset built from the PEFT
  // registry for the study's model (studies/peft_problem.h).
  search::SearchSpace search_space() const;
};

}  // namespace autopeft::studies
