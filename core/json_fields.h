#pragma once
// Reading a plain options struct from a JSON object: each known key is read into its field with
// a type check, and keys nobody asked for are an error. Errors name the source and the key, e.g.
// "study.json: fidelity.batch_size: expected an integer, got 2.5".
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <type_traits>

namespace autopeft {

class JsonFields {
 public:
  // `where` names the object ("study.json: fidelity"); a non-object is a UserError.
  JsonFields(const nlohmann::json& object, std::string where);

  // Reads `key` into `out` when present (out keeps its default otherwise).
  template <typename T>
  void read(const std::string& key, T& out) {
    seen_.insert(key);
    const auto it = object_.find(key);
    if (it == object_.end()) return;
    try {
      // nlohmann converts any number to any arithmetic type: 2.5 would become 2 and -1 a huge seed.
      if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
        if (!integer_fits<T>(*it))
          type_error(key, *it, std::is_unsigned_v<T> ? "a non-negative integer" : "an integer");
      out = it->template get<T>();
    } catch (const nlohmann::json::exception&) {
      type_error(key, *it);
    }
  }
  // Marks a key as known without reading it.
  void allow(const std::string& key) { seen_.insert(key); }
  // UserError for the first key that was neither read nor allowed.
  void finish() const;
  std::string where(const std::string& key) const;

 private:
  // An integer JSON value within T's range.
  template <typename T>
  static bool integer_fits(const nlohmann::json& v) {
    if (v.is_number_unsigned())
      return v.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<T>::max());
    if (!v.is_number_integer()) return false;
    const auto x = v.get<std::int64_t>();
    if constexpr (std::is_unsigned_v<T>)
      return x >= 0 &&
             static_cast<std::uint64_t>(x) <= static_cast<std::uint64_t>(std::numeric_limits<T>::max());
    else
      return x >= static_cast<std::int64_t>(std::numeric_limits<T>::min()) &&
             x <= static_cast<std::int64_t>(std::numeric_limits<T>::max());
  }
  // `expected` (e.g. "an integer") replaces the generic message when given.
  [[noreturn]] void type_error(const std::string& key, const nlohmann::json& value,
                               const std::string& expected = "") const;
  nlohmann::json object_;  // a copy: callers pass temporaries
  std::string where_;
  std::set<std::string> seen_;
};

}  // namespace autopeft
