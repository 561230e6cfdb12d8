#include "model/format/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "core/errors.h"

namespace autopeft::model {

namespace {
struct DTypeEntry {
  DType dtype;
  const char* name;
  std::size_t size;
};
constexpr DTypeEntry kDTypes[] = {
    {DType::F64, "F64", 8}, {DType::F32, "F32", 4},   {DType::F16, "F16", 2}, {DType::BF16, "BF16", 2},
    {DType::I64, "I64", 8}, {DType::I32, "I32", 4},   {DType::I16, "I16", 2}, {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},   {DType::BOOL, "BOOL", 1},
};
}  // namespace

std::string_view dtype_name(DType dtype) {
  for (const auto& e : kDTypes)
    if (e.dtype == dtype) return e.name;
  return "?";
}

std::size_t dtype_size(DType dtype) {
  for (const auto& e : kDTypes)
    if (e.dtype == dtype) return e.size;
  return 0;
}

DType parse_dtype(std::string_view name, const std::string& where) {
  for (const auto& e : kDTypes)
    if (name == e.name) return e.dtype;
  throw_user_error(where, "unsupported dtype '" + std::string(name) +
                              "' (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
}

std::int64_t TensorInfo::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

const TensorInfo* SafetensorsHeader::find(std::string_view name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

SafetensorsHeader parse_safetensors_header(const unsigned char* bytes, std::uint64_t available,
                                           std::uint64_t file_size, const std::string& source) {
  if (file_size < 8 || available < 8)
    throw_user_error(source, "not a safetensors file: " + std::to_string(file_size) +
                                 " bytes, shorter than the 8-byte header length");
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  if (n > kMaxSafetensorsHeader)
    throw_user_error(source, "safetensors header length " + std::to_string(n) + " exceeds the 100 MB limit");
  if (n > file_size - 8)
    throw_user_error(source, "safetensors header length " + std::to_string(n) + " exceeds the file (" +
                                 std::to_string(file_size) + " bytes): truncated or not safetensors");
  if (available < 8 + n) throw_user_error(source, "safetensors header not fully read");

  // Leading whitespace is accepted (newer readers do); the header must be a JSON object.
  // nlohmann keeps the last of duplicate keys; the callback sees every top-level key first.
  std::set<std::string> seen;
  const nlohmann::json::parser_callback_t no_duplicates = [&](int depth, nlohmann::json::parse_event_t event,
                                                              nlohmann::json& parsed) {
    if (event == nlohmann::json::parse_event_t::key && depth == 1 &&
        !seen.insert(parsed.get<std::string>()).second)
      throw_user_error(source, "safetensors header repeats the key '" + parsed.get<std::string>() + "'");
    return true;
  };
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes + 8, bytes + 8 + n, no_duplicates);
  } catch (const nlohmann::json::exception& e) {
    throw_user_error(source, std::string("safetensors header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) throw_user_error(source, "safetensors header is not a JSON object");

  SafetensorsHeader out;
  out.header_size = n;
  const std::uint64_t data_size = file_size - 8 - n;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const auto& v = it.value();
    const std::string where = source + ": tensor '" + name + "'";
    if (name == "__metadata__") {
      if (!v.is_object()) throw_user_error(source, "__metadata__ must be an object of strings");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          throw_user_error(source, "__metadata__ value of '" + m.key() + "' is not a string");
        out.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!v.is_object()) throw_user_error(where, "entry is not an object");
    for (const char* key : {"dtype", "shape", "data_offsets"})
      if (!v.contains(key)) throw_user_error(where, std::string("missing '") + key + "'");
    if (!v["dtype"].is_string()) throw_user_error(where, "'dtype' is not a string");
    TensorInfo info;
    info.name = name;
    info.dtype = parse_dtype(v["dtype"].get<std::string>(), where);
    if (!v["shape"].is_array()) throw_user_error(where, "'shape' is not an array");
    // numel and byte counts are checked against overflow: a hostile shape must not wrap around.
    std::uint64_t numel = 1;
    bool overflow = false;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_integer() || d.get<std::int64_t>() < 0)
        throw_user_error(where,
                         "shape " + v["shape"].dump() + " has an entry that is not a non-negative integer");
      const auto dim = d.get<std::uint64_t>();
      info.shape.push_back(static_cast<std::int64_t>(dim));
      if (dim != 0 && numel > std::numeric_limits<std::uint64_t>::max() / dim) overflow = true;
      numel *= dim;
    }
    const auto& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw_user_error(where, "'data_offsets' must be two non-negative integers, got " + off.dump());
    info.begin = off[0].get<std::uint64_t>();
    info.end = off[1].get<std::uint64_t>();
    if (info.begin > info.end || info.end > data_size)
      throw_user_error(where, "data_offsets " + off.dump() + " outside the data section of " +
                                  std::to_string(data_size) + " bytes");
    const auto elem = dtype_size(info.dtype);
    if (overflow || numel > std::numeric_limits<std::uint64_t>::max() / elem || numel * elem != info.nbytes())
      throw_user_error(where, "data_offsets " + off.dump() + " hold " + std::to_string(info.nbytes()) +
                                  " bytes, but shape " + v["shape"].dump() + " of " +
                                  std::string(dtype_name(info.dtype)) + " needs " +
                                  (overflow ? std::string("more than 2^64") : std::to_string(numel * elem)));
    out.tensors.push_back(std::move(info));
  }
  std::sort(out.tensors.begin(), out.tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin < b.begin || (a.begin == b.begin && a.end < b.end);
  });
  std::uint64_t pos = 0;
  for (const auto& t : out.tensors) {
    if (t.begin != pos)
      throw_user_error(source, "safetensors data has a " + std::string(t.begin > pos ? "gap" : "overlap") +
                                   " before tensor '" + t.name + "' (offset " + std::to_string(t.begin) +
                                   ", expected " + std::to_string(pos) + ")");
    pos = t.end;
  }
  if (pos != data_size)
    throw_user_error(source, "safetensors file is " + std::to_string(file_size) + " bytes, but header (" +
                                 std::to_string(8 + n) + ") plus tensors (" + std::to_string(pos) +
                                 ") make " + std::to_string(8 + n + pos));
  return out;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_user_error(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw_user_error(path, "not a regular file");
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
  if (size_ > 0) {
    map_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map_ == MAP_FAILED) {
      map_ = nullptr;
      ::close(fd);
      throw_user_error(path, std::string("cannot map: ") + std::strerror(errno));
    }
  }
  ::close(fd);
  try {
    header_ = parse_safetensors_header(static_cast<const unsigned char*>(map_), size_, size_, path);
  } catch (...) {
    if (map_) ::munmap(map_, size_);
    map_ = nullptr;
    throw;
  }
}

