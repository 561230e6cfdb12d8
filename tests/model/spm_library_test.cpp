// The sentencepiece module works inside a process that runs LibTorch: the isolation holds.
#include "model/spm_library.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "model/format/sentencepiece_proto.h"
#include "model/format/tokenizer_json.h"
#include "model/generation_tokenizer.h"
#include "model/tokenizers.h"
#include "tests/support/test_support.h"

namespace autopeft::model {
namespace {

std::string tiny_corpus() {
  std::string text;
  const char* lines[] = {
      "the quick brown fox jumps over the lazy dog",
      "a parameter efficient fine tuning search finds small adapters",
      "low rank adaptation adds two small matrices to a frozen layer",
      "prefix tuning prepends trainable vectors to the keys and values",
      "the gaussian process surrogate proposes the next configuration",
  };
  for (int rep = 0; rep < 40; ++rep)
    for (const char* l : lines) text += std::string(l) + "\n";
  return text;
}

class SentencePieceIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new autopeft::testing::TempDir();
    const auto corpus = dir_->write("corpus.txt", tiny_corpus());
    // LibTorch is already running in this process when sentencepiece trains.
    auto t = torch::randn({8, 8});
    ASSERT_EQ(t.numel(), 64);
    SentencePieceLibrary::instance().train("--input=" + corpus.string() +
                                           " --model_prefix=" + (dir_->path() / "m").string() +
                                           " --vocab_size=80 --hard_vocab_limit=false --model_type=unigram"
                                           " --minloglevel=2 --num_threads=1");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string model_path() { return (dir_->path() / "m.model").string(); }
  static autopeft::testing::TempDir* dir_;
};
autopeft::testing::TempDir* SentencePieceIntegrationTest::dir_ = nullptr;

TEST_F(SentencePieceIntegrationTest, EncodeDecodeRoundTripsBesideLibTorch) {
  SentencePieceModel spm(model_path());
  EXPECT_GT(spm.vocab_size(), 10);
  EXPECT_LE(spm.vocab_size(), 80);
  const std::string text = "the quick brown fox tunes a frozen layer";
  const auto ids = spm.encode(text);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(spm.decode(ids), text);
  const auto pieces = spm.encode_pieces(text);
  ASSERT_EQ(pieces.size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(spm.id_to_piece(ids[i]), pieces[i]);
    EXPECT_EQ(spm.piece_to_id(pieces[i]), ids[i]);
  }
  // sentencepiece's defaults: unk 0, bos 1, eos 2, no pad.
  EXPECT_EQ(spm.unk_id(), 0);
  EXPECT_EQ(spm.bos_id(), 1);
  EXPECT_EQ(spm.eos_id(), 2);
  EXPECT_EQ(spm.pad_id(), -1);
  // Torch still works after sentencepiece ran: ids become a tensor.
  auto tensor = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()));
  EXPECT_EQ(tensor.size(0), static_cast<int64_t>(ids.size()));
}

TEST_F(SentencePieceIntegrationTest, LongTextsGrowTheBuffers) {
  SentencePieceModel spm(model_path());
  std::string text;
  for (int i = 0; i < 200; ++i) text += "the lazy dog jumps over the quick fox ";
  text.pop_back();
  const auto ids = spm.encode(text);
  EXPECT_GT(ids.size(), 256u);
  EXPECT_EQ(spm.decode(ids), text);
}

TEST_F(SentencePieceIntegrationTest, BadInputsAreUserErrorsNamingTheFile) {
  autopeft::testing::TempDir tmp;
  const auto junk = tmp.write("junk.model", "not a model");
  try {
    SentencePieceModel spm(junk.string());
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(junk.string()), std::string::npos) << e.what();
  }
  SentencePieceModel spm(model_path());
  EXPECT_THROW(spm.id_to_piece(100000), UserError);
  EXPECT_THROW(SentencePieceLibrary::instance().train("--input=/nonexistent/corpus --model_prefix=x"),
               UserError);
}

