#pragma once
// Logging to stderr. Results go to stdout; progress and logs never do (the CLI contract).
#include <fmt/format.h>

#include <string>
#include <string_view>

namespace autopeft::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

// The process-wide threshold; messages below it are dropped. Default: info.
void set_level(Level level);
Level level();

// Parses "debug", "info", "warn" (or "warning"), "error", "off"; throws UserError otherwise.
Level parse_level(std::string_view name);
std::string_view level_name(Level level);

// Writes one line "[autopeft <level>] message" to stderr when level passes the threshold.
void write(Level level, std::string_view message);

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::debug) write(Level::debug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::info) write(Level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::warn) write(Level::warn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::error) write(Level::error, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace autopeft::log