SafetensorsFile::SafetensorsFile(SafetensorsFile&& other) noexcept
    : path_(std::move(other.path_)), header_(std::move(other.header_)), map_(other.map_), size_(other.size_) {
  other.map_ = nullptr;
  other.size_ = 0;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(map_, size_);
}

const unsigned char* SafetensorsFile::data(const TensorInfo& info) const {
  return static_cast<const unsigned char*>(map_) + header_.data_start() + info.begin;
}

void write_safetensors(const std::string& path, const std::vector<TensorBytes>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<const TensorBytes*> order;
  std::set<std::string> names;
  for (const auto& t : tensors) {
    if (t.name == "__metadata__") throw_user_error(path, "a tensor may not be named __metadata__");
    if (!names.insert(t.name).second) throw_user_error(path, "tensor '" + t.name + "' given twice");
    std::uint64_t numel = 1;
    for (auto d : t.shape) {
      if (d < 0) throw_user_error(path, "tensor '" + t.name + "' has a negative dimension");
      numel *= static_cast<std::uint64_t>(d);
    }
    if (numel * dtype_size(t.dtype) != t.nbytes)
      throw_user_error(path, "tensor '" + t.name + "': " + std::to_string(t.nbytes) + " bytes for " +
                                 std::to_string(numel) + " elements of " + std::string(dtype_name(t.dtype)));
    order.push_back(&t);
  }
  std::sort(order.begin(), order.end(), [](const TensorBytes* a, const TensorBytes* b) {
    const auto sa = dtype_size(a->dtype), sb = dtype_size(b->dtype);
    return sa != sb ? sa > sb : a->name < b->name;
  });
  nlohmann::ordered_json header;
  nlohmann::ordered_json meta = {{"format", "pt"}};
  for (const auto& [k, v] : metadata) meta[k] = v;
  header["__metadata__"] = meta;
  std::uint64_t offset = 0;
  for (const auto* t : order) {
    header[t->name] = {
        {"dtype", dtype_name(t->dtype)}, {"shape", t->shape}, {"data_offsets", {offset, offset + t->nbytes}}};
    offset += t->nbytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');

  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw_user_error(path, std::string("cannot write: ") + std::strerror(errno));
  unsigned char len[8];
  std::uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>((n >> (8 * i)) & 0xff);
  bool ok = std::fwrite(len, 1, 8, f) == 8 && std::fwrite(text.data(), 1, text.size(), f) == text.size();
  for (const auto* t : order)
    if (ok && t->nbytes > 0) ok = std::fwrite(t->data, 1, t->nbytes, f) == t->nbytes;
  ok = (std::fflush(f) == 0) && ok;
  ok = (::fsync(::fileno(f)) == 0) && ok;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    throw_user_error(path, "cannot write: " + why);
  }
}

}  // namespace autopeft::model
