#pragma once
// Reading a JSON file with errors that name it (and the line and column of a syntax error).
#include <nlohmann/json.hpp>
#include <string>

namespace autopeft {

// `what` says what the file is for the "cannot open" message (e.g. "task file").
nlohmann::json read_json_file(const std::string& path, const std::string& what = "file");

}  // namespace autopeft