TEST_F(SentencePieceIntegrationTest, XlmRobertaAndCamembertIdLayouts) {
  SentencePieceModel spm(model_path());
  const std::string text = "the lazy fox adds two small matrices";
  std::vector<std::int64_t> raw;
  for (auto id : spm.encode(text)) raw.push_back(id);

  SentencePieceTokenizer xlmr(model_path(), FairseqLayout::xlm_roberta());
  auto ids = xlmr.to_ids(text);
  ASSERT_EQ(ids.size(), raw.size());
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], raw[i] == 0 ? 3 : raw[i] + 1);
  EXPECT_EQ(xlmr.special().cls, 0);
  EXPECT_EQ(xlmr.special().pad, 1);
  EXPECT_EQ(xlmr.special().sep, 2);
  EXPECT_EQ(xlmr.special().unk, 3);
  EXPECT_EQ(xlmr.special().mask, spm.vocab_size() + 1);
  EXPECT_EQ(xlmr.vocab_size(), spm.vocab_size() + 2);
  EXPECT_EQ(xlmr.id_to_token(ids[0]), spm.id_to_piece(static_cast<int>(raw[0])));
  // <s> a </s></s> b </s>, token types all 0.
  auto pair = xlmr.encode("the fox", std::string("a dog"));
  const auto a = xlmr.to_ids("the fox"), b = xlmr.to_ids("a dog");
  std::vector<std::int64_t> want{0};
  want.insert(want.end(), a.begin(), a.end());
  want.insert(want.end(), {2, 2});
  want.insert(want.end(), b.begin(), b.end());
  want.push_back(2);
  EXPECT_EQ(pair.input_ids, want);
  EXPECT_EQ(pair.token_type_ids, std::vector<std::int64_t>(want.size(), 0));

  SentencePieceTokenizer camembert(model_path(), FairseqLayout::camembert());
  EXPECT_EQ(camembert.special().cls, spm.bos_id() + 4);  // the model's own <s>, shifted
  EXPECT_EQ(camembert.special().sep, spm.eos_id() + 4);
  EXPECT_EQ(camembert.special().pad, 1);
  EXPECT_EQ(camembert.to_ids(text)[0], raw[0] == 0 ? 3 : raw[0] + 4);
  EXPECT_EQ(camembert.id_to_token(0), "<s>NOTUSED");
}

TEST_F(SentencePieceIntegrationTest, LoadTokenizerFromAModelFolder) {
  autopeft::testing::TempDir tmp;
  std::filesystem::copy_file(model_path(), tmp / "sentencepiece.bpe.model");
  tmp.write("tokenizer_config.json", R"({"model_max_length": 8})");
  EncoderConfig cfg = parse_encoder_config(nlohmann::json{{"model_type", "xlm-roberta"},
                                                          {"vocab_size", 100},
                                                          {"hidden_size", 8},
                                                          {"num_hidden_layers", 1},
                                                          {"num_attention_heads", 2},
                                                          {"intermediate_size", 16}},
                                           "config.json");
  auto tok = load_tokenizer(tmp.path().string(), cfg);
  EXPECT_EQ(tok->model_max_length(), 8);
  EXPECT_EQ(tok->encode("the quick brown fox jumps over the lazy dog").input_ids.size(), 8u);
  cfg.model_type = "roberta";
  EXPECT_THROW(load_tokenizer(tmp.path().string(), cfg), UserError);
}

