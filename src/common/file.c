#include "common/file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *sd_file_read(const char *path, size_t max_bytes, size_t *len, char *err, size_t errlen)
{
    FILE *file = fopen(path, "r");
    if (!file) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = malloc(max_bytes + 1);
    size_t got = text ? fread(text, 1, max_bytes + 1, file) : 0;
    bool failed = !text || ferror(file);
    fclose(file);
    if (failed || got > max_bytes) {
        if (failed)
            snprintf(err, errlen, "%s: cannot read the file", path);
        else
            snprintf(err, errlen, "%s: larger than %zu bytes", path, max_bytes);
        free(text);
        return NULL;
    }
    text[got] = '\0';
    *len = got;
    return text;
}
