#include "peft/spec/methods/common.h"

#include <algorithm>

#include "core/errors.h"

namespace autopeft::peft::methods {

bool absent_if_zero(const nlohmann::json& options, const char* size_key, const std::string& where) {
  if (!options.is_object()) throw_user_error(where, "must be an object, got " + options.dump());
  if (!options.contains(size_key)) throw_user_error(where + "." + size_key, "required");
  const auto& v = options[size_key];
  if (v.is_number_integer() && v.get<std::int64_t>() == 0) {
    if (options.size() > 1)
      throw_user_error(where, std::string("options given for a module of ") + size_key +
                                  " 0 (which is no module): remove them or the module");
    return true;
  }
  return false;
}

std::int64_t bottleneck_parameters(std::int64_t H, std::int64_t m, bool ln_before, bool ln_after,
                                   bool learned_scaling, bool gate) {
  std::int64_t n = (H * m + m) + (m * H + H);
  if (ln_before) n += 2 * H;
  if (ln_after) n += 2 * H;
  if (learned_scaling) n += 1;
  if (gate) n += H + 1;
  return n;
}

nlohmann::json parse_scaling(const nlohmann::json& o, double fallback, const std::string& where) {
  if (!o.contains("scaling")) return fallback;
  const auto& v = o["scaling"];
  if (v.is_string() && v.get<std::string>() == "learned") return v;
  if (v.is_number() && v.get<double>() > 0) return v;
  throw_user_error(where + ".scaling", "must be a positive number or \"learned\", got " + v.dump());
}

std::vector<std::string> option_subset(const nlohmann::json& o, const char* key,
                                       const std::vector<std::string>& fallback,
                                       const std::vector<std::string>& choices, const std::string& where) {
  if (!o.contains(key)) return fallback;
  const auto& v = o[key];
  const std::string f = where + "." + key;
  if (!v.is_array() || v.empty()) throw_user_error(f, "must be a non-empty list, got " + v.dump());
  std::vector<std::string> out;
  for (const auto& item : v) {
    if (!item.is_string()) throw_user_error(f, "entries must be strings, got " + item.dump());
    const auto s = item.get<std::string>();
    if (std::find(choices.begin(), choices.end(), s) == choices.end()) {
      std::string list;
      for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
      throw_user_error(f, "'" + s + "' is not one of " + list);
    }
    if (std::find(out.begin(), out.end(), s) != out.end()) throw_user_error(f, "'" + s + "' given twice");
    out.push_back(s);
  }
  return out;
}

std::vector<std::int64_t> zero_and_powers_of_two(std::int64_t top) {
  std::vector<std::int64_t> v = {0};
  for (std::int64_t x = 1; x <= top; x *= 2) v.push_back(x);
  return v;
}

bool option_gate(const nlohmann::json& o, const ModelDims& dims, const std::string& where) {
  const bool gate = option_bool(o, "gate", false, where);
  if (gate && is_causal(dims))
    throw_user_error(where + ".gate",
                     "UniPELT's gates average over the whole sequence, which the causal stack of a " +
                         dims.family + " must not see; use the method without a gate");
  return gate;
}

}  // namespace autopeft::peft::methods
