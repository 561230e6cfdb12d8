// Contract tests over every registered PEFT method on tiny GPT-2 and Llama causal LMs (Llama with
// grouped-query attention and a head width that is not hidden / heads) and T5 (v1.0 and v1.1),
// plus the semantics particular to them: pre-LN adapters, q/k/v slices of GPT-2's fused c_attn,
// prefixes per key/value head, prompts that the KV cache keeps, T5's prefix locations.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/errors.h"
#include "model/causal_lm.h"
#include "model/t5.h"
#include "model/tensor_io.h"
#include "peft/export.h"
#include "peft/modules/adapters.h"
#include "peft/modules/lora.h"
#include "peft/modules/prefix.h"
#include "peft/peft_model.h"
#include "peft/spec/config_import.h"
#include "peft/spec/hf_modules.h"
#include "peft/spec/methods/lora_spec.h"
#include "peft/spec/peft_config.h"
#include "tests/peft/peft_test_support.h"
#include "tests/support/torch_support.h"

namespace autopeft::peft {
namespace {

using autopeft::testing::TempDir;
using testing::config_with;
using testing::expect_closed_form_counts;

model::DecoderConfig tiny_config(const std::string& family) {
  nlohmann::json j;
  if (family == "gpt2")
    j = {{"model_type", "gpt2"}, {"vocab_size", 50},   {"n_embd", 32},       {"n_layer", 3},
         {"n_head", 4},          {"n_positions", 64},  {"resid_pdrop", 0.0}, {"embd_pdrop", 0.0},
         {"bos_token_id", 49},   {"eos_token_id", 49}, {"attn_pdrop", 0.0}};
  else  // 4 query heads and 2 key/value heads of width 6: q 24, k and v 12, hidden 32
    j = {{"model_type", "llama"},
         {"vocab_size", 50},
         {"hidden_size", 32},
         {"num_hidden_layers", 3},
         {"num_attention_heads", 4},
         {"num_key_value_heads", 2},
         {"head_dim", 6},
         {"intermediate_size", 40},
         {"max_position_embeddings", 64},
         {"tie_word_embeddings", false}};
  return model::parse_decoder_config(j, family);
}

std::shared_ptr<model::CausalLmImpl> random_lm(const std::string& family) {
  auto m = model::make_causal_lm(tiny_config(family));
  torch::NoGradGuard g;
  for (auto& p : m->parameters()) p.normal_(0.0, 0.2);
  m->eval();
  return m;
}

struct Case {
  std::string method;
  std::string family;
};

std::vector<Case> all_cases() {
  std::vector<Case> out;
  for (const auto& m : MethodRegistry::instance().names())
    for (const char* f : {"gpt2", "llama"}) out.push_back({m, f});
  return out;
}

class DecoderPeftContractTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override { torch::manual_seed(0); }
  const MethodSpec& spec() const { return *MethodRegistry::instance().find(GetParam().method); }
  // The method's example without a UniPELT gate (refused on causal LMs).
  nlohmann::json example() const {
    auto e = spec().example();
    if (e.contains("gate")) e["gate"] = false;
    return e;
  }
  // Every non-zero parameter so that no module is the identity.
  static void randomise(PeftModel& peft) {
    torch::NoGradGuard g;
    for (auto& p : peft.parameters()) p.normal_(0.0, 0.3);
  }
};

const torch::Tensor kIds = torch::tensor({{3, 7, 9, 11, 13, 4}});

TEST_P(DecoderPeftContractTest, BackboneFrozenAndGradientsReachAllAndOnlyPeftParameters) {
  auto m = random_lm(GetParam().family);
  PeftModel peft(m, config_with(GetParam().method, example()));
  randomise(peft);  // LoRA's B starts at zero, which would keep A's gradient at zero
  const auto named = peft.named_parameters();
  ASSERT_FALSE(named.empty());
  auto logits = m->forward(kIds).logits;
  EXPECT_EQ(logits.sizes(), (std::vector<std::int64_t>{1, 6, 50}));  // a prompt is left out
  (logits * torch::randn_like(logits)).sum().backward();
  std::set<std::string> peft_names;
  for (const auto& [n, p] : named) {
    peft_names.insert(n);
    EXPECT_TRUE(p.requires_grad()) << n;
    ASSERT_TRUE(p.grad().defined()) << n;
    EXPECT_GT(p.grad().abs().sum().item<double>(), 0.0) << n;
  }
  for (const auto& item : m->named_parameters()) {
    if (peft_names.count(item.key())) continue;
    EXPECT_FALSE(item.value().requires_grad()) << item.key();
    EXPECT_FALSE(item.value().grad().defined()) << item.key();
  }
}

TEST_P(DecoderPeftContractTest, IdentityAtInitialisationWhereTheMethodDefinesIt) {
  auto options = spec().identity_example();
  if (options.is_null()) GTEST_SKIP() << GetParam().method << " changes the output at init";
  if (GetParam().family == "llama" && options.contains("targets")) {
    auto targets = options["targets"];
    if (GetParam().method == "lora") targets.push_back("ffn.gate");
    options["targets"] = targets;
  }
  auto m = random_lm(GetParam().family);
  torch::NoGradGuard g;
  auto before = m->forward(kIds).logits;
  PeftModel peft(m, config_with(GetParam().method, options));
  EXPECT_TRUE(torch::equal(m->forward(kIds).logits, before));
}

TEST_P(DecoderPeftContractTest, ClosedFormCountsEqualTheBuiltModel) {
  std::vector<PeftConfig> configs = {config_with(GetParam().method, example()),
                                     config_with(GetParam().method, example(), {0, 2})};
  if (!spec().model_level()) {
    nlohmann::json varied = {{"autopeft_peft_config", 1},
                             {"layers", {{"1", {{GetParam().method, example()}}}}},
                             {"prefix_mlp", {{"hidden", 24}}}};
    configs.push_back(PeftConfig::from_json(varied, "varied"));
    varied["prefix_mlp"]["hidden"] = 0;
    configs.push_back(PeftConfig::from_json(varied, "flat"));
  }
  for (const auto& cfg : configs) expect_closed_form_counts(random_lm(GetParam().family), cfg);
}

// Generation's contract: decoding with the KV cache (one token at a time after the first chunk)
// gives the logits of the full forward, with the PEFT modules in place; a left-padded row gives
// those of the unpadded sequence.
TEST_P(DecoderPeftContractTest, CachedDecodingAndLeftPaddingMatchTheFullForward) {
  auto m = random_lm(GetParam().family);
  PeftModel peft(m, config_with(GetParam().method, example()));
  randomise(peft);
  torch::NoGradGuard g;
  const auto full = m->forward(kIds).logits;
  model::KvCache cache;
  std::vector<torch::Tensor> steps = {m->forward(kIds.narrow(1, 0, 3), {}, &cache).logits};
  for (std::int64_t t = 3; t < 6; ++t) steps.push_back(m->forward(kIds.narrow(1, t, 1), {}, &cache).logits);
  EXPECT_TENSOR_NEAR(torch::cat(steps, 1), full, 1e-5);
  // With masks: the mask covers the caller's tokens only, also once the cache holds a prompt.
  model::KvCache masked;
  auto first = m->forward(kIds.narrow(1, 0, 5), torch::ones({1, 5}, torch::kLong), &masked).logits;
  auto last = m->forward(kIds.narrow(1, 5, 1), torch::ones({1, 6}, torch::kLong), &masked).logits;
  EXPECT_TENSOR_NEAR(torch::cat({first, last}, 1), full, 1e-5);
  auto padded = torch::cat({torch::zeros({1, 2}, torch::kLong), kIds}, 1);
  auto mask = torch::cat({torch::zeros({1, 2}, torch::kLong), torch::ones({1, 6}, torch::kLong)}, 1);
  auto batch = m->forward(torch::cat({padded, torch::cat({kIds, kIds.narrow(1, 0, 2)}, 1)}),
                          torch::cat({mask, torch::ones({1, 8}, torch::kLong)}))
                   .logits;
  EXPECT_TENSOR_NEAR(batch.select(0, 0).narrow(0, 2, 6), full.squeeze(0), 1e-5);
}

TEST_P(DecoderPeftContractTest, SaveThenLoadIsBitExact) {
  torch::manual_seed(1);
  auto m = random_lm(GetParam().family);
  const auto cfg = config_with(GetParam().method, example());
  PeftModel a(m, cfg);
  randomise(a);
  TempDir tmp;
  a.save_weights((tmp / "w.safetensors").string());
  torch::manual_seed(1);
  auto m2 = random_lm(GetParam().family);
  PeftModel b(m2, cfg);
  b.load_weights((tmp / "w.safetensors").string());
  torch::NoGradGuard g;
  EXPECT_TRUE(torch::equal(m->forward(kIds).logits, m2->forward(kIds).logits));
}

INSTANTIATE_TEST_SUITE_P(AllMethods, DecoderPeftContractTest, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& p) {
                           return p.param.method + "_" + p.param.family;
                         });

