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

#define APSPM_ABI_VERSION 1

/* Version of this interface; the loader refuses a module with another one. */
int apspm_abi_version(void);
/* The last error of the calling thread, or "" when none. Valid until the next call. */
const char* apspm_last_error(void);

/* Loads a .model file; NULL on error. */
void* apspm_load(const char* model_path);
/* Loads a model from its serialized bytes; NULL on error. */
void* apspm_load_bytes(const char* data, size_t size);
void apspm_free(void* processor);

int apspm_vocab_size(void* processor);
/* unk, bos, eos, pad ids (-1 where the model has none). Returns 0. */
int apspm_special_ids(void* processor, int32_t* unk, int32_t* bos, int32_t* eos, int32_t* pad);
/* Piece id, or the unk id for an unknown piece. */
int32_t apspm_piece_to_id(void* processor, const char* piece, size_t len);

/* The following write at most `cap` elements (bytes for text) to `out` and return the full
 * length the result needs, or -1 on error: a caller whose buffer was too small calls again. */
long apspm_encode(void* processor, const char* text, size_t len, int32_t* out, size_t cap);
long apspm_encode_pieces(void* processor, const char* text, size_t len, char* out, size_t cap);
long apspm_decode(void* processor, const int32_t* ids, size_t n, char* out, size_t cap);
long apspm_id_to_piece(void* processor, int32_t id, char* out, size_t cap);

/* Trains a model: `args` in sentencepiece's "--input=... --model_prefix=..." form. 0 on success. */
int apspm_train(const char* args);

#ifdef __cplusplus
}
#endif

#endif
