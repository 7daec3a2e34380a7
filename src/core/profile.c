#include "core/profile.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/ini.h"

#define LIST(section, key, field)                                                                  \
    {                                                                                              \
        section, key, offsetof(sp_profile, field)                                                  \
    }

/* Every list key of a profile: section, key, and the list it appends to. */
static const struct {
    const char *section;
    const char *key;
    size_t offset;
} list_keys[] = {
    LIST("site", "host", hosts),
    LIST("urls", "tracking", tracking_params),
    LIST("brands", "tag", brand_tags),
    LIST("brands", "publisher_suffix", publisher_suffixes),
    LIST("blocks", "teaser_list", teaser_lists),
    LIST("blocks", "headline_list", headline_lists),
    LIST("blocks", "listing_header", listing_headers),
    LIST("blocks", "section_header_suffix", section_header_suffixes),
    LIST("article", "footer", footer_markers),
    LIST("article", "login_start", login_start),
    LIST("article", "login_end", login_end),
    LIST("article", "mail_title", mail_title_markers),
    LIST("article", "body_end", body_end_markers),
    LIST("article", "skip_line", skip_lines),
    LIST("article", "page_edit", page_edit_markers),
    LIST("article", "input_date", input_date_markers),
    LIST("article", "byline_suffix", byline_suffixes),
    LIST("article", "meta_bullet", meta_bullets),
    LIST("article", "caption_prefix", caption_prefixes),
    LIST("article", "image_extension", image_extensions),
    LIST("article", "share_marker", share_markers),
    LIST("lists", "breadcrumb_prefix", breadcrumb_prefixes),
    LIST("lists", "section_skip", section_skip),
    LIST("lists", "site_cut_marker", site_cut_markers),
};

#define N_LIST_KEYS (sizeof(list_keys) / sizeof(list_keys[0]))

static const char *const page_kind_names[] = {
    [SP_PAGE_ARTICLE] = "article",
    [SP_PAGE_LISTING] = "listing",
    [SP_PAGE_SECTION] = "section",
    [SP_PAGE_OTHER] = "other",
};

const char *sp_page_kind_name(sp_page_kind kind)
{
    return kind <= SP_PAGE_OTHER ? page_kind_names[kind] : "other";
}

static int list_add(sp_list *list, const char *value)
{
    char **grown = realloc(list->items, (list->count + 1) * sizeof(char *));
    if (!grown)
        return -1;
    list->items = grown;
    list->items[list->count] = strdup(value);
    if (!list->items[list->count])
        return -1;
    list->count++;
    return 0;
}

static void list_clear(sp_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

int sp_list_has(const sp_list *list, const char *text)
{
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->items[i], text) == 0)
            return 1;
    }
    return 0;
}

int sp_list_in(const sp_list *list, const char *text)
{
    for (size_t i = 0; i < list->count; i++) {
        if (strstr(text, list->items[i]))
            return 1;
    }
    return 0;
}

