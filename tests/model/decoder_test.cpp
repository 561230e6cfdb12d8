// GPT-2 and Llama against independent computations written here from the raw checkpoint
// tensors (hand-written LayerNorm/RMSNorm, gelu_new and SiLU formulas, Conv1D as x.W + b, rotary
// pairs rotated by their closed-form angles, grouped-query heads by index), the KV cache against
// recomputation, and generation (greedy, beam search against exhaustive search).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "model/causal_lm.h"
#include "model/generation.h"
#include "model/generation_tokenizer.h"
#include "model/llama.h"
#include "model/tensor_io.h"
#include "model/tokenizers.h"
#include "tests/support/test_support.h"
#include "tests/support/tiny_model.h"
#include "tests/support/torch_support.h"

namespace autopeft::model {
namespace {

using autopeft::testing::TempDir;
using Raw = std::map<std::string, torch::Tensor>;

Raw raw_tensors(const std::filesystem::path& dir) {
  Raw raw;
  for (auto& [k, v] : load_safetensors((dir / "model.safetensors").string())) raw[k] = v.to(torch::kFloat64);
  return raw;
}

torch::Tensor hand_layer_norm(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b,
                              double eps) {
  const auto mean = x.mean(-1, true);
  const auto var = (x - mean).pow(2).mean(-1, true);
  return (x - mean) / (var + eps).sqrt() * w + b;
}

torch::Tensor hand_gelu_new(const torch::Tensor& x) {
  return 0.5 * x * (1 + torch::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x.pow(3))));
}

// Causal softmax attention of one head: q, k, v [S, D].
torch::Tensor hand_head_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                  double scale) {
  const auto S = q.size(0);
  auto out = torch::zeros_like(q);
  for (std::int64_t i = 0; i < S; ++i) {
    auto scores = torch::mv(k.narrow(0, 0, i + 1), q[i]) * scale;  // keys 0..i
    auto p = torch::softmax(scores, 0);
    out[i] = torch::mv(v.narrow(0, 0, i + 1).t(), p);
  }
  return out;
}

// GPT-2 logits [S, V] for one sequence, from the HF tensors (Conv1D: x . W + b with W [in, out]).
torch::Tensor gpt2_reference(const Raw& t, const std::vector<std::int64_t>& ids, int layers, int heads) {
  const auto S = static_cast<std::int64_t>(ids.size());
  const auto idx = torch::tensor(ids, torch::kInt64);
  auto x = t.at("wte.weight").index_select(0, idx) + t.at("wpe.weight").narrow(0, 0, S);
  const auto H = x.size(1), D = H / heads;
  for (int l = 0; l < layers; ++l) {
    const std::string p = "h." + std::to_string(l) + ".";
    auto a = hand_layer_norm(x, t.at(p + "ln_1.weight"), t.at(p + "ln_1.bias"), 1e-5);
    auto qkv = a.matmul(t.at(p + "attn.c_attn.weight")) + t.at(p + "attn.c_attn.bias");
    std::vector<torch::Tensor> ctx;
    for (std::int64_t h = 0; h < heads; ++h)
      ctx.push_back(hand_head_attention(qkv.narrow(1, h * D, D), qkv.narrow(1, H + h * D, D),
                                        qkv.narrow(1, 2 * H + h * D, D), 1.0 / std::sqrt(double(D))));
    x = x + torch::cat(ctx, 1).matmul(t.at(p + "attn.c_proj.weight")) + t.at(p + "attn.c_proj.bias");
    auto m = hand_layer_norm(x, t.at(p + "ln_2.weight"), t.at(p + "ln_2.bias"), 1e-5);
    auto f = hand_gelu_new(m.matmul(t.at(p + "mlp.c_fc.weight")) + t.at(p + "mlp.c_fc.bias"));
    x = x + f.matmul(t.at(p + "mlp.c_proj.weight")) + t.at(p + "mlp.c_proj.bias");
  }
  x = hand_layer_norm(x, t.at("ln_f.weight"), t.at("ln_f.bias"), 1e-5);
  return x.matmul(t.at("wte.weight").t());  // tied head
}

