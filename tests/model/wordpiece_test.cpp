// WordPiece against bert-base-uncased's vocabulary on hand-checked sentences. The expected ids
// come from the independent Python implementation in ../shared/peers/hf_layout.py (BertTokenizer
// semantics) and were read over by hand (accents stripped, punctuation split, [UNK] for unknown
// symbols and over-long words, CJK characters split one by one).
#include "model/format/wordpiece.h"

#include <gtest/gtest.h>

#include "core/errors.h"
#include "tests/support/test_support.h"

namespace autopeft::model {
namespace {

using autopeft::testing::TempDir;

class WordPieceBertUncasedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto data = autopeft::testing::shared_data_dir();
    if (data.empty()) GTEST_SKIP() << "../shared/data is absent";
    tok = std::make_unique<WordPieceTokenizer>((data / "models/bert_uncased_vocab/vocab.txt").string());
  }
  std::unique_ptr<WordPieceTokenizer> tok;
};

struct Case {
  std::string text;
  std::vector<std::string> tokens;
  std::vector<std::int64_t> ids;
};

TEST_F(WordPieceBertUncasedTest, HandCheckedSentences) {
  const std::vector<Case> cases = {
      {"Hello, World!", {"hello", ",", "world", "!"}, {7592, 1010, 2088, 999}},
      {"Café déjà vu — naïve résumé",
       {"cafe", "de", "##ja", "vu", "\u2014", "naive", "resume"},
       {7668, 2139, 3900, 24728, 1517, 15743, 13746}},
      {"unaffable tokenization",
       {"una", "##ffa", "##ble", "token", "##ization"},
       {14477, 20961, 3468, 19204, 3989}},
      {"I \u2764\ufe0f emoji \U0001F600 and \u4e2d\u6587\u5b57 too",
       {"i", "[UNK]", "em", "##oj", "##i", "[UNK]", "and", "\u4e2d", "\u6587", "[UNK]", "too"},
       {1045, 100, 7861, 29147, 2072, 100, 1998, 1746, 1861, 100, 2205}},
      {"\uff46\uff55\uff4c\uff4c width", {"[UNK]", "width"}, {100, 9381}},
      {"Don't stop: e-mail me @ 3.14pm",
       {"don", "'", "t", "stop", ":", "e", "-", "mail", "me", "@", "3", ".", "14", "##pm"},
       {2123, 1005, 1056, 2644, 1024, 1041, 1011, 5653, 2033, 1030, 1017, 1012, 2403, 9737}},
      {"the [MASK] token [SEP] stays",
       {"the", "[MASK]", "token", "[SEP]", "stays"},
       {1996, 103, 19204, 102, 12237}},
      {std::string(120, 'x'), {"[UNK]"}, {100}},
      {"\u00dcn\u00efc\u00f6d\u00e9 \u00c5NGSTR\u00d6M",
       {"unicode", "ang", "##strom"},
       {27260, 17076, 15687}},
      {std::string("tab\tnew\nline") + '\0' + "nul\u200bzero",
       {"tab", "new", "linen", "##ul", "##zer", "##o"},
       {21628, 2047, 17517, 5313, 6290, 2080}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(tok->tokenize(c.text), c.tokens) << c.text;
    EXPECT_EQ(tok->to_ids(c.text), c.ids) << c.text;
  }
}

TEST_F(WordPieceBertUncasedTest, PairsAndLongestFirstTruncation) {
  auto e = tok->encode("the cat sat on the mat", std::string("a dog"), 8);
  EXPECT_EQ(e.input_ids, (std::vector<std::int64_t>{101, 1996, 4937, 2938, 102, 1037, 3899, 102}));
  EXPECT_EQ(e.token_type_ids, (std::vector<std::int64_t>{0, 0, 0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(e.attention_mask, std::vector<std::int64_t>(8, 1));
  e = tok->encode("a b c d e f", std::string("g h i j"), 9);
  EXPECT_EQ(e.input_ids, (std::vector<std::int64_t>{101, 1037, 1038, 1039, 102, 1043, 1044, 1045, 102}));
  e = tok->encode("hello world");
  EXPECT_EQ(e.input_ids, (std::vector<std::int64_t>{101, 7592, 2088, 102}));
  EXPECT_THROW(tok->encode("a b c d", std::nullopt, 4, false), UserError);
}

using Kept = std::pair<std::size_t, std::size_t>;

TEST(LongestFirstTest, MatchesTheFastTokenizerRule) {
  // (n1, n2, budget) -> kept, worked by hand from the rule.
  EXPECT_EQ(longest_first(3, 2, 10), Kept(3, 2));
  EXPECT_EQ(longest_first(10, 2, 6), Kept(4, 2));  // only the long one shrinks
  EXPECT_EQ(longest_first(2, 10, 6), Kept(2, 4));
  EXPECT_EQ(longest_first(6, 4, 6), Kept(3, 3));  // both cut: split the budget
  EXPECT_EQ(longest_first(5, 5, 7), Kept(3, 4));  // a tie favours the second
  EXPECT_EQ(longest_first(9, 9, 0), Kept(0, 0));
}

TEST(WordPieceTest, TinyVocabularyAndConfig) {
  TempDir tmp;
  tmp.write("m/vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nrun\n##ning\n##s\nÉcole\n");
  tmp.write("m/tokenizer_config.json",
            R"({"do_lower_case": false, "model_max_length": 1000000000000000019884624838656})");
  auto t = WordPieceTokenizer::from_dir((tmp / "m").string(), 512);
  EXPECT_EQ(t->model_max_length(), 512);  // HF's "no limit" sentinel falls back to the positions
  EXPECT_EQ(t->tokenize("running runs École Run"),
            (std::vector<std::string>{"run", "##ning", "run", "##s", "École", "[UNK]"}));
  EXPECT_EQ(t->special().cls, 2);
  EXPECT_EQ(t->special().pad, 0);
  tmp.write("dup/vocab.txt", "[UNK]\na\na\n");
  try {
    WordPieceTokenizer bad((tmp / "dup/vocab.txt").string());
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("vocab.txt:3"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace autopeft::model
