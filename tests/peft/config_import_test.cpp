// Importing Hugging Face PEFT and AdapterHub configurations; expected counts worked by hand.
#include "peft/spec/config_import.h"

#include <gtest/gtest.h>

#include "core/errors.h"
#include "tests/support/test_support.h"

namespace autopeft::peft {
namespace {

ModelDims base12(const std::string& family) {
  return {768, 3072, 12, 12, 50265, 514, 1, family == "bert", family};
}

std::filesystem::path example(const std::string& name) {
  return autopeft::testing::source_dir().parent_path() / "shared/reference/examples" / name;
}

class ConfigImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(example("peft_lora_roberta_seqcls.json")))
      GTEST_SKIP() << "../shared/reference/examples is absent";
  }
};

TEST_F(ConfigImportTest, HfPeftLoraWithRankAndAlphaPatterns) {
  const auto d = base12("roberta");
  const auto c = import_config_file(example("peft_lora_roberta_seqcls.json").string(), d);
  const auto layers = c.resolve(d);
  EXPECT_EQ(layers[0]["lora"]["targets"], nlohmann::json({"q", "v"}));
  EXPECT_EQ(layers[0]["lora"]["r_per_target"], nlohmann::json({{"q", 4}}));
  EXPECT_EQ(layers[11]["lora"]["r_per_target"], nlohmann::json({{"v", 16}}));
  EXPECT_EQ(layers[11]["lora"]["alpha_per_target"], nlohmann::json({{"v", 32}}));
  EXPECT_EQ(layers[5]["lora"]["alpha"], 16.0);
  EXPECT_EQ(layers[5]["lora"]["dropout"], 0.1);
  // 10 layers x (8 + 8) x 1536, layer 0: (4 + 8) x 1536, layer 11: (8 + 16) x 1536.
  EXPECT_EQ(count_parameters(c, d).trainable, 10 * 16 * 1536 + 12 * 1536 + 24 * 1536);
}

TEST_F(ConfigImportTest, AdapterHubPerLayerReductionAndLeaveOut) {
  const auto d = base12("roberta");
  const auto c = import_config_file(example("adapters_seq_bn_roberta.json").string(), d);
  const auto layers = c.resolve(d);
  EXPECT_EQ(layers[0]["serial_adapter"]["size"], 96);   // 768 / 8
  EXPECT_EQ(layers[11]["serial_adapter"]["size"], 24);  // 768 / 32
  EXPECT_EQ(layers[3]["serial_adapter"]["size"], 48);   // default 16
  EXPECT_EQ(layers[0]["serial_adapter"]["placement"], "pfeiffer");
  EXPECT_TRUE(layers[5].empty());
  // 2 H m + m + H per layer.
  EXPECT_EQ(count_parameters(c, d).stored, 148320 + 37656 + 9 * 74544);
}

TEST_F(ConfigImportTest, AdapterHubMamUnion) {
  const auto d = base12("roberta");
  const auto c = import_config_file(example("adapters_mam_roberta.json").string(), d);
  const auto layers = c.resolve(d);
  EXPECT_EQ(layers[4]["prefix"]["length"], 30);
  EXPECT_EQ(layers[4]["parallel_adapter"]["size"], 384);
  EXPECT_EQ(layers[4]["parallel_adapter"]["scaling"], 4.0);
  EXPECT_EQ(c.prefix_mlp["hidden"], 800);
  EXPECT_EQ(count_parameters(c, d).stored, 12 * 2 * 30 * 768 + 12 * (2 * 768 * 384 + 384 + 768));
}

TEST_F(ConfigImportTest, PerLayerLoraUnionWarnsAboutLayersTheModelLacks) {
  const auto d = base12("bert");
  const auto c = import_config_file(example("adapters_perlayer_lora_union_t5.json").string(), d);
  const auto layers = c.resolve(d);
  EXPECT_EQ(layers[0]["lora"]["r"], 16);
  EXPECT_EQ(layers[7]["lora"]["r"], 4);
}

TEST_F(ConfigImportTest, AdapterHubUniPelt) {
  const auto d = base12("bert");
  const auto c = import_config_file(example("adapters_unipelt_bert.json").string(), d);
  const auto layers = c.resolve(d);
  EXPECT_EQ(layers[0]["prefix"], nlohmann::json({{"length", 10}, {"gate", true}}));
  EXPECT_EQ(layers[0]["serial_adapter"]["size"], 48);
  EXPECT_EQ(layers[0]["serial_adapter"]["gate"], true);
  EXPECT_EQ(layers[0]["lora"]["gate"], true);
  // stored: prefix tables and gates, gated adapter, gated LoRA on q and v, for 12 layers.
  const std::int64_t H = 768;
  const std::int64_t per_layer =
      (2 * 10 * H + H + 1) + (2 * H * 48 + 48 + H + H + 1) + 2 * (8 * 2 * H + H + 1);
  EXPECT_EQ(count_parameters(c, d).stored, 12 * per_layer);
}

TEST_F(ConfigImportTest, UnsupportedPartsAreNamed) {
  const auto d = base12("bert");
  EXPECT_THROW(import_config({{"peft_type", "LORA"}, {"target_modules", {"query"}}, {"bias", "all"}}, "x", d),
               UserError);
  EXPECT_THROW(import_config({{"peft_type", "LORA"}, {"target_modules", {"nothing"}}}, "x", d), UserError);
  EXPECT_THROW(import_config({{"peft_type", "ADALORA"}}, "x", d), UserError);
}

TEST(ConfigImportFormsTest, RegexTargetsLayersToTransformAndIa3) {
  const ModelDims d{32, 48, 4, 4, 100, 64, 2, true, "bert"};
  auto c = import_config({{"peft_type", "LORA"},
                          {"r", 2},
                          {"target_modules", ".*encoder\\.layer\\.\\d+\\.attention\\.self\\.(query|key)"},
                          {"layers_to_transform", {1, 3}},
                          {"rank_pattern", {{"layer.7.attention.self.query", 4}}}},
                         "x", d);
  auto layers = c.resolve(d);
  EXPECT_TRUE(layers[0].empty());
  EXPECT_EQ(layers[1]["lora"]["targets"], nlohmann::json({"q", "k"}));
  // HF PEFT's BERT default: "output.dense" also matches attention.output.dense by suffix, which
  // would scale the attention output's input: not expressible here, so refused by name.
  EXPECT_THROW(import_config({{"peft_type", "IA3"},
                              {"target_modules", {"key", "value", "output.dense"}},
                              {"feedforward_modules", {"output.dense"}}},
                             "x", d),
               UserError);
  c = import_config({{"peft_type", "IA3"},
                     {"target_modules", ".*\\.(key|value)|.*layer\\.\\d+\\.output\\.dense"},
                     {"feedforward_modules", ".*layer\\.\\d+\\.output\\.dense"}},
                    "x", d);
  layers = c.resolve(d);
  EXPECT_EQ(layers[2]["ia3"]["targets"], nlohmann::json({"k", "v", "ffn"}));
  EXPECT_EQ(count_parameters(c, d).trainable, 4 * (32 + 32 + 48));
}

}  // namespace
}  // namespace autopeft::peft