// Rotary embedding by its closed form: the pair (x_i, x_{i+D/2}) of position p rotated by
// p * theta^(-2i/D).
torch::Tensor hand_rotary(const torch::Tensor& x, double theta) {  // x [S, D], positions 0..S-1
  auto out = x.clone();
  const auto S = x.size(0), D = x.size(1);
  for (std::int64_t p = 0; p < S; ++p)
    for (std::int64_t i = 0; i < D / 2; ++i) {
      const double angle =
          static_cast<double>(p) * std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(D));
      const double a = x[p][i].item<double>(), b = x[p][i + D / 2].item<double>();
      out[p][i] = a * std::cos(angle) - b * std::sin(angle);
      out[p][i + D / 2] = b * std::cos(angle) + a * std::sin(angle);
    }
  return out;
}

torch::Tensor hand_rms(const torch::Tensor& x, const torch::Tensor& w) {
  return x / (x.pow(2).mean(-1, true) + 1e-6).sqrt() * w;
}

torch::Tensor llama_reference(const Raw& t, const std::vector<std::int64_t>& ids, int layers, bool tied) {
  const int heads = 4, kv_heads = 2;
  const double theta = 500.0;
  const auto idx = torch::tensor(ids, torch::kInt64);
  auto x = t.at("model.embed_tokens.weight").index_select(0, idx);
  const auto H = x.size(1), D = H / heads;
  for (int l = 0; l < layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    auto a = hand_rms(x, t.at(p + "input_layernorm.weight"));
    auto q = a.matmul(t.at(p + "self_attn.q_proj.weight").t());
    auto k = a.matmul(t.at(p + "self_attn.k_proj.weight").t());
    auto v = a.matmul(t.at(p + "self_attn.v_proj.weight").t());
    std::vector<torch::Tensor> ctx;
    for (std::int64_t h = 0; h < heads; ++h) {
      const auto g = h / (heads / kv_heads);  // the key/value head this query head reads
      ctx.push_back(hand_head_attention(hand_rotary(q.narrow(1, h * D, D), theta),
                                        hand_rotary(k.narrow(1, g * D, D), theta), v.narrow(1, g * D, D),
                                        1.0 / std::sqrt(double(D))));
    }
    x = x + torch::cat(ctx, 1).matmul(t.at(p + "self_attn.o_proj.weight").t());
    auto m = hand_rms(x, t.at(p + "post_attention_layernorm.weight"));
    auto gate = m.matmul(t.at(p + "mlp.gate_proj.weight").t());
    auto silu = gate / (1 + torch::exp(-gate));
    x = x +
        (silu * m.matmul(t.at(p + "mlp.up_proj.weight").t())).matmul(t.at(p + "mlp.down_proj.weight").t());
  }
  x = hand_rms(x, t.at("model.norm.weight"));
  return x.matmul((tied ? t.at("model.embed_tokens.weight") : t.at("lm_head.weight")).t());
}

torch::Tensor logits_of(CausalLmImpl& m, const std::vector<std::int64_t>& ids) {
  torch::NoGradGuard g;
  return m.forward(torch::tensor(ids, torch::kInt64).unsqueeze(0)).logits[0].to(torch::kFloat64);
}

const std::vector<std::int64_t> kIds = {5, 17, 3, 99, 42, 8, 61, 7, 30, 12};

TEST(DecoderTest, Gpt2MatchesAnIndependentForwardFromTheConv1dTensors) {
  TempDir dir;
  testing::write_tiny_gpt2(dir.path());
  auto loaded = load_causal_lm(dir.path().string());
  EXPECT_EQ(loaded.config.family, DecoderFamily::gpt2);
  EXPECT_EQ(loaded.ignored.size(), 2u);  // the attn.bias buffers
  EXPECT_TENSOR_NEAR(logits_of(*loaded.model, kIds), gpt2_reference(raw_tensors(dir.path()), kIds, 2, 4),
                     1e-4);
}