/* "path" or "path?param" into a page rule. */
static int add_page_rule(sp_profile *p, sp_page_kind kind, const char *value, char *err,
                         size_t errlen)
{
    if (value[0] != '/') {
        snprintf(err, errlen, "a page rule is a path starting with '/', not '%s'", value);
        return -1;
    }
    sp_page_rule *grown = realloc(p->page_rules, (p->n_page_rules + 1) * sizeof(*grown));
    if (!grown)
        goto nomem;
    p->page_rules = grown;
    sp_page_rule *rule = &p->page_rules[p->n_page_rules];
    const char *q = strchr(value, '?');
    rule->kind = kind;
    rule->path = q ? strndup(value, (size_t)(q - value)) : strdup(value);
    rule->param = q && q[1] ? strdup(q + 1) : NULL;
    if (!rule->path || (q && q[1] && !rule->param)) {
        free(rule->path);
        free(rule->param);
        goto nomem;
    }
    p->n_page_rules++;
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* "keep_param = /news/view.php no": on that path only that parameter is kept. */
static int add_url_rule(sp_profile *p, const char *value, char *err, size_t errlen)
{
    const char *space = strchr(value, ' ');
    if (value[0] != '/' || !space || !space[1] || strchr(space + 1, ' ')) {
        snprintf(err, errlen, "keep_param is 'PATH PARAM', not '%s'", value);
        return -1;
    }
    char *path = strndup(value, (size_t)(space - value));
    int rc = path && list_add(&p->keep_param_paths, path) == 0 &&
                     list_add(&p->keep_param_names, space + 1) == 0
                 ? 0
                 : -1;
    free(path);
    if (rc != 0)
        snprintf(err, errlen, "out of memory");
    return rc;
}

static int on_profile_key(void *user, int line, const char *section, const char *key,
                          const char *value, char *err, size_t errlen)
{
    (void)line; /* sd_ini_parse puts it in front of the message. */
    sp_profile *p = user;
    for (size_t i = 0; i < N_LIST_KEYS; i++) {
        if (strcmp(list_keys[i].section, section) == 0 && strcmp(list_keys[i].key, key) == 0) {
            if (!value[0]) {
                snprintf(err, errlen, "[%s] %s: empty value", section, key);
                return -1;
            }
            if (list_add((sp_list *)((char *)p + list_keys[i].offset), value) != 0) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            return 0;
        }
    }
    if (strcmp(section, "profile") == 0) {
        char **slot = strcmp(key, "name") == 0      ? &p->name
                      : strcmp(key, "version") == 0 ? &p->version
                                                    : NULL;
        if (slot) {
            free(*slot);
            *slot = strdup(value);
            return *slot ? 0 : -1;
        }
        int *number = strcmp(key, "min_title_chars") == 0  ? &p->min_title_chars
                      : strcmp(key, "min_body_bytes") == 0 ? &p->min_body_bytes
                                                           : NULL;
        if (number) {
            char *end;
            long n = strtol(value, &end, 10);
            if (!value[0] || *end || n < 0 || n > 100000) {
                snprintf(err, errlen, "%s: '%s' is not 0..100000", key, value);
                return -1;
            }
            *number = (int)n;
            return 0;
        }
    }
    if (strcmp(section, "pages") == 0) {
        for (int kind = SP_PAGE_ARTICLE; kind <= SP_PAGE_OTHER; kind++) {
            if (strcmp(key, page_kind_names[kind]) == 0)
                return add_page_rule(p, (sp_page_kind)kind, value, err, errlen);
        }
    }
    if (strcmp(section, "urls") == 0 && strcmp(key, "keep_param") == 0)
        return add_url_rule(p, value, err, errlen);
    snprintf(err, errlen, "unknown key '%s' in [%s]", key, section);
    return -1;
}

/* Builds the cu_site_rule table: every keep_param rule for every host of the profile. */
static int build_url_rules(sp_profile *p)
{
    size_t n = p->keep_param_paths.count * p->hosts.count;
    if (n == 0)
        return 0;
    p->url_rules = calloc(n, sizeof(*p->url_rules));
    if (!p->url_rules)
        return -1;
    for (size_t h = 0; h < p->hosts.count; h++) {
        for (size_t i = 0; i < p->keep_param_paths.count; i++) {
            p->url_rules[p->n_url_rules++] = (cu_site_rule){
                .host = p->hosts.items[h],
                .path = p->keep_param_paths.items[i],
                .keep_param = p->keep_param_names.items[i],
            };
        }
    }
    return 0;
}

sp_profile *sp_profile_parse(const char *text, size_t len, const char *origin, char *err,
                             size_t errlen)
{
    sp_profile *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "%s: out of memory", origin);
        return NULL;
    }
    p->min_title_chars = 8;
    p->min_body_bytes = 80;
    char detail[512];
    int line = sd_ini_parse(text, len, on_profile_key, p, detail, sizeof(detail));
    if (line) {
        snprintf(err, errlen, "%s:%d: %s", origin, line, detail);
        goto fail;
    }
    if (!p->name || !p->version) {
        snprintf(err, errlen, "%s: [profile] needs name and version", origin);
        goto fail;
    }
    if (p->hosts.count == 0) {
        snprintf(err, errlen, "%s: [site] needs at least one host", origin);
        goto fail;
    }
    for (size_t i = 0; i < p->hosts.count; i++) {
        char *host = p->hosts.items[i];
        for (char *c = host; *c; c++)
            *c = (char)((*c >= 'A' && *c <= 'Z') ? *c + 32 : *c);
        if (strncmp(host, "www.", 4) == 0)
            memmove(host, host + 4, strlen(host + 4) + 1);
    }
    if (build_url_rules(p) != 0) {
        snprintf(err, errlen, "%s: out of memory", origin);
        goto fail;
    }
    return p;
