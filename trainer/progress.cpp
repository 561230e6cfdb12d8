#include "trainer/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "core/errors.h"

namespace autopeft::trainer {

ProgressMode parse_progress_mode(const std::string& name) {
  if (name == "auto") return ProgressMode::automatic;
  if (name == "bar") return ProgressMode::bar;
  if (name == "lines") return ProgressMode::lines;
  if (name == "quiet") return ProgressMode::quiet;
  throw_user_error("--progress", "'" + name + "' is not auto, bar, lines or quiet");
}

Progress::Progress(ProgressMode mode, std::string label) : mode_(mode), label_(std::move(label)) {
  if (mode_ == ProgressMode::automatic)
    mode_ = isatty(STDERR_FILENO) ? ProgressMode::bar : ProgressMode::lines;
  start_ = last_ = std::chrono::steady_clock::now();
}

Progress::~Progress() { finish(); }

namespace {
std::string duration(double s) {
  if (s < 60) return fmt::format("{:.0f}s", s);
  if (s < 3600) return fmt::format("{:.0f}m{:02.0f}s", std::floor(s / 60), std::fmod(s, 60));
  return fmt::format("{:.0f}h{:02.0f}m", std::floor(s / 3600), std::fmod(s / 60, 60));
}
}  // namespace

void Progress::step(std::int64_t step, std::int64_t total, double loss) {
  if (mode_ == ProgressMode::quiet) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double eta = step > 0 ? elapsed / static_cast<double>(step) * static_cast<double>(total - step) : 0;
  if (mode_ == ProgressMode::bar) {
    if (step < total && std::chrono::duration<double>(now - last_).count() < 0.2) return;
    const int width = 24;
    const int filled = total > 0 ? static_cast<int>(width * step / total) : width;
    std::fprintf(stderr, "\r%s [%s%s] %lld/%lld loss %.4f %s ETA %s\x1b[K", label_.c_str(),
                 std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(width - filled), '.').c_str(),
                 static_cast<long long>(step), static_cast<long long>(total), loss, duration(elapsed).c_str(),
                 duration(eta).c_str());
    std::fflush(stderr);
    open_line_ = true;
    last_ = now;
    return;
  }
  const bool tenth = total >= 10 && (step - last_step_) * 10 >= total;
  const bool late = std::chrono::duration<double>(now - last_).count() >= 30;
  if (!(tenth || late || step == total)) return;
  std::fprintf(stderr, "%s: step %lld/%lld (%lld%%) loss %.4f, %s elapsed, ETA %s\n", label_.c_str(),
               static_cast<long long>(step), static_cast<long long>(total),
               static_cast<long long>(total > 0 ? 100 * step / total : 100), loss, duration(elapsed).c_str(),
               duration(eta).c_str());
  last_ = now;
  last_step_ = step;
}

void Progress::note(const std::string& text) {
  if (mode_ == ProgressMode::quiet) return;
  if (open_line_) std::fputs("\r\x1b[K", stderr);
  std::fprintf(stderr, "%s: %s\n", label_.c_str(), text.c_str());
  open_line_ = false;
  last_ = std::chrono::steady_clock::time_point{};  // redraw the bar on the next step
}

void Progress::finish() {
  if (open_line_) std::fputs("\n", stderr);
  open_line_ = false;
}

}  // namespace autopeft::trainer
