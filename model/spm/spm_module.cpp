// The sentencepiece module: the only code that links libsentencepiece (see spm_module.h).
#include "model/spm/spm_module.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace {

void set_error(char* err, size_t err_cap, const std::string& message) {
  if (!err || err_cap == 0) return;
  const size_t n = std::min(err_cap - 1, message.size());
  std::memcpy(err, message.data(), n);
  err[n] = '\0';
}

sentencepiece::SentencePieceProcessor* proc(void* p) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(p);
}

long copy_text(const std::string& s, char* out, size_t cap) {
  if (out && cap > 0) std::memcpy(out, s.data(), std::min(cap, s.size()));
  return static_cast<long>(s.size());
}

// Runs f, turning a failed status or an exception into -1 and a message in err.
template <typename F>
long guarded(char* err, size_t err_cap, F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    set_error(err, err_cap, e.what());
  } catch (...) {
    set_error(err, err_cap, "unknown exception in the sentencepiece module");
  }
  return -1;
}

#define APSPM_CHECK(status_expr)                   \
  do {                                             \
    const auto status_ = (status_expr);            \
    if (!status_.ok()) {                           \
      set_error(err, err_cap, status_.ToString()); \
      return -1;                                   \
    }                                              \
  } while (0)

}  // namespace

extern "C" {

int apspm_abi_version(void) { return APSPM_ABI_VERSION; }

void* apspm_load(const char* model_path, char* err, size_t err_cap) {
  void* result = nullptr;
  guarded(err, err_cap, [&]() -> long {
    auto p = std::make_unique<sentencepiece::SentencePieceProcessor>();
    APSPM_CHECK(p->Load(model_path));
    result = p.release();
    return 0;
  });
  return result;
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

long apspm_encode(void* processor, const char* text, size_t len, int32_t* out, size_t cap, char* err,
                  size_t err_cap) {
  return guarded(err, err_cap, [&]() -> long {
    std::vector<int> ids;
    APSPM_CHECK(proc(processor)->Encode(std::string_view(text, len), &ids));
    for (size_t i = 0; i < ids.size() && i < cap; ++i) out[i] = ids[i];
    return static_cast<long>(ids.size());
  });
}

long apspm_encode_pieces(void* processor, const char* text, size_t len, char* out, size_t cap, char* err,
                         size_t err_cap) {
  return guarded(err, err_cap, [&]() -> long {
    std::vector<std::string> pieces;
    APSPM_CHECK(proc(processor)->Encode(std::string_view(text, len), &pieces));
    // Pieces joined by '\0' (a piece never contains one).
    std::string joined;
    for (size_t i = 0; i < pieces.size(); ++i) {
      if (i) joined.push_back('\0');
      joined += pieces[i];
    }
    return copy_text(joined, out, cap);
  });
}

long apspm_decode(void* processor, const int32_t* ids, size_t n, char* out, size_t cap, char* err,
                  size_t err_cap) {
  return guarded(err, err_cap, [&]() -> long {
    std::vector<int> v(ids, ids + n);
    std::string text;
    APSPM_CHECK(proc(processor)->Decode(v, &text));
    return copy_text(text, out, cap);
  });
}

long apspm_id_to_piece(void* processor, int32_t id, char* out, size_t cap, char* err, size_t err_cap) {
  return guarded(err, err_cap, [&]() -> long {
    auto* p = proc(processor);
    if (id < 0 || id >= p->GetPieceSize()) {
      set_error(err, err_cap,
                "id " + std::to_string(id) + " out of range [0, " + std::to_string(p->GetPieceSize()) + ")");
      return -1;
    }
    return copy_text(p->IdToPiece(id), out, cap);
  });
}

int apspm_train(const char* args, char* err, size_t err_cap) {
  return static_cast<int>(guarded(err, err_cap, [&]() -> long {
    APSPM_CHECK(sentencepiece::SentencePieceTrainer::Train(args));
    return 0;
  }));
}

}  // extern "C"
