// Encoders against an independent computation written here from torch primitives and the raw
// tensors of the saved checkpoint.
#include "model/encoder_task.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "model/tensor_io.h"
#include "tests/support/torch_support.h"

namespace autopeft::model {
namespace {

namespace F = torch::nn::functional;
using autopeft::testing::TempDir;

nlohmann::json tiny_config(const std::string& type, int labels = 0) {
  nlohmann::json j = {{"model_type", type},
                      {"vocab_size", 50},
                      {"hidden_size", 32},
                      {"num_hidden_layers", 2},
                      {"num_attention_heads", 4},
                      {"intermediate_size", 64},
                      {"max_position_embeddings", 40},
                      {"hidden_act", "gelu"}};
  if (type == "bert") {
    j["architectures"] = {labels ? "BertForSequenceClassification" : "BertModel"};
  } else {
    j["architectures"] = {labels ? "RobertaForSequenceClassification" : "RobertaModel"};
    j["type_vocab_size"] = 1;
  }
  if (labels) j["num_labels"] = labels;
  return j;
}

// A random model saved as a Hugging Face folder; every parameter (LayerNorms included) random.
std::string make_checkpoint(const TempDir& tmp, const std::string& name, const nlohmann::json& cfg_json,
                            HeadKind head, int labels) {
  const auto cfg = parse_encoder_config(cfg_json, name);
  EncoderForTask model(cfg, head, labels);
  torch::NoGradGuard g;
  for (auto& p : model->parameters()) p.normal_(0.0, 0.3);
  const auto dir = (tmp / name).string();
  save_encoder(dir, model, cfg_json);
  return dir;
}

// The reference: BERT/RoBERTa forward written out from the raw weights.
torch::Tensor reference_hidden(const std::map<std::string, torch::Tensor>& w, const std::string& p,
                               const EncoderConfig& c, const torch::Tensor& ids, const torch::Tensor& mask) {
  auto W = [&](const std::string& k) { return w.at(p + k); };
  torch::Tensor pos;
  if (c.family == EncoderFamily::roberta) {
    auto m = ids.ne(c.pad_token_id).to(torch::kLong);
    pos = torch::cumsum(m, 1) * m + c.pad_token_id;
  } else {
    pos = torch::arange(ids.size(1)).unsqueeze(0).expand_as(ids);
  }
  auto x = F::embedding(ids, W("embeddings.word_embeddings.weight")) +
           F::embedding(torch::zeros_like(ids), W("embeddings.token_type_embeddings.weight")) +
           F::embedding(pos, W("embeddings.position_embeddings.weight"));
  auto ln = [&](const torch::Tensor& t, const std::string& k) {
    return torch::layer_norm(t, {c.hidden_size}, W(k + ".weight"), W(k + ".bias"), c.layer_norm_eps);
  };
  auto lin = [&](const torch::Tensor& t, const std::string& k) {
    return torch::matmul(t, W(k + ".weight").t()) + W(k + ".bias");
  };
  x = ln(x, "embeddings.LayerNorm");
  const auto B = ids.size(0), S = ids.size(1), nh = c.num_heads, d = c.head_dim();
  auto madd = (1.0 - mask.to(torch::kFloat).view({B, 1, 1, S})) * std::numeric_limits<float>::lowest();
  for (int l = 0; l < c.num_layers; ++l) {
    const std::string L = "encoder.layer." + std::to_string(l) + ".";
    auto heads = [&](const torch::Tensor& t) { return t.view({B, S, nh, d}).permute({0, 2, 1, 3}); };
    auto q = heads(lin(x, L + "attention.self.query"));
    auto k = heads(lin(x, L + "attention.self.key"));
    auto v = heads(lin(x, L + "attention.self.value"));
    auto probs = torch::softmax(torch::matmul(q, k.transpose(2, 3)) / std::sqrt(double(d)) + madd, -1);
    auto ctx = torch::matmul(probs, v).permute({0, 2, 1, 3}).reshape({B, S, nh * d});
    auto a = ln(lin(ctx, L + "attention.output.dense") + x, L + "attention.output.LayerNorm");
    auto i = lin(a, L + "intermediate.dense");
    i = 0.5 * i * (1.0 + torch::erf(i / std::sqrt(2.0)));  // exact GELU
    x = ln(lin(i, L + "output.dense") + a, L + "output.LayerNorm");
  }
  return x;
}

class EncoderTest : public autopeft::testing::TorchSeededTest {
 protected:
  TempDir tmp;
};

TEST_F(EncoderTest, BertMatchesTheIndependentComputationWithPadding) {
  const auto dir = make_checkpoint(tmp, "bert", tiny_config("bert", 3), HeadKind::sequence, 3);
  auto loaded = load_encoder(dir);
  EXPECT_EQ(loaded.model->head(), HeadKind::sequence);
  const auto w = load_safetensors(dir + "/model.safetensors");
  auto ids = torch::tensor({{2, 7, 9, 11, 3, 0}, {2, 5, 3, 0, 0, 0}});
  auto mask = ids.ne(0).to(torch::kLong);
  mask[0][0] = 1;
  torch::NoGradGuard g;
  auto out = loaded.model->forward(ids, mask);
  auto ref = reference_hidden(w, "bert.", loaded.config, ids, mask);
  EXPECT_TENSOR_NEAR(out.last_hidden_state, ref, 1e-5);
  // BERT's head: classifier(tanh(pooler(h[:,0]))) in eval mode.
  auto pooled = torch::tanh(torch::matmul(ref.select(1, 0), w.at("bert.pooler.dense.weight").t()) +
                            w.at("bert.pooler.dense.bias"));
  auto logits = torch::matmul(pooled, w.at("classifier.weight").t()) + w.at("classifier.bias");
  EXPECT_TENSOR_NEAR(out.logits, logits, 1e-5);
}

TEST_F(EncoderTest, RobertaPositionsAndClassificationHead) {
  const auto dir = make_checkpoint(tmp, "roberta", tiny_config("roberta", 2), HeadKind::sequence, 2);
  auto loaded = load_encoder(dir);
  EXPECT_FALSE(loaded.model->base->has_pooler());
  const auto w = load_safetensors(dir + "/model.safetensors");
  auto ids = torch::tensor({{0, 7, 9, 2, 1, 1}, {0, 5, 2, 1, 1, 1}});  // pad = 1
  auto mask = ids.ne(1).to(torch::kLong);
  // Positions start at pad + 1 = 2 and padding keeps position 1.
  EXPECT_TRUE(torch::equal(loaded.model->base->embeddings->position_ids(ids),
                           torch::tensor({{2, 3, 4, 5, 1, 1}, {2, 3, 4, 1, 1, 1}})));
  torch::NoGradGuard g;
  auto out = loaded.model->forward(ids, mask);
  auto ref = reference_hidden(w, "roberta.", loaded.config, ids, mask);
  EXPECT_TENSOR_NEAR(out.last_hidden_state, ref, 1e-5);
  auto x = torch::tanh(torch::matmul(ref.select(1, 0), w.at("classifier.dense.weight").t()) +
                       w.at("classifier.dense.bias"));
  auto logits = torch::matmul(x, w.at("classifier.out_proj.weight").t()) + w.at("classifier.out_proj.bias");
  EXPECT_TENSOR_NEAR(out.logits, logits, 1e-5);
}

TEST_F(EncoderTest, PaddingDoesNotChangeRealPositions) {
  for (const std::string type : {"bert", "xlm-roberta"}) {
    const auto dir = make_checkpoint(tmp, type, tiny_config(type), HeadKind::none, 0);
    auto m = load_encoder(dir).model;
    const std::int64_t pad = type == "bert" ? 0 : 1;
    torch::NoGradGuard g;
    auto alone = m->forward(torch::tensor({{4, 8, 15, 16}})).last_hidden_state;
    auto padded_ids =
        torch::tensor(std::vector<std::int64_t>{4, 8, 15, 16, pad, pad, pad, 4, 23, 42, pad, pad, pad, pad})
            .view({2, 7});
    auto out = m->forward(padded_ids, padded_ids.ne(pad).to(torch::kLong)).last_hidden_state;
    EXPECT_TENSOR_NEAR(out.select(0, 0).narrow(0, 0, 4), alone.squeeze(0), 1e-5) << type;
  }
}

TEST_F(EncoderTest, SaveThenLoadGivesIdenticalTensors) {
  const auto dir = make_checkpoint(tmp, "bert", tiny_config("bert", 2), HeadKind::sequence, 2);
  auto first = load_encoder(dir).model;
  save_encoder((tmp / "again").string(), first, tiny_config("bert", 2));
  auto second = load_encoder((tmp / "again").string()).model;
  auto a = first->named_parameters(), b = second->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (const auto& item : a) EXPECT_TRUE(torch::equal(item.value(), b[item.key()])) << item.key();
}

TEST_F(EncoderTest, BareCheckpointsOldNamesAndIgnoredKeysLoad) {
  // A bare BertModel checkpoint with gamma/beta LayerNorm names, an MLM head and position_ids.
  const auto cfg = parse_encoder_config(tiny_config("bert"), "x");
  EncoderModel base(cfg, true);
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& item : base->named_parameters()) {
    std::string k = item.key();
    if (k.find("LayerNorm.weight") != std::string::npos)
      k.replace(k.size() - 6, 6, "gamma");
    else if (k.find("LayerNorm.bias") != std::string::npos)
      k.replace(k.size() - 4, 4, "beta");
    tensors.emplace_back(k, item.value());
  }
  tensors.emplace_back("cls.predictions.bias", torch::zeros({50}));
  tensors.emplace_back("embeddings.position_ids", torch::arange(40).unsqueeze(0));
  std::filesystem::create_directories(tmp / "bare");
  save_safetensors((tmp / "bare/model.safetensors").string(), tensors);
  tmp.write("bare/config.json", tiny_config("bert").dump());
  auto loaded = load_encoder((tmp / "bare").string());
  EXPECT_EQ(loaded.model->head(), HeadKind::none);
  EXPECT_EQ(loaded.report.ignored.size(), 2u);
  EXPECT_TRUE(torch::equal(loaded.model->base->encoder->at(1)->output->LayerNorm->weight,
                           base->encoder->at(1)->output->LayerNorm->weight));
  // A new head for a task: randomly initialised, reported.
  LoadOptions o;
  o.head = "token";
  o.num_labels = 5;
  auto tagged = load_encoder((tmp / "bare").string(), o);
  EXPECT_EQ(tagged.model->num_labels(), 5);
  EXPECT_EQ(tagged.report.new_head.size(), 2u);
  torch::NoGradGuard g;
  EXPECT_EQ(tagged.model->forward(torch::tensor({{2, 3, 4}})).logits.sizes(),
            (std::vector<int64_t>{1, 3, 5}));
}

TEST_F(EncoderTest, MisfitCheckpointsListEveryProblemAtOnce) {
  const auto cfg = parse_encoder_config(tiny_config("bert"), "x");
  EncoderModel base(cfg, true);
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& item : base->named_parameters()) {
    if (item.key() == "encoder.layer.1.attention.self.key.bias") continue;  // missing
    if (item.key() == "pooler.dense.weight") {
      tensors.emplace_back(item.key(), torch::zeros({32, 31}));  // wrong shape
      continue;
    }
    tensors.emplace_back(item.key(), item.value());
  }
  tensors.emplace_back("encoder.layer.0.extra.weight", torch::zeros({2}));  // unexpected
  std::filesystem::create_directories(tmp / "bad");
  save_safetensors((tmp / "bad/model.safetensors").string(), tensors);
  tmp.write("bad/config.json", tiny_config("bert").dump());
  try {
    load_encoder((tmp / "bad").string());
    FAIL();
  } catch (const UserError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("bert.encoder.layer.1.attention.self.key.bias"), std::string::npos) << m;
    EXPECT_NE(m.find("pooler.dense.weight [32,31] (model needs [32,32])"), std::string::npos) << m;
    EXPECT_NE(m.find("encoder.layer.0.extra.weight"), std::string::npos) << m;
  }
}

