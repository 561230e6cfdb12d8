#include "core/logging.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "core/errors.h"

namespace autopeft::log {
namespace {
std::atomic<Level> g_level{Level::info};
std::mutex g_write_mutex;
}  // namespace

void set_level(Level lvl) { g_level.store(lvl); }
Level level() { return g_level.load(); }

Level parse_level(std::string_view name) {
  if (name == "debug") return Level::debug;
  if (name == "info") return Level::info;
  if (name == "warn" || name == "warning") return Level::warn;
  if (name == "error") return Level::error;
  if (name == "off") return Level::off;
  throw_user_error("--log-level",
                   "unknown level '" + std::string(name) + "' (expected debug, info, warn, error or off)");
}

std::string_view level_name(Level lvl) {
  switch (lvl) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
    case Level::off: return "off";
  }
  return "?";
}

void write(Level lvl, std::string_view message) {
  if (lvl < level() || lvl == Level::off) return;
  std::lock_guard<std::mutex> lock(g_write_mutex);
  std::fprintf(stderr, "[autopeft %s] %.*s\n", level_name(lvl).data(), static_cast<int>(message.size()),
               message.data());
  std::fflush(stderr);
}

}  // namespace autopeft::log