TEST_F(SentencePieceIntegrationTest, LlamaTokenizerAddsBosAsItsConfigSaysAndDecodes) {
  autopeft::testing::TempDir tmp;
  std::filesystem::copy_file(model_path(), tmp / "tokenizer.model");
  DecoderConfig cfg;
  cfg.family = DecoderFamily::llama;
  SentencePieceModel spm(model_path());
  const std::string text = "the lazy fox adds two small matrices";
  std::vector<std::int64_t> raw;
  for (auto id : spm.encode(text)) raw.push_back(id);
  auto tok = load_causal_lm_tokenizer(tmp.path().string(), cfg);
  auto ids = tok->encode(text);
  ASSERT_EQ(ids.size(), raw.size() + 1);
  EXPECT_EQ(ids.front(), spm.bos_id());
  EXPECT_EQ(std::vector<std::int64_t>(ids.begin() + 1, ids.end()), raw);
  EXPECT_EQ(tok->decode(ids), text);
  tmp.write("tokenizer_config.json", R"({"add_bos_token": false, "add_eos_token": true})");
  ids = load_causal_lm_tokenizer(tmp.path().string(), cfg)->encode(text);
  EXPECT_EQ(ids.front(), raw.front());
  EXPECT_EQ(ids.back(), spm.eos_id());
  std::filesystem::remove(tmp / "tokenizer.model");
  EXPECT_THROW(load_causal_lm_tokenizer(tmp.path().string(), cfg), UserError);
}

TEST_F(SentencePieceIntegrationTest, T5TokenizerAppendsEosAndDecodes) {
  autopeft::testing::TempDir tmp;
  std::filesystem::copy_file(model_path(), tmp / "spiece.model");
  SentencePieceModel spm(model_path());
  const std::string text = "the lazy fox adds two small matrices";
  auto tok = load_t5_tokenizer(tmp.path().string(), T5Config{});
  auto ids = tok->encode(text);
  std::vector<std::int64_t> raw;
  for (auto id : spm.encode(text)) raw.push_back(id);
  raw.push_back(spm.eos_id());
  EXPECT_EQ(ids, raw);
  ids.push_back(spm.vocab_size() + 5);  // a sentinel beyond the pieces is dropped
  EXPECT_EQ(tok->decode(ids), text);
}

std::string base64(const std::string& bytes) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto n = (static_cast<unsigned char>(bytes[i]) << 16) |
                   (static_cast<unsigned char>(bytes[i + 1]) << 8) | static_cast<unsigned char>(bytes[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += a[(n >> k) & 63];
  }
  if (i + 1 == bytes.size()) {
    const auto n = static_cast<unsigned char>(bytes[i]) << 16;
    out += std::string{a[(n >> 18) & 63], a[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    const auto n =
        (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += std::string{a[(n >> 18) & 63], a[(n >> 12) & 63], a[(n >> 6) & 63], '='};
  }
  return out;
}

// The tokenizer.json that transformers' converter writes for a sentencepiece Unigram model (T5's
// layout of normaliser and pre-tokeniser), from the model's own bytes.
nlohmann::json tokenizer_json_of(const std::string& model_file) {
  const auto spec = parse_sentencepiece_model(testing::read_file(model_file), model_file);
  nlohmann::json vocab = nlohmann::json::array(), added = nlohmann::json::array();
  for (std::size_t i = 0; i < spec.pieces.size(); ++i) {
    vocab.push_back({spec.pieces[i].text, spec.pieces[i].score});
    if (spec.pieces[i].type == SentencePieceSpec::Type::control)
      added.push_back({{"id", i}, {"content", spec.pieces[i].text}, {"special", true}});
  }
  return {
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer",
       {{"type", "Sequence"},
        {"normalizers",
         {{{"type", "Precompiled"}, {"precompiled_charsmap", base64(spec.precompiled_charsmap)}},
          {{"type", "Replace"}, {"pattern", {{"Regex", " {2,}"}}}, {"content", " "}}}}}},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "WhitespaceSplit"}},
          {{"type", "Metaspace"},
           {"replacement", "\xe2\x96\x81"},
           {"prepend_scheme", "always"},
           {"split", true}}}}}},
      {"model", {{"type", "Unigram"}, {"unk_id", spec.unk_id}, {"vocab", vocab}, {"byte_fallback", false}}}};
}

