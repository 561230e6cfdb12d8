#include "model/format/unicode.h"

#include <utf8proc.h>

#include <cstdlib>
#include <stdexcept>

namespace autopeft::model::unicode {

std::vector<char32_t> decode(std::string_view text) {
  std::vector<char32_t> out;
  out.reserve(text.size());
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(text.size());
  while (left > 0) {
    utf8proc_int32_t cp = 0;
    const auto n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) {  // invalid byte: replacement character, skip one byte
      out.push_back(0xFFFD);
      ++p;
      --left;
      continue;
    }
    out.push_back(static_cast<char32_t>(cp));
    p += n;
    left -= n;
  }
  return out;
}

std::string encode(char32_t c) {
  utf8proc_uint8_t buf[4];
  const auto n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(c), buf);
  return std::string(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
}

std::string encode(const std::vector<char32_t>& codepoints) {
  std::string out;
  out.reserve(codepoints.size());
  for (char32_t c : codepoints) out += encode(c);
  return out;
}

std::string_view category(char32_t c) { return utf8proc_category_string(static_cast<utf8proc_int32_t>(c)); }

namespace {
std::vector<char32_t> normalise(const std::vector<char32_t>& text, utf8proc_option_t options) {
  if (text.empty()) return {};
  // utf8proc works on UTF-8; convert, normalise, convert back.
  const std::string utf8 = encode(text);
  utf8proc_uint8_t* result = nullptr;
  const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(utf8.data()),
                              static_cast<utf8proc_ssize_t>(utf8.size()), &result, options);
  if (n < 0) throw std::runtime_error(std::string("utf8proc: ") + utf8proc_errmsg(n));
  auto out = decode(std::string_view(reinterpret_cast<const char*>(result), static_cast<std::size_t>(n)));
  std::free(result);
  return out;
}
}  // namespace

std::vector<char32_t> nfc(const std::vector<char32_t>& text) {
  return normalise(text, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
}

std::vector<char32_t> nfd(const std::vector<char32_t>& text) {
  return normalise(text, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE));
}

std::vector<char32_t> nfkc(const std::vector<char32_t>& text) {
  return normalise(text,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT));
}

std::string nmt_nfkc(std::string_view text) {
  std::vector<char32_t> kept;
  for (const char32_t c : decode(text)) {
    if ((c >= 0x1 && c <= 0x8) || c == 0xB || (c >= 0xE && c <= 0x1F) || c == 0x7F || c == 0x8F || c == 0x9F)
      continue;
    const bool space = c == 0x9 || c == 0xA || c == 0xC || c == 0xD || c == 0x1680 ||
                       (c >= 0x200B && c <= 0x200F) || c == 0x2028 || c == 0x2029 || c == 0x2581 ||
                       c == 0xFEFF || c == 0xFFFD;
    kept.push_back(space ? U' ' : c);
  }
  return encode(nfkc(kept));
}

char32_t to_lower(char32_t c) {
  return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
}

}  // namespace autopeft::model::unicode
