// `autopeft study create | ask | tell | trials`; the other study commands are in study_run.cpp
// (run, resume, worker) and study_results.cpp (status, pareto, enqueue, export, delete).
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/study_common.h"
#include "core/errors.h"
#include "studies/controller.h"
#include "studies/storage.h"
#include "studies/study_spec.h"

namespace autopeft::cli {

namespace {

std::vector<double> parse_values(const std::string& text) {
  std::vector<double> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const auto item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size()) throw_user_error("--values", "'" + item + "' is not a number");
    out.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

int create(const StudyOptions& o) {
  // Everything is checked before the study file is touched.
  const auto spec = studies::StudySpec::from_file(o.spec);
  studies::SqliteStorage storage(o.db);
  if (auto existing = storage.find_study(spec.name)) {
    if (!o.exist_ok)
      throw_user_error(o.db, "a study named '" + spec.name + "' exists already (--exist-ok to reuse it)");
    if (existing->definition != spec.definition)
      throw_user_error(o.db, "study '" + spec.name + "' exists with another definition than " + o.spec);
    std::cout << nlohmann::ordered_json{{"study", spec.name}, {"db", o.db}, {"created", false}}.dump()
              << "\n";
    return 0;
  }
  storage.create_study(spec.name, spec.definition, spec.objectives, spec.seed);
  std::cout << nlohmann::ordered_json{{"study", spec.name}, {"db", o.db}, {"created", true}}.dump() << "\n";
  return 0;
}

int ask(const StudyOptions& o) {
  studies::SqliteStorage storage(o.db, false);
  const auto study = pick_study(storage, o.study);
  const auto t = studies::ask(storage, study, "cli");
  std::cout << nlohmann::ordered_json{{"trial", t.number}, {"params", t.params}}.dump() << "\n";
  return 0;
}

int tell(const StudyOptions& o) {
  if (o.values.empty() == o.state.empty()) throw_user_error("study tell", "give --values or --state failed");
  if (!o.state.empty() && o.state != "failed")
    throw_user_error("--state", "only 'failed' (or give --values)");
  studies::SqliteStorage storage(o.db, false);
  const auto study = pick_study(storage, o.study);
  if (o.values.empty()) {
    studies::tell(storage, study, o.trial, studies::TrialState::failed, {}, "reported failed");
  } else {
    studies::tell(storage, study, o.trial, studies::TrialState::complete, parse_values(o.values), "");
  }
  std::cout << nlohmann::ordered_json{{"trial", o.trial}, {"state", o.values.empty() ? "failed" : "complete"}}
                   .dump()
            << "\n";
  return 0;
}

int trials(const StudyOptions& o) {
  studies::SqliteStorage storage(o.db, false);
  const auto study = pick_study(storage, o.study);
  const auto all = storage.trials(study.id);
  if (o.format == "json") {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& t : all) arr.push_back(trial_json(t));
    std::cout << arr.dump() << "\n";
    return 0;
  }
  const bool csv = o.format == "csv";
  std::string header = csv ? "number,state" : fmt::format("{:>6}  {:<9}", "number", "state");
  for (const auto& obj : study.objectives) header += csv ? "," + obj.name : fmt::format("  {:>14}", obj.name);
  header += csv ? ",params,reason" : "  params";
  std::cout << header << "\n";
  for (const auto& t : all) {
    std::string line = csv ? fmt::format("{},{}", t.number, studies::state_name(t.state))
                           : fmt::format("{:>6}  {:<9}", t.number, studies::state_name(t.state));
    for (std::size_t i = 0; i < study.objectives.size(); ++i) {
      const std::string v = i < t.values.size() ? fmt::format("{:.6g}", t.values[i]) : "";
      line += csv ? "," + v : fmt::format("  {:>14}", v);
    }
    if (csv) {
      std::string p = t.params.dump(), escaped;
      for (char c : p) escaped += c == '"' ? std::string("\"\"") : std::string(1, c);
      line += ",\"" + escaped + "\"," + t.reason;
    } else {
      line += "  " + t.params.dump() + (t.reason.empty() ? "" : "  (" + t.reason + ")");
    }
    std::cout << line << "\n";
  }
  return 0;
}

}  // namespace

void add_study_command(CLI::App& app, CommandRegistry& registry, const GlobalOptions& globals) {
  auto* study =
      app.add_subcommand("study", "Studies: create them, and ask and tell trials evaluated elsewhere");
  study->require_subcommand(1);
  auto o = std::make_shared<StudyOptions>();

  auto* c = study->add_subcommand("create", "Create a study from a spec JSON in a study file");
  c->add_option("spec", o->spec, "Study spec (JSON)")->required()->check(CLI::ExistingFile);
  c->add_option("--db", o->db, "Study file (SQLite; created when absent)")->required();
  c->add_flag("--exist-ok", o->exist_ok, "Reuse an existing study of the same name and definition");
  registry.add(c, [o] { return create(*o); });

  auto* a = study->add_subcommand("ask", "Start the next trial and print {\"trial\": N, \"params\": {...}}");
  a->add_option("--db", o->db, "Study file")->required()->check(CLI::ExistingFile);
  a->add_option("--study", o->study, "Study name (optional when the file holds one)");
  registry.add(a, [o] { return ask(*o); });

  auto* t = study->add_subcommand("tell", "Record a trial's objective values, or that it failed");
  t->add_option("--db", o->db, "Study file")->required()->check(CLI::ExistingFile);
  t->add_option("--study", o->study, "Study name (optional when the file holds one)");
  t->add_option("--trial", o->trial, "Trial number")->required()->check(CLI::NonNegativeNumber);
  t->add_option("--values", o->values,
                "Objective values, comma-separated, in the spec's order (--values=-0.8,0.5)");
  t->add_option("--state", o->state, "failed");
  registry.add(t, [o] { return tell(*o); });

  auto* l = study->add_subcommand("trials", "List the trials");
  l->add_option("--db", o->db, "Study file")->required()->check(CLI::ExistingFile);
  l->add_option("--study", o->study, "Study name (optional when the file holds one)");
  l->add_option("--format", o->format, "table, csv or json")->check(CLI::IsMember({"table", "csv", "json"}));
  registry.add(l, [o] { return trials(*o); });

  add_study_run_commands(*study, registry, o, globals);
  add_study_result_commands(*study, registry, o);
}

}  // namespace autopeft::cli