TEST_F(EncoderTest, InjectionPointsAreListedAndReachable) {
  const auto cfg = parse_encoder_config(tiny_config("bert"), "x");
  EncoderModel m(cfg, true);
  const auto points = m->injection_points();
  EXPECT_EQ(points.size(), 1u + 2u * 10u);
  EXPECT_EQ(points[1].name, "layer.0.attn.q");
  EXPECT_EQ(points[1].hf_module, "encoder.layer.0.attention.self.query");
  EXPECT_EQ(m->linear("layer.1.ffn.in")->out_features, 64);
  EXPECT_EQ(m->linear("layer.1.ffn.out")->in_features, 64);
  EXPECT_THROW(m->linear("layer.2.attn.q"), UserError);
  EXPECT_THROW(m->linear("layer.1.attn.output"), UserError);  // a residual point, not a linear one
  try {
    m->residual("layer.x.ffn.output");
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("layer.<i>.ffn.output"), std::string::npos) << e.what();
  }
}

// Hooks that reproduce the default computation leave outputs unchanged; an augment changes them.
struct SameResidual : ResidualHook {
  torch::Tensor forward(const torch::Tensor& h, const torch::Tensor& r, torch::nn::LayerNorm& ln) override {
    return ln->forward(h + r);
  }
};
struct AddOne : LinearAugment {
  torch::Tensor forward(const torch::Tensor&, const torch::Tensor& y) override { return y + 1.0; }
};