// ---- T5: both stacks, layers numbered encoder first -----------------------------------------

std::shared_ptr<model::T5ModelImpl> random_t5(const std::string& variant) {
  const bool gated = variant == "t5_gated";
  const nlohmann::json j = {{"model_type", "t5"},
                            {"vocab_size", 40},
                            {"d_model", 32},
                            {"d_kv", 6},  // inner width 24, not d_model
                            {"d_ff", 48},
                            {"num_layers", 2},
                            {"num_decoder_layers", 3},
                            {"num_heads", 4},
                            {"relative_attention_num_buckets", 8},
                            {"relative_attention_max_distance", 20},
                            {"dropout_rate", 0.0},
                            {"feed_forward_proj", gated ? "gated-gelu" : "relu"},
                            {"tie_word_embeddings", !gated}};
  auto m = model::make_t5(model::parse_t5_config(j, variant));
  torch::NoGradGuard g;
  for (auto& p : m->parameters()) p.normal_(0.0, 0.2);
  m->eval();
  return m;
}

std::vector<Case> t5_cases() {
  std::vector<Case> out;
  for (const auto& m : MethodRegistry::instance().names())
    for (const char* f : {"t5", "t5_gated"}) out.push_back({m, f});
  return out;
}

class T5PeftContractTest : public DecoderPeftContractTest {
 protected:
  const torch::Tensor ids = torch::tensor({{3, 7, 9, 11, 13}});
  const torch::Tensor decoder_ids = torch::tensor({{0, 5, 8, 2}});
  torch::Tensor logits(model::T5ModelImpl& m) { return m.forward(ids, {}, decoder_ids).logits; }
};

TEST_P(T5PeftContractTest, BackboneFrozenAndGradientsReachAllAndOnlyPeftParameters) {
  auto m = random_t5(GetParam().family);
  PeftModel peft(m, config_with(GetParam().method, example()));
  randomise(peft);
  auto out = logits(*m);
  (out * torch::randn_like(out)).sum().backward();
  std::set<std::string> names;
  for (const auto& [n, p] : peft.named_parameters()) {
    names.insert(n);
    ASSERT_TRUE(p.grad().defined()) << n;
    EXPECT_GT(p.grad().abs().sum().item<double>(), 0.0) << n;
  }
  ASSERT_FALSE(names.empty());
  for (const auto& item : m->named_parameters()) {
    if (!names.count(item.key())) {
      EXPECT_FALSE(item.value().grad().defined()) << item.key();
    }
  }
}

TEST_P(T5PeftContractTest, IdentityAtInitialisationWhereTheMethodDefinesIt) {
  const auto options = spec().identity_example();
  if (options.is_null()) GTEST_SKIP() << GetParam().method << " changes the output at init";
  auto m = random_t5(GetParam().family);
  torch::NoGradGuard g;
  const auto before = logits(*m);
  PeftModel peft(m, config_with(GetParam().method, options));
  EXPECT_TRUE(torch::equal(logits(*m), before));
}

TEST_P(T5PeftContractTest, ClosedFormCountsEqualTheBuiltModel) {
  std::vector<PeftConfig> configs = {config_with(GetParam().method, example()),
                                     config_with(GetParam().method, example(), {1, 3})};
  if (!spec().model_level()) {  // one encoder and one decoder layer, MLP and flat prefixes
    nlohmann::json varied = {
        {"autopeft_peft_config", 1},
        {"layers", {{"0", {{GetParam().method, example()}}}, {"4", {{GetParam().method, example()}}}}},
        {"prefix_mlp", {{"hidden", 24}}}};
    configs.push_back(PeftConfig::from_json(varied, "varied"));
    varied["prefix_mlp"]["hidden"] = 0;
    configs.push_back(PeftConfig::from_json(varied, "flat"));
  }
  for (const auto& cfg : configs) expect_closed_form_counts(random_t5(GetParam().family), cfg);
}

