#include "model/spm_library.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "core/errors.h"
#include "model/format/unicode.h"
#include "model/spm/spm_module.h"
#include "model/spm_build_path.h"

namespace autopeft::model {

struct SpmFunctions {
  void* handle = nullptr;
  decltype(&apspm_abi_version) abi_version = nullptr;
  decltype(&apspm_load) load = nullptr;
  decltype(&apspm_free) free = nullptr;
  decltype(&apspm_vocab_size) vocab_size = nullptr;
  decltype(&apspm_special_ids) special_ids = nullptr;
  decltype(&apspm_piece_to_id) piece_to_id = nullptr;
  decltype(&apspm_encode) encode = nullptr;
  decltype(&apspm_encode_pieces) encode_pieces = nullptr;
  decltype(&apspm_decode) decode = nullptr;
  decltype(&apspm_id_to_piece) id_to_piece = nullptr;
  decltype(&apspm_train) train = nullptr;
};

namespace {

namespace fs = std::filesystem;
constexpr const char* kModuleName = "libautopeft_spm.so";

std::vector<std::string> candidate_paths() {
  std::vector<std::string> out;
  if (const char* env = std::getenv("AUTOPEFT_SPM_MODULE"); env && *env) out.emplace_back(env);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path dir = exe.parent_path();
    for (int up = 0; up < 3 && !dir.empty(); ++up, dir = dir.parent_path())
      out.push_back((dir / kModuleName).string());
  }
#ifdef AUTOPEFT_SPM_BUILD_PATH
  out.emplace_back(AUTOPEFT_SPM_BUILD_PATH);
#endif
  return out;
}

template <typename T>
void bind(void* handle, T& fn, const char* name, const std::string& path) {
  fn = reinterpret_cast<T>(dlsym(handle, name));
  if (!fn) throw std::runtime_error(path + ": missing symbol " + name);
}

// The module writes its error messages here.
struct ErrorBuffer {
  char text[1024] = {0};
  static constexpr size_t cap = sizeof(text);
};

// Copies a module result that may need a larger buffer: call(buffer, cap, err, err_cap) returns
// the length needed, or -1 on error.
template <typename T, typename Call>
std::vector<T> fetch(Call&& call, const std::string& what) {
  std::vector<T> buf(256);
  ErrorBuffer err;
  long n = call(buf.data(), buf.size(), err.text, err.cap);
  if (n < 0) throw_user_error(what, err.text);
  if (static_cast<size_t>(n) > buf.size()) {
    buf.resize(static_cast<size_t>(n));
    n = call(buf.data(), buf.size(), err.text, err.cap);
    if (n < 0) throw_user_error(what, err.text);
  }
  buf.resize(static_cast<size_t>(n));
  return buf;
}

}  // namespace

SentencePieceLibrary::SentencePieceLibrary() {
  std::string tried;
  for (const auto& path : candidate_paths()) {
    if (!fs::exists(path)) {
      tried += "\n  " + path + " (absent)";
      continue;
    }
    // A fresh link namespace: the module and its libsentencepiece/protobuf never see LibTorch's.
    void* handle = dlmopen(LM_ID_NEWLM, path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      tried += "\n  " + path + " (" + dlerror() + ")";
      continue;
    }
    auto f = std::make_shared<SpmFunctions>();
    f->handle = handle;
    bind(handle, f->abi_version, "apspm_abi_version", path);
    if (f->abi_version() != APSPM_ABI_VERSION) {
      tried += "\n  " + path + " (interface version " + std::to_string(f->abi_version()) + ", expected " +
               std::to_string(APSPM_ABI_VERSION) + ")";
      continue;
    }
    bind(handle, f->load, "apspm_load", path);
    bind(handle, f->free, "apspm_free", path);
    bind(handle, f->vocab_size, "apspm_vocab_size", path);
    bind(handle, f->special_ids, "apspm_special_ids", path);
    bind(handle, f->piece_to_id, "apspm_piece_to_id", path);
    bind(handle, f->encode, "apspm_encode", path);
    bind(handle, f->encode_pieces, "apspm_encode_pieces", path);
    bind(handle, f->decode, "apspm_decode", path);
    bind(handle, f->id_to_piece, "apspm_id_to_piece", path);
    bind(handle, f->train, "apspm_train", path);
    path_ = path;
    fns_ = std::move(f);
    return;
  }
  throw std::runtime_error("cannot load the sentencepiece module " + std::string(kModuleName) +
                           "; looked at:" + tried + "\n(set AUTOPEFT_SPM_MODULE to its path)");
}

