#include "model/format/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "model/format/checkpoint_files.h"
#include "tests/support/test_support.h"

namespace autopeft::model {
namespace {

using autopeft::testing::TempDir;

// Builds a file by hand: 8-byte little-endian length, the header text as given, then the data.
std::string raw_file(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  const std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string floats(std::initializer_list<float> v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), std::data(v), s.size());
  return s;
}

std::string error_of(const std::string& path) {
  try {
    SafetensorsFile f(path);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(SafetensorsTest, ReadsAHandWrittenFile) {
  TempDir tmp;
  // Two tensors: a [2,2] F32 at bytes 0..16 and an I64 scalar-vector [1] at 16..24.
  std::string data = floats({1.f, 2.f, 3.f, 4.f});
  const std::int64_t seven = 7;
  data.append(reinterpret_cast<const char*>(&seven), 8);
  const std::string header =
      R"({"__metadata__":{"format":"pt","who":"me"},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
      R"("n":{"dtype":"I64","shape":[1],"data_offsets":[16,24]}})";
  const auto path = tmp.write("a.safetensors", raw_file(header, data));
  SafetensorsFile f(path.string());
  ASSERT_EQ(f.tensors().size(), 2u);
  const auto* w = f.find("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->dtype, DType::F32);
  EXPECT_EQ(w->shape, (std::vector<std::int64_t>{2, 2}));
  float back[4];
  std::memcpy(back, f.data(*w), 16);
  EXPECT_EQ(back[3], 4.f);
  std::int64_t n = 0;
  std::memcpy(&n, f.data(*f.find("n")), 8);
  EXPECT_EQ(n, 7);
  EXPECT_EQ(f.header().metadata.at("who"), "me");
}

TEST(SafetensorsTest, WriterPadsOrdersAndRoundTrips) {
  TempDir tmp;
  const std::vector<float> a = {1.5f, -2.f, 3.25f};
  const std::vector<double> b = {0.1, 0.2};
  const std::vector<std::uint8_t> c = {1, 0, 1, 1};
  const std::vector<std::uint16_t> half = {0x3c00};  // 1.0 in F16
  const auto path = (tmp / "w.safetensors").string();
  write_safetensors(path,
                    {{"z_float", DType::F32, {3}, a.data(), 12},
                     {"b_double", DType::F64, {2, 1}, b.data(), 16},
                     {"mask", DType::BOOL, {2, 2}, c.data(), 4},
                     {"h", DType::F16, {1}, half.data(), 2},
                     {"empty", DType::F32, {0, 4}, nullptr, 0}},
                    {{"step", "12"}});
  const auto bytes = autopeft::testing::read_file(path);
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  const auto header = nlohmann::json::parse(bytes.substr(8, n));
  EXPECT_EQ(header["__metadata__"]["format"], "pt");
  EXPECT_EQ(header["__metadata__"]["step"], "12");
  // Largest element first, then by name: F64, then the F32s (empty, z_float), F16, BOOL.
  EXPECT_EQ(header["b_double"]["data_offsets"], nlohmann::json::array({0, 16}));
  EXPECT_EQ(header["empty"]["data_offsets"], nlohmann::json::array({16, 16}));
  EXPECT_EQ(header["z_float"]["data_offsets"], nlohmann::json::array({16, 28}));
  EXPECT_EQ(header["h"]["data_offsets"], nlohmann::json::array({28, 30}));
  EXPECT_EQ(header["mask"]["data_offsets"], nlohmann::json::array({30, 34}));

  SafetensorsFile f(path);
  float back[3];
  std::memcpy(back, f.data(*f.find("z_float")), 12);
  EXPECT_EQ(back[2], 3.25f);
  EXPECT_EQ(f.find("empty")->numel(), 0);
  EXPECT_EQ(f.find("mask")->dtype, DType::BOOL);
  EXPECT_EQ(f.header().metadata.at("format"), "pt");
}

TEST(SafetensorsTest, WriterRejectsBadInputAndLeavesNoFile) {
  TempDir tmp;
  const float x = 1;
  const auto path = (tmp / "bad.safetensors").string();
  EXPECT_THROW(write_safetensors(path, {{"a", DType::F32, {2}, &x, 4}}), UserError);  // 4 bytes for 2 floats
  EXPECT_THROW(write_safetensors(path, {{"a", DType::F32, {1}, &x, 4}, {"a", DType::F32, {1}, &x, 4}}),
               UserError);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_THROW(
      write_safetensors((tmp / "no/such/dir/x.safetensors").string(), {{"a", DType::F32, {1}, &x, 4}}),
      UserError);
}

struct Hostile {
  const char* name;
  std::string bytes;
  const char* expect;  // a piece of the error message
};

TEST(SafetensorsTest, HostileFilesGetClearErrors) {
  const std::string f4 = floats({1.f});
  std::string huge_len(8, '\0');
  huge_len[7] = 0x7f;  // ~9e18 bytes of header
  std::string over_100mb(8, '\0');
  const std::uint64_t n = 100'000'001;
  std::memcpy(over_100mb.data(), &n, 8);
  over_100mb += std::string(16, ' ');
  const std::vector<Hostile> cases = {
      {"empty", "", "shorter than the 8-byte"},
      {"short", "abc", "shorter than the 8-byte"},
      {"length beyond file", huge_len, "exceeds"},
      {"over 100 MB", over_100mb, "100 MB"},
      {"not json", raw_file("{nope", f4), "not valid JSON"},
      {"array", raw_file("[1,2]", ""), "not a JSON object"},
      {"unknown dtype", raw_file(R"({"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})", "x"),
       "F8_E4M3"},
      {"negative shape", raw_file(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", f4),
       "non-negative"},
      {"size mismatch", raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", f4), "needs 8"},
      {"offsets past end", raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", f4),
       "outside"},
      {"gap", raw_file(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", "xy"), "gap"},
      {"overlap",
       raw_file(
           R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
           "xy"),
       "overlap"},
      {"trailing bytes", raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", f4 + "zz"),
       "make"},
      {"duplicate key",
       raw_file(
           R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})",
           "x"),
       "repeats"},
      {"overflowing shape",
       raw_file(R"({"a":{"dtype":"F64","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}})", f4),
       "2^64"},
      {"offsets not integers", raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,"4"]}})", f4),
       "data_offsets"},
      {"missing shape", raw_file(R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", f4), "missing 'shape'"},
      {"metadata not strings", raw_file(R"({"__metadata__":{"format":1}})", ""), "not a string"},
  };
  TempDir tmp;
  for (const auto& c : cases) {
    const auto path = tmp.write("hostile.safetensors", c.bytes);
    const auto message = error_of(path.string());
    EXPECT_NE(message.find(c.expect), std::string::npos) << c.name << ": '" << message << "'";
    EXPECT_NE(message.find(path.string()), std::string::npos) << c.name << ": " << message;
  }
  EXPECT_NE(error_of((tmp / "missing.safetensors").string()).find("cannot open"), std::string::npos);
}

TEST(CheckpointFilesTest, SingleFileShardsAndPickles) {
  TempDir tmp;
  const float x[2] = {1, 2};
  std::filesystem::create_directories(tmp / "single");
  write_safetensors((tmp / "single/model.safetensors").string(), {{"a", DType::F32, {2}, x, 8}});
  CheckpointFiles single((tmp / "single").string());
  ASSERT_NE(single.find("a"), nullptr);
  EXPECT_EQ(single.find("b"), nullptr);

  std::filesystem::create_directories(tmp / "sharded");
  write_safetensors((tmp / "sharded/part-1.safetensors").string(), {{"a", DType::F32, {2}, x, 8}});
  write_safetensors((tmp / "sharded/part-2.safetensors").string(), {{"b", DType::F32, {1}, x, 4}});
  tmp.write("sharded/model.safetensors.index.json",
            R"({"metadata":{},"weight_map":{"a":"part-1.safetensors","b":"part-2.safetensors"}})");
  CheckpointFiles sharded((tmp / "sharded").string());
  EXPECT_EQ(sharded.files().size(), 2u);
  EXPECT_EQ(sharded.find("b")->info->shape, (std::vector<std::int64_t>{1}));

  tmp.write("sharded/model.safetensors.index.json", R"({"weight_map":{"a":"../single/model.safetensors"}})");
  EXPECT_THROW(CheckpointFiles((tmp / "sharded").string()), UserError);
  tmp.write("sharded/model.safetensors.index.json", R"({"weight_map":{"c":"part-1.safetensors"}})");
  EXPECT_THROW(CheckpointFiles((tmp / "sharded").string()), UserError);

  tmp.write("pickled/pytorch_model.bin", "PK");
  try {
    CheckpointFiles((tmp / "pickled").string());
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("safe_serialization=True"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace autopeft::model