// The decoder's KV cache (self and cross, prefixes in place) gives the full decode's logits, and a
// right-padded encoder input gives those of the unpadded one.
TEST_P(T5PeftContractTest, CachedDecodingAndEncoderPaddingMatchTheFullForward) {
  auto m = random_t5(GetParam().family);
  PeftModel peft(m, config_with(GetParam().method, example()));
  randomise(peft);
  torch::NoGradGuard g;
  const auto full = logits(*m);
  const auto mask = torch::ones({1, 5}, torch::kLong);
  const auto memory = m->encode(ids, mask);
  model::Seq2SeqCache cache;
  std::vector<torch::Tensor> steps;
  for (std::int64_t t = 0; t < 4; ++t)
    steps.push_back(m->decode(decoder_ids.narrow(1, t, 1), memory, mask, &cache).logits);
  EXPECT_TENSOR_NEAR(torch::cat(steps, 1), full, 1e-5);
  const auto padded = torch::cat({ids, torch::zeros({1, 2}, torch::kLong)}, 1);
  const auto padded_mask = torch::cat({mask, torch::zeros({1, 2}, torch::kLong)}, 1);
  EXPECT_TENSOR_NEAR(m->forward(padded, padded_mask, decoder_ids).logits, full, 1e-5);
}

TEST_P(T5PeftContractTest, SaveThenLoadIsBitExact) {
  torch::manual_seed(1);
  auto m = random_t5(GetParam().family);
  const auto cfg = config_with(GetParam().method, example());
  PeftModel a(m, cfg);
  randomise(a);
  TempDir tmp;
  a.save_weights((tmp / "w.safetensors").string());
  torch::manual_seed(1);
  auto m2 = random_t5(GetParam().family);
  PeftModel b(m2, cfg);
  b.load_weights((tmp / "w.safetensors").string());
  torch::NoGradGuard g;
  EXPECT_TRUE(torch::equal(logits(*m), logits(*m2)));
}

INSTANTIATE_TEST_SUITE_P(AllMethods, T5PeftContractTest, ::testing::ValuesIn(t5_cases()),
                         [](const ::testing::TestParamInfo<Case>& p) {
                           return p.param.method + "_" + p.param.family;
                         });

class DecoderPeftTest : public autopeft::testing::TorchSeededTest {};

// T5 as AdapterHub places prefixes: the encoder's layers, and in decoder layers the self- and the
// cross-attention, each location with its own generator; LoRA on q of a decoder layer adapts the
// cross-attention's q too.
TEST_F(DecoderPeftTest, T5PrefixesGoToEncoderSelfAndCrossAttentionAndLoraToBothAttentions) {
  auto m = random_t5("t5");
  PeftModel peft(m, PeftConfig::from_json(
                        {{"autopeft_peft_config", 1},
                         {"layers",
                          {{"1", {{"prefix", {{"length", 2}}}}},
                           {"3", {{"prefix", {{"length", 3}}}, {"lora", {{"r", 2}, {"targets", {"q"}}}}}}}}},
                        "t5"));
  std::set<std::string> children;
  for (const auto& c : m->named_children()) children.insert(c.key());
  EXPECT_TRUE(children.count("encoder_prefix_generator"));
  EXPECT_TRUE(children.count("prefix_generator"));
  EXPECT_TRUE(children.count("cross_prefix_generator"));
  EXPECT_TRUE(m->prefix("encoder.layer.1.attn"));
  EXPECT_FALSE(m->prefix("encoder.layer.0.attn"));
  EXPECT_TRUE(m->prefix("decoder.layer.1.attn"));
  EXPECT_TRUE(m->prefix("decoder.layer.1.cross"));
  EXPECT_EQ(m->linear("decoder.layer.1.attn.q")->augments().size(), 1u);
  EXPECT_EQ(m->linear("decoder.layer.1.cross.q")->augments().size(), 1u);
  EXPECT_TRUE(m->linear("decoder.layer.1.attn.v")->augments().empty());
  std::vector<std::string> stored;
  for (const auto& [n, t] : peft.stored_tensors()) stored.push_back(n);
  EXPECT_NE(
      std::find(stored.begin(), stored.end(), "decoder.block.1.layer.1.EncDecAttention.prefix.prefix_keys"),
      stored.end());
  EXPECT_NE(
      std::find(stored.begin(), stored.end(), "encoder.block.1.layer.0.SelfAttention.prefix.prefix_values"),
      stored.end());
  torch::NoGradGuard g;
  for (auto& p : peft.parameters()) p.normal_();
  const auto ids = torch::tensor({{3, 7, 9}}), dec = torch::tensor({{0, 5}});
  const auto before = m->forward(ids, {}, dec).logits;
  peft.eject_prefix();
  EXPECT_TENSOR_NEAR(m->forward(ids, {}, dec).logits, before, 1e-5);
  children.clear();
  for (const auto& c : m->named_children()) children.insert(c.key());
  EXPECT_FALSE(children.count("cross_prefix_generator"));
}

// AdapterHub's bottleneck_layer_forward with LN=None, written out: Pfeiffer A(h + r) + h + r,
// Houlsby A(h) + h + r, parallel h + s A(r) + r.
TEST_F(DecoderPeftTest, PreLnAdaptersAreTheResidualSumsWithoutNorms) {
  const auto h = torch::randn({2, 3, 16}), r = torch::randn({2, 3, 16});
  torch::nn::LayerNorm none{nullptr};
  const nlohmann::json o = {{"size", 4},           {"init", "bert"},    {"scaling", 1.0},
                            {"ln_before", false},  {"ln_after", false}, {"gate", false},
                            {"activation", "relu"}};
  Bottleneck serial(16, o, true), parallel(16, o, false);
  {
    torch::NoGradGuard g;
    for (auto& p : serial->parameters()) p.normal_();
    for (auto& p : parallel->parameters()) p.normal_();
  }
  auto adapter = [](Bottleneck& b, const torch::Tensor& x) {
    return b->up->forward(torch::relu(b->down->forward(x)));
  };
  AdapterHook pfeiffer;
  pfeiffer.set_serial(serial, "pfeiffer");
  EXPECT_TENSOR_NEAR(pfeiffer.forward(h, r, none), adapter(serial, h + r) + h + r, 1e-5);
  AdapterHook houlsby;
  houlsby.set_serial(serial, "houlsby");
  EXPECT_TENSOR_NEAR(houlsby.forward(h, r, none), adapter(serial, h) + h + r, 1e-5);
  AdapterHook par;
  par.set_parallel(parallel);
  EXPECT_TENSOR_NEAR(par.forward(h, r, none), h + adapter(parallel, r) + r, 1e-5);
}