const SentencePieceLibrary& SentencePieceLibrary::instance() {
  static const SentencePieceLibrary library;  // thread-safe initialisation
  return library;
}

void SentencePieceLibrary::train(const std::string& args) const {
  ErrorBuffer err;
  if (fns_->train(args.c_str(), err.text, err.cap) != 0) throw_user_error("sentencepiece trainer", err.text);
}

SentencePieceModel::SentencePieceModel(const std::string& model_path)
    : fns_(SentencePieceLibrary::instance().functions()), path_(model_path) {
  ErrorBuffer err;
  handle_ = fns_.load(model_path.c_str(), err.text, err.cap);
  if (!handle_) throw_user_error(model_path, std::string("cannot load sentencepiece model: ") + err.text);
  fns_.special_ids(handle_, &unk_, &bos_, &eos_, &pad_);
}

namespace {

// The serialised model in a private temporary file (the module loads from a path), removed when
// done.
struct TemporaryModelFile {
  std::string path;
  explicit TemporaryModelFile(const std::string& bytes, const std::string& source) {
    std::string pattern = (std::filesystem::temp_directory_path() / "autopeft-spm-XXXXXX").string();
    const int fd = mkstemp(pattern.data());
    if (fd < 0) throw_user_error(source, "cannot create a temporary sentencepiece model file");
    path = pattern;
    const bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
    ::close(fd);
    if (!ok) {
      std::remove(path.c_str());
      throw_user_error(source, "cannot write a temporary sentencepiece model file");
    }
  }
  ~TemporaryModelFile() { std::remove(path.c_str()); }
};

}  // namespace

SentencePieceModel::SentencePieceModel(const SentencePieceSpec& spec, const std::string& source)
    : fns_(SentencePieceLibrary::instance().functions()),
      path_(source),
      nmt_nfkc_(spec.nmt_nfkc),
      replacements_(spec.replacements) {
  const TemporaryModelFile file(serialize_sentencepiece_model(spec), source);
  ErrorBuffer err;
  handle_ = fns_.load(file.path.c_str(), err.text, err.cap);
  if (!handle_) throw_user_error(source, std::string("cannot load its sentencepiece model: ") + err.text);
  fns_.special_ids(handle_, &unk_, &bos_, &eos_, &pad_);
}

SentencePieceModel::~SentencePieceModel() {
  if (handle_) fns_.free(handle_);
}

int SentencePieceModel::vocab_size() const { return fns_.vocab_size(handle_); }

int SentencePieceModel::piece_to_id(const std::string& piece) const {
  return fns_.piece_to_id(handle_, piece.data(), piece.size());
}

std::string SentencePieceModel::id_to_piece(int id) const {
  auto buf = fetch<char>([&](char* out, size_t cap, char* e,
                             size_t ecap) { return fns_.id_to_piece(handle_, id, out, cap, e, ecap); },
                         path_);
  return std::string(buf.begin(), buf.end());
}

std::string SentencePieceModel::prepared(const std::string& raw) const {
  if (!nmt_nfkc_ && replacements_.empty()) return raw;  // a .model file: sentencepiece does it all
  std::string text = raw;
  for (const auto& [from, to] : replacements_)
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
      text.replace(at, from.size(), to);
  return nmt_nfkc_ ? unicode::nmt_nfkc(text) : text;
}

std::vector<int32_t> SentencePieceModel::encode(const std::string& raw) const {
  const auto text = prepared(raw);
  return fetch<int32_t>(
      [&](int32_t* out, size_t cap, char* e, size_t ecap) {
        return fns_.encode(handle_, text.data(), text.size(), out, cap, e, ecap);
      },
      path_);
}

std::vector<std::string> SentencePieceModel::encode_pieces(const std::string& raw) const {
  const auto text = prepared(raw);
  auto buf = fetch<char>(
      [&](char* out, size_t cap, char* e, size_t ecap) {
        return fns_.encode_pieces(handle_, text.data(), text.size(), out, cap, e, ecap);
      },
      path_);
  std::vector<std::string> pieces;
  if (buf.empty()) return pieces;
  std::string current;
  for (char c : buf) {
    if (c == '\0') {
      pieces.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  pieces.push_back(std::move(current));
  return pieces;
}

std::string SentencePieceModel::decode(const std::vector<int32_t>& ids) const {
  auto buf = fetch<char>(
      [&](char* out, size_t cap, char* e, size_t ecap) {
        return fns_.decode(handle_, ids.data(), ids.size(), out, cap, e, ecap);
      },
      path_);
  return std::string(buf.begin(), buf.end());
}

}  // namespace autopeft::model
