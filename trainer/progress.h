#pragma once
// Progress of a training run on stderr: a bar redrawn in place on a terminal (steps, loss,
// ETA), plain lines at most every 10 % or 30 s otherwise, or nothing (quiet).
#include <chrono>
#include <string>

namespace autopeft::trainer {

enum class ProgressMode { automatic, bar, lines, quiet };
ProgressMode parse_progress_mode(const std::string& name);  // auto, bar, lines, quiet

class Progress {
 public:
  Progress(ProgressMode mode, std::string label);
  ~Progress();
  void step(std::int64_t step, std::int64_t total, double loss);
  // A line of its own (an evaluation, a note), not overwritten by the bar.
  void note(const std::string& text);
  void finish();

 private:
  ProgressMode mode_;
  std::string label_;
  std::chrono::steady_clock::time_point start_, last_;
  std::int64_t last_step_ = 0;
  bool open_line_ = false;
};

}  // namespace autopeft::trainer