fail:
    sp_profile_free(p);
    return NULL;
}

void sp_profile_free(sp_profile *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->version);
    for (size_t i = 0; i < N_LIST_KEYS; i++)
        list_clear((sp_list *)((char *)p + list_keys[i].offset));
    for (size_t i = 0; i < p->n_page_rules; i++) {
        free(p->page_rules[i].path);
        free(p->page_rules[i].param);
    }
    free(p->page_rules);
    list_clear(&p->keep_param_paths);
    list_clear(&p->keep_param_names);
    free(p->url_rules);
    free(p);
}

static bool host_matches(const sp_profile *p, const char *host)
{
    const char *bare = strncmp(host, "www.", 4) == 0 ? host + 4 : host;
    return sp_list_has(&p->hosts, bare);
}

int sp_serves_host(const sp_profile *profile, const char *host)
{
    return host_matches(profile, host);
}

cu_rules sp_url_rules(const sp_profile *profile)
{
    return (cu_rules){
        .site_rules = profile->url_rules,
        .n_site_rules = profile->n_url_rules,
        .tracking_params = (const char *const *)profile->tracking_params.items,
        .n_tracking_params = profile->tracking_params.count,
    };
}

/* True when the query string (without '?') has the parameter, compared after decoding %5B/%5D. */
static bool query_has_param(const char *query, const char *param)
{
    size_t plen = strlen(param);
    const char *cursor = query;
    while (cursor && *cursor) {
        const char *end = strchr(cursor, '&');
        size_t len = end ? (size_t)(end - cursor) : strlen(cursor);
        const char *eq = memchr(cursor, '=', len);
        size_t name_len = eq ? (size_t)(eq - cursor) : len;
        /* Decode the escapes PHP array parameters arrive with. */
        char name[128];
        size_t n = 0;
        for (size_t i = 0; i < name_len && n + 1 < sizeof(name); i++) {
            if (cursor[i] == '%' && i + 2 < name_len + 1 &&
                strncasecmp(cursor + i, "%5B", 3) == 0) {
                name[n++] = '[';
                i += 2;
            } else if (cursor[i] == '%' && strncasecmp(cursor + i, "%5D", 3) == 0) {
                name[n++] = ']';
                i += 2;
            } else {
                name[n++] = cursor[i];
            }
        }
        name[n] = '\0';
        if (n == plen && memcmp(name, param, plen) == 0)
            return true;
        cursor = end ? end + 1 : NULL;
    }
    return false;
}

sp_page_kind sp_page_kind_of(const sp_profile *profile, const char *url)
{
    const char *scheme_end = strstr(url, "://");
    if (!scheme_end)
        return SP_PAGE_OTHER;
    const char *host = scheme_end + 3;
    const char *path = host + strcspn(host, "/?#");
    char host_buf[256];
    size_t host_len = (size_t)(path - host);
    const char *port = memchr(host, ':', host_len);
    if (port)
        host_len = (size_t)(port - host);
    if (host_len == 0 || host_len >= sizeof(host_buf))
        return SP_PAGE_OTHER;
    for (size_t i = 0; i < host_len; i++)
        host_buf[i] = (char)((host[i] >= 'A' && host[i] <= 'Z') ? host[i] + 32 : host[i]);
    host_buf[host_len] = '\0';
    if (!host_matches(profile, host_buf))
        return SP_PAGE_OTHER;
    size_t path_len = strcspn(path, "?#");
    const char *query = path[path_len] == '?' ? path + path_len + 1 : "";
    /* Rules are tried in file order, so a more specific one (with a parameter) goes first. */
    for (size_t i = 0; i < profile->n_page_rules; i++) {
        const sp_page_rule *rule = &profile->page_rules[i];
        if (strlen(rule->path) != path_len || strncmp(rule->path, path, path_len) != 0)
            continue;
        if (rule->param && !query_has_param(query, rule->param))
            continue;
        return rule->kind;
    }
    return SP_PAGE_OTHER;
}