// LoRA on GPT-2's q and v: two updates on the fused c_attn, each writing its own third only.
TEST_F(DecoderPeftTest, Gpt2LoraOnQAndVTouchesOnlyTheirSlicesOfCAttnAndMerges) {
  auto m = random_lm("gpt2");
  PeftModel peft(m, config_with("lora", {{"r", 2}, {"alpha", 4}, {"targets", {"q", "v"}}}));
  torch::NoGradGuard g;
  for (auto& p : peft.parameters()) p.normal_();
  auto c_attn = m->linear("layer.1.attn.qkv");
  ASSERT_EQ(c_attn->augments().size(), 2u);
  EXPECT_EQ(c_attn->augments()[0].first, "lora_q");
  EXPECT_EQ(c_attn->augments()[1].first, "lora_v");
  auto lq = std::dynamic_pointer_cast<LoraAugment>(c_attn->augments()[0].second);
  auto lv = std::dynamic_pointer_cast<LoraAugment>(c_attn->augments()[1].second);
  const auto x = torch::randn({2, 32});
  const auto base = torch::matmul(x, c_attn->weight.t()) + c_attn->bias;
  auto expected = base.clone();
  expected.narrow(1, 0, 32) += 2.0 * torch::matmul(torch::matmul(x, lq->lora_A.t()), lq->lora_B.t());
  expected.narrow(1, 64, 32) += 2.0 * torch::matmul(torch::matmul(x, lv->lora_A.t()), lv->lora_B.t());
  const auto y = c_attn->forward(x);
  EXPECT_TENSOR_NEAR(y, expected, 1e-5);
  EXPECT_TRUE(torch::equal(y.narrow(1, 32, 32), base.narrow(1, 32, 32)));  // k untouched
  const auto unmerged = m->forward(kIds).logits;
  const auto w = c_attn->weight.clone();
  peft.merge_lora();
  EXPECT_TENSOR_NEAR(m->forward(kIds).logits, unmerged, 1e-5);
  EXPECT_TRUE(torch::equal(c_attn->weight.narrow(0, 32, 32), w.narrow(0, 32, 32)));
  peft.unmerge_lora();
  EXPECT_TENSOR_NEAR(c_attn->weight, w, 1e-6);
}

// Llama's prefix holds rows for the key/value heads (2 of width 6), not for the 4 query heads.
TEST_F(DecoderPeftTest, LlamaPrefixHasKeyValueHeadWidthAndIsAttended) {
  auto m = random_lm("llama");
  PeftModel peft(m, config_with("prefix", {{"length", 3}}, {0, 2}));
  const auto stored = peft.stored_tensors();
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].first, "model.layers.1.self_attn.prefix.prefix_keys");
  EXPECT_EQ(stored[0].second.sizes(), (std::vector<std::int64_t>{3, 12}));
  torch::NoGradGuard g;
  for (auto& p : peft.parameters()) p.normal_();
  const auto before = m->forward(kIds).logits;
  peft.eject_prefix();
  EXPECT_TENSOR_NEAR(m->forward(kIds).logits, before, 1e-5);
  // Zero values with equal (zero) keys: the prefix only dilutes the softmax of layer 1.
  auto prefix = m->prefix("layer.1.attn");
  for (auto& p : prefix->parameters()) p.zero_();
  const auto diluted = m->forward(kIds).logits;
  m->set_prefix("layer.1.attn", nullptr);
  EXPECT_FALSE(torch::allclose(diluted, m->forward(kIds).logits, 1e-4, 1e-4));
}

TEST_F(DecoderPeftTest, ConfigsThatDoNotFitTheBackboneAreRefusedByName) {
  auto gpt2 = random_lm("gpt2");
  try {
    PeftModel peft(gpt2, config_with("lora", {{"r", 2}, {"targets", {"q", "ffn.gate"}}}));
    FAIL() << "ffn.gate on GPT-2 accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("ffn.gate"), std::string::npos) << e.what();
  }
  EXPECT_THROW((PeftModel{gpt2, config_with("prefix", {{"length", 2}, {"gate", true}})}), UserError);
  auto llama = random_lm("llama");
  EXPECT_NO_THROW((PeftModel{llama, config_with("lora", {{"r", 2}, {"targets", {"q", "ffn.gate"}}})}));
  auto other = random_lm("llama");
  EXPECT_THROW((PeftModel{other, PeftConfig::from_json({{"autopeft_peft_config", 1},
                                                        {"layers", {{"3", {{"lora", {{"r", 2}}}}}}}},
                                                       "c")}),
               UserError);
}

// ---- Hugging Face PEFT export and import on the generative families -------------------------

std::shared_ptr<model::PeftHost> random_host(const std::string& family) {
  if (family == "t5" || family == "t5_gated") return random_t5(family);
  return random_lm(family);
}

ModelDims dims_of_host(const std::string& family, model::PeftHost& host) {
  if (family == "t5" || family == "t5_gated")
    return dims_of(dynamic_cast<model::T5ModelImpl&>(host).config());
  return dims_of(dynamic_cast<model::CausalLmImpl&>(host).config());
}

// The torch-free module table the importer uses names what the built models call their modules.
TEST(HfModulesTest, TheTableNamesTheModelsOwnModules) {
  for (const std::string family : {"gpt2", "llama", "t5", "t5_gated"}) {
    auto host = random_host(family);
    const auto dims = dims_of_host(family, *host);
    std::map<std::string, std::string> hf;
    for (const auto& p : host->injection_points()) hf[p.name] = p.hf_module;
    for (std::int64_t l = 0; l < dims.layers; ++l)
      for (const auto& t : hf_targets(dims)) {
        std::vector<std::string> from_model;
        for (const auto& p : target_points(*host, dims, l, t)) from_model.push_back(hf.at(p));
        EXPECT_EQ(hf_linear_modules(dims, l, t), from_model) << family << " layer " << l << " " << t;
      }
  }
}

