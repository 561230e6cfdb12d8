#include "core/logging.h"

#include <gtest/gtest.h>

#include "core/errors.h"

namespace autopeft {
namespace {

TEST(LoggingTest, ParsesEveryLevelName) {
  EXPECT_EQ(log::parse_level("debug"), log::Level::debug);
  EXPECT_EQ(log::parse_level("info"), log::Level::info);
  EXPECT_EQ(log::parse_level("warn"), log::Level::warn);
  EXPECT_EQ(log::parse_level("warning"), log::Level::warn);
  EXPECT_EQ(log::parse_level("error"), log::Level::error);
  EXPECT_EQ(log::parse_level("off"), log::Level::off);
  for (auto l : {log::Level::debug, log::Level::info, log::Level::warn, log::Level::error, log::Level::off})
    EXPECT_EQ(log::parse_level(log::level_name(l)), l);
}

TEST(LoggingTest, UnknownLevelIsAUserErrorNamingTheValue) {
  try {
    log::parse_level("loud");
    FAIL() << "no exception";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("'loud'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--log-level"), std::string::npos) << e.what();
  }
}

TEST(LoggingTest, MessagesBelowTheThresholdGoNowhereAndOthersGoToStderr) {
  log::set_level(log::Level::warn);
  ::testing::internal::CaptureStderr();
  ::testing::internal::CaptureStdout();
  log::info("hidden {}", 1);
  log::warn("shown {}", 2);
  const auto out = ::testing::internal::GetCapturedStdout();
  const auto err = ::testing::internal::GetCapturedStderr();
  log::set_level(log::Level::info);
  EXPECT_EQ(out, "");
  EXPECT_EQ(err, "[autopeft warn] shown 2\n");
}

TEST(ErrorsTest, ThrowUserErrorPutsWhereFirst) {
  try {
    throw_user_error("task.json:3", "unknown key 'lable'");
  } catch (const UserError& e) {
    EXPECT_STREQ(e.what(), "task.json:3: unknown key 'lable'");
  }
}

}  // namespace
}  // namespace autopeft
