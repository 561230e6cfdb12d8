// tokenizer.json against the tokenizers built from the classic files: the same vocabulary written
// both ways must give the same pieces and ids (WordPiece with BertNormalizer options, byte-level
// BPE with merges as strings and as pairs, added special tokens), and what we do not run exactly
// is refused with the part named.
#include "model/format/tokenizer_json.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "tests/support/test_support.h"

namespace autopeft::model {
namespace {

using autopeft::testing::TempDir;

const std::vector<std::string> kTexts = {"Hello, World! The movie was naïve.", "un-believable 日本 tokens",
                                         "[CLS] the [MASK] end", "  spaces\tand\nnewlines  ", ""};

TEST(TokenizerJsonTest, WordPieceMatchesVocabTxt) {
  const std::vector<std::string> tokens = {
      "[PAD]", "[UNK]", "[CLS]", "[SEP]",  "[MASK]", "the", "movie",   "was",   "na",     "##ive", "hello",
      ",",     "world", "!",     ".",      "un",     "-",   "##bel",   "##iev", "##able", "日",    "本",
      "token", "##s",   "end",   "spaces", "and",    "new", "##lines", "Hello", "The"};
  for (bool lowercase : {true, false}) {
    TempDir dir;
    std::ofstream v(dir / "vocab.txt");
    nlohmann::json vocab = nlohmann::json::object();
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      v << tokens[i] << "\n";
      vocab[tokens[i]] = i;
    }
    v.close();
    const nlohmann::json j = {{"version", "1.0"},
                              {"added_tokens",
                               {{{"id", 0}, {"content", "[PAD]"}, {"special", true}},
                                {{"id", 4}, {"content", "[MASK]"}, {"special", true}}}},
                              {"normalizer",
                               {{"type", "BertNormalizer"},
                                {"clean_text", true},
                                {"handle_chinese_chars", true},
                                {"strip_accents", nullptr},
                                {"lowercase", lowercase}}},
                              {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
                              {"model",
                               {{"type", "WordPiece"},
                                {"unk_token", "[UNK]"},
                                {"continuing_subword_prefix", "##"},
                                {"max_input_chars_per_word", 100},
                                {"vocab", vocab}}}};
    dir.write("tokenizer.json", j.dump());
    WordPieceOptions o;
    o.do_lower_case = lowercase;
    WordPieceTokenizer classic((dir / "vocab.txt").string(), o);
    const auto from_json = wordpiece_from_tokenizer_json((dir / "tokenizer.json").string());
    for (const auto& t : kTexts) {
      EXPECT_EQ(from_json->tokenize(t), classic.tokenize(t)) << t;
      EXPECT_EQ(from_json->to_ids(t), classic.to_ids(t)) << t;
    }
    EXPECT_EQ(from_json->encode("the movie", std::string("was")).input_ids,
              classic.encode("the movie", std::string("was")).input_ids);
  }
}

// A byte-level vocabulary: the 256 byte symbols, then merged pieces.
struct Bpe {
  nlohmann::json vocab = nlohmann::json::object();
  std::vector<std::pair<std::string, std::string>> merges;
  Bpe() {
    std::int64_t id = 0;
    for (const auto& b : ByteLevelBpe::byte_encoder()) vocab[b] = id++;
    auto merge = [&](const std::string& a, const std::string& b) {
      merges.emplace_back(a, b);
      if (!vocab.contains(a + b)) vocab[a + b] = id++;
    };
    merge("t", "h");
    merge("th", "e");
    merge("\u0120", "the");
    merge("m", "o");
    merge("mo", "v");
    merge("\u0120", "mov");
    merge("i", "e");
    merge("\u0120mov", "ie");
    vocab["<|endoftext|>"] = id++;
  }
};

TEST(TokenizerJsonTest, ByteLevelBpeMatchesVocabJsonAndMerges) {
  const Bpe bpe;
  TempDir dir;
  dir.write("vocab.json", bpe.vocab.dump());
  std::ofstream m(dir / "merges.txt");
  m << "#version: 0.2\n";
  nlohmann::json as_strings = nlohmann::json::array(), as_pairs = nlohmann::json::array();
  for (const auto& [a, b] : bpe.merges) {
    m << a << " " << b << "\n";
    as_strings.push_back(a + " " + b);
    as_pairs.push_back({a, b});
  }
  m.close();
  ByteLevelBpe::Options o;
  o.special_tokens = {"<|endoftext|>"};
  const auto classic =
      ByteLevelBpe::from_files((dir / "vocab.json").string(), (dir / "merges.txt").string(), o);
  for (const auto& merges : {as_strings, as_pairs}) {
    nlohmann::json vocab = bpe.vocab;
    vocab.erase("<|endoftext|>");  // an added token only
    const nlohmann::json j = {
        {"added_tokens",
         {{{"id", bpe.vocab["<|endoftext|>"]}, {"content", "<|endoftext|>"}, {"special", true}}}},
        {"normalizer", nullptr},
        {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
        {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"vocab", vocab}, {"merges", merges}}}};
    dir.write("tokenizer.json", j.dump());
    const auto from_json = byte_level_bpe_from_tokenizer_json((dir / "tokenizer.json").string());
    for (const std::string t : {"the movie<|endoftext|> themovie", "  the movies, ünïcode 🙂", ""}) {
      EXPECT_EQ(from_json->to_ids(t), classic->to_ids(t)) << t;
      EXPECT_EQ(from_json->decode(from_json->to_ids(t)), t);
    }
    EXPECT_EQ(from_json->to_ids(" the movie").size(), 2u);
  }
}

// Llama 3's tokenizer.json: a Split with its pattern then ByteLevel without a regex, and
// ignore_merges: a pre-token in the vocabulary is one piece even where no merge builds it.
TEST(TokenizerJsonTest, Llama3SplitThenByteLevelWithIgnoreMerges) {
  Bpe bpe;
  const std::int64_t whole = static_cast<std::int64_t>(bpe.vocab.size());
  bpe.vocab["\u0120movies"] = whole;  // no merge makes " movies"
  bpe.vocab["<|begin_of_text|>"] = whole + 1;
  nlohmann::json vocab = bpe.vocab;
  vocab.erase("<|endoftext|>");
  vocab.erase("<|begin_of_text|>");
  const std::string pattern =
      R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
  nlohmann::json j = {
      {"added_tokens",
       {{{"id", whole + 1}, {"content", "<|begin_of_text|>"}, {"special", true}},
        {{"id", bpe.vocab["<|endoftext|>"]}, {"content", "<|endoftext|>"}, {"special", true}}}},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", "Isolated"}, {"invert", false}},
          {{"type", "ByteLevel"},
           {"add_prefix_space", false},
           {"trim_offsets", true},
           {"use_regex", false}}}}}},
      {"model",
       {{"type", "BPE"}, {"ignore_merges", true}, {"vocab", vocab}, {"merges", nlohmann::json::array()}}}};
  for (const auto& [a, b] : bpe.merges) j["model"]["merges"].push_back(a + " " + b);
  TempDir dir;
  dir.write("tokenizer.json", j.dump());
  const auto t = byte_level_bpe_from_tokenizer_json((dir / "tokenizer.json").string());
  const auto id = [&](const std::string& piece) { return bpe.vocab.at(piece).get<std::int64_t>(); };
  // "<|begin_of_text|>the movies 2024": the special token whole; "the" by merges; " movies"
  // whole (ignore_merges); " " alone; "202" and "4" as byte pieces (no merges for digits).
  EXPECT_EQ(t->to_ids("<|begin_of_text|>the movies 2024"),
            (std::vector<std::int64_t>{whole + 1, id("the"), whole, id("\u0120"), id("2"), id("0"), id("2"),
                                       id("4")}));
  EXPECT_EQ(t->decode(t->to_ids("the movies 2024, ünï")), "the movies 2024, ünï");
  // Without ignore_merges " movies" is built by the merges: " movie" then "s".
  j["model"]["ignore_merges"] = false;
  dir.write("tokenizer.json", j.dump());
  EXPECT_EQ(byte_level_bpe_from_tokenizer_json((dir / "tokenizer.json").string())->to_ids(" movies"),
            (std::vector<std::int64_t>{id("\u0120movie"), id("s")}));
  // Another pattern is named.
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\s+";
  dir.write("tokenizer.json", j.dump());
  try {
    byte_level_bpe_from_tokenizer_json((dir / "tokenizer.json").string());
    ADD_FAILURE() << "accepted another Split pattern";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("Split pattern"), std::string::npos) << e.what();
  }
}

