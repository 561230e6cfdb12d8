/* The C interface of the sentencepiece module (libautopeft_spm.so).
 *
 * Debian's libsentencepiece carries its own protobuf and crashes any process that also loads
 * LibTorch. The module wraps sentencepiece behind these plain C functions and is loaded with
 * dlmopen(LM_ID_NEWLM) into its own link namespace (model/spm_library.cpp), so the two never
 * share symbols. Only C types cross the boundary; memory is owned by the side that allocated it.
 */
#ifndef AUTOPEFT_SPM_MODULE_H
#define AUTOPEFT_SPM_MODULE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define APSPM_ABI_VERSION 2

/* Errors come back through the caller's buffer `err` (NUL-terminated, cut to err_cap bytes).
 * The module keeps no state of its own: no globals, no thread_local (a thread_local with a
 * destructor in a dlmopen namespace crashed at exit on Ubuntu 24.04's glibc). */

/* Version of this interface; the loader refuses a module with another one. */
int apspm_abi_version(void);

/* Loads a .model file; NULL on error. */
void* apspm_load(const char* model_path, char* err, size_t err_cap);
void apspm_free(void* processor);

int apspm_vocab_size(void* processor);
/* unk, bos, eos, pad ids (-1 where the model has none). Returns 0. */
int apspm_special_ids(void* processor, int32_t* unk, int32_t* bos, int32_t* eos, int32_t* pad);
/* Piece id, or the unk id for an unknown piece. */
int32_t apspm_piece_to_id(void* processor, const char* piece, size_t len);

/* The following write at most `cap` elements (bytes for text) to `out` and return the full
 * length the result needs, or -1 on error: a caller whose buffer was too small calls again. */
long apspm_encode(void* processor, const char* text, size_t len, int32_t* out, size_t cap, char* err,
                  size_t err_cap);
long apspm_encode_pieces(void* processor, const char* text, size_t len, char* out, size_t cap, char* err,
                         size_t err_cap);
long apspm_decode(void* processor, const int32_t* ids, size_t n, char* out, size_t cap, char* err,
                  size_t err_cap);
long apspm_id_to_piece(void* processor, int32_t id, char* out, size_t cap, char* err, size_t err_cap);

/* Trains a model: `args` in sentencepiece's "--input=... --model_prefix=..." form. 0 on success. */
int apspm_train(const char* args, char* err, size_t err_cap);

#ifdef __cplusplus
}
#endif

#endif