// Llama and T5: a LoRA export loads back as the same configuration, and its tensors are ours
// under HF PEFT's keys (T5: a decoder layer's q adapts both attentions, so both modules appear).
TEST(HfPeftExportTest, LoraOnLlamaAndT5RoundTripsThroughTheImporter) {
  TempDir tmp;
  for (const std::string family : {"llama", "t5_gated"}) {
    auto host = random_host(family);
    const auto dims = dims_of_host(family, *host);
    const auto config = PeftConfig::from_json(
        {{"autopeft_peft_config", 1},
         {"all_layers", {{"lora", {{"r", 4}, {"alpha", 8}, {"targets", {"q", "v", "ffn.gate", "ffn.out"}}}}}},
         {"layers", {{"2", {{"lora", {{"r", 2}, {"alpha", 8}, {"targets", {"q", "v"}}}}}}}}},
        family);
    PeftModel pm(host, dims, config);
    torch::NoGradGuard g;
    for (auto& p : pm.parameters()) p.normal_();
    const auto out = tmp / family;
    ExportInfo info;
    info.task_type = family == "llama" ? "CAUSAL_LM" : "SEQ_2_SEQ_LM";
    export_peft(pm, config, ExportFormat::hf_peft, info, out.string());
    const auto imported = import_config_file((out / "adapter_config.json").string(), dims);
    PeftModel again(random_host(family), dims, imported);
    // The same modules with the same effective ranks and alphas (the import may say a rank through
    // r_per_target where the original said r).
    ASSERT_EQ(again.layers().size(), pm.layers().size());
    for (std::size_t l = 0; l < pm.layers().size(); ++l) {
      const auto &x = pm.layers()[l].at("lora"), &y = again.layers()[l].at("lora");
      EXPECT_EQ(x.at("targets"), y.at("targets")) << family << " layer " << l;
      for (const auto& t : x.at("targets")) {
        EXPECT_EQ(methods::lora_rank(x, t), methods::lora_rank(y, t)) << family << " layer " << l << " " << t;
        EXPECT_EQ(methods::lora_alpha(x, t), methods::lora_alpha(y, t))
            << family << " layer " << l << " " << t;
      }
      for (const char* k : {"dropout", "use_rslora", "init"}) EXPECT_EQ(x.at(k), y.at(k)) << k;
    }
    const auto tensors = model::load_safetensors((out / "adapter_model.safetensors").string());
    const auto module = hf_linear_modules(dims, 2, "q");  // T5: layer 2 is the decoder's first
    for (std::size_t k = 0; k < module.size(); ++k) {
      const auto slice = host->linear_slice(target_points(*host, dims, 2, "q")[k]);
      const auto& [name, a] = slice.linear->augments().front();
      EXPECT_TRUE(torch::equal(tensors.at("base_model.model." + module[k] + ".lora_B.weight"),
                               std::dynamic_pointer_cast<LoraAugment>(a)->lora_B))
          << module[k];
    }
    // Llama: 4 modules on layers 0 and 1, 2 on layer 2. T5: 4 per encoder layer, 6 on decoder
    // layers 3 and 4 (q and v twice), 4 on layer 2. Two tensors each.
    EXPECT_EQ(tensors.size(), family == "llama" ? 2u * (4 + 4 + 2) : 2u * (4 + 4 + 4 + 6 + 6)) << family;
  }
}

// GPT-2: q and v LoRAs on rows of the fused c_attn become one c_attn LoRA whose product (with HF's
// scaling, alpha / r) is the sum of ours on their rows.
TEST(HfPeftExportTest, Gpt2QkvLorasBecomeOneBlockLoraOnCAttn) {
  TempDir tmp;
  auto host = random_host("gpt2");
  const auto dims = dims_of_host("gpt2", *host);
  const auto config = PeftConfig::from_json(
      {{"autopeft_peft_config", 1},
       {"all_layers",
        {{"lora", {{"r", 4}, {"alpha", 6}, {"targets", {"q", "v", "o"}}, {"r_per_target", {{"v", 2}}}}}}}},
      "gpt2");
  PeftModel pm(host, dims, config);
  torch::NoGradGuard g;
  for (auto& p : pm.parameters()) p.normal_();
  export_peft(pm, config, ExportFormat::hf_peft, {}, (tmp / "gpt2").string());
  const auto j = nlohmann::json::parse(std::ifstream((tmp / "gpt2" / "adapter_config.json").string()));
  EXPECT_EQ(j["fan_in_fan_out"], true);
  const auto tensors = model::load_safetensors((tmp / "gpt2" / "adapter_model.safetensors").string());
  const std::string key = "base_model.model.transformer.h.1.attn.c_attn";
  const auto A = tensors.at(key + ".lora_A.weight"), B = tensors.at(key + ".lora_B.weight");
  ASSERT_EQ(A.size(0), 6);  // rank 4 + 2
  const double rank = 6;
  const double alpha =
      j.contains("alpha_pattern") && j["alpha_pattern"].contains("transformer\\.h\\.1\\.attn\\.c_attn")
          ? j["alpha_pattern"]["transformer\\.h\\.1\\.attn\\.c_attn"].get<double>()
          : j["lora_alpha"].get<double>();
  const auto hf_delta = torch::matmul(B, A) * (alpha / rank);  // [3H, H]
  auto expected = torch::zeros({3 * 32, 32});
  for (const auto& [t, offset] : std::vector<std::pair<std::string, std::int64_t>>{{"q", 0}, {"v", 64}}) {
    const auto r = t == "q" ? 4.0 : 2.0;
    const auto slice = host->linear_slice(host->layer_point(1, "attn." + t));
    for (const auto& [name, a] : slice.linear->augments())
      if (name == "lora_" + t) {
        auto lora = std::dynamic_pointer_cast<LoraAugment>(a);
        expected.narrow(0, offset, 32).copy_(torch::matmul(lora->lora_B, lora->lora_A) * (6.0 / r));
      }
  }
  EXPECT_TENSOR_NEAR(hf_delta, expected, 1e-5);
  EXPECT_TRUE(tensors.count("base_model.model.transformer.h.1.attn.c_proj.lora_A.weight"));
  // HF's c_attn LoRA imports as our qkv target (one update of all three rows) with its rank.
  const auto imported = import_config_file((tmp / "gpt2" / "adapter_config.json").string(), dims);
  PeftModel again(random_host("gpt2"), dims, imported);
  const auto& l1 = again.layers()[1].at("lora");
  EXPECT_EQ(l1.at("targets"), nlohmann::json({"qkv", "o"}));
  EXPECT_EQ(methods::lora_rank(l1, "qkv"), 6);
  EXPECT_EQ(methods::lora_rank(l1, "o"), 4);
  // Our qkv LoRA exports to c_attn as it is, and loads back the same.
  const auto qkv = PeftConfig::from_json(
      {{"autopeft_peft_config", 1}, {"all_layers", {{"lora", {{"r", 3}, {"targets", {"qkv"}}}}}}}, "qkv");
  PeftModel fused(random_host("gpt2"), dims, qkv);
  EXPECT_EQ(fused.trainable_count(), 3 * 3 * (32 + 96));
  export_peft(fused, qkv, ExportFormat::hf_peft, {}, (tmp / "qkv").string());
  const auto back = import_config_file((tmp / "qkv" / "adapter_config.json").string(), dims);
  PeftModel fused_again(random_host("gpt2"), dims, back);
  EXPECT_EQ(fused_again.layers(), fused.layers());
  // qkv is GPT-2's: elsewhere, and beside q / k / v, it is refused.
  auto llama = random_lm("llama");
  EXPECT_THROW(PeftModel(llama, qkv), UserError);
  EXPECT_THROW(PeftConfig::from_json({{"autopeft_peft_config", 1},
                                      {"all_layers", {{"lora", {{"r", 3}, {"targets", {"qkv", "q"}}}}}}},
                                     "both")
                   .resolve(dims),
               UserError);
}

