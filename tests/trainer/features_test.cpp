// make_features on a tiny WordPiece vocabulary: the expected ids, token types, labels and word
// positions below were worked out by hand from the vocabulary's line numbers.
#include "trainer/data/features.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "core/errors.h"
#include "model/format/wordpiece.h"
#include "tests/support/test_support.h"

namespace autopeft::trainer {
namespace {

using autopeft::testing::TempDir;
using Ids = std::vector<std::int64_t>;

// id = line number (0-based).
constexpr const char* kVocab =
    "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n"  // 0-4
    "the\ncat\nsat\nrun\n##ning\n"          // 5-9
    "##s\ndog\na\non\nmat\n";               // 10-14

class FeaturesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp.write("vocab.txt", kVocab);
    tok = std::make_unique<model::WordPieceTokenizer>((tmp / "vocab.txt").string());
  }
  static TaskSpec task(const std::string& type, bool pair = false) {
    TaskSpec t;
    t.name = "t";
    t.type = type;
    if (pair) t.text_pair = "sentence2";
    return t;
  }
  static Example text(const std::string& a, const std::string& label, std::size_t line,
                      const std::string& b = "") {
    Example e;
    e.text = a;
    e.text_pair = b;
    e.label = label;
    e.line = line;
    return e;
  }
  static Example words(const std::vector<std::string>& tokens, const std::vector<std::string>& tags,
                       std::size_t line) {
    Example e;
    e.tokens = tokens;
    e.tags = tags;
    e.line = line;
    return e;
  }
  static std::string error_of(const std::function<void()>& f) {
    try {
      f();
    } catch (const UserError& e) {
      return e.what();
    }
    return "";
  }
  TempDir tmp;
  std::unique_ptr<model::WordPieceTokenizer> tok;
};

TEST_F(FeaturesTest, ClassificationIdsLabelsAndTruncation) {
  Dataset d;
  d.source = "train.tsv";
  d.examples = {text("the cat sat", "pos", 2), text("a dog", "neg", 3),
                text("the cat sat on the mat", "pos", 4)};
  const auto fs = make_features(task("classification"), d, *tok, {"neg", "pos"}, 6);
  EXPECT_EQ(fs.task_type, "classification");
  EXPECT_EQ(fs.pad_id, 0);
  ASSERT_EQ(fs.items.size(), 3u);
  EXPECT_EQ(fs.items[0].input_ids, (Ids{2, 5, 6, 7, 3}));
  EXPECT_EQ(fs.items[0].token_type_ids, (Ids{0, 0, 0, 0, 0}));
  EXPECT_EQ(fs.items[0].label, 1);
  EXPECT_EQ(fs.items[1].input_ids, (Ids{2, 12, 11, 3}));
  EXPECT_EQ(fs.items[1].label, 0);
  // Six words, max_length 6: four of them fit between [CLS] and [SEP].
  EXPECT_EQ(fs.items[2].input_ids, (Ids{2, 5, 6, 7, 13, 3}));
  EXPECT_EQ(fs.items[2].example, 2u);
  EXPECT_TRUE(fs.items[0].token_labels.empty());
  EXPECT_EQ(fs.truncated, 1u);
  EXPECT_EQ(fs.tokens(), 5u + 4u + 6u);
}

