// Contract tests over every registered PEFT method, on tiny BERT and RoBERTa encoders.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "model/encoder_task.h"
#include "peft/modules/lora.h"
#include "peft/modules/prompt.h"
#include "peft/peft_model.h"
#include "peft/spec/peft_config.h"
#include "peft/spec/presets.h"
#include "tests/peft/peft_test_support.h"
#include "tests/support/torch_support.h"

namespace autopeft::peft {
namespace {

using testing::config_with;

using autopeft::testing::TempDir;

model::EncoderConfig tiny(const std::string& type) {
  nlohmann::json j = {{"model_type", type},           {"vocab_size", 60},         {"hidden_size", 32},
                      {"num_hidden_layers", 3},       {"num_attention_heads", 4}, {"intermediate_size", 48},
                      {"max_position_embeddings", 40}};
  return model::parse_encoder_config(j, "tiny");
}

model::EncoderModel random_model(const std::string& type) {
  model::EncoderModel m(tiny(type), type == "bert");
  torch::NoGradGuard g;
  for (auto& p : m->parameters()) p.normal_(0.0, 0.2);
  m->eval();
  return m;
}

std::vector<std::string> methods() { return MethodRegistry::instance().names(); }

struct Case {
  std::string method;
  std::string family;
};

class PeftContractTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override { torch::manual_seed(0); }
  const MethodSpec& spec() const { return *MethodRegistry::instance().find(GetParam().method); }
};

std::vector<Case> all_cases() {
  std::vector<Case> out;
  for (const auto& m : methods())
    for (const char* f : {"bert", "roberta"}) out.push_back({m, f});
  return out;
}

TEST_P(PeftContractTest, BackboneFrozenAndGradientsReachAllAndOnlyPeftParameters) {
  auto m = random_model(GetParam().family);
  PeftModel peft(m, config_with(GetParam().method, spec().example()));
  const auto named = peft.named_parameters();
  ASSERT_FALSE(named.empty());
  auto out =
      m->forward(torch::tensor({{2, 7, 9, 11, 13}}), torch::tensor({{1, 1, 1, 1, 0}})).last_hidden_state;
  (out * torch::randn_like(out)).sum().backward();
  std::set<std::string> peft_names;
  double total = 0;
  for (const auto& [n, p] : named) {
    peft_names.insert(n);
    EXPECT_TRUE(p.requires_grad()) << n;
    ASSERT_TRUE(p.grad().defined()) << n;
    total += p.grad().abs().sum().item<double>();
  }
  EXPECT_GT(total, 0.0);
  for (const auto& item : m->named_parameters()) {
    if (peft_names.count(item.key())) continue;
    EXPECT_FALSE(item.value().requires_grad()) << item.key();
    EXPECT_FALSE(item.value().grad().defined()) << item.key();
  }
}

TEST_P(PeftContractTest, IdentityAtInitialisationWhereTheMethodDefinesIt) {
  const auto options = spec().identity_example();
  if (options.is_null()) GTEST_SKIP() << GetParam().method << " changes the output at init (softmax)";
  auto m = random_model(GetParam().family);
  torch::NoGradGuard g;
  auto ids = torch::tensor({{2, 7, 9, 11, 13}});
  auto mask = torch::tensor({{1, 1, 1, 1, 0}});
  auto before = m->forward(ids, mask).last_hidden_state;
  PeftModel peft(m, config_with(GetParam().method, options));
  EXPECT_TRUE(torch::equal(m->forward(ids, mask).last_hidden_state, before));
}

TEST_P(PeftContractTest, ClosedFormCountsEqualTheBuiltModel) {
  const auto dims_for = [&](model::EncoderModel& m) { return dims_of(m->config(), m->has_pooler()); };
  // The example on every layer, on some layers, and with per-layer variations.
  std::vector<PeftConfig> configs = {config_with(GetParam().method, spec().example()),
                                     config_with(GetParam().method, spec().example(), {0, 2})};
  nlohmann::json varied = {
      {"autopeft_peft_config", 1},
      {"layers",
       {{"0", {{GetParam().method, spec().example()}}},
        {"2",
         {{GetParam().method,
           spec().identity_example().is_null() ? spec().example() : spec().identity_example()}}}}},
      {"prefix_mlp", {{"hidden", 24}}}};
  if (!spec().model_level()) {
    configs.push_back(PeftConfig::from_json(varied, "varied"));
    varied["prefix_mlp"]["hidden"] = 0;  // flat prefixes
    configs.push_back(PeftConfig::from_json(varied, "flat"));
  }
  for (const auto& cfg : configs) {
    auto m = random_model(GetParam().family);
    const auto closed = count_parameters(cfg, dims_for(m));
    PeftModel peft(m, cfg);
    EXPECT_EQ(peft.trainable_count(), closed.trainable) << cfg.to_json().dump();
    EXPECT_EQ(peft.stored_count(), closed.stored) << cfg.to_json().dump();
    std::int64_t backbone = 0;
    for (const auto& item : m->named_parameters())
      if (!item.value().requires_grad()) backbone += item.value().numel();
    EXPECT_EQ(backbone, closed.backbone);
  }
}

TEST_P(PeftContractTest, SaveThenLoadIsBitExact) {
  auto m = random_model(GetParam().family);
  const auto cfg = config_with(GetParam().method, spec().example());
  PeftModel a(m, cfg);
  {
    torch::NoGradGuard g;
    for (auto& p : a.parameters()) p.normal_();
  }
  TempDir tmp;
  a.save_weights((tmp / "w.safetensors").string());
  auto m2 = random_model(GetParam().family);
  PeftModel b(m2, cfg);
  b.load_weights((tmp / "w.safetensors").string());
  const auto na = a.named_parameters(), nb = b.named_parameters();
  ASSERT_EQ(na.size(), nb.size());
  for (std::size_t i = 0; i < na.size(); ++i) {
    EXPECT_EQ(na[i].first, nb[i].first);
    EXPECT_TRUE(torch::equal(na[i].second, nb[i].second)) << na[i].first;
  }
  // A file for another configuration is refused with the names.
  auto m3 = random_model(GetParam().family);
  auto other_options = spec().example();
  if (spec().model_level()) other_options["length"] = other_options["length"].get<int>() + 1;
  PeftModel c(m3, spec().model_level() ? config_with(GetParam().method, other_options)
                                       : config_with(GetParam().method, other_options, {1}));
  EXPECT_THROW(c.load_weights((tmp / "w.safetensors").string()), UserError);
}

INSTANTIATE_TEST_SUITE_P(AllMethods, PeftContractTest, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& p) {
                           return p.param.method + "_" + p.param.family;
                         });

