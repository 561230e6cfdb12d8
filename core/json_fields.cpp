#include "core/json_fields.h"

#include "core/errors.h"

namespace autopeft {

JsonFields::JsonFields(const nlohmann::json& object, std::string where)
    : object_(object), where_(std::move(where)) {
  if (!object_.is_object()) throw_user_error(where_, "expected a JSON object, got " + object_.dump());
}

std::string JsonFields::where(const std::string& key) const { return where_ + "." + key; }

void JsonFields::finish() const {
  for (auto it = object_.begin(); it != object_.end(); ++it)
    if (!seen_.count(it.key())) {
      std::string known;
      for (const auto& k : seen_) known += (known.empty() ? "" : ", ") + k;
      throw_user_error(where(it.key()), "unknown key (known: " + known + ")");
    }
}

void JsonFields::type_error(const std::string& key, const nlohmann::json& value,
                            const std::string& expected) const {
  if (!expected.empty()) throw_user_error(where(key), "expected " + expected + ", got " + value.dump());
  throw_user_error(where(key), "value " + value.dump() + " has the wrong type (" + value.type_name() + ")");
}

}  // namespace autopeft
