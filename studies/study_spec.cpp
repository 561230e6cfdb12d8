#include "studies/study_spec.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/errors.h"
#include "core/json_file.h"
#include "peft/spec/search_spaces.h"
#include "studies/peft_problem.h"
#include "trainer/data/task.h"

namespace autopeft::studies {

namespace fs = std::filesystem;

StudySpec StudySpec::from_json(const nlohmann::json& j, const std::string& source,
                               const std::string& base_dir) {
  if (!j.is_object()) throw_user_error(source, "a study spec must be a JSON object");
  static const std::set<std::string> known = {"study",  "runner",     "model",   "task",
                                              "space",  "objectives", "sampler", "constraints",
                                              "budget", "fidelity",   "seed"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!known.count(it.key())) throw_user_error(source + ": " + it.key(), "unknown key");
  StudySpec s;
  s.definition = j;
  if (!j.contains("study") || !j["study"].is_string() || j["study"].get<std::string>().empty())
    throw_user_error(source + ": study", "required: the study's name");
  s.name = j["study"];
  s.runner = j.value("runner", std::string("trainer"));
  if (s.runner != "trainer" && s.runner != "external")
    throw_user_error(source + ": runner", "'" + s.runner + "' is not trainer or external");
  if (!j.contains("space"))
    throw_user_error(source + ": space", "required (a preset name or a list of dimensions)");
  s.space = j["space"];
  if (s.space.is_array())
    search::SearchSpace::from_json(s.space, source + ": space");  // validates
  else if (!s.space.is_string())
    throw_user_error(source + ": space", "must be a preset name or a list of dimensions");

  if (s.runner == "trainer") {
    for (const char* key : {"model", "task"}) {
      if (!j.contains(key) || !j[key].is_string())
        throw_user_error(source + ": " + key, "required for a trainer study");
      const auto p = fs::path(base_dir) / j[key].get<std::string>();
      if (!fs::exists(p)) throw_user_error(source + ": " + key, p.string() + " does not exist");
      s.definition[key] = fs::absolute(p).lexically_normal().string();
    }
  }
  if (j.contains("objectives")) {
    if (!j["objectives"].is_array() || j["objectives"].empty())
      throw_user_error(source + ": objectives", "must be a non-empty list");
    std::set<std::string> names;
    for (std::size_t i = 0; i < j["objectives"].size(); ++i) {
      const auto& o = j["objectives"][i];
      const auto where = source + ": objectives[" + std::to_string(i) + "]";
      if (!o.is_object() || !o.contains("name") || !o["name"].is_string())
        throw_user_error(where, "needs a name");
      const auto dir = o.value("direction", std::string("maximize"));
      if (dir != "minimize" && dir != "maximize")
        throw_user_error(where + ".direction", "'" + dir + "' is not minimize or maximize");
      if (!names.insert(o["name"].get<std::string>()).second)
        throw_user_error(where, "objective named twice");
      for (const auto& [key, value] : o.items())
        if (key != "name" && key != "direction" && key != "reference")
          throw_user_error(where + "." + key, "unknown key (name, direction, reference)");
      double reference = std::nan("");
      if (o.contains("reference")) {
        if (!o["reference"].is_number() || !std::isfinite(o["reference"].get<double>()))
          throw_user_error(where + ".reference", "must be a finite number");
        reference = o["reference"].get<double>();
      }
      s.objectives.push_back({o["name"].get<std::string>(), dir});
      s.references.push_back(reference);
    }
  } else if (s.runner == "external") {
    throw_user_error(source + ": objectives", "required for an external study");
  }
  if (s.runner == "trainer") {
    if (!s.space.is_array() && !peft::is_space_preset(s.space.get<std::string>()))
      peft::space_preset(s.space.get<std::string>(), {});  // the unknown-preset error
    const auto task = trainer::TaskSpec::from_file(s.definition["task"].get<std::string>());
    if (s.objectives.empty()) {
      s.objectives = {{task.metric, "maximize"}, {"params_percent", "minimize"}};
      s.references.assign(2, std::nan(""));
    }
    for (std::size_t i = 0; i < s.objectives.size(); ++i) {
      const auto& n = s.objectives[i].name;
      if (n != task.metric && n != "params_percent" && n != "trainable" && n != "stored")
        throw_user_error(
            source + ": objectives[" + std::to_string(i) + "]",
            "'" + n + "' is not the task metric (" + task.metric + "), params_percent, trainable or stored");
    }
    try {
      PeftProblem problem(s);  // checks the model folder, the space, fidelity and constraints
    } catch (const UserError& e) {
      throw UserError(source + ": " + e.what());
    }
  }
  if (j.contains("sampler")) {
    const auto& sj = j["sampler"];
    if (!sj.is_object())
      throw_user_error(source + ": sampler", "must be an object such as {\"type\": \"gp\"}");
    for (const auto& [key, value] : sj.items())
      if (key != "type" && key != "initial_design" && key != "design" && key != "output_transform" &&
          key != "lengthscale_prior" && key != "multi_objective")
        throw_user_error(source + ": sampler." + key,
                         "unknown key (type, initial_design, design, output_transform, lengthscale_prior, "
                         "multi_objective)");
    s.sampler = sj.value("type", std::string("gp"));
    if (s.sampler != "gp" && s.sampler != "random")
      throw_user_error(source + ": sampler.type", "'" + s.sampler + "' is not gp or random");
    if (sj.contains("initial_design")) {
      if (!sj["initial_design"].is_number_integer() || sj["initial_design"].get<std::int64_t>() < 0)
        throw_user_error(source + ": sampler.initial_design", "must be a whole number >= 0");
      s.initial_design = static_cast<int>(sj["initial_design"].get<std::int64_t>());
    }
    s.design = sj.value("design", std::string("sobol"));
    if (s.design != "sobol" && s.design != "random")
      throw_user_error(source + ": sampler.design", "'" + s.design + "' is not sobol or random");
    s.output_transform = sj.value("output_transform", std::string("standardize"));
    if (s.output_transform != "standardize" && s.output_transform != "copula")
      throw_user_error(source + ": sampler.output_transform",
                       "'" + s.output_transform + "' is not standardize or copula");
    s.multi_objective = sj.value("multi_objective", std::string("ehvi"));
    if (s.multi_objective != "ehvi" && s.multi_objective != "nehvi" && s.multi_objective != "parego")
      throw_user_error(source + ": sampler.multi_objective",
                       "'" + s.multi_objective + "' is not ehvi, nehvi or parego");
    s.lengthscale_prior = sj.value("lengthscale_prior", std::string("saas"));
    if (s.lengthscale_prior != "dimension-scaled" && s.lengthscale_prior != "saas")
      throw_user_error(source + ": sampler.lengthscale_prior",
                       "'" + s.lengthscale_prior + "' is not dimension-scaled or saas");
  }
  if (j.contains("budget")) {
    const auto& b = j["budget"];
    if (b.contains("trials")) {
      if (!b["trials"].is_number_integer() || b["trials"].get<std::int64_t>() < 1)
        throw_user_error(source + ": budget.trials", "must be a positive integer");
      s.budget_trials = b["trials"].get<std::int64_t>();
    }
    if (b.contains("hours")) {
      if (!b["hours"].is_number() || !(b["hours"].get<double>() > 0))
        throw_user_error(source + ": budget.hours", "must be a positive number");
      s.budget_hours = b["hours"].get<double>();
    }
  }
  if (j.contains("seed")) {
    if (!j["seed"].is_number_integer() || j["seed"].get<std::int64_t>() < 0)
      throw_user_error(source + ": seed", "must be a non-negative integer");
    s.seed = j["seed"].get<std::uint64_t>();
  }
  return s;
}

StudySpec StudySpec::from_file(const std::string& path) {
  const nlohmann::json j = read_json_file(path, "the study spec");
  return from_json(j, path, fs::absolute(path).parent_path().string());
}

StudySpec StudySpec::from_definition(const nlohmann::json& stored) {
  // Stored paths are absolute already.
  return from_json(stored, "stored study", "/");
}

search::SearchSpace StudySpec::search_space() const {
  if (runner == "trainer") return PeftProblem(*this).search_space();
  if (space.is_array()) return search::SearchSpace::from_json(space, "space");
  throw_user_error("space",
                   "a preset space ('" + space.get<std::string>() + "') needs a trainer study (a model)");
}

}  // namespace autopeft::studies
