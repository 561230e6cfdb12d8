#include "tests/support/tiny_model.h"

#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "model/encoder_task.h"
#include "model/format/bpe.h"
#include "model/format/model_config.h"
#include "model/tensor_io.h"

namespace autopeft::testing {

const std::vector<std::string>& tiny_words() {
  static const std::vector<std::string> w = {
      "good",  "very", "the",   "a",     "movie", "film", "plot", "actor", "was", "is",    "and", "but",
      "story", "long", "short", "music", "dull",  "ok",   "fine", "scene", "end", "start", "red", "blue"};
  return w;
}

void write_tiny_bert(const std::filesystem::path& dir, int layers, int hidden) {
  std::filesystem::create_directories(dir);
  std::vector<std::string> vocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  for (const auto& w : tiny_words()) vocab.push_back(w);
  std::ofstream v(dir / "vocab.txt");
  for (const auto& t : vocab) v << t << "\n";
  v.close();
  const nlohmann::json cfg = {{"model_type", "bert"},
                              {"architectures", {"BertModel"}},
                              {"vocab_size", vocab.size()},
                              {"hidden_size", hidden},
                              {"num_hidden_layers", layers},
                              {"num_attention_heads", 4},
                              {"intermediate_size", 2 * hidden},
                              {"max_position_embeddings", 64},
                              {"hidden_act", "gelu"}};
  torch::manual_seed(1234);
  const auto config = model::parse_encoder_config(cfg, "tiny");
  model::EncoderForTask m(config, model::HeadKind::none, 0);
  model::save_encoder(dir.string(), m, cfg);
}

namespace {

// vocab.json and merges.txt of a byte-level BPE: `front` special tokens first, every byte, then
// merges that make each tiny word (with and without its leading space) one piece, then `back`
// special tokens. Returns the vocabulary size.
std::int64_t write_byte_bpe(const std::filesystem::path& dir, const std::vector<std::string>& front,
                            const std::vector<std::string>& back) {
  nlohmann::json vocab = nlohmann::json::object();
  std::int64_t id = 0;
  for (const auto& t : front) vocab[t] = id++;
  for (const auto& b : model::ByteLevelBpe::byte_encoder()) vocab[b] = id++;
  std::ofstream merges(dir / "merges.txt");
  merges << "#version: 0.2\n";
  std::set<std::pair<std::string, std::string>> written;
  for (const auto& w : tiny_words())
    for (const std::string& word : {w, std::string("\u0120") + w}) {
      // Symbols of the word: its first character (Ġ is two bytes of UTF-8), then one per letter.
      const std::size_t first = word.rfind("\u0120", 0) == 0 ? 2 : 1;
      std::string prefix = word.substr(0, first);
      for (std::size_t i = first; i < word.size(); ++i) {
        const std::string next(1, word[i]);
        if (written.insert({prefix, next}).second) merges << prefix << " " << next << "\n";
        prefix += next;
        if (!vocab.contains(prefix)) vocab[prefix] = id++;
      }
    }
  for (const auto& w : tiny_words())  // the spaced word from the two pieces the rules above leave
    if (written.insert({"\u0120", w}).second) merges << "\u0120 " << w << "\n";
  merges.close();
  for (const auto& t : back) vocab[t] = id++;
  std::ofstream(dir / "vocab.json") << vocab.dump();
  return id;
}

}  // namespace

void write_tiny_roberta(const std::filesystem::path& dir, int layers, int hidden) {
  std::filesystem::create_directories(dir);
  const std::int64_t id = write_byte_bpe(dir, {"<s>", "<pad>", "</s>", "<unk>"}, {"<mask>"});
  const nlohmann::json cfg = {{"model_type", "roberta"},
                              {"architectures", {"RobertaModel"}},
                              {"vocab_size", id},
                              {"hidden_size", hidden},
                              {"num_hidden_layers", layers},
                              {"num_attention_heads", 4},
                              {"intermediate_size", 2 * hidden},
                              {"max_position_embeddings", 66},
                              {"type_vocab_size", 1},
                              {"pad_token_id", 1},
                              {"bos_token_id", 0},
                              {"eos_token_id", 2},
                              {"layer_norm_eps", 1e-5},
                              {"hidden_act", "gelu"}};
  torch::manual_seed(4321);
  const auto config = model::parse_encoder_config(cfg, "tiny roberta");
  model::EncoderForTask m(config, model::HeadKind::none, 0);
  model::save_encoder(dir.string(), m, cfg);
}

void write_tiny_gpt2(const std::filesystem::path& dir, int layers, int hidden) {
  std::filesystem::create_directories(dir);
  const std::int64_t vocab = write_byte_bpe(dir, {}, {"<|endoftext|>"});
  const std::int64_t positions = 64, inner = 4 * hidden;
  const nlohmann::json cfg = {{"model_type", "gpt2"},
                              {"architectures", {"GPT2LMHeadModel"}},
                              {"vocab_size", vocab},
                              {"n_embd", hidden},
                              {"n_layer", layers},
                              {"n_head", 4},
                              {"n_inner", nullptr},
                              {"n_positions", positions},
                              {"bos_token_id", vocab - 1},
                              {"eos_token_id", vocab - 1},
                              {"activation_function", "gelu_new"}};
  std::ofstream(dir / "config.json") << cfg.dump(2);
  // HF layout: Conv1D weights [in, out]; the original files have no "transformer." prefix.
  torch::manual_seed(2468);
  auto r = [](std::vector<std::int64_t> shape) { return torch::randn(shape) * 0.2; };
  std::vector<std::pair<std::string, torch::Tensor>> t = {{"wte.weight", r({vocab, hidden})},
                                                          {"wpe.weight", r({positions, hidden})},
                                                          {"ln_f.weight", 1 + r({hidden})},
                                                          {"ln_f.bias", r({hidden})}};
  for (int i = 0; i < layers; ++i) {
    const std::string l = "h." + std::to_string(i) + ".";
    for (const char* ln : {"ln_1", "ln_2"}) {
      t.emplace_back(l + ln + ".weight", 1 + r({hidden}));
      t.emplace_back(l + ln + ".bias", r({hidden}));
    }
    t.emplace_back(l + "attn.c_attn.weight", r({hidden, 3 * hidden}));
    t.emplace_back(l + "attn.c_attn.bias", r({3 * hidden}));
    t.emplace_back(l + "attn.c_proj.weight", r({hidden, hidden}));
    t.emplace_back(l + "attn.c_proj.bias", r({hidden}));
    t.emplace_back(l + "mlp.c_fc.weight", r({hidden, inner}));
    t.emplace_back(l + "mlp.c_fc.bias", r({inner}));
    t.emplace_back(l + "mlp.c_proj.weight", r({inner, hidden}));
    t.emplace_back(l + "mlp.c_proj.bias", r({hidden}));
    t.emplace_back(l + "attn.bias", torch::ones({1, 1, positions, positions}).tril());  // a buffer, ignored
  }
  model::save_safetensors((dir / "model.safetensors").string(), t);
}

void write_tiny_llama(const std::filesystem::path& dir, int layers, int hidden, bool tied) {
  std::filesystem::create_directories(dir);
  const std::int64_t vocab = 50, heads = 4, kv_heads = 2, head_dim = hidden / heads, inner = 3 * hidden;
  const nlohmann::json cfg = {{"model_type", "llama"},
                              {"architectures", {"LlamaForCausalLM"}},
                              {"vocab_size", vocab},
                              {"hidden_size", hidden},
                              {"num_hidden_layers", layers},
                              {"num_attention_heads", heads},
                              {"num_key_value_heads", kv_heads},
                              {"intermediate_size", inner},
                              {"max_position_embeddings", 128},
                              {"rms_norm_eps", 1e-6},
                              {"rope_theta", 500.0},
                              {"rope_scaling", nullptr},
                              {"tie_word_embeddings", tied},
                              {"bos_token_id", 1},
                              {"eos_token_id", 2},
                              {"hidden_act", "silu"}};
  std::ofstream(dir / "config.json") << cfg.dump(2);
  torch::manual_seed(1357);
  auto r = [](std::vector<std::int64_t> shape) { return torch::randn(shape) * 0.2; };
  std::vector<std::pair<std::string, torch::Tensor>> t = {{"model.embed_tokens.weight", r({vocab, hidden})},
                                                          {"model.norm.weight", 1 + r({hidden})}};
  if (!tied) t.emplace_back("lm_head.weight", r({vocab, hidden}));
  for (int i = 0; i < layers; ++i) {
    const std::string l = "model.layers." + std::to_string(i) + ".";
    t.emplace_back(l + "input_layernorm.weight", 1 + r({hidden}));
    t.emplace_back(l + "post_attention_layernorm.weight", 1 + r({hidden}));
    t.emplace_back(l + "self_attn.q_proj.weight", r({heads * head_dim, hidden}));
    t.emplace_back(l + "self_attn.k_proj.weight", r({kv_heads * head_dim, hidden}));
    t.emplace_back(l + "self_attn.v_proj.weight", r({kv_heads * head_dim, hidden}));
    t.emplace_back(l + "self_attn.o_proj.weight", r({hidden, heads * head_dim}));
    t.emplace_back(l + "mlp.gate_proj.weight", r({inner, hidden}));
    t.emplace_back(l + "mlp.up_proj.weight", r({inner, hidden}));
    t.emplace_back(l + "mlp.down_proj.weight", r({hidden, inner}));
  }
  model::save_safetensors((dir / "model.safetensors").string(), t);
}

void write_tiny_t5(const std::filesystem::path& dir, bool gated, bool tied) {
  std::filesystem::create_directories(dir);
  const std::int64_t vocab = 40, d = 32, heads = 4, d_kv = 6, inner = heads * d_kv, ff = 48, buckets = 8;
  const nlohmann::json cfg = {{"model_type", "t5"},
                              {"architectures", {"T5ForConditionalGeneration"}},
                              {"vocab_size", vocab},
                              {"d_model", d},
                              {"d_kv", d_kv},
                              {"d_ff", ff},
                              {"num_layers", 2},
                              {"num_decoder_layers", 3},
                              {"num_heads", heads},
                              {"relative_attention_num_buckets", buckets},
                              {"relative_attention_max_distance", 20},
                              {"feed_forward_proj", gated ? "gated-gelu" : "relu"},
                              {"tie_word_embeddings", tied},
                              {"pad_token_id", 0},
                              {"eos_token_id", 1},
                              {"decoder_start_token_id", 0}};
  std::ofstream(dir / "config.json") << cfg.dump(2);
  torch::manual_seed(gated ? 97 : 98);
  auto r = [](std::vector<std::int64_t> shape) { return torch::randn(shape) * 0.3; };
  const auto shared = r({vocab, d});
  std::vector<std::pair<std::string, torch::Tensor>> t = {{"shared.weight", shared},
                                                          {"encoder.embed_tokens.weight", shared},
                                                          {"decoder.embed_tokens.weight", shared},
                                                          {"encoder.final_layer_norm.weight", 1 + r({d})},
                                                          {"decoder.final_layer_norm.weight", 1 + r({d})}};
  if (!tied) t.emplace_back("lm_head.weight", r({vocab, d}));
  auto attention = [&](const std::string& p, bool relative) {
    for (const char* n : {"q", "k", "v"}) t.emplace_back(p + n + ".weight", r({inner, d}));
    t.emplace_back(p + "o.weight", r({d, inner}));
    if (relative) t.emplace_back(p + "relative_attention_bias.weight", r({buckets, heads}));
  };
  auto feed_forward = [&](const std::string& p) {
    if (gated) {
      t.emplace_back(p + "wi_0.weight", r({ff, d}));
      t.emplace_back(p + "wi_1.weight", r({ff, d}));
    } else {
      t.emplace_back(p + "wi.weight", r({ff, d}));
    }
    t.emplace_back(p + "wo.weight", r({d, ff}));
  };
  for (int i = 0; i < 2; ++i) {
    const std::string b = "encoder.block." + std::to_string(i) + ".layer.";
    attention(b + "0.SelfAttention.", i == 0);
    feed_forward(b + "1.DenseReluDense.");
    t.emplace_back(b + "0.layer_norm.weight", 1 + r({d}));
    t.emplace_back(b + "1.layer_norm.weight", 1 + r({d}));
  }
  for (int i = 0; i < 3; ++i) {
    const std::string b = "decoder.block." + std::to_string(i) + ".layer.";
    attention(b + "0.SelfAttention.", i == 0);
    attention(b + "1.EncDecAttention.", false);
    feed_forward(b + "2.DenseReluDense.");
    for (const char* n : {"0", "1", "2"}) t.emplace_back(b + n + ".layer_norm.weight", 1 + r({d}));
  }
  model::save_safetensors((dir / "model.safetensors").string(), t);
}

std::string write_tiny_task(const std::filesystem::path& dir, int train, int dev, const std::string& type,
                            unsigned seed) {
  std::filesystem::create_directories(dir);
  std::mt19937 rng(seed);
  const auto& words = tiny_words();
  auto sentence = [&](bool positive) {
    std::vector<std::string> s;
    const int n = 3 + static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) {
      std::string w;
      do w = words[2 + rng() % (words.size() - 2)];  // never "good" or "very"
      while (w.empty());
      s.push_back(w);
    }
    if (positive) {
      const auto at = rng() % s.size();
      s[at] = "good";
      if (rng() % 2 && at > 0) s[at - 1] = "very";
    }
    return s;
  };
  const bool token = type == "token-classification";
  auto write = [&](const std::string& name, int n) {
    std::ofstream f(dir / name);
    if (!token) f << "sentence\tlabel\n";
    for (int i = 0; i < n; ++i) {
      const bool positive = i % 2 == 0;
      const auto s = sentence(positive);
      if (token) {
        for (std::size_t k = 0; k < s.size(); ++k) {
          std::string tag = "O";
          if (s[k] == "very" && k + 1 < s.size() && s[k + 1] == "good") tag = "B-POS";
          if (s[k] == "good") tag = k > 0 && s[k - 1] == "very" ? "I-POS" : "B-POS";
          f << s[k] << "\t" << tag << "\n";
        }
        f << "\n";
      } else {
        std::string text;
        for (const auto& w : s) text += (text.empty() ? "" : " ") + w;
        f << text << "\t" << (positive ? "pos" : "neg") << "\n";
      }
    }
  };
  const std::string ext = token ? ".conll" : ".tsv";
  write("train" + ext, train);
  write("dev" + ext, dev);
  nlohmann::json task = {{"name", token ? "tiny-ner" : "tiny"},
                         {"type", type},
                         {"train", "train" + ext},
                         {"dev", "dev" + ext},
                         {"format", token ? "conll" : "tsv"},
                         {"metric", token ? "entity_f1" : "accuracy"},
                         {"max_length", 32}};
  if (!token) {
    task["header"] = true;
    task["text"] = "sentence";
    task["label"] = "label";
  }
  const auto path = dir / "task.json";
  std::ofstream(path) << task.dump(2) << "\n";
  return path.string();
}

}  // namespace autopeft::testing
