/* The configuration file reader: the INI reader feeding the key table. */
#include <stdint.h>
#include <stdio.h>

#include "common/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sd_config *config = sd_config_new();
    if (!config)
        return 0;
    char err[256];
    if (sd_config_load_text(config, (const char *)data, size, "fuzz", err, sizeof(err)) == 0)
        (void)sd_config_validate(config, true, err, sizeof(err));
    sd_config_free(config);
    return 0;
}
