// The command-line contract, checked on the built executable.
#include <gtest/gtest.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace autopeft {
namespace {

using autopeft::testing::run_command;

std::string exe() { return "'" + (autopeft::testing::binary_dir() / "autopeft").string() + "'"; }

std::string last_line(const std::string& s) {
  auto end = s.find_last_not_of('\n');
  if (end == std::string::npos) return "";
  auto start = s.rfind('\n', end);
  return s.substr(start == std::string::npos ? 0 : start + 1,
                  end - (start == std::string::npos ? 0 : start + 1) + 1);
}

TEST(CliIntegrationTest, VersionAndHelpExitZero) {
  auto r = run_command(exe() + " --version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("autopeft 0."), std::string::npos) << r.out;
  r = run_command(exe() + " --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("info"), std::string::npos);
  r = run_command(exe() + " info --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--json"), std::string::npos);
}

TEST(CliIntegrationTest, UserErrorsExitOneWithOneLine) {
  for (const std::string args :
       {"", "frobnicate", "info --bogus", "--threads -3 info", "--threads x info", "--log-level loud info"}) {
    const auto r = run_command(exe() + " " + args);
    EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.err;
    EXPECT_EQ(r.out, "") << args;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << ": " << r.err;
    EXPECT_EQ(r.err.rfind("autopeft: error: ", 0), 0u) << r.err;
  }
}

TEST(CliIntegrationTest, InfoJsonIsOneLineOnStdoutWithGlobalsBeforeOrAfter) {
  for (const std::string args :
       {"--threads 1 --log-level warn info --json", "info --json --threads 1 --log-level warn"}) {
    const auto r = run_command(exe() + " " + args);
    ASSERT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    const auto j = nlohmann::json::parse(last_line(r.out));
    EXPECT_EQ(j["threads"], 1) << args;
    EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(j["libtorch"].get<std::string>().at(0)))) << j.dump();
    for (const char* key : {"eigen", "nlopt", "sqlite", "sqlitecpp", "nlohmann_json", "cli11", "blas",
                            "cuda_available", "sentencepiece"})
      EXPECT_TRUE(j.contains(key)) << key;
    EXPECT_NE(j["sentencepiece"].get<std::string>().find("isolated module"), std::string::npos) << j.dump();
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
  }
}

TEST(CliIntegrationTest, InfoTableNamesTheBlas) {
  const auto r = run_command(exe() + " info");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("blas "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("libtorch "), std::string::npos) << r.out;
}

}  // namespace
}  // namespace autopeft