// HF PEFT's prefix with grouped-query attention counts key/value heads: prompt_embeddings [P,
// L * 2 * K] viewed [P, L * 2, kv_heads, head_dim], and the config already in the form HF PEFT's
// _prepare_prompt_learning_config leaves it (token_dim / heads * kv_heads is token_dim again).
TEST(HfPeftExportTest, LlamaGqaPrefixIsCountedInKeyValueHeads) {
  TempDir tmp;
  auto host = random_host("llama");  // 4 query heads, 2 key/value heads of width 6: K = 12
  const auto dims = dims_of_host("llama", *host);
  const auto config = PeftConfig::from_json({{"autopeft_peft_config", 1},
                                             {"prefix_mlp", {{"hidden", 0}}},
                                             {"all_layers", {{"prefix", {{"length", 2}}}}}},
                                            "gqa");
  PeftModel pm(host, dims, config);
  torch::NoGradGuard g;
  for (auto& p : pm.parameters()) p.normal_();
  export_peft(pm, config, ExportFormat::hf_peft, {}, (tmp / "p").string());
  const auto j = nlohmann::json::parse(std::ifstream((tmp / "p" / "adapter_config.json").string()));
  EXPECT_EQ(j["token_dim"], 12);
  EXPECT_EQ(j["num_attention_heads"], 2);
  const auto token_dim =
      j["token_dim"].get<std::int64_t>() / j["num_attention_heads"].get<std::int64_t>() * 2;
  EXPECT_EQ(token_dim, 12);
  const auto t = model::load_safetensors((tmp / "p" / "adapter_model.safetensors").string());
  const auto table = t.at("prompt_embeddings");
  ASSERT_EQ(table.sizes().vec(), std::vector<std::int64_t>({2, 3 * 2 * 12}));
  const auto view = table.view({2, 3 * 2, 2, 6});
  for (std::int64_t l = 0; l < 3; ++l) {
    auto p = std::dynamic_pointer_cast<LayerPrefix>(host->prefix(host->layer_point(l, "attn")));
    const auto [k, v] = p->table();
    EXPECT_TRUE(torch::equal(view.select(1, 2 * l).reshape({2, 12}), k)) << l;
    EXPECT_TRUE(torch::equal(view.select(1, 2 * l + 1).reshape({2, 12}), v)) << l;
  }
}

// T5: the prompt goes before the encoder's input only, which HF PEFT does with one transformer
// submodule; a prefix (HF PEFT: one table for the decoder's self- and cross-attention, none for
// the encoder) is refused by name.
TEST(HfPeftExportTest, T5PromptIsTheEncodersAndPrefixIsRefused) {
  TempDir tmp;
  auto host = random_host("t5");
  const auto dims = dims_of_host("t5", *host);
  const auto prompt = PeftConfig::from_json(
      {{"autopeft_peft_config", 1}, {"embeddings", {{"prompt_tuning", {{"length", 3}}}}}}, "prompt");
  PeftModel pm(host, dims, prompt);
  ExportInfo info;
  info.task_type = "SEQ_2_SEQ_LM";
  export_peft(pm, prompt, ExportFormat::hf_peft, info, (tmp / "prompt").string());
  const auto j = nlohmann::json::parse(std::ifstream((tmp / "prompt" / "adapter_config.json").string()));
  EXPECT_EQ(j["num_transformer_submodules"], 1);
  EXPECT_EQ(j["peft_type"], "PROMPT_TUNING");
  const auto t = model::load_safetensors((tmp / "prompt" / "adapter_model.safetensors").string());
  EXPECT_EQ(t.at("prompt_embeddings").sizes().vec(), std::vector<std::int64_t>({3, 32}));
  const auto prefix = PeftConfig::from_json(
      {{"autopeft_peft_config", 1}, {"all_layers", {{"prefix", {{"length", 2}}}}}}, "prefix");
  PeftModel with_prefix(random_host("t5"), dims, prefix);
  try {
    export_peft(with_prefix, prefix, ExportFormat::hf_peft, info, (tmp / "prefix").string());
    ADD_FAILURE() << "a T5 prefix was written";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("a T5 prefix"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(tmp / "prefix"));
}

// ---- AdapterHub export on the generative families --------------------------------------------
// Expected key names written by hand from AdapterHub 1.2.0's module layout (models/gpt2,
// models/llama, models/t5 mixins; methods/lora.py, methods/prefix_tuning.py), not from our code.

nlohmann::json exported_keys(const std::filesystem::path& dir) {
  nlohmann::json keys = nlohmann::json::object();
  for (const auto& [k, t] : model::load_safetensors((dir / "adapter.safetensors").string()))
    keys[k] = t.sizes().vec();
  return keys;
}

nlohmann::json read_config(const std::filesystem::path& dir) {
  return nlohmann::json::parse(std::ifstream((dir / "adapter_config.json").string()));
}

TEST(AdaptersExportTest, Gpt2KeysFollowAdapterHubsModules) {
  TempDir tmp;
  auto host = random_host("gpt2");
  const auto dims = dims_of_host("gpt2", *host);
  const auto config =
      PeftConfig::from_json({{"autopeft_peft_config", 1},
                             {"prefix_mlp", {{"hidden", 16}}},
                             {"layers",
                              {{"0",
                                {{"serial_adapter", {{"size", 8}}},
                                 {"lora", {{"r", 4}, {"alpha", 8}, {"targets", {"q", "v", "ffn.in"}}}}}},
                               {"1",
                                {{"serial_adapter", {{"size", 8}}},
                                 {"lora", {{"r", 4}, {"alpha", 8}, {"targets", {"q", "v", "ffn.in"}}}}}},
                               {"2", {{"serial_adapter", {{"size", 8}}}, {"prefix", {{"length", 2}}}}}}}},
                            "gpt2");
  PeftModel pm(host, dims, config);
  export_peft(pm, config, ExportFormat::adapters, {}, (tmp / "a").string());
  nlohmann::json expected = nlohmann::json::object();
  for (int i = 0; i < 3; ++i) {
    const auto a = "transformer.h." + std::to_string(i) + ".output_adapters.adapters.autopeft.";
    expected[a + "adapter_down.0.weight"] = {8, 32};
    expected[a + "adapter_down.0.bias"] = {8};
    expected[a + "adapter_up.weight"] = {32, 8};
    expected[a + "adapter_up.bias"] = {32};
  }
  for (int i = 0; i < 2; ++i) {
    const auto h = "transformer.h." + std::to_string(i) + ".";
    expected[h + "attn.c_attn.loras.autopeft.lora_A"] = {8, 32};  // q and v: 2 r rows
    expected[h + "attn.c_attn.loras.autopeft.lora_B"] = {64, 4};  // 2 H rows
    expected[h + "mlp.c_fc.loras.autopeft.lora_A"] = {4, 32};
    expected[h + "mlp.c_fc.loras.autopeft.lora_B"] = {128, 4};
  }
  const std::string pool = "transformer.prefix_tuning.prefix_tunings.autopeft.self_prefix.";
  expected[pool + "wte.weight"] = {2, 32};
  expected[pool + "control_trans.0.weight"] = {16, 32};
  expected[pool + "control_trans.0.bias"] = {16};
  expected[pool + "control_trans.2.weight"] = {64, 16};  // one layer: 2 x 32
  expected[pool + "control_trans.2.bias"] = {64};
  EXPECT_EQ(exported_keys(tmp / "a"), expected) << exported_keys(tmp / "a").dump(1);
  const auto j = read_config(tmp / "a");
  EXPECT_EQ(j["model_class"], "GPT2AdapterModel");
  EXPECT_EQ(j["model_type"], "gpt2");
  EXPECT_EQ(j["hidden_size"], 32);
  const auto& parts = j["config"]["configs"];
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0]["reduction_factor"], 4.0);
  EXPECT_EQ(parts[1]["architecture"], "prefix_tuning");
  EXPECT_EQ(parts[1]["leave_out"], nlohmann::json({0, 1}));
  EXPECT_EQ(parts[1]["bottleneck_size"], 16);
  EXPECT_EQ(parts[2]["architecture"], "lora");
  EXPECT_EQ(parts[2]["attn_matrices"], nlohmann::json({"q", "v"}));
  EXPECT_EQ(parts[2]["intermediate_lora"], true);
  EXPECT_EQ(parts[2]["output_lora"], false);
  EXPECT_EQ(parts[2]["leave_out"], nlohmann::json({2}));
  const auto imported = import_config_file((tmp / "a" / "adapter_config.json").string(), dims);
  PeftModel again(random_host("gpt2"), dims, imported);
  EXPECT_EQ(again.layers(), pm.layers());
}

