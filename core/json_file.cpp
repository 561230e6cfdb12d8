#include "core/json_file.h"

#include <fstream>

#include "core/errors.h"

namespace autopeft {

nlohmann::json read_json_file(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) throw_user_error(path, "cannot open " + what);
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() carries "line L, column C" for syntax errors.
    throw_user_error(path, std::string("invalid JSON: ") + e.what());
  }
}

}  // namespace autopeft
