// The PEFT search spaces built from the method registry, and decoding points into configs.
#include "peft/spec/search_spaces.h"

#include <gtest/gtest.h>

#include <random>

#include "core/errors.h"
#include "peft/spec/method_spec.h"
#include "search/search_space.h"

namespace autopeft::peft {
namespace {

TEST(SearchSpacesTest, AutoPeftPresetHasAutoPeftsDimensionCounts) {
  auto d = bert_base_dims();
  EXPECT_EQ(space_preset("autopeft", d).size(), 15u);
  d.layers = 24;
  EXPECT_EQ(space_preset("autopeft", d).size(), 27u);
}

TEST(SearchSpacesTest, PerLayerPresetHasFourOrdinalDimensionsPerLayerFromTheRegistry) {
  const auto d = bert_base_dims();
  const auto space = space_preset("per-layer", d);
  ASSERT_EQ(space.size(), 48u);
  std::map<std::string, std::vector<std::int64_t>> by_suffix;
  for (const auto& dim : space) {
    const auto name = dim["name"].get<std::string>();
    EXPECT_EQ(dim["type"], "ordinal");
    if (name.rfind("layer.5.", 0) == 0)
      by_suffix[name.substr(8)] = dim["values"].get<std::vector<std::int64_t>>();
  }
  const std::vector<std::int64_t> sizes = {0, 1, 2, 4, 8, 16, 32, 64, 128, 256};  // up to H/2 = 384
  EXPECT_EQ(by_suffix["serial_adapter.size"], sizes);
  EXPECT_EQ(by_suffix["parallel_adapter.size"], sizes);
  EXPECT_EQ(by_suffix["prefix.length"], (std::vector<std::int64_t>{0, 1, 2, 4, 8, 16, 32}));
  EXPECT_EQ(by_suffix["lora.r"], (std::vector<std::int64_t>{0, 1, 2, 4, 8, 16}));
  // The space parses in search/ and every sampled point decodes into a valid config.
  const auto parsed = search::SearchSpace::from_json(space, "per-layer");
  std::mt19937_64 rng(3);
  for (int i = 0; i < 20; ++i) {
    const auto p = parsed.sample(rng);
    const auto config = config_from_params("per-layer", p, d);
    const auto layers = config.resolve(d);
    for (int l = 0; l < 12; ++l) {
      const auto r = p["layer." + std::to_string(l) + ".lora.r"].get<std::int64_t>();
      EXPECT_EQ(layers[static_cast<std::size_t>(l)].contains("lora"), r > 0);
      if (r > 0) {
        EXPECT_EQ(layers[static_cast<std::size_t>(l)]["lora"]["r"], r);
        EXPECT_EQ(layers[static_cast<std::size_t>(l)]["lora"]["targets"], nlohmann::json({"q", "v"}));
      }
    }
  }
}

TEST(SearchSpacesTest, PerLayerDecodingSetsFixedOptionsAndDropsZeroSizes) {
  const auto d = bert_base_dims();
  nlohmann::json p = {
      {"layer.0.parallel_adapter.size", 16}, {"layer.0.lora.r", 0}, {"layer.3.prefix.length", 8}};
  const auto layers = config_from_params("per-layer", p, d).resolve(d);
  EXPECT_EQ(layers[0]["parallel_adapter"]["size"], 16);
  EXPECT_EQ(layers[0]["parallel_adapter"]["location"], "ffn");
  EXPECT_DOUBLE_EQ(layers[0]["parallel_adapter"]["scaling"].get<double>(), 4.0);
  EXPECT_FALSE(layers[0].contains("lora"));
  EXPECT_EQ(layers[3]["prefix"]["length"], 8);
  EXPECT_TRUE(layers[1].empty());
}

TEST(SearchSpacesTest, AllScopeAppliesToEveryLayerAndALayerCanTurnItOff) {
  const auto d = bert_base_dims();
  nlohmann::json p = {{"all.lora.r", 4}, {"all.lora.alpha", 8}, {"layer.2.lora.r", 0}};
  const auto layers = config_from_params("custom", p, d).resolve(d);
  EXPECT_EQ(layers[0]["lora"]["r"], 4);
  EXPECT_EQ(layers[0]["lora"]["alpha"], 8);
  EXPECT_FALSE(layers[2].contains("lora"));
  EXPECT_EQ(layers[11]["lora"]["r"], 4);
  // A layer's own option refines what "all" gives it.
  const auto refined =
      config_from_params("custom", {{"all.lora.r", 4}, {"layer.3.lora.alpha", 32}}, d).resolve(d);
  EXPECT_EQ(refined[3]["lora"]["r"], 4);
  EXPECT_EQ(refined[3]["lora"]["alpha"], 32);
  EXPECT_EQ(refined[4]["lora"]["alpha"], refined[0]["lora"]["alpha"]);
}

TEST(SearchSpacesTest, AutoPeftPointDecodesThroughTheSappaPreset) {
  const auto d = bert_base_dims();
  nlohmann::json p = {{"serial", 3}, {"parallel", 10}, {"prefix", 5}};
  for (int i = 0; i < 12; ++i) p["layer." + std::to_string(i)] = i % 2 == 0;
  const auto layers = config_from_params("autopeft", p, d).resolve(d);
  EXPECT_EQ(layers[0]["serial_adapter"]["size"], 768 >> 3);
  EXPECT_FALSE(layers[0].contains("parallel_adapter"));  // 10 = off
  EXPECT_EQ(layers[0]["prefix"]["length"], 768 >> 5);
  EXPECT_TRUE(layers[1].empty());
}

TEST(SearchSpacesTest, BadPointsNameTheParameter) {
  const auto d = bert_base_dims();
  auto message = [&](const nlohmann::json& p) {
    try {
      config_from_params("per-layer", p, d);
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({{"layer.12.lora.r", 4}}).find("params.layer.12.lora.r"), std::string::npos);
  EXPECT_NE(message({{"layer.1.dora.r", 4}}).find("dora"), std::string::npos);
  EXPECT_NE(message({{"learning_rate", 4}}).find("params.learning_rate"), std::string::npos);
  EXPECT_THROW(space_preset("nope", d), UserError);
}

}  // namespace
}  // namespace autopeft::peft
