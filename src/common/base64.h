/* Base64 decoding (RFC 4648, standard alphabet, padding optional). Pure. */
#ifndef SD_COMMON_BASE64_H
#define SD_COMMON_BASE64_H

#include "common/buf.h"

/* Appends the bytes text encodes to out. Returns 0, or -1 on a character outside the alphabet. */
int sd_base64_decode(const char *text, sd_buf *out) __attribute__((warn_unused_result));

#endif
