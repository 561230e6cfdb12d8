#pragma once
// Reading a plain options struct from a JSON object: each known key is read into its field with
// a type check, and keys nobody asked for are an error. Errors name the source and the key, e.g.
// "study.json: fidelity.epochs: expected a number, got \"two\"".
#include <nlohmann/json.hpp>
#include <set>
#include <string>

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
  [[noreturn]] void type_error(const std::string& key, const nlohmann::json& value) const;
  const nlohmann::json& object_;
  std::string where_;
  std::set<std::string> seen_;
};

}  // namespace autopeft
