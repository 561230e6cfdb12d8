// The sentencepiece module: the only code that links libsentencepiece (see spm_module.h).
#include "model/spm/spm_module.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace {

thread_local std::string g_error;

void set_error(const std::string& message) { g_error = message; }

sentencepiece::SentencePieceProcessor* proc(void* p) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(p);
}

long copy_text(const std::string& s, char* out, size_t cap) {
  if (out && cap > 0) std::memcpy(out, s.data(), std::min(cap, s.size()));
  return static_cast<long>(s.size());
}

template <typename F>
long guarded(F&& f) {
  try {
    g_error.clear();
    return f();
  } catch (const std::exception& e) {
    set_error(e.what());
  } catch (...) {
    set_error("unknown exception in the sentencepiece module");
  }
  return -1;
}

}  // namespace

extern "C" {

int apspm_abi_version(void) { return APSPM_ABI_VERSION; }

const char* apspm_last_error(void) { return g_error.c_str(); }

void* apspm_load(const char* model_path) {
  auto p = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = p->Load(model_path);
  if (!status.ok()) {
    set_error(std::string(model_path) + ": " + status.ToString());
    return nullptr;
  }
  g_error.clear();
  return p.release();
}

void* apspm_load_bytes(const char* data, size_t size) {
  auto p = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = p->LoadFromSerializedProto(std::string_view(data, size));
  if (!status.ok()) {
    set_error(status.ToString());
    return nullptr;
  }
  g_error.clear();
  return p.release();
}

void apspm_free(void* processor) { delete proc(processor); }

int apspm_vocab_size(void* processor) { return proc(processor)->GetPieceSize(); }

int apspm_special_ids(void* processor, int32_t* unk, int32_t* bos, int32_t* eos, int32_t* pad) {
  auto* p = proc(processor);
  *unk = p->unk_id();
  *bos = p->bos_id();
  *eos = p->eos_id();
  *pad = p->pad_id();
  return 0;
}

int32_t apspm_piece_to_id(void* processor, const char* piece, size_t len) {
  return proc(processor)->PieceToId(std::string_view(piece, len));
}

long apspm_encode(void* processor, const char* text, size_t len, int32_t* out, size_t cap) {
  return guarded([&]() -> long {
    std::vector<int> ids;
    const auto status = proc(processor)->Encode(std::string_view(text, len), &ids);
    if (!status.ok()) {
      set_error(status.ToString());
      return -1;
    }
    for (size_t i = 0; i < ids.size() && i < cap; ++i) out[i] = ids[i];
    return static_cast<long>(ids.size());
  });
}

long apspm_encode_pieces(void* processor, const char* text, size_t len, char* out, size_t cap) {
  return guarded([&]() -> long {
    std::vector<std::string> pieces;
    const auto status = proc(processor)->Encode(std::string_view(text, len), &pieces);
    if (!status.ok()) {
      set_error(status.ToString());
      return -1;
    }
    // Pieces joined by '\0' (a piece never contains one).
    std::string joined;
    for (size_t i = 0; i < pieces.size(); ++i) {
      if (i) joined.push_back('\0');
      joined += pieces[i];
    }
    return copy_text(joined, out, cap);
  });
}

long apspm_decode(void* processor, const int32_t* ids, size_t n, char* out, size_t cap) {
  return guarded([&]() -> long {
    std::vector<int> v(ids, ids + n);
    std::string text;
    const auto status = proc(processor)->Decode(v, &text);
    if (!status.ok()) {
      set_error(status.ToString());
      return -1;
    }
    return copy_text(text, out, cap);
  });
}

long apspm_id_to_piece(void* processor, int32_t id, char* out, size_t cap) {
  return guarded([&]() -> long {
    auto* p = proc(processor);
    if (id < 0 || id >= p->GetPieceSize()) {
      set_error("id " + std::to_string(id) + " out of range [0, " + std::to_string(p->GetPieceSize()) + ")");
      return -1;
    }
    return copy_text(p->IdToPiece(id), out, cap);
  });
}

int apspm_train(const char* args) {
  return static_cast<int>(guarded([&]() -> long {
    const auto status = sentencepiece::SentencePieceTrainer::Train(args);
    if (!status.ok()) {
      set_error(status.ToString());
      return -1;
    }
    return 0;
  }));
}

}  // extern "C"
