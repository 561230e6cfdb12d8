#include "model/format/model_config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/errors.h"

namespace autopeft::model {
namespace {

nlohmann::json bert_json() {
  return {{"model_type", "bert"},
          {"vocab_size", 100},
          {"hidden_size", 32},
          {"num_hidden_layers", 2},
          {"num_attention_heads", 4},
          {"intermediate_size", 64},
          {"architectures", {"BertForSequenceClassification"}},
          {"id2label", {{"1", "pos"}, {"0", "neg"}}}};
}

std::string error_of(const nlohmann::json& j) {
  try {
    parse_encoder_config(j, "m/config.json");
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(ModelConfigTest, BertWithTransformersDefaults) {
  const auto c = parse_encoder_config(bert_json(), "m/config.json");
  EXPECT_EQ(c.family, EncoderFamily::bert);
  EXPECT_EQ(c.head_dim(), 8);
  EXPECT_EQ(c.hidden_act, "gelu");
  EXPECT_DOUBLE_EQ(c.layer_norm_eps, 1e-12);
  EXPECT_EQ(c.max_position_embeddings, 512);
  EXPECT_EQ(c.type_vocab_size, 2);
  EXPECT_EQ(c.pad_token_id, 0);
  EXPECT_EQ(c.labels, (std::vector<std::string>{"neg", "pos"}));
  EXPECT_EQ(c.base_prefix(), "bert.");
  EXPECT_EQ(c.max_tokens(), 512);
}

TEST(ModelConfigTest, RobertaFamilyDefaultsAndPositionOffset) {
  auto j = bert_json();
  j["model_type"] = "xlm-roberta";
  j.erase("id2label");
  j["num_labels"] = 3;
  const auto c = parse_encoder_config(j, "x");
  EXPECT_EQ(c.family, EncoderFamily::roberta);
  EXPECT_EQ(c.pad_token_id, 1);
  EXPECT_EQ(c.max_position_embeddings, 514);
  EXPECT_EQ(c.max_tokens(), 512);
  EXPECT_DOUBLE_EQ(c.layer_norm_eps, 1e-5);
  EXPECT_EQ(c.type_vocab_size, 1);
  EXPECT_EQ(c.labels, (std::vector<std::string>{"LABEL_0", "LABEL_1", "LABEL_2"}));
  EXPECT_EQ(c.base_prefix(), "roberta.");
}

TEST(ModelConfigTest, ErrorsNameTheFileAndKey) {
  auto j = bert_json();
  j["model_type"] = "gpt-j";
  auto m = error_of(j);
  EXPECT_NE(m.find("m/config.json"), std::string::npos) << m;
  EXPECT_NE(m.find("'gpt-j'"), std::string::npos) << m;
  EXPECT_NE(m.find("bert, roberta, xlm-roberta, camembert"), std::string::npos) << m;

  j = bert_json();
  j.erase("hidden_size");
  EXPECT_NE(error_of(j).find("'hidden_size'"), std::string::npos);
  j = bert_json();
  j["num_attention_heads"] = 5;
  EXPECT_NE(error_of(j).find("divisible"), std::string::npos);
  j = bert_json();
  j["hidden_size"] = "32";
  EXPECT_NE(error_of(j).find("'hidden_size'"), std::string::npos);
  j = bert_json();
  j["hidden_act"] = "mish";
  EXPECT_NE(error_of(j).find("mish"), std::string::npos);
  j = bert_json();
  j["position_embedding_type"] = "relative_key";
  EXPECT_NE(error_of(j).find("relative_key"), std::string::npos);
  j = bert_json();
  j["id2label"] = {{"0", "a"}, {"2", "b"}};
  EXPECT_NE(error_of(j).find("id2label"), std::string::npos);
  EXPECT_THROW(load_encoder_config("/nonexistent/model"), UserError);
}

}  // namespace
}  // namespace autopeft::model
