/*
 * Site profiles from disk: every *.ini file of one folder. The folder is
 * storyd.profile_dir, or the installed profiles, or (when storyd runs from
 * its build tree and nothing is installed) the source tree's profiles/.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/profile_files.h"

#include "common/file.h"

/* Profiles are small; a larger file is a mistake. */
#define MAX_PROFILE_BYTES (1024 * 1024)

const char *sd_profiles_dir(const sd_config *config)
{
    if (config->profile_dir && config->profile_dir[0])
        return config->profile_dir;
    struct stat st;
    if (stat(STORYD_PROFILE_DIR, &st) == 0 && S_ISDIR(st.st_mode))
        return STORYD_PROFILE_DIR;
    return STORYD_SOURCE_PROFILE_DIR;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static sp_profile *load_one(const char *path, char *err, size_t errlen)
{
    size_t len;
    char *text = sd_file_read(path, MAX_PROFILE_BYTES, &len, err, errlen);
    if (!text)
        return NULL;
    sp_profile *profile = sp_profile_parse(text, len, path, err, errlen);
    free(text);
    return profile;
}

int sd_profiles_load(const sd_config *config, sp_profile ***profiles, char *err, size_t errlen)
{
    const char *dir = sd_profiles_dir(config);
    *profiles = NULL;
    err[0] = '\0';
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "profile folder %s: %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t count = 0;
    struct dirent *entry;
    int rc = -1;
    while ((entry = readdir(d)) != NULL) {
        size_t len = strlen(entry->d_name);
        if (len < 5 || strcmp(entry->d_name + len - 4, ".ini") != 0 || entry->d_name[0] == '.')
            continue;
        char **grown = realloc(names, (count + 1) * sizeof(char *));
        if (!grown)
            goto done;
        names = grown;
        if (!(names[count] = strdup(entry->d_name)))
            goto done;
        count++;
    }
    qsort(names, count, sizeof(char *), by_name);
    *profiles = calloc(count ? count : 1, sizeof(sp_profile *));
    if (!*profiles)
        goto done;
    for (size_t i = 0; i < count; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        (*profiles)[i] = load_one(path, err, errlen);
        if (!(*profiles)[i]) {
            sd_profiles_free(*profiles, (int)i);
            *profiles = NULL;
            goto done;
        }
    }
    rc = (int)count;
done:
    if (rc < 0 && !err[0])
        snprintf(err, errlen, "out of memory");
    closedir(d);
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    return rc;
}

void sd_profiles_free(sp_profile **profiles, int count)
{
    if (!profiles)
        return;
    for (int i = 0; i < count; i++)
        sp_profile_free(profiles[i]);
    free(profiles);
}
