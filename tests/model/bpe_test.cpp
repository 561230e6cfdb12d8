// Byte-level BPE (GPT-2 / RoBERTa) on hand-worked examples: the pre-tokeniser against the
// pattern worked through by hand, GPT-2's byte table at its known points, merges by rank, special
// tokens, and exact byte round trips of any UTF-8 text.
#include "model/format/bpe.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "tests/support/test_support.h"

namespace autopeft::model {
namespace {

using autopeft::testing::TempDir;
using Pieces = std::vector<std::string>;

TEST(BpeTest, PreTokeniserFollowsGpt2sPattern) {
  // "\n\nend": '\s+(?!\S)' takes the first newline, '\s+' the second; trailing spaces stay one piece.
  EXPECT_EQ(ByteLevelBpe::pre_tokenize("Hello world's  big\n\nend  "),
            (Pieces{"Hello", " world", "'s", " ", " big", "\n", "\n", "end", "  "}));
  EXPECT_EQ(ByteLevelBpe::pre_tokenize("a1 2,!x"), (Pieces{"a", "1", " 2", ",!", "x"}));
  EXPECT_EQ(ByteLevelBpe::pre_tokenize("it'll I'M we're 's"),
            (Pieces{"it", "'ll", " I", "'", "M", " we", "'re", " '", "s"}));
  // Letters and numbers of any script; a no-break space is white space but not ' ?'.
  EXPECT_EQ(ByteLevelBpe::pre_tokenize("naïve 日本語 \u00a0x\t\ty"),
            (Pieces{"na\u00efve", " \u65e5\u672c\u8a9e", " ", "\u00a0", "x", "\t", "\t", "y"}));
  EXPECT_TRUE(ByteLevelBpe::pre_tokenize("").empty());
}

// Llama 3's pattern (tiktoken's cl100k), worked through by hand, alternative by alternative:
// contractions case-insensitive; one non-letter (a space, a tab, a '$') joins the letters after
// it; digits in runs of at most three, never joined to a space; punctuation takes the newlines
// after it; white space ends at its last newline, or leaves its last character to what follows.
TEST(BpeTest, PreTokeniserFollowsLlama3sPattern) {
  const auto llama3 = [](const std::string& t) {
    return ByteLevelBpe::pre_tokenize(t, ByteLevelBpe::Pattern::llama3);
  };
  EXPECT_EQ(llama3("Hello world's 12345 end"), (Pieces{"Hello", " world", "'s", " ", "123", "45", " end"}));
  EXPECT_EQ(llama3("Don'T stop!!\n\nNow"), (Pieces{"Don", "'T", " stop", "!!\n\n", "Now"}));
  EXPECT_EQ(llama3("a  \n  b"), (Pieces{"a", "  \n", " ", " b"}));
  EXPECT_EQ(llama3("x   "), (Pieces{"x", "   "}));
  EXPECT_EQ(llama3("  hi\tthere"), (Pieces{" ", " hi", "\tthere"}));
  EXPECT_EQ(llama3("$100 costs, (ok)"), (Pieces{"$", "100", " costs", ",", " (", "ok", ")"}));
  EXPECT_EQ(llama3("\nword 'LL"), (Pieces{"\n", "word", " '", "LL"}));
  EXPECT_EQ(llama3("ÉCOLE café 日本"), (Pieces{"ÉCOLE", " café", " 日本"}));
  EXPECT_TRUE(llama3("").empty());
  // The same texts under GPT-2's pattern differ where the two patterns do.
  EXPECT_EQ(ByteLevelBpe::pre_tokenize("Hello 12345"), (Pieces{"Hello", " 12345"}));
}

TEST(BpeTest, ByteTableMatchesGpt2) {
  const auto& t = ByteLevelBpe::byte_encoder();
  ASSERT_EQ(t.size(), 256u);
  EXPECT_EQ(t[' '], "\u0120");   // Ġ
  EXPECT_EQ(t['\n'], "\u010a");  // Ċ
  EXPECT_EQ(t['A'], "A");
  EXPECT_EQ(t[0xAD], "\u0143");  // soft hyphen -> Ń
  EXPECT_EQ(t[0xE9], "\u00e9");  // printable Latin-1 maps to itself
  EXPECT_EQ(t[0], "\u0100");
  EXPECT_EQ(t[127], "\u0121");  // after the 33 control and space bytes 0..32
}

ByteLevelBpe toy(ByteLevelBpe::Options o = {}) {
  std::unordered_map<std::string, std::int64_t> vocab;
  std::int64_t id = 0;
  for (const auto& b : ByteLevelBpe::byte_encoder()) vocab[b] = id++;  // every byte: 0..255
  for (const char* p :
       {"he", "ll", "hell", "hello", "\u0120w", "or", "<s>", "</s>", "<mask>", "<unk>", "<pad>"})
    vocab[p] = id++;
  return ByteLevelBpe(vocab,
                      {{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {"\u0120", "w"}, {"o", "r"}},
                      std::move(o));
}

TEST(BpeTest, MergesApplyLowestRankFirst) {
  const auto t = toy();
  EXPECT_EQ(t.tokenize("hello world"), (Pieces{"hello", "\u0120w", "or", "l", "d"}));
  // "lll": the leftmost pair merges; "oh": no merge applies.
  EXPECT_EQ(t.tokenize("lll oh"), (Pieces{"ll", "l", "\u0120", "o", "h"}));
  const auto ids = t.to_ids("hello world");
  EXPECT_EQ(ids[0], 256 + 3);  // "hello"
  EXPECT_EQ(ids[3], 'l');      // single bytes keep their byte ids in the toy vocabulary
  EXPECT_EQ(t.decode(ids), "hello world");
}

TEST(BpeTest, SpecialTokensAreWholeAndMaskTakesTheSpacesBeforeIt) {
  ByteLevelBpe::Options o;
  o.special_tokens = {"<s>", "</s>", "<mask>"};
  const auto t = toy(o);
  EXPECT_EQ(t.tokenize("<s>he <mask> or</s>"), (Pieces{"<s>", "he", "<mask>", "\u0120", "or", "</s>"}));
  o.add_prefix_space = true;
  EXPECT_EQ(toy(o).tokenize("hello"), (Pieces{"\u0120", "hello"}));
  o.special_tokens = {"<nope>"};
  EXPECT_THROW(toy(o), UserError);
}

TEST(BpeTest, AnyUtf8TextRoundTripsByteForByte) {
  const auto t = toy();
  for (const std::string& s :
       std::vector<std::string>{"na\u00efve caf\u00e9 \u65e5\u672c \U0001F642\n\ttabs  and   spaces ",
                                std::string("\x01\x7f control\r\n", 12), "it'll 3.14 -- ok!"}) {
    EXPECT_EQ(t.decode(t.to_ids(s)), s);
  }
}

TEST(BpeTest, FilesLoadAndBadMergesNameTheLine) {
  TempDir tmp;
  nlohmann::json vocab = nlohmann::json::object();
  std::int64_t id = 0;
  for (const auto& b : ByteLevelBpe::byte_encoder()) vocab[b] = id++;
  vocab["he"] = id++;
  tmp.write("vocab.json", vocab.dump());
  tmp.write("merges.txt", "#version: 0.2\nh e\n");
  const auto t = ByteLevelBpe::from_files((tmp / "vocab.json").string(), (tmp / "merges.txt").string(), {});
  EXPECT_EQ(t->tokenize("he"), (Pieces{"he"}));
  EXPECT_EQ(t->vocab_size(), 257);
  tmp.write("bad.txt", "#version: 0.2\nh e\nabc\n");
  try {
    ByteLevelBpe::from_files((tmp / "vocab.json").string(), (tmp / "bad.txt").string(), {});
    FAIL() << "no error";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.txt:3"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace autopeft::model
