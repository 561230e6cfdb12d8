#pragma once
// Reading typed keys of a config.json with errors that name the file and the key (shared by the
// encoder and decoder config parsers). Torch-free.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/errors.h"

namespace autopeft::model::config_keys {

inline std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// The key's value; `fallback` when absent or null (a required key has none).
template <typename T>
T get(const nlohmann::json& c, const char* key, const std::string& source, std::optional<T> fallback) {
  if (!c.contains(key) || c[key].is_null()) {
    if (fallback) return *fallback;
    throw_user_error(source, std::string("missing required key '") + key + "'");
  }
  try {
    return c[key].get<T>();
  } catch (const nlohmann::json::exception&) {
    throw_user_error(source, std::string("key '") + key + "' has the wrong type: " + c[key].dump());
  }
}

inline std::int64_t positive(const nlohmann::json& c, const char* key, const std::string& source,
                             std::optional<std::int64_t> fallback = std::nullopt) {
  if (c.contains(key) && !c[key].is_null() && !c[key].is_number_integer())
    throw_user_error(source, std::string("key '") + key + "' must be an integer, got " + c[key].dump());
  const auto v = get<std::int64_t>(c, key, source, fallback);
  if (v <= 0)
    throw_user_error(source, std::string("key '") + key + "' must be positive, got " + std::to_string(v));
  return v;
}

inline double probability(const nlohmann::json& c, const char* key, const std::string& source,
                          double fallback) {
  const auto v = get<double>(c, key, source, fallback);
  if (v < 0.0 || v >= 1.0)
    throw_user_error(source, std::string("key '") + key + "' must be in [0, 1), got " + std::to_string(v));
  return v;
}

}  // namespace autopeft::model::config_keys
