// T5 against a hand-computed bucket table and a forward written here from the raw checkpoint
// tensors (RMS norms, unscaled attention with the first block's relative biases shared by the
// stack, ReLU or gated-GELU FFN, the tied-head rescale), the decoder's KV cache against
// recomputation, and generation.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "model/generation.h"
#include "model/t5.h"
#include "model/tensor_io.h"
#include "tests/support/tiny_model.h"
#include "tests/support/torch_support.h"

namespace autopeft::model {
namespace {

using autopeft::testing::TempDir;
using Raw = std::map<std::string, torch::Tensor>;

TEST(T5BucketTest, MatchesAHandComputedTable) {
  // 32 buckets, max distance 128 (T5's defaults). Bidirectional: 16 per sign, exact below 8,
  // then 8 + floor(log(n / 8) / log(16) * 8), at most 15; keys after the query add 16.
  const std::vector<std::pair<std::int64_t, std::int64_t>> bidirectional = {
      {0, 0},    {-1, 1},  {1, 17},    {-7, 7},    {7, 23},   {-8, 8},    {-15, 9},
      {-20, 10}, {20, 26}, {-100, 15}, {-128, 15}, {200, 31}, {-1000, 15}};
  for (auto [r, b] : bidirectional) EXPECT_EQ(t5_relative_position_bucket(r, true, 32, 128), b) << r;
  // Causal: keys after the query share bucket 0; exact below 16, then
  // 16 + floor(log(n / 16) / log(8) * 16), at most 31.
  const std::vector<std::pair<std::int64_t, std::int64_t>> causal = {
      {5, 0}, {0, 0}, {-5, 5}, {-15, 15}, {-20, 17}, {-100, 30}, {-127, 31}, {-500, 31}};
  for (auto [r, b] : causal) EXPECT_EQ(t5_relative_position_bucket(r, false, 32, 128), b) << r;
}

Raw raw_tensors(const std::filesystem::path& dir) {
  Raw raw;
  for (auto& [k, v] : load_safetensors((dir / "model.safetensors").string())) raw[k] = v.to(torch::kFloat64);
  return raw;
}

torch::Tensor rms(const torch::Tensor& x, const torch::Tensor& w) {
  return x / (x.pow(2).mean(-1, true) + 1e-6).sqrt() * w;
}

// Attention of queries x [Sq, D] over keys/values from m [Sk, D]; bias(h, i, j) added to scores.
torch::Tensor attend(const Raw& t, const std::string& p, const torch::Tensor& x, const torch::Tensor& m,
                     const std::function<double(std::int64_t, std::int64_t, std::int64_t)>& bias) {
  const std::int64_t H = 4, Dk = 6;
  auto q = x.matmul(t.at(p + "q.weight").t()), k = m.matmul(t.at(p + "k.weight").t()),
       v = m.matmul(t.at(p + "v.weight").t());
  std::vector<torch::Tensor> heads;
  for (std::int64_t h = 0; h < H; ++h) {
    auto s = q.narrow(1, h * Dk, Dk).matmul(k.narrow(1, h * Dk, Dk).t());  // no 1/sqrt(d)
    for (std::int64_t i = 0; i < s.size(0); ++i)
      for (std::int64_t j = 0; j < s.size(1); ++j) s[i][j] += bias(h, i, j);
    heads.push_back(torch::softmax(s, 1).matmul(v.narrow(1, h * Dk, Dk)));
  }
  return torch::cat(heads, 1).matmul(t.at(p + "o.weight").t());
}

torch::Tensor feed_forward(const Raw& t, const std::string& p, const torch::Tensor& x, bool gated) {
  if (!gated) return torch::relu(x.matmul(t.at(p + "wi.weight").t())).matmul(t.at(p + "wo.weight").t());
  auto g = x.matmul(t.at(p + "wi_0.weight").t());
  auto gelu = 0.5 * g * (1 + torch::tanh(std::sqrt(2.0 / M_PI) * (g + 0.044715 * g.pow(3))));
  return (gelu * x.matmul(t.at(p + "wi_1.weight").t())).matmul(t.at(p + "wo.weight").t());
}

// Decoder logits [S_dec, V] for one pair of sequences.
torch::Tensor t5_reference(const Raw& t, const std::vector<std::int64_t>& in,
                           const std::vector<std::int64_t>& out, bool gated, bool tied) {
  auto embed = [&](const std::vector<std::int64_t>& ids) {
    return t.at("shared.weight").index_select(0, torch::tensor(ids, torch::kInt64));
  };
  auto relative = [&](const std::string& table, bool bidirectional) {
    return [&t, table, bidirectional](std::int64_t h, std::int64_t i, std::int64_t j) {
      const auto bucket = t5_relative_position_bucket(j - i, bidirectional, 8, 20);
      return t.at(table)[bucket][h].item<double>();
    };
  };
  auto x = embed(in);
  const auto enc_bias =
      relative("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", true);
  for (int b = 0; b < 2; ++b) {
    const std::string p = "encoder.block." + std::to_string(b) + ".layer.";
    auto h = rms(x, t.at(p + "0.layer_norm.weight"));
    x = x + attend(t, p + "0.SelfAttention.", h, h, enc_bias);
    x = x + feed_forward(t, p + "1.DenseReluDense.", rms(x, t.at(p + "1.layer_norm.weight")), gated);
  }
  const auto memory = rms(x, t.at("encoder.final_layer_norm.weight"));
  auto y = embed(out);
  const auto dec_rel =
      relative("decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", false);
  auto causal = [&](std::int64_t h, std::int64_t i, std::int64_t j) {
    return j > i ? -1e30 : dec_rel(h, i, j);
  };
  for (int b = 0; b < 3; ++b) {
    const std::string p = "decoder.block." + std::to_string(b) + ".layer.";
    auto h = rms(y, t.at(p + "0.layer_norm.weight"));
    y = y + attend(t, p + "0.SelfAttention.", h, h, causal);
    y = y + attend(t, p + "1.EncDecAttention.", rms(y, t.at(p + "1.layer_norm.weight")), memory,
                   [](std::int64_t, std::int64_t, std::int64_t) { return 0.0; });
    y = y + feed_forward(t, p + "2.DenseReluDense.", rms(y, t.at(p + "2.layer_norm.weight")), gated);
  }
  y = rms(y, t.at("decoder.final_layer_norm.weight"));
  if (tied) return (y * std::pow(32.0, -0.5)).matmul(t.at("shared.weight").t());
  return y.matmul(t.at("lm_head.weight").t());
}

const std::vector<std::int64_t> kIn = {5, 17, 3, 29, 8, 11, 30, 2, 9, 14, 21, 7, 33, 4, 25, 6, 19, 1};
const std::vector<std::int64_t> kOut = {0, 12, 7, 22, 3, 38, 5};

TEST(T5Test, MatchesAnIndependentForwardForEveryVariant) {
  for (bool gated : {false, true})
    for (bool tied : {false, true}) {
      TempDir dir;
      testing::write_tiny_t5(dir.path(), gated, tied);
      auto loaded = load_t5(dir.path().string());
      EXPECT_EQ(loaded.ignored.size(), 2u);  // the stacks' embed_tokens copies (tied files have no lm_head)
      torch::NoGradGuard g;
      auto out = loaded.model->forward(torch::tensor(kIn, torch::kInt64).unsqueeze(0), {},
                                       torch::tensor(kOut, torch::kInt64).unsqueeze(0));
      EXPECT_TENSOR_NEAR(out.logits[0].to(torch::kFloat64),
                         t5_reference(raw_tensors(dir.path()), kIn, kOut, gated, tied), 1e-4)
          << "gated " << gated << " tied " << tied;
    }
}

// transformers 5 writes tie_word_embeddings true for every T5 and says in scale_decoder_outputs
// whether the decoder output is scaled by d_model^-0.5 (v1.0) or not (v1.1).
TEST(T5Test, ScaleDecoderOutputsOfTransformers5DecidesTheRescale) {
  TempDir dir;
  testing::write_tiny_t5(dir.path(), true, true);
  auto config = nlohmann::json::parse(std::ifstream(dir.path() / "config.json"));
  config["scale_decoder_outputs"] = false;
  std::ofstream(dir.path() / "config.json") << config.dump();
  auto loaded = load_t5(dir.path().string());
  torch::NoGradGuard g;
  auto out = loaded.model->forward(torch::tensor(kIn, torch::kInt64).unsqueeze(0), {},
                                   torch::tensor(kOut, torch::kInt64).unsqueeze(0));
  EXPECT_TENSOR_NEAR(out.logits[0].to(torch::kFloat64),
                     t5_reference(raw_tensors(dir.path()), kIn, kOut, true, true) * std::sqrt(32.0), 1e-4);
}

TEST(T5Test, CachedDecodingEqualsRecomputationAndPaddingIsMasked) {
  TempDir dir;
  testing::write_tiny_t5(dir.path(), true, false);
  auto m = load_t5(dir.path().string()).model;
  torch::NoGradGuard g;
  const auto in = torch::tensor(kIn, torch::kInt64).unsqueeze(0);
  const auto dec = torch::tensor(kOut, torch::kInt64).unsqueeze(0);
  const auto memory = m->encode(in);
  const auto full = m->decode(dec, memory, {}).logits[0];
  Seq2SeqCache cache;
  EXPECT_TENSOR_NEAR(m->decode(dec.narrow(1, 0, 2), memory, {}, &cache).logits[0], full.narrow(0, 0, 2),
                     1e-5);
  // 1e-5 plus float32 rounding relative to the logit (one row against many: other kernels; 4e-5
  // apart at |logit| 1.07 with the MKL of a pip PyTorch 2.11, 16 threads).
  for (std::int64_t i = 2; i < dec.size(1); ++i)
    EXPECT_TRUE(::autopeft::testing::tensors_near(
        m->decode(dec.narrow(1, i, 1), memory, {}, &cache).logits[0][0], full[i], 1e-5, 1e-4))
        << i;
  // Right padding of the encoder input, masked, leaves the real tokens' decoding unchanged.
  auto padded = torch::cat({in, torch::zeros({1, 3}, torch::kInt64)}, 1);
  auto mask = torch::cat({torch::ones_like(in), torch::zeros({1, 3}, torch::kInt64)}, 1);
  EXPECT_TENSOR_NEAR(m->forward(padded, mask, dec).logits[0], full, 1e-5);
}

TEST(T5Test, GenerationWithAndWithoutTheCacheAgrees) {
  TempDir dir;
  testing::write_tiny_t5(dir.path(), false, true);
  auto m = load_t5(dir.path().string()).model;
  for (int beams : {1, 3}) {
    GenerationOptions o;
    o.max_new_tokens = 8;
    o.beams = beams;
    const auto cached = generate(*m, kIn, o);
    o.use_cache = false;
    const auto plain = generate(*m, kIn, o);
    EXPECT_EQ(cached.tokens, plain.tokens) << beams;
    EXPECT_NEAR(cached.score, plain.score, 1e-6);
    EXPECT_FALSE(cached.tokens.empty());
  }
  // Greedy: each token is the argmax of the decoder after decoder_start + the tokens so far.
  GenerationOptions o;
  o.max_new_tokens = 5;
  o.eos = std::vector<std::int64_t>{};
  const auto g = generate(*m, kIn, o);
  std::vector<std::int64_t> dec = {0};
  torch::NoGradGuard ng;
  for (auto token : g.tokens) {
    auto logits = m->forward(torch::tensor(kIn, torch::kInt64).unsqueeze(0), {},
                             torch::tensor(dec, torch::kInt64).unsqueeze(0))
                      .logits[0];
    EXPECT_EQ(logits[static_cast<std::int64_t>(dec.size()) - 1].argmax().item<std::int64_t>(), token);
    dec.push_back(token);
  }
}

TEST(T5Test, InjectionPointsAndErrors) {
  TempDir dir;
  testing::write_tiny_t5(dir.path(), true, false);
  auto m = load_t5(dir.path().string()).model;
  const auto points = m->injection_points();
  // Encoder layers: 7 linear, a prefix and 2 adapter points; decoder layers: 11 linear, 2 prefix
  // and 2 adapter points; the embeddings.
  EXPECT_EQ(points.size(), 2u * (7 + 3) + 3u * (11 + 4) + 1);
  std::size_t linear = 0;
  for (const auto& p : points) {
    if (p.kind != InjectionKind::linear) continue;
    ++linear;
    auto lin = m->linear(p.name);
    EXPECT_EQ(lin->in_features, p.in_features) << p.name;
    EXPECT_EQ(lin->out_features, p.out_features) << p.name;
  }
  EXPECT_EQ(linear, 2u * 7 + 3u * 11);
  EXPECT_THROW(m->linear("encoder.layer.0.cross.q"), UserError);
  EXPECT_THROW(m->set_prefix("encoder.layer.0.cross", nullptr), UserError);
  EXPECT_EQ(m->layer_point(3, "attn"), "decoder.layer.1.attn");
  EXPECT_THROW(m->linear("decoder.layer.3.attn.q"), UserError);
  EXPECT_THROW(m->linear("layer.0.attn.q"), UserError);
  nlohmann::json bad = {{"model_type", "t5"}, {"feed_forward_proj", "gated-foo"}};
  EXPECT_THROW(parse_t5_config(bad, "c.json"), UserError);
}

}  // namespace
}  // namespace autopeft::model
