#pragma once
// Unicode helpers for tokenizers, on utf8proc (Unicode data from a Debian library, not hand
// tables). Torch-free.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace autopeft::model::unicode {

// Decodes UTF-8; invalid bytes become U+FFFD (which BERT's cleaning then drops).
std::vector<char32_t> decode(std::string_view text);
std::string encode(const std::vector<char32_t>& codepoints);
std::string encode(char32_t codepoint);

// The two-letter general category, e.g. "Lu", "Mn", "Zs", "Cc", "Po".
std::string_view category(char32_t c);
// NFC / NFD of a whole string.
std::vector<char32_t> nfc(const std::vector<char32_t>& text);
std::vector<char32_t> nfd(const std::vector<char32_t>& text);
// NFKC of a whole string.
std::vector<char32_t> nfkc(const std::vector<char32_t>& text);
// sentencepiece's nmt_nfkc rule (HF tokenizers' Nmt then NFKC normalizers): control characters
// dropped, the other white-space-like ones (tab, newlines, zero-width spaces and marks, U+2581,
// U+FEFF, U+FFFD, ...) made plain spaces, then NFKC.
std::string nmt_nfkc(std::string_view text);
// Simple (one to one) lowercase mapping.
char32_t to_lower(char32_t c);

}  // namespace autopeft::model::unicode