TEST(DecoderTest, Gpt2LoadsPrefixedKeysAndATiedHeadCopy) {
  TempDir dir;
  testing::write_tiny_gpt2(dir.path());
  auto raw = load_safetensors((dir / "model.safetensors").string());
  std::vector<std::pair<std::string, torch::Tensor>> prefixed;
  for (auto& [k, v] : raw) prefixed.emplace_back("transformer." + k, v);
  prefixed.emplace_back("lm_head.weight", raw.at("wte.weight"));
  save_safetensors((dir / "model.safetensors").string(), prefixed);
  Raw reference;
  for (auto& [k, v] : raw) reference[k] = v.to(torch::kFloat64);
  auto loaded = load_causal_lm(dir.path().string());
  EXPECT_EQ(loaded.ignored.size(), 3u);  // two buffers and the tied head's copy
  EXPECT_TENSOR_NEAR(logits_of(*loaded.model, kIds), gpt2_reference(reference, kIds, 2, 4), 1e-4);
}

TEST(DecoderTest, LlamaMatchesAnIndependentForwardWithRotaryPairsAndGroupedHeads) {
  for (bool tied : {false, true}) {
    TempDir dir;
    testing::write_tiny_llama(dir.path(), 2, 32, tied);
    auto loaded = load_causal_lm(dir.path().string());
    EXPECT_EQ(loaded.config.num_kv_heads, 2);
    const std::vector<std::int64_t> ids = {1, 17, 3, 49, 22, 8};
    EXPECT_TENSOR_NEAR(logits_of(*loaded.model, ids), llama_reference(raw_tensors(dir.path()), ids, 2, tied),
                       1e-4)
        << "tied " << tied;
  }
}

TEST(DecoderTest, RotaryEmbeddingIsItsClosedFormAndRelative) {
  torch::manual_seed(3);
  const auto x = torch::randn({1, 1, 7, 8}, torch::kFloat64);
  const auto positions = torch::arange(7, torch::kInt64).unsqueeze(0);
  EXPECT_TENSOR_NEAR(apply_rotary(x, positions, 10000.0)[0][0], hand_rotary(x[0][0], 10000.0), 1e-6);
  // q.k after rotation depends only on the distance of the positions.
  const auto q = torch::randn({1, 1, 1, 8}, torch::kFloat64), k = torch::randn({1, 1, 1, 8}, torch::kFloat64);
  auto dot = [&](std::int64_t pq, std::int64_t pk) {
    auto at = [](std::int64_t p) { return torch::full({1, 1}, p, torch::kInt64); };
    return (apply_rotary(q, at(pq), 10000.0) * apply_rotary(k, at(pk), 10000.0)).sum().item<double>();
  };
  EXPECT_NEAR(dot(5, 2), dot(13, 10), 1e-5);
  EXPECT_GT(std::abs(dot(5, 2) - dot(5, 4)), 1e-4);
}

// Llama 3's frequency scaling against transformers' formula written per frequency with branches
// (a second formulation of rope_inverse_frequencies' tensor arithmetic); the three regimes occur.
TEST(DecoderTest, Llama3RopeScalingFollowsThePiecewiseFormula) {
  RopeScaling s;
  s.type = "llama3";
  s.factor = 8;
  s.low_freq_factor = 1;
  s.high_freq_factor = 4;
  s.original_max_positions = 8192;
  const std::int64_t D = 64;
  const double theta = 500000;
  const auto got = rope_inverse_frequencies(D, theta, s);
  int regimes[3] = {0, 0, 0};
  for (std::int64_t i = 0; i < D / 2; ++i) {
    const double f = std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(D));
    const double wavelength = 2 * M_PI / f;
    double expected;
    if (wavelength < 8192.0 / 4) {
      expected = f, ++regimes[0];
    } else if (wavelength > 8192.0 / 1) {
      expected = f / 8, ++regimes[2];
    } else {
      const double smooth = (8192.0 / wavelength - 1) / (4 - 1);
      expected = (1 - smooth) * f / 8 + smooth * f, ++regimes[1];
    }
    EXPECT_NEAR(got[i].item<double>(), expected, 1e-6 * expected) << i;
  }
  EXPECT_GT(regimes[0], 0);
  EXPECT_GT(regimes[1], 0);
  EXPECT_GT(regimes[2], 0);
  // Linear scaling is rotation at position / factor.
  s = RopeScaling{};
  s.type = "linear";
  s.factor = 4;
  torch::manual_seed(5);
  const auto x = torch::randn({1, 2, 6, 8});
  const auto positions = torch::arange(6, torch::kInt64).unsqueeze(0);
  EXPECT_TENSOR_NEAR(apply_rotary(x, positions, rope_inverse_frequencies(8, 10000, s)),
                     apply_rotary(x, positions.to(torch::kFloat32) / 4, rope_inverse_frequencies(8, 10000)),
                     1e-6);
}