TEST_F(FeaturesTest, PairClassificationTokenTypes) {
  Dataset d;
  d.source = "train.tsv";
  d.examples = {text("the cat", "b", 2, "a dog"), text("the cat sat on", "a", 3, "the mat")};
  const auto fs = make_features(task("pair-classification", true), d, *tok, {"a", "b"}, 7);
  ASSERT_EQ(fs.items.size(), 2u);
  EXPECT_EQ(fs.items[0].input_ids, (Ids{2, 5, 6, 3, 12, 11, 3}));
  EXPECT_EQ(fs.items[0].token_type_ids, (Ids{0, 0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(fs.items[0].label, 1);
  // 4 + 2 pieces in a budget of 4: longest-first keeps 2 + 2.
  EXPECT_EQ(fs.items[1].input_ids, (Ids{2, 5, 6, 3, 5, 14, 3}));
  EXPECT_EQ(fs.items[1].token_type_ids, (Ids{0, 0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(fs.items[1].label, 0);
  EXPECT_EQ(fs.truncated, 1u);
}

TEST_F(FeaturesTest, RegressionTargetsAndErrorsNameFileAndLine) {
  Dataset d;
  d.source = "stsb.tsv";
  d.examples = {text("the cat", "3.5", 2), text("a dog", "-0.25", 3)};
  const auto fs = make_features(task("regression"), d, *tok, {}, 16);
  ASSERT_EQ(fs.items.size(), 2u);
  EXPECT_DOUBLE_EQ(fs.items[0].target, 3.5);
  EXPECT_DOUBLE_EQ(fs.items[1].target, -0.25);
  EXPECT_EQ(fs.items[0].label, kIgnoreIndex);
  EXPECT_EQ(fs.truncated, 0u);

  d.examples.push_back(text("the mat", "five", 7));
  const auto err = error_of([&] { make_features(task("regression"), d, *tok, {}, 16); });
  EXPECT_NE(err.find("stsb.tsv:7"), std::string::npos) << err;
  EXPECT_NE(err.find("'five'"), std::string::npos) << err;
  d.examples.back().label = "2.5x";
  EXPECT_THROW(make_features(task("regression"), d, *tok, {}, 16), UserError);
}

TEST_F(FeaturesTest, UnknownClassLabelNamesFileAndLine) {
  Dataset d;
  d.source = "dev.tsv";
  d.examples = {text("the cat", "pos", 2), text("a dog", "neutral", 9)};
  const auto err = error_of([&] { make_features(task("classification"), d, *tok, {"neg", "pos"}, 16); });
  EXPECT_NE(err.find("dev.tsv:9"), std::string::npos) << err;
  EXPECT_NE(err.find("'neutral'"), std::string::npos) << err;
}

TEST_F(FeaturesTest, TokenClassificationLabelsTheFirstPieceOfEachWord) {
  Dataset d;
  d.source = "ner.conll";
  // "\x07" is a control character: the word has no piece.
  d.examples = {words({"running", "cat", "runs"}, {"B", "O", "I"}, 1),
                words({"cat", "\x07", "dog"}, {"O", "O", "B"}, 5)};
  const auto fs = make_features(task("token-classification"), d, *tok, {"B", "I", "O"}, 32);
  ASSERT_EQ(fs.items.size(), 2u);
  const auto& a = fs.items[0];
  EXPECT_EQ(a.input_ids, (Ids{2, 8, 9, 6, 8, 10, 3}));  // [CLS] run ##ning cat run ##s [SEP]
  EXPECT_EQ(a.token_labels, (Ids{-100, 0, -100, 2, 1, -100, -100}));
  EXPECT_EQ(a.token_type_ids, Ids(7, 0));
  EXPECT_EQ(a.word_positions, (Ids{1, 3, 4}));
  EXPECT_EQ(a.label, kIgnoreIndex);
  const auto& b = fs.items[1];
  EXPECT_EQ(b.input_ids, (Ids{2, 6, 11, 3}));
  EXPECT_EQ(b.token_labels, (Ids{-100, 2, 0, -100}));
  EXPECT_EQ(b.word_positions, (Ids{1, -1, 2}));
  EXPECT_EQ(fs.truncated, 0u);
}

TEST_F(FeaturesTest, TokenClassificationTruncationLeavesCutWordsWithoutPosition) {
  Dataset d;
  d.source = "ner.conll";
  d.examples = {words({"running", "cat", "runs", "dog"}, {"B", "O", "I", "O"}, 1)};
  const auto task_type = task("token-classification");
  const std::vector<std::string> vocab = {"B", "I", "O"};
  // Budget 3 pieces: run ##ning cat.
  auto fs = make_features(task_type, d, *tok, vocab, 5);
  EXPECT_EQ(fs.items[0].input_ids, (Ids{2, 8, 9, 6, 3}));
  EXPECT_EQ(fs.items[0].token_labels, (Ids{-100, 0, -100, 2, -100}));
  EXPECT_EQ(fs.items[0].word_positions, (Ids{1, 3, -1, -1}));
  EXPECT_EQ(fs.truncated, 1u);
  // Budget 1 piece: "running" keeps its first piece (and its position), the rest is cut.
  fs = make_features(task_type, d, *tok, vocab, 3);
  EXPECT_EQ(fs.items[0].input_ids, (Ids{2, 8, 3}));
  EXPECT_EQ(fs.items[0].token_labels, (Ids{-100, 0, -100}));
  EXPECT_EQ(fs.items[0].word_positions, (Ids{1, -1, -1, -1}));
  EXPECT_EQ(fs.truncated, 1u);
  // Exactly enough room: nothing is truncated.
  fs = make_features(task_type, d, *tok, vocab, 8);
  EXPECT_EQ(fs.items[0].word_positions, (Ids{1, 3, 4, 6}));
  EXPECT_EQ(fs.truncated, 0u);
}

TEST_F(FeaturesTest, UnknownTagNamesFileAndLine) {
  Dataset d;
  d.source = "ner.conll";
  d.examples = {words({"cat"}, {"O"}, 1), words({"the", "dog"}, {"O", "B-xyz"}, 12)};
  const auto err = error_of([&] {
    make_features(task("token-classification"), d, *tok, {"B", "I", "O"}, 32);
  });
  EXPECT_NE(err.find("ner.conll:12"), std::string::npos) << err;
  EXPECT_NE(err.find("'B-xyz'"), std::string::npos) << err;
}

TEST_F(FeaturesTest, GenerativeTasksNeedTheGenerationFeatures) {
  Dataset d;
  d.examples = {text("the cat", "", 1)};
  const auto err = error_of([&] { make_features(task("seq2seq"), d, *tok, {}, 16); });
  EXPECT_NE(err.find("generative backbone"), std::string::npos) << err;
}

// A codec over the WordPiece vocabulary above: sources get BOS = [CLS] (2) in front for causal
// LMs and EOS = [SEP] (3) behind for seq2seq, as GPT-2/Llama's and T5's tokenizers do.
GenerationCodec codec_for(const model::WordPieceTokenizer& tok, bool causal) {
  GenerationCodec c;
  c.encode_target = [&tok](const std::string& t) {
    const auto e = tok.encode(t, std::nullopt, 64, true).input_ids;  // [CLS] ... [SEP]
    return Ids(e.begin() + 1, e.end() - 1);
  };
  c.encode_source = [&tok, causal, plain = c.encode_target](const std::string& t) {
    auto ids = plain(t);
    if (causal)
      ids.insert(ids.begin(), 2);
    else
      ids.push_back(3);
    return ids;
  };
  c.eos = 3;
  c.bos = causal ? 2 : -1;
  return c;
}

Example pair_of(const std::string& source, const std::string& target) {
  Example e;
  e.text = source;
  e.target = target;
  return e;
}

TEST_F(FeaturesTest, GenerationFeaturesKeepEosAndTheUsefulEndOfAPrompt) {
  Dataset d;
  d.examples = {pair_of("the cat sat", "a dog"), pair_of("the cat sat on a mat", "the dog sat on a mat")};
  // seq2seq, max_length 5, max_target_length 4: the source keeps its first 4 ids and EOS.
  auto t = task("seq2seq");
  auto fs = make_generation_features(t, d, codec_for(*tok, false), 5, 4);
  ASSERT_EQ(fs.items.size(), 2u);
  EXPECT_EQ(fs.items[0].input_ids, (Ids{5, 6, 7, 3}));
  EXPECT_EQ(fs.items[0].target_ids, (Ids{12, 11, 3}));
  EXPECT_EQ(fs.items[1].input_ids, (Ids{5, 6, 7, 13, 3}));
  EXPECT_EQ(fs.items[1].target_ids, (Ids{5, 11, 7, 3}));
  EXPECT_EQ(fs.truncated, 1u);
  EXPECT_EQ(fs.items[1].length(), 9u);
  // causal-lm, max_length 6: the target first (3 ids with EOS), then BOS and the prompt's last 2.
  t.type = "causal-lm";
  fs = make_generation_features(t, d, codec_for(*tok, true), 6, 3);
  EXPECT_EQ(fs.items[0].input_ids, (Ids{2, 6, 7}));
  EXPECT_EQ(fs.items[0].target_ids, (Ids{12, 11, 3}));
  EXPECT_EQ(fs.items[1].input_ids, (Ids{2, 12, 14}));
  EXPECT_EQ(fs.items[1].target_ids, (Ids{5, 11, 3}));
  EXPECT_EQ(fs.truncated, 2u);
  // A target never takes the whole length: one prompt id stays.
  fs = make_generation_features(t, d, codec_for(*tok, true), 4, 10);
  EXPECT_EQ(fs.items[1].input_ids, (Ids{14}));
  EXPECT_EQ(fs.items[1].target_ids, (Ids{5, 11, 3}));
}

}  // namespace
}  // namespace autopeft::trainer
