#pragma once
// Torch-free test helpers.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>

namespace autopeft::testing {

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  // Writes a file under the directory and returns its path.
  std::filesystem::path write(const std::string& name, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

// A fixture with a fixed-seed generator (seed 0 unless a test reseeds it).
class SeededTest : public ::testing::Test {
 protected:
  std::mt19937_64 rng{0};
};

// The result of running a shell command: exit status, stdout and stderr, kept apart.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
CommandResult run_command(const std::string& command);

// The repository and build folders ($AUTOPEFT_SOURCE_DIR / $AUTOPEFT_BINARY_DIR override them).
std::filesystem::path source_dir();
std::filesystem::path binary_dir();
// ../shared/data next to the repository, or empty when absent (tests then skip with a message).
std::filesystem::path shared_data_dir();

std::string read_file(const std::filesystem::path& path);

}  // namespace autopeft::testing
