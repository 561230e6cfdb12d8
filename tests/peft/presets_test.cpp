#include "peft/spec/presets.h"

#include <gtest/gtest.h>

#include "core/errors.h"

namespace autopeft::peft {
namespace {

const ModelDims kBertBase{768, 3072, 12, 12, 30522, 512, 2, true, "bert"};

TEST(PresetsTest, EveryPresetResolves) {
  for (const auto& name : preset_names()) {
    const nlohmann::json args = name == "sappa"
                                    ? nlohmann::json{{"serial", 4}, {"parallel", 3}, {"prefix", 5}}
                                    : nlohmann::json(nullptr);
    const auto c = preset(name, kBertBase, args);
    const auto layers = c.resolve(kBertBase);
    EXPECT_FALSE(layers[0].empty()) << name;
    EXPECT_GT(count_parameters(c, kBertBase).stored, 0) << name;
  }
  EXPECT_THROW(preset("bitfit", kBertBase), UserError);
}

TEST(PresetsTest, AutoPeftSizesAndLayerMask) {
  // 768 / 2^k, with k = 9 special-cased to 1 and k = 10 removing the module.
  const std::vector<std::int64_t> want = {768, 384, 192, 96, 48, 24, 12, 6, 3, 1, 0};
  for (std::int64_t k = 0; k <= 10; ++k) EXPECT_EQ(sappa_size(768, k), want[static_cast<std::size_t>(k)]);
  std::vector<int> mask(12, 1);
  mask[0] = mask[5] = mask[11] = 0;
  const auto c =
      preset("sappa", kBertBase, {{"serial", 4}, {"parallel", 3}, {"prefix", 9}, {"layers", mask}});
  const auto layers = c.resolve(kBertBase);
  EXPECT_TRUE(layers[5].empty());
  EXPECT_EQ(layers[1]["serial_adapter"]["size"], 48);
  EXPECT_EQ(layers[1]["parallel_adapter"]["size"], 96);
  EXPECT_EQ(layers[1]["prefix"]["length"], 1);
  // AutoPEFT's cost, 2 H (r_SA + r_PA + L) n, plus the adapter biases it leaves out.
  const std::int64_t H = 768, n = 9;
  EXPECT_EQ(count_parameters(c, kBertBase).stored, 2 * H * (48 + 96 + 1) * n + n * (48 + H + 96 + H));
  const auto none = preset("sappa", kBertBase, {{"serial", 10}, {"parallel", 4}, {"prefix", 10}});
  EXPECT_FALSE(none.resolve(kBertBase)[0].contains("serial_adapter"));
  EXPECT_THROW(preset("sappa", kBertBase, {{"serial", 11}}), UserError);
  EXPECT_THROW(preset("sappa", kBertBase, {{"serial", 1}, {"layers", {1, 0}}}), UserError);
}

}  // namespace
}  // namespace autopeft::peft