// A rope_scaling in config.json changes every position but the first (angle 0), and names what it
// cannot run.
TEST(DecoderTest, RopeScalingFromConfigAndItsErrors) {
  TempDir dir;
  testing::write_tiny_llama(dir.path());
  const std::vector<std::int64_t> ids = {1, 17, 3, 49, 22};
  const auto plain = logits_of(*load_causal_lm(dir.path().string()).model, ids);
  auto config = nlohmann::json::parse(std::ifstream(dir.path() / "config.json"));
  config["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 3.0}};
  std::ofstream(dir.path() / "config.json") << config.dump();
  auto loaded = load_causal_lm(dir.path().string());
  EXPECT_EQ(loaded.config.rope_scaling.type, "linear");
  const auto scaled = logits_of(*loaded.model, ids);
  EXPECT_TENSOR_NEAR(scaled[0], plain[0], 1e-6);
  EXPECT_GT((scaled[4] - plain[4]).abs().max().item<double>(), 1e-4);
  for (const auto& [rope, wanted] : std::vector<std::pair<nlohmann::json, std::string>>{
           {{{"type", "dynamic"}, {"factor", 2.0}}, "rope_scaling.type"},
           {{{"rope_type", "llama3"}, {"factor", 8.0}}, "rope_scaling.low_freq_factor"},
           {{{"rope_type", "linear"}}, "rope_scaling.factor"}}) {
    config["rope_scaling"] = rope;
    try {
      parse_decoder_config(config, "cfg.json");
      ADD_FAILURE() << rope.dump();
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find(wanted), std::string::npos) << e.what();
    }
  }
}

