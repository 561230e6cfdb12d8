#pragma once
// File-system helpers that are safe in any process.
#include <string>

namespace autopeft {

// Removes a file or a directory tree; a missing path is fine. Uses nftw, not
// std::filesystem::remove_all: pip's libtorch.so exports its own copy of that symbol, built
// against another libstdc++, and the dynamic linker binds our calls to it (segfault seen with
// torch 2.11 on a CUDA machine).
void remove_tree(const std::string& path);

}  // namespace autopeft
