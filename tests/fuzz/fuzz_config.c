/* The configuration file reader: the INI reader feeding the key table. */
#include <stdint.h>
#include <stdio.h>

#include "common/config.h"
#include "common/ini.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_key(void *user, const char *section, const char *key, const char *value, char *err,
                  size_t errlen)
{
    char dotted[512];
    snprintf(dotted, sizeof(dotted), "%s.%s", section, key);
    return sd_config_set(user, dotted, value, "fuzz", err, errlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sd_config *config = sd_config_new();
    if (!config)
        return 0;
    char err[256];
    if (sd_ini_parse((const char *)data, size, on_key, config, err, sizeof(err)) == 0)
        (void)sd_config_validate(config, true, err, sizeof(err));
    sd_config_free(config);
    return 0;
}