// A Unigram tokenizer.json runs through sentencepiece as the model it was converted from: the same
// ids on text that exercises the NFKC charsmap (full-width letters, ligatures), runs of spaces and
// unknown characters; a T5 folder with only tokenizer.json tokenizes as one with spiece.model.
TEST_F(SentencePieceIntegrationTest, UnigramTokenizerJsonEncodesAsTheModelItCameFrom) {
  const auto json = dir_->write("tokenizer.json", tokenizer_json_of(model_path()).dump());
  const auto spec = unigram_from_tokenizer_json(json.string());
  EXPECT_EQ(spec.normalizer_name, "precompiled");
  EXPECT_TRUE(spec.remove_extra_whitespaces);
  SentencePieceModel original(model_path()), rebuilt(spec, json.string());
  EXPECT_EQ(rebuilt.vocab_size(), original.vocab_size());
  EXPECT_EQ(rebuilt.unk_id(), original.unk_id());
  for (const std::string text : {"the quick brown fox", "  the   lazy\tdog  ", "ＴＨＥ ｑｕｉｃｋ ﬁne tuning",
                                 "zebra Ωmega ☃ adapters", "prefix-tuning, LoRA & the GP!", ""})
    EXPECT_EQ(rebuilt.encode(text), original.encode(text)) << text;

  // tokenizers' SentencePieceUnigramTokenizer writes Nmt, NFKC (and the Replace) instead of the
  // compiled table: our Nmt + NFKC (utf8proc) before sentencepiece gives sentencepiece's own
  // nmt_nfkc ids (the model was trained with that rule), control characters, zero-width and
  // other white space, full-width letters and ligatures included.
  auto nmt = tokenizer_json_of(model_path());
  nmt["normalizer"]["normalizers"] =
      nlohmann::json::array({{{"type", "Nmt"}}, {{"type", "NFKC"}}, nmt["normalizer"]["normalizers"][1]});
  const auto nmt_file = dir_->write("nmt.json", nmt.dump());
  const auto nmt_spec = unigram_from_tokenizer_json(nmt_file.string());
  EXPECT_TRUE(nmt_spec.nmt_nfkc);
  SentencePieceModel with_nmt(nmt_spec, nmt_file.string());
  for (const std::string text :
       {"the quick\tbrown\nfox", "the\u200blazy\ufeffdog\x07 jumps\x1f", "ＴＨＥ ｑｕｉｃｋ ﬁne tuning",
        "a\u2028b\u3000c \u2581 adapters\r\n", "café ｶﾀｶﾅ ① ㎏"})
    EXPECT_EQ(with_nmt.encode(text), original.encode(text)) << text;

  const auto t5 = dir_->path() / "t5";
  std::filesystem::create_directories(t5);
  T5Config c;
  c.eos_token_id = 2;
  std::filesystem::copy_file(json, t5 / "tokenizer.json");
  const auto from_json = load_t5_tokenizer(t5.string(), c);
  std::filesystem::copy_file(model_path(), t5 / "spiece.model");
  const auto from_model = load_t5_tokenizer(t5.string(), c);
  EXPECT_EQ(from_json->encode("the lazy fox ﬁnds adapters"),
            from_model->encode("the lazy fox ﬁnds adapters"));
  EXPECT_EQ(from_json->decode(from_json->encode("the lazy fox")), "the lazy fox");

  // What the reader cannot run is named.
  auto bad = tokenizer_json_of(model_path());
  bad["normalizer"] = {{"type", "Lowercase"}};
  const auto bad_file = dir_->write("bad.json", bad.dump());
  try {
    unigram_from_tokenizer_json(bad_file.string());
    ADD_FAILURE();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("Lowercase"), std::string::npos) << e.what();
  }
}

