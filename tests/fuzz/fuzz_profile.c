/* The site profile loader (and with it the INI reader) on arbitrary text. */
#include <stdint.h>
#include <stdlib.h>

#include "core/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    sp_profile *profile = sp_profile_parse((const char *)data, size, "fuzz.ini", err, sizeof(err));
    if (profile) {
        /* A loaded profile must answer questions about any url without crashing. */
        (void)sp_page_kind_of(profile, "https://dspdaily.com/news/view.php?no=1");
        (void)sp_page_kind_of(profile, "http://WWW.DSPDAILY.COM/news/index.php?section%5B0%5D=1");
        sp_profile_free(profile);
    }
    return 0;
}
