#include "studies/trial.h"

#include <string>

#include "core/errors.h"

namespace autopeft::studies {

bool is_finished(TrialState state) {
  return state == TrialState::complete || state == TrialState::pruned || state == TrialState::failed;
}

std::string_view state_name(TrialState state) {
  switch (state) {
    case TrialState::waiting: return "waiting";
    case TrialState::running: return "running";
    case TrialState::complete: return "complete";
    case TrialState::pruned: return "pruned";
    case TrialState::failed: return "failed";
  }
  return "?";
}

TrialState parse_state(std::string_view name) {
  for (auto s : {TrialState::waiting, TrialState::running, TrialState::complete, TrialState::pruned,
                 TrialState::failed})
    if (state_name(s) == name) return s;
  throw_user_error("state", "unknown trial state '" + std::string(name) +
                                "' (expected waiting, running, complete, pruned or failed)");
}

}  // namespace autopeft::studies
