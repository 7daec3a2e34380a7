/* Reading a small file whole, with a bound, for configuration, profiles and secrets. */
#ifndef SD_COMMON_FILE_H
#define SD_COMMON_FILE_H

#include <stddef.h>

/*
 * Reads path whole. Returns a NUL-terminated buffer the caller frees, with its length in *len,
 * or NULL with "path: why" in err (missing, unreadable, or larger than max_bytes).
 */
char *sd_file_read(const char *path, size_t max_bytes, size_t *len, char *err, size_t errlen);

#endif