TEST_F(EncoderTest, HooksAndAugmentsRunAtTheirPoints) {
  const auto cfg = parse_encoder_config(tiny_config("bert"), "x");
  EncoderModel m(cfg, true);
  m->eval();
  torch::NoGradGuard g;
  auto ids = torch::tensor({{2, 9, 4}});
  auto base = m->forward(ids).last_hidden_state;
  m->residual("layer.0.ffn.output")->set_hook(std::make_shared<SameResidual>());
  EXPECT_TENSOR_NEAR(m->forward(ids).last_hidden_state, base, 0.0);
  m->linear("layer.1.attn.v")->add_augment("plus", std::make_shared<AddOne>());
  EXPECT_FALSE(torch::allclose(m->forward(ids).last_hidden_state, base));
  EXPECT_THROW(m->linear("layer.1.attn.v")->add_augment("plus", std::make_shared<AddOne>()), UserError);
  m->linear("layer.1.attn.v")->remove_augments();
  EXPECT_TENSOR_NEAR(m->forward(ids).last_hidden_state, base, 0.0);
}

TEST_F(EncoderTest, MaskedLmHeadsWithTransformersKeysAndTiedDecoder) {
  for (const std::string type : {"bert", "roberta"}) {
    auto cfg_json = tiny_config(type);
    cfg_json["architectures"] = {type == "bert" ? "BertForMaskedLM" : "RobertaForMaskedLM"};
    const auto dir = make_checkpoint(tmp, type + "-mlm", cfg_json, HeadKind::mlm, 0);
    const auto w = load_safetensors(dir + "/model.safetensors");
    const std::string h = type == "bert" ? "cls.predictions.transform." : "lm_head.";
    const std::string ln = type == "bert" ? "LayerNorm" : "layer_norm";
    const std::string bias = type == "bert" ? "cls.predictions.bias" : "lm_head.bias";
    ASSERT_TRUE(w.count(h + "dense.weight")) << type;
    ASSERT_TRUE(w.count(h + ln + ".weight")) << type;
    ASSERT_TRUE(w.count(bias)) << type;
    auto loaded = load_encoder(dir);  // auto: the checkpoint has a masked-LM head
    ASSERT_EQ(loaded.model->head(), HeadKind::mlm) << type;
    const std::string p = type == "bert" ? "bert." : "roberta.";
    auto ids = torch::tensor({{5, 7, 9, 11}});
    torch::NoGradGuard g;
    auto out = loaded.model->forward(ids);
    auto x = torch::matmul(out.last_hidden_state, w.at(h + "dense.weight").t()) + w.at(h + "dense.bias");
    x = 0.5 * x * (1.0 + torch::erf(x / std::sqrt(2.0)));
    x = torch::layer_norm(x, {32}, w.at(h + ln + ".weight"), w.at(h + ln + ".bias"),
                          loaded.config.layer_norm_eps);
    auto logits = torch::matmul(x, w.at(p + "embeddings.word_embeddings.weight").t()) + w.at(bias);
    EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{1, 4, 50}));
    EXPECT_TENSOR_NEAR(out.logits, logits, 1e-5) << type;
    // The training path: the head on chosen positions only gives those rows of the full logits.
    auto ids2 = torch::tensor({{5, 7, 9, 11}, {6, 8, 10, 12}});
    auto chosen = torch::tensor({{false, true, false, true}, {true, false, false, false}});
    auto full = loaded.model->forward(ids2).logits;
    auto rows = loaded.model->masked_lm_logits(ids2, torch::ones_like(ids2), torch::zeros_like(ids2), chosen);
    EXPECT_TENSOR_NEAR(rows, torch::stack({full[0][1], full[0][3], full[1][0]}), 1e-5) << type;
    // Fine-tuning a classifier on this checkpoint ignores the pretraining head.
    LoadOptions o;
    o.head = "sequence";
    o.num_labels = 2;
    auto cls = load_encoder(dir, o);
    EXPECT_EQ(cls.model->head(), HeadKind::sequence);
    EXPECT_GE(cls.report.ignored.size(), 5u) << type;
  }
}

