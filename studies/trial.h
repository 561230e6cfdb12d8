#pragma once
// Trial states and their names, as stored in the study file and printed by `study trials`.
#include <string_view>

namespace autopeft::studies {

// WAITING: enqueued, not started. RUNNING: a worker holds it (heartbeat). The other three are
// finished states: a finished trial is never modified again.
enum class TrialState { waiting = 0, running = 1, complete = 2, pruned = 3, failed = 4 };

bool is_finished(TrialState state);
std::string_view state_name(TrialState state);
// Parses "waiting", "running", "complete", "pruned", "failed"; throws UserError otherwise.
TrialState parse_state(std::string_view name);

}  // namespace autopeft::studies
