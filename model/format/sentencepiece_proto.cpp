#include "model/format/sentencepiece_proto.h"

#include <cstring>

#include "core/errors.h"

namespace autopeft::model {

namespace {

// Wire types: 0 varint, 1 64-bit, 2 length-delimited, 5 32-bit.
void varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}
void key(std::string& out, int field, int wire) {
  varint(out, (static_cast<std::uint64_t>(field) << 3) | wire);
}
void int_field(std::string& out, int field, std::int64_t v) {  // int32 / enum / bool: negatives as 10 bytes
  key(out, field, 0);
  varint(out, static_cast<std::uint64_t>(v));
}
void bytes_field(std::string& out, int field, const std::string& v) {
  key(out, field, 2);
  varint(out, v.size());
  out += v;
}
void float_field(std::string& out, int field, float v) {
  key(out, field, 5);
  char b[4];
  std::memcpy(b, &v, 4);  // little-endian hosts (x86-64, arm64)
  out.append(b, 4);
}

struct Reader {
  const std::string& s;
  std::size_t at = 0;
  const std::string& source;
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at >= s.size()) throw_user_error(source, "truncated sentencepiece model");
      const auto b = static_cast<unsigned char>(s[at++]);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw_user_error(source, "malformed varint in the sentencepiece model");
  }
  std::string bytes() {
    const auto n = varint();
    if (n > s.size() - at) throw_user_error(source, "truncated sentencepiece model");
    std::string out = s.substr(at, n);
    at += n;
    return out;
  }
  void skip(int wire) {
    if (wire == 0)
      varint();
    else if (wire == 1)
      at += 8;
    else if (wire == 2)
      bytes();
    else if (wire == 5)
      at += 4;
    else
      throw_user_error(source, "unknown protobuf wire type " + std::to_string(wire));
  }
};

// Walks the fields of the message `msg`: fn(field, wire, reader) reads the value of a field it
// knows and returns true, or returns false to have the field skipped.
template <class Fn>
void for_each_field(const std::string& msg, const std::string& source, Fn&& fn) {
  Reader r{msg, 0, source};
  while (r.at < msg.size()) {
    const auto k = r.varint();
    const int field = static_cast<int>(k >> 3), wire = static_cast<int>(k & 7);
    if (!fn(field, wire, r)) r.skip(wire);
    if (r.at > msg.size()) throw_user_error(source, "truncated sentencepiece model");
  }
}

}  // namespace

std::string serialize_sentencepiece_model(const SentencePieceSpec& spec) {
  std::string out;
  for (const auto& p : spec.pieces) {
    std::string piece;
    bytes_field(piece, 1, p.text);
    float_field(piece, 2, p.score);
    int_field(piece, 3, static_cast<int>(p.type));
    bytes_field(out, 1, piece);
  }
  std::string trainer;
  int_field(trainer, 3, spec.model_type);
  int_field(trainer, 4, static_cast<std::int64_t>(spec.pieces.size()));
  int_field(trainer, 35, spec.byte_fallback ? 1 : 0);
  int_field(trainer, 40, spec.unk_id);
  int_field(trainer, 41, spec.bos_id);
  int_field(trainer, 42, spec.eos_id);
  int_field(trainer, 43, spec.pad_id);
  bytes_field(out, 2, trainer);
  std::string normalizer;
  bytes_field(normalizer, 1, spec.normalizer_name);
  if (!spec.precompiled_charsmap.empty()) bytes_field(normalizer, 2, spec.precompiled_charsmap);
  int_field(normalizer, 3, spec.add_dummy_prefix ? 1 : 0);
  int_field(normalizer, 4, spec.remove_extra_whitespaces ? 1 : 0);
  int_field(normalizer, 5, spec.escape_whitespaces ? 1 : 0);
  bytes_field(out, 3, normalizer);
  return out;
}

SentencePieceSpec parse_sentencepiece_model(const std::string& bytes, const std::string& source) {
  SentencePieceSpec spec;
  for_each_field(bytes, source, [&](int field, int wire, Reader& r) {
    if (field == 1 && wire == 2) {
      const auto msg = r.bytes();
      SentencePieceSpec::Piece piece;
      for_each_field(msg, source, [&](int f, int w, Reader& p) {
        if (f == 1 && w == 2) {
          piece.text = p.bytes();
        } else if (f == 2 && w == 5) {
          if (p.at + 4 > msg.size()) throw_user_error(source, "truncated sentencepiece model");
          std::memcpy(&piece.score, msg.data() + p.at, 4);
          p.at += 4;
        } else if (f == 3 && w == 0) {
          piece.type = static_cast<SentencePieceSpec::Type>(p.varint());
        } else {
          return false;
        }
        return true;
      });
      spec.pieces.push_back(piece);
    } else if (field == 2 && wire == 2) {
      for_each_field(r.bytes(), source, [&](int f, int w, Reader& t) {
        if (w != 0) return false;
        const auto v = static_cast<std::int32_t>(t.varint());
        if (f == 3)
          spec.model_type = v;
        else if (f == 35)
          spec.byte_fallback = v != 0;
        else if (f == 40)
          spec.unk_id = v;
        else if (f == 41)
          spec.bos_id = v;
        else if (f == 42)
          spec.eos_id = v;
        else if (f == 43)
          spec.pad_id = v;
        return true;
      });
    } else if (field == 3 && wire == 2) {
      for_each_field(r.bytes(), source, [&](int f, int w, Reader& n) {
        if (f == 1 && w == 2)
          spec.normalizer_name = n.bytes();
        else if (f == 2 && w == 2)
          spec.precompiled_charsmap = n.bytes();
        else if (f == 3 && w == 0)
          spec.add_dummy_prefix = n.varint() != 0;
        else if (f == 4 && w == 0)
          spec.remove_extra_whitespaces = n.varint() != 0;
        else if (f == 5 && w == 0)
          spec.escape_whitespaces = n.varint() != 0;
        else
          return false;
        return true;
      });
    } else {
      return false;
    }
    return true;
  });
  return spec;
}

}  // namespace autopeft::model