TEST_F(EncoderTest, Bfloat16StaysCloseToFloat32) {
  const auto dir = make_checkpoint(tmp, "bert", tiny_config("bert", 2), HeadKind::sequence, 2);
  auto f32 = load_encoder(dir).model;
  LoadOptions o;
  o.dtype = parse_model_dtype("bfloat16");
  auto bf16 = load_encoder(dir, o).model;
  EXPECT_EQ(bf16->base->embeddings->word_embeddings->weight.scalar_type(), torch::kBFloat16);
  torch::NoGradGuard g;
  auto ids = torch::tensor({{2, 7, 9, 11, 0}});
  auto mask = ids.ne(0).to(torch::kLong);
  auto a = f32->forward(ids, mask).last_hidden_state;
  auto b = bf16->forward(ids, mask).last_hidden_state.to(torch::kFloat);
  // LayerNorm outputs are O(1); bfloat16 keeps 8 bits of mantissa.
  EXPECT_TENSOR_NEAR(b, a, 0.15);
  EXPECT_THROW(parse_model_dtype("float16"), UserError);
}

TEST_F(EncoderTest, TooLongInputsAreAClearError) {
  const auto cfg = parse_encoder_config(tiny_config("bert"), "x");
  EncoderModel m(cfg, true);
  torch::NoGradGuard g;
  EXPECT_THROW(m->forward(torch::ones({1, 41}, torch::kLong)), UserError);
}