TEST(PeftPresetTest, EveryPresetBuildsWithItsClosedFormCounts) {
  for (const auto& name : preset_names()) {
    auto m = random_model("bert");
    const auto dims = dims_of(m->config(), m->has_pooler());
    const nlohmann::json args =
        name == "sappa" ? nlohmann::json{{"serial", 2}, {"parallel", 1}, {"prefix", 3}, {"layers", {1, 0, 1}}}
                        : nlohmann::json(nullptr);
    const auto cfg = preset(name, dims, args);
    const auto closed = count_parameters(cfg, dims);
    PeftModel peft(m, cfg);
    EXPECT_EQ(peft.trainable_count(), closed.trainable) << name;
    EXPECT_EQ(peft.stored_count(), closed.stored) << name;
  }
}

TEST(PeftRegistryTest, TorchAndSpecRegistriesListTheSameMethods) {
  EXPECT_EQ(installed_method_names(), MethodRegistry::instance().names());
}

class PeftMethodTest : public autopeft::testing::TorchSeededTest {};

TEST_F(PeftMethodTest, LoraMergedEqualsUnmergedAndUnmergeRestores) {
  auto m = random_model("bert");
  PeftModel peft(
      m, config_with("lora", {{"r", 4}, {"alpha", 16}, {"targets", {"q", "v", "o", "ffn.in", "ffn.out"}}}));
  {
    torch::NoGradGuard g;
    for (auto& p : peft.parameters()) p.normal_(0.0, 0.1);
  }
  torch::NoGradGuard g;
  auto ids = torch::tensor({{2, 7, 9, 11, 13}});
  const auto w = m->linear("layer.1.attn.q")->weight.clone();
  auto unmerged = m->forward(ids).last_hidden_state;
  peft.merge_lora();
  EXPECT_FALSE(torch::equal(m->linear("layer.1.attn.q")->weight, w));
  EXPECT_TENSOR_NEAR(m->forward(ids).last_hidden_state, unmerged, 1e-5);
  peft.unmerge_lora();
  EXPECT_TENSOR_NEAR(m->linear("layer.1.attn.q")->weight, w, 1e-6);
}