// XLM-R's tokenizer.json as transformers' converter writes it: fairseq's layout in the vocabulary
// itself (<s> <pad> </s> <unk>, the sentencepiece pieces after its own <unk> <s> </s>, <mask>
// last), and `` and '' made " before the compiled table. An XLM-R folder with only tokenizer.json
// tokenizes as one with sentencepiece.bpe.model.
TEST_F(SentencePieceIntegrationTest, XlmRobertaTokenizerJsonKeepsFairseqsIds) {
  auto j = tokenizer_json_of(model_path());
  const auto spm_vocab = j["model"]["vocab"];
  nlohmann::json vocab = nlohmann::json::array({{"<s>", 0.0}, {"<pad>", 0.0}, {"</s>", 0.0}, {"<unk>", 0.0}});
  for (std::size_t i = 3; i < spm_vocab.size(); ++i) vocab.push_back(spm_vocab[i]);
  vocab.push_back({"<mask>", 0.0});
  const auto mask = static_cast<std::int64_t>(vocab.size()) - 1;
  j["model"]["vocab"] = vocab;
  j["model"]["unk_id"] = 3;
  j["added_tokens"] = nlohmann::json::array();
  for (const auto& [t, id] : std::vector<std::pair<std::string, std::int64_t>>{
           {"<s>", 0}, {"<pad>", 1}, {"</s>", 2}, {"<unk>", 3}, {"<mask>", mask}})
    j["added_tokens"].push_back({{"id", id}, {"content", t}, {"special", true}});
  auto& steps = j["normalizer"]["normalizers"];
  steps.insert(steps.begin(),
               nlohmann::json::parse(R"({"type": "Replace", "pattern": {"String": "''"}, "content": "\""})"));
  steps.insert(steps.begin(),
               nlohmann::json::parse(R"({"type": "Replace", "pattern": {"String": "``"}, "content": "\""})"));
  const EncoderConfig cfg = parse_encoder_config(nlohmann::json{{"model_type", "xlm-roberta"},
                                                                {"vocab_size", mask + 1},
                                                                {"hidden_size", 8},
                                                                {"num_hidden_layers", 1},
                                                                {"num_attention_heads", 2},
                                                                {"intermediate_size", 16}},
                                                 "config.json");
  autopeft::testing::TempDir with_model, with_json;
  std::filesystem::copy_file(model_path(), with_model / "sentencepiece.bpe.model");
  with_json.write("tokenizer.json", j.dump());
  const auto classic = load_tokenizer(with_model.path().string(), cfg);
  const auto from_json = load_tokenizer(with_json.path().string(), cfg);
  EXPECT_EQ(from_json->vocab_size(), classic->vocab_size());
  EXPECT_EQ(from_json->special().mask, classic->special().mask);
  EXPECT_EQ(from_json->special().unk, 3);
  for (const std::string text : {"the quick brown fox", "ＴＨＥ lazy  dog ﬁnds Ωmega", ""})
    EXPECT_EQ(from_json->encode(text, std::string("a second text")).input_ids,
              classic->encode(text, std::string("a second text")).input_ids)
        << text;
  EXPECT_EQ(from_json->encode("``the fox'' said").input_ids, classic->encode("\"the fox\" said").input_ids);
  // A literal replacement acts before sentencepiece (this tiny vocabulary knows no quotes, so
  // another one shows it: "quick" made "lazy").
  steps.insert(
      steps.begin(),
      nlohmann::json::parse(R"({"type": "Replace", "pattern": {"String": "quick"}, "content": "lazy"})"));
  with_json.write("tokenizer.json", j.dump());
  EXPECT_EQ(load_tokenizer(with_json.path().string(), cfg)->encode("the quick fox").input_ids,
            classic->encode("the lazy fox").input_ids);
  EXPECT_NE(classic->encode("the quick fox").input_ids, classic->encode("the lazy fox").input_ids);
}

// UTF-8 code point boundaries of a piece.
std::vector<std::size_t> char_starts(const std::string& s) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) out.push_back(i);
  return out;
}

