/*
 * Site profiles from disk: every *.ini file of one folder (storyd.profile_dir, or the
 * installed profiles, or the source tree's profiles/ when storyd runs from its build folder).
 * Used by `storyd process` and by the daemon, at start and on SIGHUP.
 */
#ifndef SD_DAEMON_PROFILE_FILES_H
#define SD_DAEMON_PROFILE_FILES_H

#include <stddef.h>

#include "common/config.h"
#include "core/profile.h"

/*
 * Loads the profiles, sorted by file name. Returns the count (>= 0) with *profiles a new array
 * (free with sd_profiles_free), or -1 with err naming the file and line.
 */
int sd_profiles_load(const sd_config *config, sp_profile ***profiles, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void sd_profiles_free(sp_profile **profiles, int count);

/* The folder sd_profiles_load reads. */
const char *sd_profiles_dir(const sd_config *config);

#endif