TEST_F(PeftMethodTest, LoraIsBasePlusScaledLowRankUpdate) {
  auto m = random_model("bert");
  PeftModel peft(m, config_with("lora", {{"r", 2}, {"alpha", 6}, {"targets", {"v"}}}));
  torch::NoGradGuard g;
  for (auto& p : peft.parameters()) p.normal_();
  auto lin = m->linear("layer.0.attn.v");
  auto x = torch::randn({3, 32});
  const auto& [name, aug] = lin->augments().front();
  auto lora = std::dynamic_pointer_cast<LoraAugment>(aug);
  auto expected = torch::matmul(x, lin->weight.t()) + lin->bias +
                  3.0 * torch::matmul(torch::matmul(x, lora->lora_A.t()), lora->lora_B.t());
  EXPECT_TENSOR_NEAR(lin->forward(x), expected, 1e-5);
}

TEST_F(PeftMethodTest, PrefixPaddingInvarianceAndEjectedTableGivesTheMlpOutputs) {
  for (const std::string family : {"bert", "roberta"}) {
    auto m = random_model(family);
    PeftModel peft(m, config_with("prefix", {{"length", 4}}, {1}));
    torch::NoGradGuard g;
    const std::int64_t pad = family == "bert" ? 0 : 1;
    auto alone = m->forward(torch::tensor({{5, 8, 15, 16}})).last_hidden_state;
    auto ids = torch::tensor(std::vector<std::int64_t>{5, 8, 15, 16, pad, pad, 5, 23, pad, pad, pad, pad})
                   .view({2, 6});
    auto padded = m->forward(ids, ids.ne(pad).to(torch::kLong)).last_hidden_state;
    EXPECT_TENSOR_NEAR(padded.select(0, 0).narrow(0, 0, 4), alone.squeeze(0), 1e-5) << family;
    const auto stored = peft.stored_count();
    peft.eject_prefix();
    EXPECT_TENSOR_NEAR(m->forward(torch::tensor({{5, 8, 15, 16}})).last_hidden_state, alone, 1e-6) << family;
    EXPECT_EQ(peft.trainable_count(), stored);  // after ejection what trains is what is stored
  }
}

TEST_F(PeftMethodTest, PromptsArePrependedToTheWordEmbeddingsAsHfPeftDoes) {
  for (const std::string family : {"bert", "roberta"}) {
    auto m = random_model(family);
    PeftModel peft(
        m, PeftConfig::from_json(
               {{"autopeft_peft_config", 1}, {"embeddings", {{"prompt_tuning", {{"length", 3}}}}}}, "p"));
    torch::NoGradGuard g;
    auto ids = torch::tensor({{5, 8, 15, 16}});
    auto out = m->forward(ids);
    EXPECT_EQ(out.prompt_tokens, 3);
    EXPECT_EQ(out.last_hidden_state.size(1), 7);
    // Independent: word embeddings with the prompts in front, then positions over all 7 tokens
    // (from pad + 1 for RoBERTa), token type 0, LayerNorm; then the unchanged encoder stack.
    auto prompt = std::dynamic_pointer_cast<PromptEmbedding>(m->embedding_hook());
    auto word =
        torch::cat({prompt->prompt_embeddings.unsqueeze(0), m->embeddings->word_embeddings->forward(ids)}, 1);
    const std::int64_t start = family == "bert" ? 0 : 2;
    auto x = word + m->embeddings->position_embeddings->weight.narrow(0, start, 7).unsqueeze(0) +
             m->embeddings->token_type_embeddings->weight[0];
    x = m->embeddings->LayerNorm->forward(x);
    auto mask_add = model::additive_attention_mask(torch::ones({1, 7}), torch::kFloat);
    for (std::size_t l = 0; l < m->encoder->size(); ++l) x = m->encoder->at(l)->forward(x, mask_add);
    EXPECT_TENSOR_NEAR(out.last_hidden_state, x, 1e-5) << family;
  }
}