// transformers 5 writes theta and scaling as one "rope_parameters" object: the same model as the
// older top-level rope_theta and rope_scaling keys.
TEST(DecoderTest, RopeParametersOfTransformers5EqualTheOlderKeys) {
  TempDir dir;
  testing::write_tiny_llama(dir.path());
  const std::vector<std::int64_t> ids = {1, 17, 3, 49, 22};
  auto config = nlohmann::json::parse(std::ifstream(dir.path() / "config.json"));
  const auto logits_with = [&](const nlohmann::json& c) {
    std::ofstream(dir.path() / "config.json") << c.dump();
    return logits_of(*load_causal_lm(dir.path().string()).model, ids);
  };
  auto older = config;
  older["rope_theta"] = 50000.0;
  older["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 3.0}};
  auto newer = config;
  newer.erase("rope_theta");
  newer["rope_parameters"] = {{"rope_type", "linear"}, {"rope_theta", 50000.0}, {"factor", 3.0}};
  const auto a = logits_with(older);
  EXPECT_TENSOR_NEAR(logits_with(newer), a, 1e-6);
  newer["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 50000.0}};
  older.erase("rope_scaling");
  const auto b = logits_with(older);
  EXPECT_TENSOR_NEAR(logits_with(newer), b, 1e-6);
  EXPECT_GT((a - b).abs().max().item<double>(), 1e-4);
  newer["rope_theta"] = 10000.0;  // both written: rope_parameters wins, as in transformers 5
  EXPECT_TENSOR_NEAR(logits_with(newer), b, 1e-6);
  newer["rope_parameters"]["rope_theta"] = "big";
  EXPECT_THROW(parse_decoder_config(newer, "cfg.json"), UserError);
}

class CacheTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::shared_ptr<CausalLmImpl> load(const TempDir& dir) {
    if (GetParam() == "gpt2")
      testing::write_tiny_gpt2(dir.path());
    else
      testing::write_tiny_llama(dir.path());
    return load_causal_lm(dir.path().string()).model;
  }
  std::vector<std::int64_t> ids() const {
    return GetParam() == "gpt2" ? kIds : std::vector<std::int64_t>{1, 17, 3, 49, 22, 8, 11, 40, 9, 30};
  }
};

TEST_P(CacheTest, StepByStepDecodingWithTheCacheEqualsRecomputation) {
  TempDir dir;
  auto m = load(dir);
  const auto seq = ids();
  const auto full = logits_of(*m, seq);
  torch::NoGradGuard g;
  KvCache cache;
  const auto all = torch::tensor(seq, torch::kInt64).unsqueeze(0);
  auto first = m->forward(all.narrow(1, 0, 4), {}, &cache).logits[0];
  EXPECT_TENSOR_NEAR(first.to(torch::kFloat64), full.narrow(0, 0, 4), 1e-5);
  for (std::int64_t i = 4; i < all.size(1); ++i) {
    auto step = m->forward(all.narrow(1, i, 1), {}, &cache).logits[0][0];
    EXPECT_EQ(cache.length(), i + 1);
    EXPECT_TENSOR_NEAR(step.to(torch::kFloat64), full[i], 1e-5) << "token " << i;
  }
}

TEST_P(CacheTest, LeftPaddedRowsGiveTheUnpaddedLogits) {
  TempDir dir;
  auto m = load(dir);
  const auto seq = ids();
  const std::vector<std::int64_t> shorter(seq.begin(), seq.begin() + 6);
  torch::NoGradGuard g;
  auto batch = torch::tensor(seq, torch::kInt64).repeat({2, 1});
  auto mask = torch::ones_like(batch);
  for (int j = 0; j < 4; ++j) {  // row 1: four pads, then `shorter`
    batch[1][j] = 0;
    mask[1][j] = 0;
  }
  batch[1].narrow(0, 4, 6).copy_(torch::tensor(shorter, torch::kInt64));
  auto out = m->forward(batch, mask).logits.to(torch::kFloat64);
  EXPECT_TENSOR_NEAR(out[0], logits_of(*m, seq), 1e-5);
  EXPECT_TENSOR_NEAR(out[1].narrow(0, 4, 6), logits_of(*m, shorter), 1e-5);
  // One more token for both rows through the cache.
  KvCache cache;
  m->forward(batch, mask, &cache);
  auto next = torch::tensor({7, 7}, torch::kInt64).unsqueeze(1);
  auto step = m->forward(next, torch::cat({mask, torch::ones({2, 1}, mask.options())}, 1), &cache).logits;
  auto longer = shorter;
  longer.push_back(7);
  EXPECT_TENSOR_NEAR(step[1][0].to(torch::kFloat64), logits_of(*m, longer)[6], 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Families, CacheTest, ::testing::Values("gpt2", "llama"));

TEST(GenerationTest, GreedyWithTheCacheEqualsGreedyWithout) {
  TempDir dir;
  testing::write_tiny_llama(dir.path());
  auto m = load_causal_lm(dir.path().string()).model;
  GenerationOptions o;
  o.max_new_tokens = 12;
  o.eos = std::vector<std::int64_t>{};
  const auto cached = generate(*m, {1, 5, 9}, o);
  o.use_cache = false;
  const auto plain = generate(*m, {1, 5, 9}, o);
  EXPECT_EQ(cached.tokens, plain.tokens);
  EXPECT_EQ(cached.tokens.size(), 12u);
  // Each token is the argmax after the sequence so far.
  std::vector<std::int64_t> seq = {1, 5, 9};
  for (auto token : cached.tokens) {
    EXPECT_EQ(logits_of(*m, seq)[static_cast<std::int64_t>(seq.size()) - 1].argmax().item<std::int64_t>(),
              token);
    seq.push_back(token);
  }
}

// Batched greedy decoding (padded, masked rows; the batch runs until every row ended) gives
// each row what generate() gives it alone, on all three families, with EOS stopping rows early.
TEST(GenerationTest, BatchedGreedyEqualsGreedyRowByRow) {
  const std::vector<std::vector<std::int64_t>> inputs = {{1, 5, 9}, {4}, {2, 8, 3, 7, 6, 11}, {9, 9}};
  for (const std::string family : {"gpt2", "llama", "t5"}) {
    TempDir dir;
    if (family == "gpt2") testing::write_tiny_gpt2(dir.path());
    if (family == "llama") testing::write_tiny_llama(dir.path());
    if (family == "t5") testing::write_tiny_t5(dir.path(), true, false);
    for (const bool with_eos : {false, true}) {
      GenerationOptions o;
      o.max_new_tokens = 7;
      std::vector<std::vector<std::int64_t>> expected;
      std::vector<std::vector<std::int64_t>> batched;
      const auto run = [&](auto& m) {
        // With EOS: the first row's second greedy token ends it (so rows stop at different steps).
        o.eos = std::vector<std::int64_t>{};
        if (with_eos) o.eos = std::vector<std::int64_t>{generate(m, inputs[0], o).tokens.at(1)};
        expected.clear();
        for (const auto& in : inputs) expected.push_back(generate(m, in, o).tokens);
        batched = generate_greedy(m, inputs, o);
      };
      if (family == "t5") {
        auto m = load_t5(dir.path().string()).model;
        run(*m);
      } else {
        auto m = load_causal_lm(dir.path().string()).model;
        run(*m);
      }
      EXPECT_EQ(batched, expected) << family << (with_eos ? " with EOS" : "");
      if (with_eos) {
        EXPECT_EQ(batched[0].size(), 2u) << family;
      }
    }
  }
}

TEST(GenerationTest, BeamSearchWithEveryTokenAsABeamFindsTheExhaustiveOptimum) {
  TempDir dir;
  testing::write_tiny_llama(dir.path(), 1, 16);
  auto m = load_causal_lm(dir.path().string()).model;
  const std::vector<std::int64_t> prompt = {1, 4};
  // Exhaustive: every two-token continuation, by summed log-probability.
  double best = -1e300;
  std::vector<std::int64_t> arg;
  const auto first = torch::log_softmax(logits_of(*m, prompt)[1], 0);
  for (std::int64_t a = 0; a < 50; ++a) {
    auto seq = prompt;
    seq.push_back(a);
    const auto second = torch::log_softmax(logits_of(*m, seq)[2], 0);
    const auto b = second.argmax().item<std::int64_t>();
    const double s = first[a].item<double>() + second[b].item<double>();
    if (s > best) best = s, arg = {a, b};
  }
  GenerationOptions o;
  o.max_new_tokens = 2;
  o.beams = 50;
  o.eos = std::vector<std::int64_t>{};
  o.length_penalty = 0.0;
  const auto g = generate(*m, prompt, o);
  EXPECT_EQ(g.tokens, arg);
  EXPECT_NEAR(g.score, best, 1e-9);
  o.use_cache = false;
  EXPECT_EQ(generate(*m, prompt, o).tokens, arg);
}

TEST(GenerationTest, BeamSearchStopsAtEosAndBeatsOrTiesGreedy) {
  TempDir dir;
  testing::write_tiny_gpt2(dir.path());
  auto m = load_causal_lm(dir.path().string()).model;
  GenerationOptions o;
  o.max_new_tokens = 6;
  o.length_penalty = 0.0;
  o.eos = std::vector<std::int64_t>{};
  const auto greedy = generate(*m, {5, 17}, o);
  o.beams = 4;
  const auto beam = generate(*m, {5, 17}, o);
  EXPECT_EQ(beam.tokens.size(), 6u);
  // Equal sequences score equally up to float32 rounding (the beam's batched rows and greedy's one
  // row take different kernels: 1e-6 apart with the MKL of a pip PyTorch 2.11).
  EXPECT_GE(beam.score, greedy.score - 1e-4);
  // With the most likely first token as EOS, greedy ends after one token.
  GenerationOptions e;
  e.eos = std::vector<std::int64_t>{greedy.tokens[0]};
  EXPECT_EQ(generate(*m, {5, 17}, e).tokens, std::vector<std::int64_t>{greedy.tokens[0]});
}

TEST(DecoderLoadTest, ErrorsNameTheKeyAndTheConfigField) {
  TempDir dir;
  testing::write_tiny_llama(dir.path());
  auto raw = load_safetensors((dir / "model.safetensors").string());
  std::vector<std::pair<std::string, torch::Tensor>> t;
  for (auto& [k, v] : raw)
    if (k != "model.layers.1.mlp.up_proj.weight")
      t.emplace_back(k, k == "model.norm.weight" ? torch::ones({3}) : v);
  t.emplace_back("model.layers.0.extra.weight", torch::ones({2}));
  save_safetensors((dir / "model.safetensors").string(), t);
  try {
    load_causal_lm(dir.path().string());
    FAIL() << "expected an error";
  } catch (const UserError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("model.layers.1.mlp.up_proj.weight"), std::string::npos) << m;
    EXPECT_NE(m.find("model.norm.weight [3]"), std::string::npos) << m;
    EXPECT_NE(m.find("model.layers.0.extra.weight"), std::string::npos) << m;
  }
  auto config = nlohmann::json::parse(testing::read_file(dir / "config.json"));
  config["rope_scaling"] = {{"type", "yarn"}, {"factor", 2.0}};  // not implemented
  EXPECT_THROW(
      {
        try {
          parse_decoder_config(config, "cfg.json");
        } catch (const UserError& e) {
          EXPECT_NE(std::string(e.what()).find("rope_scaling"), std::string::npos);
          throw;
        }
      },
      UserError);
  config["rope_scaling"] = nullptr;
  config["num_key_value_heads"] = 3;
  EXPECT_THROW(parse_decoder_config(config, "cfg.json"), UserError);
}

TEST(DecoderTest, InjectionPointsNameEveryLinearAndReachIt) {
  TempDir dir;
  testing::write_tiny_llama(dir.path());
  auto m = load_causal_lm(dir.path().string()).model;
  const auto points = m->injection_points();
  EXPECT_EQ(points.size(), 21u);  // per layer 7 linear, the prefix and two adapter points; embeddings
  std::size_t linear = 0;
  for (const auto& p : points) {
    if (p.kind != InjectionKind::linear) {
      if (p.kind != InjectionKind::embeddings) {
        EXPECT_THROW(m->linear(p.name), UserError) << p.name;
      }
      continue;
    }
    ++linear;
    auto lin = m->linear(p.name);
    EXPECT_EQ(lin->in_features, p.in_features) << p.name;
    EXPECT_EQ(lin->out_features, p.out_features) << p.name;
  }
  EXPECT_EQ(linear, 14u);
  EXPECT_EQ(m->linear("layer.1.attn.k")->out_features, 16);  // 2 kv heads of 8
  EXPECT_THROW(m->linear("layer.2.attn.q"), UserError);
  EXPECT_THROW(m->linear("layer.0.attn.qkv"), UserError);
}

// Folders whose tokenizer comes only as tokenizer.json tokenise as with the classic files.
TEST(TokenizerJsonFolderTest, Gpt2RobertaAndBertFoldersLoadTokenizerJson) {
  auto to_json_bpe = [](const std::filesystem::path& dir, const std::string& special) {
    auto vocab = nlohmann::json::parse(testing::read_file(dir / "vocab.json"));
    nlohmann::json merges = nlohmann::json::array();
    std::ifstream in(dir / "merges.txt");
    std::string line;
    while (std::getline(in, line))
      if (!line.empty() && line.rfind("#version", 0) != 0) merges.push_back(line);
    nlohmann::json added = nlohmann::json::array();
    for (const auto& t : {special})
      if (vocab.contains(t)) added.push_back({{"id", vocab[t]}, {"content", t}, {"special", true}});
    const nlohmann::json j = {{"added_tokens", added},
                              {"normalizer", nullptr},
                              {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}}},
                              {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}}};
    std::ofstream(dir / "tokenizer.json") << j.dump();
  };
  {
    TempDir dir;
    testing::write_tiny_gpt2(dir.path());
    const auto cfg = load_decoder_config(dir.path().string());
    const auto classic =
        load_causal_lm_tokenizer(dir.path().string(), cfg)->encode("the movie was<|endoftext|>");
    to_json_bpe(dir.path(), "<|endoftext|>");
    std::filesystem::remove(dir / "vocab.json");
    std::filesystem::remove(dir / "merges.txt");
    auto tok = load_causal_lm_tokenizer(dir.path().string(), cfg);
    EXPECT_EQ(tok->encode("the movie was<|endoftext|>"), classic);
    EXPECT_EQ(classic.size(), 4u);
  }
  {
    // A Llama folder with Llama 3's byte-level tokenizer.json (Split + ByteLevel): BOS from
    // config.json in front; decode drops it. The pieces of "the movie was" are GPT-2's.
    TempDir gpt2, dir;
    testing::write_tiny_gpt2(gpt2.path());
    const auto pieces =
        load_causal_lm_tokenizer(gpt2.path().string(), load_decoder_config(gpt2.path().string()))
            ->encode("the movie was");
    to_json_bpe(gpt2.path(), "<|endoftext|>");
    auto j = nlohmann::json::parse(testing::read_file(gpt2 / "tokenizer.json"));
    const std::int64_t bos = static_cast<std::int64_t>(j["model"]["vocab"].size());
    j["added_tokens"].push_back({{"id", bos}, {"content", "<|begin_of_text|>"}, {"special", true}});
    j["model"]["ignore_merges"] = true;
    j["pre_tokenizer"] = {
        {"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"},
           {"pattern",
            {{"Regex",
              R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}}},
           {"behavior", "Isolated"},
           {"invert", false}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
    testing::write_tiny_llama(dir.path());
    std::ofstream(dir / "tokenizer.json") << j.dump();
    auto config = nlohmann::json::parse(testing::read_file(dir / "config.json"));
    config["bos_token_id"] = bos;
    auto tok = load_causal_lm_tokenizer(dir.path().string(), parse_decoder_config(config, "config.json"));
    auto expected = pieces;
    expected.insert(expected.begin(), bos);
    EXPECT_EQ(tok->encode("the movie was"), expected);
    EXPECT_EQ(tok->encode_plain("the movie was"), pieces);
    EXPECT_EQ(tok->decode(expected), "the movie was");
  }
  {
    TempDir dir;
    testing::write_tiny_roberta(dir.path());
    const auto cfg = load_encoder_config(dir.path().string());
    const auto classic =
        load_tokenizer(dir.path().string(), cfg)->encode("the movie", std::string("was good"));
    to_json_bpe(dir.path(), "<mask>");
    std::filesystem::remove(dir / "merges.txt");
    EXPECT_EQ(
        load_tokenizer(dir.path().string(), cfg)->encode("the movie", std::string("was good")).input_ids,
        classic.input_ids);
  }
  {
    TempDir dir;
    testing::write_tiny_bert(dir.path());
    const auto cfg = load_encoder_config(dir.path().string());
    const auto classic = load_tokenizer(dir.path().string(), cfg)->encode("The Movie, very good!").input_ids;
    nlohmann::json vocab = nlohmann::json::object();
    std::ifstream in(dir / "vocab.txt");
    std::string line;
    for (int id = 0; std::getline(in, line); ++id) vocab[line] = id;
    const nlohmann::json j = {{"normalizer", {{"type", "BertNormalizer"}, {"lowercase", true}}},
                              {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
                              {"model", {{"type", "WordPiece"}, {"vocab", vocab}}}};
    std::ofstream(dir / "tokenizer.json") << j.dump();
    std::filesystem::remove(dir / "vocab.txt");
    EXPECT_EQ(load_tokenizer(dir.path().string(), cfg)->encode("The Movie, very good!").input_ids, classic);
  }
}

}  // namespace
}  // namespace autopeft::model