class EncoderGpuTest : public EncoderTest {};

TEST_F(EncoderGpuTest, CudaMatchesCpuInFloat32AndBfloat16) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "CUDA is not available";
  const auto dir = make_checkpoint(tmp, "roberta", tiny_config("roberta", 2), HeadKind::sequence, 2);
  auto cpu = load_encoder(dir).model;
  LoadOptions o;
  o.device = torch::Device(torch::kCUDA, 0);
  auto gpu = load_encoder(dir, o).model;
  o.dtype = torch::kBFloat16;
  auto gpu16 = load_encoder(dir, o).model;
  torch::NoGradGuard g;
  auto ids = torch::tensor({{0, 7, 9, 2, 1}, {0, 5, 2, 1, 1}});
  auto mask = ids.ne(1).to(torch::kLong);
  auto ref = cpu->forward(ids, mask);
  auto a = gpu->forward(ids.cuda(), mask.cuda());
  auto b = gpu16->forward(ids.cuda(), mask.cuda());
  EXPECT_TENSOR_NEAR(a.last_hidden_state.cpu(), ref.last_hidden_state, 1e-4);
  EXPECT_TENSOR_NEAR(a.logits.cpu(), ref.logits, 1e-4);
  EXPECT_TENSOR_NEAR(b.last_hidden_state.cpu().to(torch::kFloat), ref.last_hidden_state, 0.15);
}

}  // namespace
}  // namespace autopeft::model