TEST_F(PeftMethodTest, SerialPfeifferAdapterMatchesAdapterHubFormula) {
  auto m = random_model("bert");
  PeftModel peft(m, config_with("serial_adapter", {{"size", 4}}));
  torch::NoGradGuard g;
  for (auto& p : peft.parameters()) p.normal_(0.0, 0.3);
  // out = LN(up(relu(down(LN(h + r)))) + h + r) at the FFN output of layer 0.
  auto site = m->residual("layer.0.ffn.output");
  auto h = torch::randn({2, 3, 32}), r = torch::randn({2, 3, 32});
  const auto& named = peft.named_parameters();
  auto find = [&](const std::string& suffix) {
    for (const auto& [n, p] : named)
      if (n == "encoder.layer.0.output.hook.serial." + suffix) return p;
    throw std::runtime_error("no " + suffix);
  };
  auto ln = site->LayerNorm;
  auto a = torch::relu(torch::matmul(ln->forward(h + r), find("down.weight").t()) + find("down.bias"));
  auto expected = ln->forward(torch::matmul(a, find("up.weight").t()) + find("up.bias") + h + r);
  EXPECT_TENSOR_NEAR(site->hook()->forward(h, r, ln), expected, 1e-5);
}

TEST(PeftConfigTest, ErrorsNameTheField) {
  auto error_of = [](const nlohmann::json& j) -> std::string {
    try {
      auto c = PeftConfig::from_json(j, "cfg.json");
      ModelDims d{32, 48, 3, 4, 60, 40, 2, true, "bert"};
      c.resolve(d, "cfg.json");
    } catch (const UserError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of({{"autopeft_peft_config", 1}, {"all_layers", {{"lorax", {{"r", 2}}}}}})
                .find("unknown PEFT method 'lorax'"),
            std::string::npos);
  EXPECT_NE(error_of({{"autopeft_peft_config", 1}, {"all_layers", {{"lora", {{"r", -1}}}}}})
                .find("all_layers.lora.r"),
            std::string::npos);
  EXPECT_NE(error_of({{"autopeft_peft_config", 1},
                      {"all_layers", {{"serial_adapter", {{"size", 0}, {"activation", "relu"}}}}}})
                .find("size 0"),
            std::string::npos);
  EXPECT_NE(
      error_of({{"autopeft_peft_config", 1}, {"layers", {{"3", {{"lora", {{"r", 2}}}}}}}}).find("layers.3"),
      std::string::npos);
  EXPECT_NE(
      error_of({{"autopeft_peft_config", 1}, {"all_layers", {{"lora", {{"r", 2}, {"targets", {"q", "z"}}}}}}})
          .find("'z'"),
      std::string::npos);
  EXPECT_NE(error_of({{"autopeft_peft_config", 2}}).find("schema version"), std::string::npos);
  EXPECT_NE(error_of({{"autopeft_peft_config", 1}, {"layer", {}}}).find("unknown key"), std::string::npos);
  EXPECT_EQ(error_of({{"autopeft_peft_config", 1}, {"all_layers", {{"serial_adapter", {{"size", 0}}}}}}), "");
}

TEST(PeftConfigTest, JsonRoundTrip) {
  nlohmann::json j = {
      {"autopeft_peft_config", 1},
      {"name", "mixed"},
      {"all_layers", {{"lora", {{"r", 8}}}}},
      {"layers", {{"1", {{"prefix", {{"length", 3}}}, {"parallel_adapter", {{"size", 16}}}}}}},
      {"leave_out", {2}},
      {"prefix_mlp", {{"hidden", 64}}}};
  const auto c = PeftConfig::from_json(j, "x");
  const auto again = PeftConfig::from_json(c.to_json(), "y");
  EXPECT_EQ(again.to_json(), c.to_json());
  ModelDims d{32, 48, 3, 4, 60, 40, 2, true, "bert"};
  const auto layers = c.resolve(d);
  EXPECT_TRUE(layers[0].contains("lora"));
  EXPECT_TRUE(layers[1].contains("prefix") && !layers[1].contains("lora"));
  EXPECT_TRUE(layers[2].empty());
  EXPECT_EQ(layers[0]["lora"]["alpha"], 8.0);  // defaults filled in
}

}  // namespace
}  // namespace autopeft::peft
