#include "cli/study_common.h"

#include "core/errors.h"
#include "studies/trial.h"

namespace autopeft::cli {

studies::StudyRecord pick_study(studies::SqliteStorage& storage, const std::string& name) {
  auto all = storage.studies();
  if (!name.empty()) {
    for (auto& s : all)
      if (s.name == name) return s;
    throw_user_error("--study", "no study '" + name + "' in " + storage.path());
  }
  if (all.size() != 1)
    throw_user_error("--study",
                     storage.path() + " holds " + std::to_string(all.size()) + " studies: name one");
  return all.front();
}

nlohmann::ordered_json trial_json(const studies::TrialRecord& t) {
  auto or_null = [](const std::string& s) {
    return s.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s);
  };
  nlohmann::ordered_json j;
  j["number"] = t.number;
  j["state"] = studies::state_name(t.state);
  j["params"] = t.params;
  j["values"] = t.values.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(t.values);
  j["started"] = or_null(t.started);
  j["finished"] = or_null(t.finished);
  j["reason"] = or_null(t.reason);
  return j;
}

}  // namespace autopeft::cli
