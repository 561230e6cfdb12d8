#pragma once
// safetensors files, torch-free (the peft spec and the studies read headers too).
//
// Layout: u64 little-endian N | N bytes of UTF-8 JSON header | data buffer. The header maps
// tensor names to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
// data buffer) plus an optional "__metadata__" of string to string. Readers must refuse: a
// header over 100 MB, JSON that is not an object, unknown dtypes, negative shapes, byte ranges
// that do not match dtype x shape, ranges with gaps or overlaps, duplicate names, and files whose
// size is not 8 + N + the end of the last range. The writer pads the header with spaces to a
// multiple of 8 and writes {"format": "pt"} metadata.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace autopeft::model {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

std::string_view dtype_name(DType dtype);  // "F32", ...
// Parses a safetensors dtype name; throws UserError naming `where` and the value otherwise
// (including dtypes of the format that we do not support, e.g. F8_E4M3).
DType parse_dtype(std::string_view name, const std::string& where);
std::size_t dtype_size(DType dtype);

constexpr std::uint64_t kMaxSafetensorsHeader = 100'000'000;

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;  // byte range in the data buffer
  std::uint64_t end = 0;
  std::int64_t numel() const;
  std::uint64_t nbytes() const { return end - begin; }
};

struct SafetensorsHeader {
  std::vector<TensorInfo> tensors;  // ordered by data offset
  std::map<std::string, std::string> metadata;
  std::uint64_t header_size = 0;  // N
  std::uint64_t data_start() const { return 8 + header_size; }
  const TensorInfo* find(std::string_view name) const;
};

// Validates and parses the header of a file of `file_size` bytes whose first bytes are
// `bytes` (at least min(file_size, 8 + N) of them). Errors are UserError naming `source`.
SafetensorsHeader parse_safetensors_header(const unsigned char* bytes, std::uint64_t available,
                                           std::uint64_t file_size, const std::string& source);

// A safetensors file, memory-mapped read-only and validated on open.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;
  SafetensorsFile(SafetensorsFile&& other) noexcept;

  const std::string& path() const { return path_; }
  const SafetensorsHeader& header() const { return header_; }
  const std::vector<TensorInfo>& tensors() const { return header_.tensors; }
  const TensorInfo* find(std::string_view name) const { return header_.find(name); }
  // The tensor's bytes (little-endian, row-major), valid while the file object lives.
  const unsigned char* data(const TensorInfo& info) const;

 private:
  std::string path_;
  SafetensorsHeader header_;
  void* map_ = nullptr;
  std::uint64_t size_ = 0;
};

// One tensor to write: raw little-endian row-major bytes.
struct TensorBytes {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  const void* data = nullptr;
  std::size_t nbytes = 0;
};

// Writes a safetensors file: tensors ordered by element size (largest first) then name, so every
// tensor stays aligned to its element size; header padded with spaces to a multiple of 8;
// metadata {"format": "pt"} plus `metadata`. Written to a temporary file then renamed, so a crash
// never leaves a half-written file under `path`. Throws UserError on bad input or I/O failure.
void write_safetensors(const std::string& path, const std::vector<TensorBytes>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace autopeft::model
