// `autopeft study status | pareto | enqueue | export | delete`.
#include <fmt/format.h>

#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/peft_loading.h"
#include "cli/study_common.h"
#include "core/errors.h"
#include "core/json_file.h"
#include "model/encoder_task.h"
#include "peft/export.h"
#include "peft/peft_model.h"
#include "peft/spec/config_import.h"
#include "search/pareto.h"
#include "studies/controller.h"
#include "studies/front.h"
#include "studies/peft_problem.h"
#include "studies/report.h"
#include "studies/study_spec.h"

namespace autopeft::cli {

namespace {

using studies::TrialRecord;
using studies::TrialState;

std::vector<TrialRecord> complete_trials(studies::SqliteStorage& storage, const studies::StudyRecord& study) {
  return studies::complete_with_values(storage.trials(study.id), study);
}

std::vector<TrialRecord> pareto_trials(studies::SqliteStorage& storage, const studies::StudyRecord& study) {
  const auto all = complete_trials(storage, study);
  std::vector<TrialRecord> out;
  for (const auto i : studies::front_indices(all, study)) out.push_back(all[i]);
  return out;
}

int status(const StudyOptions& o) {
  studies::SqliteStorage storage(o.db, false);
  const auto study = pick_study(storage, o.study);
  const auto spec = studies::StudySpec::from_definition(study.definition);
  const auto trials = storage.trials(study.id);
  std::map<std::string, int> counts;
  for (const auto& s : {"waiting", "running", "complete", "pruned", "failed"}) counts[s] = 0;
  double seconds = 0;
  int timed = 0;
  for (const auto& t : trials) {
    ++counts[std::string(studies::state_name(t.state))];
  }
  const auto complete = complete_trials(storage, study);
  nlohmann::ordered_json best = nlohmann::ordered_json::object();
  for (std::size_t k = 0; k < study.objectives.size(); ++k) {
    const auto& obj = study.objectives[k];
    const TrialRecord* b = nullptr;
    for (const auto& t : complete)
      if (!b || (obj.direction == "maximize" ? t.values[k] > b->values[k] : t.values[k] < b->values[k]))
        b = &t;
    if (b) best[obj.name] = {{"value", b->values[k]}, {"trial", b->number}};
  }
  // ETA from the mean duration of the finished trials.
  for (const auto& t : trials) {
    if (t.started.empty() || t.finished.empty() || t.state == TrialState::failed) continue;
    std::tm a{}, b{};
    if (strptime(t.started.c_str(), "%Y-%m-%dT%H:%M:%S", &a) &&
        strptime(t.finished.c_str(), "%Y-%m-%dT%H:%M:%S", &b)) {
      seconds += std::difftime(timegm(&b), timegm(&a));
      ++timed;
    }
  }
  const auto counted = studies::counted_trials(trials);
  nlohmann::ordered_json j;
  j["study"] = study.name;
  j["trials"] = counts;
  j["budget"] =
      spec.budget_trials ? nlohmann::ordered_json(*spec.budget_trials) : nlohmann::ordered_json(nullptr);
  j["counted"] = counted;
  j["best"] = best;
  const double hv = studies::hypervolume_of(complete, study);
  j["hypervolume"] = std::isnan(hv) ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(hv);
  j["pareto_size"] = pareto_trials(storage, study).size();
  if (spec.budget_trials && timed > 0) {
    const double per = seconds / timed;
    j["eta_seconds"] = std::max<double>(0, static_cast<double>(*spec.budget_trials - counted)) * per;
  }
  if (o.format == "json") {
    std::cout << j.dump() << "\n";
    return 0;
  }
  std::cout << fmt::format("study {}: {} complete, {} pruned, {} failed, {} running, {} waiting", study.name,
                           counts["complete"], counts["pruned"], counts["failed"], counts["running"],
                           counts["waiting"]);
  if (spec.budget_trials) std::cout << fmt::format(" (budget {} trials)", *spec.budget_trials);
  std::cout << "\n";
  for (auto it = best.begin(); it != best.end(); ++it)
    std::cout << fmt::format("best {}: {:.6g} (trial {})\n", it.key(), it.value()["value"].get<double>(),
                             it.value()["trial"].get<std::int64_t>());
  if (!std::isnan(hv)) std::cout << fmt::format("hypervolume: {:.6g}\n", hv);
  if (j.contains("eta_seconds")) std::cout << fmt::format("ETA: {:.0f} s\n", j["eta_seconds"].get<double>());
  const auto plot = studies::text_front_plot(storage, study);
  if (!plot.empty()) std::cout << "\n" << plot;
  return 0;
}

int report(const StudyOptions& o) {
  studies::SqliteStorage storage(o.db, false);
  const auto study = pick_study(storage, o.study);
  const auto html = studies::render_report(storage, study);
  const auto tmp = o.out + ".partial";
  {
    std::ofstream f(tmp);
    if (!(f << html)) throw_user_error("--out", "cannot write " + o.out);
  }
  std::filesystem::rename(tmp, o.out);
  std::cout << nlohmann::ordered_json{{"report", o.out}, {"study", study.name}, {"bytes", html.size()}}.dump()
            << "\n";
  return 0;
}

int pareto(const StudyOptions& o) {
  studies::SqliteStorage storage(o.db, false);
  const auto study = pick_study(storage, o.study);
  auto front = pareto_trials(storage, study);
  std::sort(front.begin(), front.end(), [](const auto& a, const auto& b) { return a.values < b.values; });
  if (o.format == "json") {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& t : front) arr.push_back(trial_json(t));
    std::cout << arr.dump() << "\n";
    return 0;
  }
  std::string header = fmt::format("{:>6}", "trial");
  for (const auto& obj : study.objectives) header += fmt::format("  {:>14}", obj.name);
  std::cout << header << "  params\n";
  for (const auto& t : front) {
    std::string line = fmt::format("{:>6}", t.number);
    for (const double v : t.values) line += fmt::format("  {:>14.6g}", v);
    std::cout << line << "  " << t.params.dump() << "\n";
  }
  return 0;
}

int enqueue(const StudyOptions& o) {
  if (o.config.empty() == o.params.empty()) throw_user_error("study enqueue", "give --config or --params");
  studies::SqliteStorage storage(o.db, false);
  const auto study = pick_study(storage, o.study);
  const auto spec = studies::StudySpec::from_definition(study.definition);
  nlohmann::json params;
  if (!o.params.empty()) {
    try {
      params = nlohmann::json::parse(o.params);
    } catch (const nlohmann::json::exception& e) {
      throw_user_error("--params", std::string("not JSON: ") + e.what());
    }
    spec.search_space().validate(params, "--params");
  } else {
    if (spec.runner != "trainer") throw_user_error("--config", "needs a trainer study (a model)");
    const studies::PeftProblem problem(spec);
    params = {{"config", peft::import_config_file(o.config, problem.dims()).to_json()}};
  }
  const auto number = storage.enqueue_trial(study.id, params);
  std::cout << nlohmann::ordered_json{{"trial", number}, {"params", params}}.dump() << "\n";
  return 0;
}

// The trial a --pick names among the complete trials (best task metric, the knee of the front,
// or the best task metric within a params_percent budget).
TrialRecord picked(studies::SqliteStorage& storage, const studies::StudyRecord& study,
                   const std::string& pick) {
  const auto all = complete_trials(storage, study);
  if (all.empty()) throw_user_error(study.name, "has no complete trial to export");
  std::size_t metric = 0;  // the first maximised objective is the task metric
  std::optional<std::size_t> cost;
  for (std::size_t k = 0; k < study.objectives.size(); ++k) {
    if (study.objectives[k].name == "params_percent") cost = k;
  }
  for (std::size_t k = 0; k < study.objectives.size(); ++k)
    if (study.objectives[k].direction == "maximize") {
      metric = k;
      break;
    }
  const TrialRecord* best = nullptr;
  if (pick == "best" || pick.rfind("budget:", 0) == 0) {
    double budget = std::numeric_limits<double>::infinity();
    if (pick != "best") {
      if (!cost) throw_user_error("--pick", "budget:PCT needs a params_percent objective");
      try {
        budget = std::stod(pick.substr(7));
      } catch (const std::exception&) {
        throw_user_error("--pick", "'" + pick + "': PCT must be a number");
      }
    }
    for (const auto& t : all) {
      if (cost && t.values[*cost] > budget) continue;
      if (!best || t.values[metric] > best->values[metric]) best = &t;
    }
    if (!best) throw_user_error("--pick", "no complete trial has params_percent at most " + pick.substr(7));
    return *best;
  }
  if (pick != "knee") throw_user_error("--pick", "'" + pick + "' is not best, knee or budget:PCT");
  // Knee: the Pareto point closest to the utopia point once every objective is scaled to [0, 1].
  const auto front = pareto_trials(storage, study);
  return front[studies::knee_index(front, study).value()];
}

int export_pick(const StudyOptions& o) {
  studies::SqliteStorage storage(o.db, false);
  const auto study = pick_study(storage, o.study);
  const auto spec = studies::StudySpec::from_definition(study.definition);
  if (spec.runner != "trainer")
    throw_user_error(study.name, "is an external study: it has no PEFT configuration");
  const studies::PeftProblem problem(spec);
  const auto trial = picked(storage, study, o.pick);
  const auto config = problem.config(trial.params);
  const auto model_dir = study.definition.at("model").get<std::string>();
  // The configuration with freshly initialised weights, in the chosen format, for full training
  // (an encoder's checkpoint head is loaded as it is: the backbone is all an export needs).
  auto installed = install_peft(
      model_dir, [&](const peft::ModelDims&) { return config; }, "trial " + std::to_string(trial.number));
  auto& info = installed.info;
  if (!problem.task().generative()) {  // the task's head, whatever the checkpoint has
    info.task_type = problem.task().type == "token-classification" ? "TOKEN_CLS" : "SEQ_CLS";
    info.task_model = true;
  }
  const auto format = o.format == "native"    ? peft::ExportFormat::native
                      : o.format == "hf-peft" ? peft::ExportFormat::hf_peft
                                              : peft::ExportFormat::adapters;
  peft::export_peft(*installed.model, config, format, info, o.out);
  nlohmann::ordered_json trial_info = trial_json(trial);
  std::ofstream((std::filesystem::path(o.out) / "trial.json").string()) << trial_info.dump(2) << "\n";
  std::cout << nlohmann::ordered_json{{"trial", trial.number},
                                      {"values", trial.values},
                                      {"format", o.format},
                                      {"out", o.out},
                                      {"config", config.to_json()}}
                   .dump()
            << "\n";
  return 0;
}

int delete_study(const StudyOptions& o) {
  studies::SqliteStorage storage(o.db, false);
  if (o.study.empty()) throw_user_error("--study", "required: the study to delete");
  const auto study = pick_study(storage, o.study);
  storage.delete_study(study.id);
  std::cout << nlohmann::ordered_json{{"deleted", study.name}, {"db", o.db}}.dump() << "\n";
  return 0;
}

}  // namespace

