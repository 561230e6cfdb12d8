#pragma once
// tokenizer.json (Hugging Face tokenizers' one-file format), for the pipelines we run exactly:
//   WordPiece behind BertNormalizer and BertPreTokenizer (BERT);
//   BPE behind the ByteLevel pre-tokenizer with GPT-2's regex and no normalizer (GPT-2, RoBERTa).
//   Unigram behind Metaspace (T5; run by sentencepiece from the model it describes).
//   sentencepiece-style BPE with byte fallback (Llama 2; run by sentencepiece likewise).
// Anything else (ByteLevel BPE behind a custom Split regex: Llama 3; other normalizers) is refused with
// an error naming the part we do not support, rather than tokenised differently. Torch-free.
#include <memory>
#include <string>

#include "model/format/bpe.h"
#include "model/format/sentencepiece_proto.h"
#include "model/format/wordpiece.h"

namespace autopeft::model {

// The model type a tokenizer.json declares ("WordPiece", "BPE", "Unigram", "WordLevel").
std::string tokenizer_json_model_type(const std::string& path);

// BERT's tokenizer from tokenizer.json: the vocabulary (added tokens included) by id, the
// BertNormalizer's lowercase / strip_accents / handle_chinese_chars.
std::unique_ptr<WordPieceTokenizer> wordpiece_from_tokenizer_json(const std::string& path);

// A byte-level BPE from tokenizer.json: vocabulary, merges ("a b" strings or [a, b] pairs),
// add_prefix_space, and the special added tokens (matched whole).
std::unique_ptr<ByteLevelBpe> byte_level_bpe_from_tokenizer_json(const std::string& path);

// A Unigram tokenizer.json (T5's and sentencepiece conversions') as the sentencepiece model it
// describes: the vocabulary with scores (ids as in the file), the unknown piece, special added
// tokens as control pieces, <0xNN> pieces as bytes under byte_fallback, and the normaliser:
// Precompiled (sentencepiece's own charsmap), Replace of " {2,}" by " " and a WhitespaceSplit
// pre-tokeniser (both: remove_extra_whitespaces), Metaspace (add_prefix_space or prepend_scheme
// "always"/"first": add_dummy_prefix). Other normalisers (literal Replace, Lowercase, ...) and
// pre-tokenisers are refused by name.
SentencePieceSpec unigram_from_tokenizer_json(const std::string& path);

// Whether a BPE tokenizer.json is sentencepiece's kind (byte fallback, U+2581 for spaces: Llama 2
// and Mistral conversions) rather than GPT-2's byte-level kind.
bool is_sentencepiece_bpe(const std::string& path);
// Such a tokenizer.json as the sentencepiece BPE model it was converted from: pieces by id, each
// piece a merge makes scored by the merge's rank (sentencepiece merges by piece score, and the
// converter lists merges in that order), <0xNN> pieces as bytes, whitespace as Metaspace or
// Prepend + Replace say.
SentencePieceSpec sentencepiece_bpe_from_tokenizer_json(const std::string& path);

}  // namespace autopeft::model
