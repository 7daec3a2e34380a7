#include "common/base64.h"

static int sextet(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int sd_base64_decode(const char *text, sd_buf *out)
{
    unsigned int acc = 0;
    int bits = 0;
    const char *p = text;
    for (; *p && *p != '='; p++) {
        if (*p == '\n' || *p == '\r')
            continue;
        int value = sextet(*p);
        if (value < 0)
            return -1;
        acc = (acc << 6) | (unsigned int)value;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            sd_buf_append_char(out, (char)((acc >> bits) & 0xff));
        }
    }
    while (*p == '=')
        p++;
    if (*p)
        return -1;
    return out->failed ? -1 : 0;
}