void add_study_result_commands(CLI::App& study, CommandRegistry& registry, std::shared_ptr<StudyOptions> o) {
  auto db_and_study = [&](CLI::App* c) {
    c->add_option("--db", o->db, "Study file")->required()->check(CLI::ExistingFile);
    c->add_option("--study", o->study, "Study name (optional when the file holds one)");
  };
  auto* s = study.add_subcommand("status", "Trials by state, best values, hypervolume and ETA");
  db_and_study(s);
  s->add_option("--format", o->format, "table or json")->check(CLI::IsMember({"table", "json"}));
  registry.add(s, [o] { return status(*o); });

  auto* p = study.add_subcommand("pareto", "The non-dominated complete trials");
  db_and_study(p);
  p->add_option("--format", o->format, "table or json")->check(CLI::IsMember({"table", "json"}));
  registry.add(p, [o] { return pareto(*o); });

  auto* e = study.add_subcommand("enqueue", "Enqueue a known configuration (e.g. a baseline) or a point");
  db_and_study(e);
  e->add_option(
      "--config", o->config,
      "A PEFT configuration: our JSON, an HF PEFT or AdapterHub adapter_config.json, or preset:NAME");
  e->add_option("--params", o->params, "A point of the search space as JSON");
  registry.add(e, [o] { return enqueue(*o); });

  auto* x = study.add_subcommand(
      "export", "Export a picked trial's configuration (freshly initialised weights) for full training");
  db_and_study(x);
  x->add_option("--pick", o->pick, "best, knee or budget:PCT")->capture_default_str();
  x->add_option("--format", o->format, "native, hf-peft or adapters")
      ->required()
      ->check(CLI::IsMember({"native", "hf-peft", "adapters"}));
  x->add_option("--out", o->out, "Output folder")->required();
  registry.add(x, [o] { return export_pick(*o); });

  auto* rep = study.add_subcommand(
      "report",
      "Write a self-contained HTML report: Pareto front, hypervolume, per-layer heat map, trials, curves");
  db_and_study(rep);
  rep->add_option("--out", o->out, "The HTML file to write")->required();
  registry.add(rep, [o] { return report(*o); });

  auto* d = study.add_subcommand("delete", "Delete a study and its trials from the file");
  db_and_study(d);
  registry.add(d, [o] { return delete_study(*o); });
}

}  // namespace autopeft::cli