// AdapterHub's merged c_attn LoRA, written out: x A^T split into one block of r per enabled
// projection (q, k, v order), block g times rows g of B (H each), scaled by alpha / r, added to
// that projection's rows of c_attn. Folded into the base weights it gives our model's logits.
TEST(AdaptersExportTest, Gpt2MergedCAttnLoraIsOursOnTheProjectionsRows) {
  TempDir tmp;
  auto m = random_lm("gpt2");
  const auto config =
      PeftConfig::from_json({{"autopeft_peft_config", 1},
                             {"all_layers", {{"lora", {{"r", 2}, {"alpha", 6}, {"targets", {"v", "q"}}}}}}},
                            "gpt2");
  PeftModel pm(m, config);
  torch::NoGradGuard g;
  for (auto& p : pm.parameters()) p.normal_();
  const auto with_lora = m->forward(kIds).logits;
  export_peft(pm, config, ExportFormat::adapters, {}, (tmp / "a").string());
  const auto t = model::load_safetensors((tmp / "a" / "adapter.safetensors").string());
  const double scaling = 6.0 / 2.0;
  for (int i = 0; i < 3; ++i) {
    const auto key = "transformer.h." + std::to_string(i) + ".attn.c_attn.loras.autopeft.";
    const auto A = t.at(key + "lora_A"), B = t.at(key + "lora_B");
    auto c_attn = m->linear("layer." + std::to_string(i) + ".attn.qkv");
    c_attn->remove_augments();
    const std::vector<std::int64_t> rows = {0, 64};  // q's and v's rows of [q; k; v]
    for (std::size_t k = 0; k < rows.size(); ++k) {
      const auto a = A.narrow(0, 2 * static_cast<std::int64_t>(k), 2);
      const auto b = B.narrow(0, 32 * static_cast<std::int64_t>(k), 32);
      c_attn->weight.narrow(0, rows[k], 32).add_(torch::matmul(b, a) * scaling);
    }
  }
  EXPECT_TENSOR_NEAR(m->forward(kIds).logits, with_lora, 1e-4);
}

// AdapterHub's flat prefix: control_trans viewed as [P, n_layers * 2, heads, head_dim] holds, per
// position, each served layer's keys then values.
TEST(AdaptersExportTest, FlatPrefixIsEachLayersKeysThenValuesPerPosition) {
  TempDir tmp;
  auto host = random_host("gpt2");
  const auto dims = dims_of_host("gpt2", *host);
  const auto config = PeftConfig::from_json(
      {{"autopeft_peft_config", 1},
       {"prefix_mlp", {{"hidden", 0}}},
       {"layers", {{"0", {{"prefix", {{"length", 3}}}}}, {"2", {{"prefix", {{"length", 3}}}}}}}},
      "flat");
  PeftModel pm(host, dims, config);
  torch::NoGradGuard g;
  for (auto& p : pm.parameters()) p.normal_();
  export_peft(pm, config, ExportFormat::adapters, {}, (tmp / "a").string());
  const auto t = model::load_safetensors((tmp / "a" / "adapter.safetensors").string());
  ASSERT_EQ(t.size(), 1u);
  const auto flat = t.at("transformer.prefix_tuning.prefix_tunings.autopeft.self_prefix.control_trans");
  ASSERT_EQ(flat.dim(), 1);
  const auto view = flat.view({3, 2 * 2, 4, 8});  // P, served layers x (key, value), heads, head_dim
  for (const auto& [k, layer] : std::vector<std::pair<std::int64_t, std::int64_t>>{{0, 0}, {1, 2}}) {
    auto p = std::dynamic_pointer_cast<LayerPrefix>(host->prefix(host->layer_point(layer, "attn")));
    ASSERT_TRUE(p);
    const auto [keys, values] = p->table();
    EXPECT_TRUE(torch::equal(view.select(1, 2 * k).reshape({3, 32}), keys)) << layer;
    EXPECT_TRUE(torch::equal(view.select(1, 2 * k + 1).reshape({3, 32}), values)) << layer;
  }
  const auto j = read_config(tmp / "a");
  EXPECT_EQ(j["config"]["flat"], true);
  EXPECT_EQ(j["config"]["leave_out"], nlohmann::json({1}));
}