// The tokenizer.json transformers' Llama converter writes for a sentencepiece BPE model: the
// vocabulary by id, and merges listed by the joined piece's score (every split of a piece into two
// vocabulary pieces), the legacy Prepend + Replace normaliser, byte fallback.
nlohmann::json llama_tokenizer_json_of(const std::string& model_file) {
  const auto spec = parse_sentencepiece_model(testing::read_file(model_file), model_file);
  nlohmann::json vocab = nlohmann::json::object(), added = nlohmann::json::array();
  std::map<std::string, std::size_t> id;
  for (std::size_t i = 0; i < spec.pieces.size(); ++i) {
    vocab[spec.pieces[i].text] = i;
    id[spec.pieces[i].text] = i;
    if (spec.pieces[i].type == SentencePieceSpec::Type::control ||
        spec.pieces[i].type == SentencePieceSpec::Type::unknown)
      added.push_back({{"id", i}, {"content", spec.pieces[i].text}, {"special", true}});
  }
  std::vector<std::size_t> by_score(spec.pieces.size());
  for (std::size_t i = 0; i < by_score.size(); ++i) by_score[i] = i;
  std::stable_sort(by_score.begin(), by_score.end(),
                   [&](std::size_t a, std::size_t b) { return spec.pieces[a].score > spec.pieces[b].score; });
  nlohmann::json merges = nlohmann::json::array();
  for (const auto i : by_score) {
    const auto& piece = spec.pieces[i].text;
    std::vector<std::pair<std::string, std::string>> local;
    for (const auto cut : char_starts(piece))
      if (cut > 0 && id.count(piece.substr(0, cut)) && id.count(piece.substr(cut)))
        local.emplace_back(piece.substr(0, cut), piece.substr(cut));
    std::sort(local.begin(), local.end(), [&](const auto& a, const auto& b) {
      return std::make_pair(id[a.first], id[a.second]) < std::make_pair(id[b.first], id[b.second]);
    });
    for (const auto& [l, r] : local) merges.push_back(l + " " + r);
  }
  return {{"version", "1.0"},
          {"added_tokens", added},
          {"normalizer",
           {{"type", "Sequence"},
            {"normalizers",
             {{{"type", "Prepend"}, {"prepend", "\xe2\x96\x81"}},
              {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\xe2\x96\x81"}}}}}},
          {"pre_tokenizer", nullptr},
          {"model",
           {{"type", "BPE"},
            {"unk_token", "<unk>"},
            {"byte_fallback", true},
            {"fuse_unk", true},
            {"vocab", vocab},
            {"merges", merges}}}};
}

// A Llama-style tokenizer.json (sentencepiece BPE with byte fallback) runs through sentencepiece
// as the model it was converted from, and a Llama folder with only tokenizer.json tokenizes as one
// with tokenizer.model.
TEST_F(SentencePieceIntegrationTest, SentencePieceBpeTokenizerJsonEncodesAsTheModelItCameFrom) {
  const auto model = dir_->path() / "bpe";
  SentencePieceLibrary::instance().train(
      "--input=" + (dir_->path() / "corpus.txt").string() + " --model_prefix=" + model.string() +
      " --vocab_size=400 --model_type=bpe --byte_fallback=true --normalization_rule_name=identity"
      " --remove_extra_whitespaces=false --hard_vocab_limit=false --minloglevel=2 --num_threads=1");
  const auto json =
      dir_->write("llama-tokenizer.json", llama_tokenizer_json_of(model.string() + ".model").dump());
  EXPECT_TRUE(is_sentencepiece_bpe(json.string()));
  const auto spec = sentencepiece_bpe_from_tokenizer_json(json.string());
  SentencePieceModel original(model.string() + ".model"), rebuilt(spec, json.string());
  for (const std::string text : {"the quick brown fox jumps over the lazy dog", "  two  spaces and\ta tab ",
                                 "low rank adaptation of Žižek’s ☃ matrices", "prefixes, adapters & LoRA!"})
    EXPECT_EQ(rebuilt.encode(text), original.encode(text)) << text;

  const auto llama = dir_->path() / "llama";
  std::filesystem::create_directories(llama);
  std::filesystem::copy_file(json, llama / "tokenizer.json");
  DecoderConfig c;
  c.family = DecoderFamily::llama;
  const auto from_json = load_causal_lm_tokenizer(llama.string(), c);
  std::filesystem::copy_file(model.string() + ".model", llama / "tokenizer.model");
  const auto from_model = load_causal_lm_tokenizer(llama.string(), c);
  EXPECT_EQ(from_json->encode("the lazy fox adds ☃"), from_model->encode("the lazy fox adds ☃"));
}

}  // namespace
}  // namespace autopeft::model
