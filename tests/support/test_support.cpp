#include "tests/support/test_support.h"

#include "tests/support/paths.h"

#include "core/files.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace autopeft::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = fs::temp_directory_path() / ("autopeft-test-" + std::to_string(rd()));
    if (fs::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("TempDir: cannot create a temporary directory");
}

TempDir::~TempDir() { remove_tree(path_.string()); }

fs::path TempDir::write(const std::string& name, const std::string& content) const {
  const auto p = path_ / name;
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("TempDir::write: cannot write " + p.string());
  return p;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("read_file: cannot open " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

CommandResult run_command(const std::string& command) {
  TempDir tmp;
  const auto out = tmp / "stdout";
  const auto err = tmp / "stderr";
  const std::string full = command + " >'" + out.string() + "' 2>'" + err.string() + "' </dev/null";
  const int status = std::system(full.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

static fs::path env_dir(const char* name, const char* built_in) {
  const char* v = std::getenv(name);
  return fs::path(v && *v ? v : built_in);
}

fs::path source_dir() { return env_dir("AUTOPEFT_SOURCE_DIR", AUTOPEFT_TEST_SOURCE_DIR); }
fs::path binary_dir() { return env_dir("AUTOPEFT_BINARY_DIR", AUTOPEFT_TEST_BINARY_DIR); }

fs::path shared_data_dir() {
  const auto src = source_dir();
  if (src.empty()) return {};
  const auto data = src.parent_path() / "shared" / "data";
  return fs::is_directory(data) ? data : fs::path();
}

}  // namespace autopeft::testing
