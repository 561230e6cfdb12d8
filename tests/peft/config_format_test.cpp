#include "peft/spec/config_format.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "tests/support/test_support.h"

namespace autopeft::peft {
namespace {

using nlohmann::json;

TEST(ConfigFormatTest, RecognisesTheThreeForms) {
  EXPECT_EQ(detect_config_format(json{{"autopeft_peft_config", 1}, {"layers", json::array()}}, "x"),
            ConfigFormat::native);
  EXPECT_EQ(detect_config_format(json{{"peft_type", "LORA"}, {"r", 8}}, "x"), ConfigFormat::hf_peft);
  EXPECT_EQ(
      detect_config_format(json{{"config", {{"reduction_factor", 16}}}, {"version", "adapters.1.2.0"}}, "x"),
      ConfigFormat::adapters);
  // A bare to_dict() of an AdapterHub config.
  EXPECT_EQ(detect_config_format(json{{"architecture", "union"}, {"configs", json::array()}}, "x"),
            ConfigFormat::adapters);
}

TEST(ConfigFormatTest, ReadsTheReferenceExamplesWhenPresent) {
  const auto data = autopeft::testing::source_dir().parent_path() / "shared" / "reference" / "examples";
  if (!std::filesystem::is_directory(data)) GTEST_SKIP() << "no ../shared/reference/examples";
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(data)) {
    const auto name = entry.path().filename().string();
    if (entry.path().extension() != ".json") continue;
    const auto format = detect_config_file_format(entry.path().string());
    if (name.rfind("peft_", 0) == 0) {
      EXPECT_EQ(format, ConfigFormat::hf_peft) << name;
    } else if (name.rfind("adapters_", 0) == 0) {
      EXPECT_EQ(format, ConfigFormat::adapters) << name;
    }
    ++seen;
  }
  EXPECT_GT(seen, 0);
}

TEST(ConfigFormatTest, ErrorsNameTheFileAndTheProblem) {
  autopeft::testing::TempDir tmp;
  const auto bad_json = tmp.write("bad.json", "{\n  \"r\": 8,\n  oops\n}\n");
  try {
    detect_config_file_format(bad_json.string());
    FAIL();
  } catch (const UserError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(bad_json.string()), std::string::npos) << m;
    EXPECT_NE(m.find("line 3"), std::string::npos) << m;
  }
  const auto unknown = tmp.write("unknown.json", "{\"rank\": 8}");
  try {
    detect_config_file_format(unknown.string());
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("peft_type"), std::string::npos) << e.what();
  }
  EXPECT_THROW(detect_config_file_format((tmp / "missing.json").string()), UserError);
  EXPECT_THROW(detect_config_format(json::array(), "a.json"), UserError);
}

TEST(ConfigFormatTest, FormatNamesRoundTrip) {
  for (auto f : {ConfigFormat::native, ConfigFormat::hf_peft, ConfigFormat::adapters})
    EXPECT_EQ(parse_format(format_name(f)), f);
  EXPECT_THROW(parse_format("onnx"), UserError);
}

}  // namespace
}  // namespace autopeft::peft
