#include "peft/spec/method_spec.h"

#include <algorithm>
#include <mutex>

#include "core/errors.h"

namespace autopeft::peft {

void register_methods(MethodRegistry& registry);  // peft/spec/registry.cpp

const MethodRegistry& MethodRegistry::instance() {
  static MethodRegistry registry;
  static std::once_flag once;
  std::call_once(once, [] { register_methods(registry); });
  return registry;
}

void MethodRegistry::add(std::unique_ptr<MethodSpec> spec) {
  if (find(spec->name())) throw std::logic_error("PEFT method registered twice: " + spec->name());
  specs_.push_back(std::move(spec));
}

const MethodSpec* MethodRegistry::find(const std::string& name) const {
  for (const auto& s : specs_)
    if (s->name() == name) return s.get();
  return nullptr;
}

const MethodSpec& MethodRegistry::get(const std::string& name, const std::string& where) const {
  if (const auto* s = find(name)) return *s;
  std::string known;
  for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
  throw_user_error(where, "unknown PEFT method '" + name + "' (known: " + known + ")");
}

std::vector<std::string> MethodRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& s : specs_) out.push_back(s->name());
  return out;
}

namespace {
std::string field(const std::string& where, const char* key) { return where + "." + key; }
}  // namespace

void only_keys(const nlohmann::json& o, const std::vector<std::string>& allowed, const std::string& where) {
  if (!o.is_object()) throw_user_error(where, "must be an object, got " + o.dump());
  for (auto it = o.begin(); it != o.end(); ++it)
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      throw_user_error(where + "." + it.key(), "unknown option (known: " + list + ")");
    }
}

std::int64_t option_int(const nlohmann::json& o, const char* key, std::int64_t fallback,
                        const std::string& where, std::int64_t min, std::int64_t max) {
  if (!o.contains(key)) return fallback;
  const auto& v = o[key];
  if (!v.is_number_integer()) throw_user_error(field(where, key), "must be an integer, got " + v.dump());
  const auto x = v.get<std::int64_t>();
  if (x < min || x > max)
    throw_user_error(field(where, key), "must be in [" + std::to_string(min) + ", " + std::to_string(max) +
                                            "], got " + std::to_string(x));
  return x;
}

double option_double(const nlohmann::json& o, const char* key, double fallback, const std::string& where,
                     double min, double max) {
  if (!o.contains(key)) return fallback;
  const auto& v = o[key];
  if (!v.is_number()) throw_user_error(field(where, key), "must be a number, got " + v.dump());
  const auto x = v.get<double>();
  if (!(x >= min && x <= max))
    throw_user_error(field(where, key), "must be in [" + std::to_string(min) + ", " + std::to_string(max) +
                                            "], got " + v.dump());
  return x;
}

bool option_bool(const nlohmann::json& o, const char* key, bool fallback, const std::string& where) {
  if (!o.contains(key)) return fallback;
  if (!o[key].is_boolean())
    throw_user_error(field(where, key), "must be true or false, got " + o[key].dump());
  return o[key].get<bool>();
}

std::string option_choice(const nlohmann::json& o, const char* key, const std::string& fallback,
                          const std::vector<std::string>& choices, const std::string& where) {
  if (!o.contains(key)) return fallback;
  if (!o[key].is_string()) throw_user_error(field(where, key), "must be a string, got " + o[key].dump());
  const auto v = o[key].get<std::string>();
  if (std::find(choices.begin(), choices.end(), v) == choices.end()) {
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
    throw_user_error(field(where, key), "'" + v + "' is not one of " + list);
  }
  return v;
}

}  // namespace autopeft::peft