TEST(TokenizerJsonTest, WhatWeDoNotRunExactlyIsRefusedByName) {
  TempDir dir;
  auto refused = [&](const nlohmann::json& j, bool bpe, const std::string& named) {
    dir.write("tokenizer.json", j.dump());
    try {
      if (bpe)
        byte_level_bpe_from_tokenizer_json((dir / "tokenizer.json").string());
      else
        wordpiece_from_tokenizer_json((dir / "tokenizer.json").string());
      ADD_FAILURE() << "accepted: " << j.dump();
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << e.what();
    }
  };
  const nlohmann::json unigram = {{"model", {{"type", "Unigram"}, {"vocab", {{"<unk>", 0.0}}}}}};
  refused(unigram, true, "Unigram");
  EXPECT_EQ(tokenizer_json_model_type((dir / "tokenizer.json").string()), "Unigram");
  const nlohmann::json llama2 = {
      {"normalizer", {{"type", "Sequence"}}},
      {"pre_tokenizer", nullptr},
      {"model",
       {{"type", "BPE"}, {"byte_fallback", true}, {"vocab", nlohmann::json::object()}, {"merges", {}}}}};
  refused(llama2, true, "byte_fallback");
  const nlohmann::json split = {
      {"pre_tokenizer",
       {{"type", "Sequence"}, {"pretokenizers", {{{"type", "Split"}}, {{"type", "ByteLevel"}}}}}},
      {"model", {{"type", "BPE"}, {"vocab", nlohmann::json::object()}, {"merges", {}}}}};
  refused(split, true, "Split pattern");
  const nlohmann::json metaspace = {{"pre_tokenizer", {{"type", "Metaspace"}}},
                                    {"model", {{"type", "BPE"}, {"vocab", nlohmann::json::object()}}}};
  refused(metaspace, true, "Metaspace");
  const nlohmann::json wp = {{"normalizer", {{"type", "NFKC"}}},
                             {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
                             {"model", {{"type", "WordPiece"}, {"vocab", {{"[UNK]", 0}}}}}};
  refused(wp, false, "NFKC");
  refused({{"model", {{"type", "WordPiece"}, {"unk_token", "<unk>"}}}}, false, "unk_token");
  dir.write("tokenizer.json", "{\"version\": 1}");
  EXPECT_THROW(tokenizer_json_model_type((dir / "tokenizer.json").string()), UserError);
}

}  // namespace
}  // namespace autopeft::model
