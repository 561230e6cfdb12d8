// Replays the fuzz corpora (tests/fuzz/corpus/*) through the fuzz targets' bodies: every input
// that ever reached the fuzzers must still end cleanly (under ASan/UBSan in the sanitize build).
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/fuzz/fuzz_targets.h"
#include "tests/support/test_support.h"

namespace autopeft::fuzz {
namespace {

void replay(const std::string& corpus, void (*target)(const std::uint8_t*, std::size_t)) {
  const auto dir = autopeft::testing::source_dir() / "tests/fuzz/corpus" / corpus;
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto bytes = autopeft::testing::read_file(entry.path());
    target(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    ++n;
  }
  EXPECT_GT(n, 0);
}

TEST(FuzzCorpusTest, Safetensors) { replay("safetensors", safetensors_header); }
TEST(FuzzCorpusTest, EncoderConfig) { replay("config", encoder_config); }

}  // namespace
}  // namespace autopeft::fuzz