TEST(AdaptersExportTest, T5KeysPerStackAndPrefixLocation) {
  TempDir tmp;
  auto host = random_host("t5_gated");  // encoder layers 0-1, decoder layers 2-4
  const auto dims = dims_of_host("t5_gated", *host);
  const auto config = PeftConfig::from_json(
      {{"autopeft_peft_config", 1},
       {"prefix_mlp", {{"hidden", 16}}},
       {"layers",
        {{"1", {{"serial_adapter", {{"size", 4}, {"placement", "houlsby"}}}, {"prefix", {{"length", 2}}}}},
         {"2", {{"lora", {{"r", 2}, {"targets", {"q", "ffn.in", "ffn.out"}}}}}},
         {"3", {{"serial_adapter", {{"size", 4}, {"placement", "houlsby"}}}, {"prefix", {{"length", 2}}}}}}}},
      "t5");
  PeftModel pm(host, dims, config);
  export_peft(pm, config, ExportFormat::adapters, {}, (tmp / "a").string());
  nlohmann::json expected = nlohmann::json::object();
  for (const std::string a : {"encoder.block.1.layer.0", "encoder.block.1.layer.1", "decoder.block.1.layer.0",
                              "decoder.block.1.layer.2"}) {
    expected[a + ".adapters.autopeft.adapter_down.0.weight"] = {4, 32};
    expected[a + ".adapters.autopeft.adapter_down.0.bias"] = {4};
    expected[a + ".adapters.autopeft.adapter_up.weight"] = {32, 4};
    expected[a + ".adapters.autopeft.adapter_up.bias"] = {32};
  }
  const std::string d = "decoder.block.0.layer.";
  for (const std::string q : {d + "0.SelfAttention.q", d + "1.EncDecAttention.q"}) {
    expected[q + ".loras.autopeft.lora_A"] = {2, 32};
    expected[q + ".loras.autopeft.lora_B"] = {24, 2};  // inner width 4 x 6
  }
  expected[d + "2.DenseReluDense.wi_1.loras.autopeft.lora_A"] = {2, 32};
  expected[d + "2.DenseReluDense.wi_1.loras.autopeft.lora_B"] = {48, 2};
  expected[d + "2.DenseReluDense.wo.loras.autopeft.lora_A"] = {2, 48};
  expected[d + "2.DenseReluDense.wo.loras.autopeft.lora_B"] = {32, 2};
  for (const std::string where : {"encoder_prefix", "self_prefix", "cross_prefix"}) {
    const auto pool = "prefix_tuning.prefix_tunings.autopeft." + where + ".";
    expected[pool + "wte.weight"] = {2, 32};
    expected[pool + "control_trans.0.weight"] = {16, 32};
    expected[pool + "control_trans.0.bias"] = {16};
    expected[pool + "control_trans.2.weight"] = {48, 16};  // one layer each: 2 x 4 heads x 6
    expected[pool + "control_trans.2.bias"] = {48};
  }
  EXPECT_EQ(exported_keys(tmp / "a"), expected) << exported_keys(tmp / "a").dump(1);
  const auto j = read_config(tmp / "a");
  EXPECT_EQ(j["model_class"], "T5ForConditionalGeneration");
  const auto& parts = j["config"]["configs"];
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0]["mh_adapter"], true);  // Houlsby
  EXPECT_EQ(parts[0]["leave_out"], nlohmann::json({0, 2, 4}));
  EXPECT_EQ(parts[2]["intermediate_lora"], true);
  EXPECT_EQ(parts[2]["output_lora"], true);
  EXPECT_EQ(parts[2]["leave_out"], nlohmann::json({0, 1, 3, 4}));
  const auto imported = import_config_file((tmp / "a" / "adapter_config.json").string(), dims);
  PeftModel again(random_host("t5_gated"), dims, imported);
  EXPECT_EQ(again.layers(), pm.layers());
}

// Llama: AdapterHub wraps down_proj as "intermediate" and up_proj as "output"; it has no gate-
// projection LoRA and (1.2.0) no prefix for grouped-query attention.
TEST(AdaptersExportTest, LlamaFfnLoraNamesAndRefusals) {
  TempDir tmp;
  auto host = random_host("llama");
  const auto dims = dims_of_host("llama", *host);
  const auto config = PeftConfig::from_json(
      {{"autopeft_peft_config", 1},
       {"all_layers",
        {{"lora", {{"r", 2}, {"targets", {"k", "ffn.out"}}}}, {"parallel_adapter", {{"size", 8}}}}}},
      "llama");
  PeftModel pm(host, dims, config);
  export_peft(pm, config, ExportFormat::adapters, {}, (tmp / "a").string());
  const auto keys = exported_keys(tmp / "a");
  EXPECT_EQ(keys["model.layers.2.self_attn.k_proj.loras.autopeft.lora_B"], nlohmann::json({12, 2}));
  EXPECT_EQ(keys["model.layers.2.mlp.down_proj.loras.autopeft.lora_A"], nlohmann::json({2, 40}));
  EXPECT_EQ(keys["model.layers.0.output_adapters.adapters.autopeft.adapter_up.weight"],
            nlohmann::json({32, 8}));
  EXPECT_EQ(keys.size(), 3u * (4 + 4));
  const auto j = read_config(tmp / "a");
  EXPECT_EQ(j["config"]["configs"][0]["is_parallel"], true);
  EXPECT_EQ(j["config"]["configs"][1]["intermediate_lora"], true);
  EXPECT_EQ(j["config"]["configs"][1]["output_lora"], false);
  // The import reads AdapterHub's Llama names back: intermediate is down_proj, our ffn.out.
  const auto imported = import_config_file((tmp / "a" / "adapter_config.json").string(), dims);
  PeftModel again(random_host("llama"), dims, imported);
  EXPECT_EQ(again.layers(), pm.layers());
  int i = 0;
  for (const nlohmann::json layer : {nlohmann::json{{"prefix", {{"length", 2}}}},
                                     nlohmann::json{{"lora", {{"r", 2}, {"targets", {"ffn.gate"}}}}}}) {
    const auto refused = PeftConfig::from_json({{"autopeft_peft_config", 1}, {"all_layers", layer}}, "r");
    PeftModel r(random_host("llama"), dims, refused);
    const auto out = tmp / ("refused" + std::to_string(i++));
    EXPECT_THROW(export_peft(r, refused, ExportFormat::adapters, {}, out.string()), UserError) << layer;
    EXPECT_FALSE(std::filesystem::exists(out));
  }
}

}  // namespace
}  // namespace autopeft::peft
