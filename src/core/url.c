#include "core/url.h"

#include "common/error.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "core/utf8.h"

/* The parameters dropped everywhere, on top of the caller's; see url.h. */
static const char *const builtin_tracking[] = {
    "utm_*", "fbclid", "gclid", "dclid", "msclkid", "mc_cid",  "mc_eid",
    "_ga",   "igshid", "yclid", "spm",   "from",    "ref_src",
};

/*
 * The five components of RFC 3986 appendix B. Each points into the string
 * that was split; the has_ flags tell an absent component from an empty one
 * ("http://a/?" has an empty query, "http://a/" none), which resolution needs.
 */
typedef struct url_parts {
    const char *scheme, *authority, *path, *query, *fragment;
    size_t scheme_len, authority_len, path_len, query_len, fragment_len;
    bool has_scheme, has_authority, has_query, has_fragment;
} url_parts;

/* One query parameter: key and value percent-normalized, owned by the array. */
typedef struct query_param {
    char *key;
    char *value;
    bool bare;    /* written without '=' ("?print"): kept as a flag, unlike "k=" */
    size_t order; /* position in the query, so equal keys sort in writing order */
} query_param;

static bool is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_unreserved(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static bool is_sub_delim(unsigned char c)
{
    return strchr("!$&'()*+,;=", c) != NULL && c != '\0';
}

static int hex_value(unsigned char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * Copies text without what browsers ignore in an href: leading and trailing
 * spaces and control characters, and tabs and line breaks anywhere (a url
 * wrapped over two lines of HTML is still one url). Returns a new string or
 * NULL when out of memory.
 */
static char *strip_url(const char *text)
{
    size_t len = strlen(text);
    while (len > 0 && (unsigned char)text[len - 1] <= ' ')
        len--;
    while (len > 0 && (unsigned char)*text <= ' ') {
        text++;
        len--;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '\t' && text[i] != '\n' && text[i] != '\r')
            copy[n++] = text[i];
    }
    copy[n] = '\0';
    return copy;
}

/* Splits text into its components (RFC 3986 appendix B); any string splits. */
static void split_url(const char *text, url_parts *parts)
{
    memset(parts, 0, sizeof(*parts));
    const char *at = text;
    /* A scheme is ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) before the first ':', '/', '?', '#'.
     */
    if (is_alpha((unsigned char)*at)) {
        const char *end = at + 1;
        while (is_alpha((unsigned char)*end) || is_digit((unsigned char)*end) || *end == '+' ||
               *end == '-' || *end == '.')
            end++;
        if (*end == ':') {
            parts->has_scheme = true;
            parts->scheme = at;
            parts->scheme_len = (size_t)(end - at);
            at = end + 1;
        }
    }
    if (at[0] == '/' && at[1] == '/') {
        at += 2;
        parts->has_authority = true;
        parts->authority = at;
        parts->authority_len = strcspn(at, "/?#");
        at += parts->authority_len;
    }
    parts->path = at;
    parts->path_len = strcspn(at, "?#");
    at += parts->path_len;
    if (*at == '?') {
        at++;
        parts->has_query = true;
        parts->query = at;
        parts->query_len = strcspn(at, "#");
        at += parts->query_len;
    }
    if (*at == '#') {
        parts->has_fragment = true;
        parts->fragment = at + 1;
        parts->fragment_len = strlen(at + 1);
    }
}

/* Removes the last segment of out and its preceding '/' (RFC 3986 5.2.4 step C). */
static void drop_last_segment(sd_buf *out)
{
    while (out->len > 0 && out->data[out->len - 1] != '/')
        out->len--;
    if (out->len > 0)
        out->len--;
    if (out->data)
        out->data[out->len] = '\0';
}

static bool starts_with(const char *text, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(text, prefix, n) == 0;
}

static bool equals(const char *text, size_t len, const char *word)
{
    return len == strlen(word) && memcmp(text, word, len) == 0;
}

/* Appends path with its "." and ".." segments removed (RFC 3986 5.2.4) to out. */
static void remove_dot_segments(sd_buf *out, const char *in, size_t len)
{
    while (len > 0) {
        if (starts_with(in, len, "../")) {
            in += 3;
            len -= 3;
        } else if (starts_with(in, len, "./")) {
            in += 2;
            len -= 2;
        } else if (starts_with(in, len, "/./")) {
            in += 2;
            len -= 2;
        } else if (equals(in, len, "/.")) {
            sd_buf_append_char(out, '/');
            return;
        } else if (starts_with(in, len, "/../")) {
            in += 3;
            len -= 3;
            drop_last_segment(out);
        } else if (equals(in, len, "/..")) {
            drop_last_segment(out);
            sd_buf_append_char(out, '/');
            return;
        } else if (equals(in, len, ".") || equals(in, len, "..")) {
            return;
        } else {
            /* Move the first segment, with its leading '/', to the output. */
            size_t n = 1;
            while (n < len && in[n] != '/')
                n++;
            sd_buf_append(out, in, n);
            in += n;
            len -= n;
        }
    }
}

/*
 * Appends text with percent-escapes normalized (RFC 3986 6.2.2.2): an escape
 * of an unreserved character is decoded, other escapes get upper-case hex, a
 * '%' that starts no escape becomes "%25", and bytes that may not appear raw
 * (spaces, non-ASCII, '[' ']' and the other unsafe ASCII) are escaped.
 * keep_raw lists the reserved characters that stay as written.
 */
static void append_normalized(sd_buf *out, const char *text, size_t len, const char *keep_raw)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '%' && i + 2 < len && hex_value((unsigned char)text[i + 1]) >= 0 &&
            hex_value((unsigned char)text[i + 2]) >= 0) {
            c = (unsigned char)(hex_value((unsigned char)text[i + 1]) * 16 +
                                hex_value((unsigned char)text[i + 2]));
            i += 2;
            if (is_unreserved(c)) {
                sd_buf_append_char(out, (char)c);
                continue;
            }
        } else if (is_unreserved(c) || (c != '%' && c != '\0' && strchr(keep_raw, c))) {
            sd_buf_append_char(out, (char)c);
            continue;
        }
        char escape[3] = {'%', hex[c >> 4], hex[c & 15]};
        sd_buf_append(out, escape, 3);
    }
}

/* Reserved characters a path keeps raw: sub-delims, ':', '@' and '/'. */
#define PATH_RAW "!$&'()*+,;=:@/"
/* A query key or value keeps the same plus '?'; '&' cannot occur in one, '=' only in a value. */
#define QUERY_RAW "!$'()*+,;=:@/?"

static bool host_char_ok(unsigned char c)
{
    return is_unreserved(c) || is_sub_delim(c) || c == '%' || c >= 0x80;
}

/*
 * Writes the lower-cased host of authority (userinfo and port removed) to
 * host and the port digits to *port and *port_len. An IPv6 literal keeps its
 * brackets. Returns 0, or -1 with err filled when the host is missing or
 * malformed.
 */
static int parse_authority(const char *authority, size_t len, sd_buf *host, const char **port,
                           size_t *port_len, char *err, size_t errlen)
{
    /* Userinfo ends at the last '@': "user@x@host" is user "user@x". */
    for (size_t i = len; i > 0; i--) {
        if (authority[i - 1] == '@') {
            authority += i;
            len -= i;
            break;
        }
    }
    size_t host_len;
    if (len > 0 && authority[0] == '[') {
        const char *close = memchr(authority, ']', len);
        if (!close) {
            sd_set_error(err, errlen, "IPv6 literal without ']'");
            return -1;
        }
        host_len = (size_t)(close - authority) + 1;
        for (size_t i = 1; i + 1 < host_len; i++) {
            unsigned char c = (unsigned char)authority[i];
            if (hex_value(c) < 0 && c != ':' && c != '.') {
                sd_set_error(err, errlen, "invalid character in IPv6 literal");
                return -1;
            }
        }
        if (host_len == len) {
            *port = NULL;
            *port_len = 0;
        } else if (authority[host_len] == ':') {
            *port = authority + host_len + 1;
            *port_len = len - host_len - 1;
        } else {
            sd_set_error(err, errlen, "unexpected text after IPv6 literal");
            return -1;
        }
        for (size_t i = 0; i < host_len; i++)
            sd_buf_append_char(host, lower(authority[i]));
        return 0;
    }
    const char *colon = memchr(authority, ':', len);
    host_len = colon ? (size_t)(colon - authority) : len;
    *port = colon ? colon + 1 : NULL;
    *port_len = colon ? len - host_len - 1 : 0;
    if (host_len == 0) {
        sd_set_error(err, errlen, "url has no host");
        return -1;
    }
    size_t bad;
    if (!sd_utf8_valid(authority, host_len, &bad)) {
        sd_set_error(err, errlen, "host is not valid UTF-8");
        return -1;
    }
    for (size_t i = 0; i < host_len; i++) {
        if (!host_char_ok((unsigned char)authority[i])) {
            sd_set_error(err, errlen, "invalid character 0x%02x in host",
                         (unsigned char)authority[i]);
            return -1;
        }
    }
    /* Percent-escapes in a host are rare but legal; unreserved ones decode, then all is
     * lower-cased. */
    size_t from = host->len;
    append_normalized(host, authority, host_len, "!$&'()*+,;=");
    for (size_t i = from; i < host->len; i++) {
        /* Keep the hex of the remaining escapes upper-case, as everywhere else. */
        if (host->data[i] == '%')
            i += 2;
        else
            host->data[i] = lower(host->data[i]);
    }
    return 0;
}

/*
 * Strips trailing dots and leading "www." labels (unless that leaves a bare
 * top-level name). All of them, not just one, so that canonicalizing a
 * canonical url changes nothing.
 */
static void simplify_host(sd_buf *host)
{
    while (host->len > 1 && host->data[host->len - 1] == '.' && host->data[0] != '[')
        host->data[--host->len] = '\0';
    while (host->len > 4 && memcmp(host->data, "www.", 4) == 0 &&
           memchr(host->data + 4, '.', host->len - 4)) {
        memmove(host->data, host->data + 4, host->len - 4 + 1);
        host->len -= 4;
    }
}

/* Checks the port digits; returns the port, 0 for an empty port, or -1 when it is not one. */
static long parse_port(const char *port, size_t len)
{
    long value = 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit((unsigned char)port[i]))
            return -1;
        value = value * 10 + (port[i] - '0');
        if (value > 65535)
            return -1;
    }
    return value;
}

static bool is_tracking(const char *key, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *name = names[i];
        if (!name)
            continue;
        size_t name_len = strlen(name);
        if (name_len > 0 && name[name_len - 1] == '*') {
            if (strncasecmp(key, name, name_len - 1) == 0)
                return true;
        } else if (strcasecmp(key, name) == 0) {
            return true;
        }
    }
    return false;
}

static int compare_params(const void *a, const void *b)
{
    const query_param *pa = a, *pb = b;
    int by_key = strcmp(pa->key, pb->key);
    if (by_key != 0)
        return by_key;
    return pa->order < pb->order ? -1 : pa->order > pb->order;
}

static void free_params(query_param *params, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(params[i].key);
        free(params[i].value);
    }
    free(params);
}

/* Returns a buffer's contents as a new string (the buffer gives it up), or NULL on OOM. */
static char *take_string(sd_buf *buf)
{
    sd_buf_append(buf, "", 0);
    if (buf->failed) {
        sd_buf_release(buf);
        return NULL;
    }
    char *text = buf->data;
    sd_buf_init(buf);
    return text;
}

/*
 * Splits query on '&' into normalized parameters, sorted by key and, for
 * equal keys, by position. Returns the array (free_params) and its size, or
 * NULL on OOM; an empty query gives a non-NULL array of size 0.
 */
static query_param *parse_query(const char *query, size_t len, size_t *count)
{
    size_t cap = 1;
    for (size_t i = 0; i < len; i++)
        cap += query[i] == '&';
    query_param *params = calloc(cap, sizeof(*params));
    if (!params)
        return NULL;
    size_t n = 0;
    size_t at = 0;
    while (at <= len && n < cap) {
        const char *part = query + at;
        const char *amp = memchr(part, '&', len - at);
        size_t part_len = amp ? (size_t)(amp - part) : len - at;
        at += part_len + 1;
        const char *eq = memchr(part, '=', part_len);
        size_t key_len = eq ? (size_t)(eq - part) : part_len;
        if (key_len == 0)
            continue; /* "&&", "=v": nothing a server could read by name */
        sd_buf key, value;
        sd_buf_init(&key);
        sd_buf_init(&value);
        append_normalized(&key, part, key_len, QUERY_RAW);
        if (eq)
            append_normalized(&value, eq + 1, part_len - key_len - 1, QUERY_RAW);
        query_param *param = &params[n];
        param->key = take_string(&key);
        param->value = take_string(&value);
        param->bare = !eq;
        param->order = n;
        n++;
        if (!param->key || !param->value) {
            free_params(params, n);
            return NULL;
        }
    }
    qsort(params, n, sizeof(*params), compare_params);
    *count = n;
    return params;
}

/* PHP reads "a[]=1&a[]=2" as a list, so those keys repeat legitimately and all are kept. */
static bool is_list_key(const char *key)
{
    size_t len = strlen(key);
    return len >= 6 && strcmp(key + len - 6, "%5B%5D") == 0;
}

static const cu_site_rule *find_site_rule(const cu_rules *rules, const char *host, const char *path)
{
    if (!rules)
        return NULL;
    for (size_t i = 0; i < rules->n_site_rules; i++) {
        const cu_site_rule *rule = &rules->site_rules[i];
        if (rule->host && rule->path && strcasecmp(rule->host, host) == 0 &&
            strcmp(rule->path, path) == 0)
            return rule;
    }
    return NULL;
}

/*
 * Appends "?k=v&..." for the parameters that survive: the last of each
 * repeated key (PHP semantics), not "k=" (an empty form field), not a
 * tracking parameter, only the rule's parameter where a site rule applies.
 * params are sorted by key, so the output is too.
 */
static void append_query(sd_buf *out, const query_param *params, size_t n, const cu_rules *rules,
                         const cu_site_rule *rule)
{
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        const query_param *param = &params[i];
        if (i + 1 < n && strcmp(param->key, params[i + 1].key) == 0 && !is_list_key(param->key))
            continue; /* a later one wins */
        if (!param->bare && param->value[0] == '\0')
            continue;
        if (rule) {
            if (!rule->keep_param || strcmp(param->key, rule->keep_param) != 0)
                continue;
        } else if (is_tracking(param->key, builtin_tracking,
                               sizeof(builtin_tracking) / sizeof(builtin_tracking[0])) ||
                   (rules &&
                    is_tracking(param->key, rules->tracking_params, rules->n_tracking_params))) {
            continue;
        }
        sd_buf_append_char(out, first ? '?' : '&');
        first = false;
        sd_buf_append_str(out, param->key);
        if (!param->bare) {
            sd_buf_append_char(out, '=');
            sd_buf_append_str(out, param->value);
        }
    }
}

char *cu_canonical(const char *url, const cu_rules *rules, char *err, size_t errlen)
{
    char *text = NULL, *result = NULL;
    query_param *params = NULL;
    size_t n_params = 0;
    sd_buf host, path, out;
    sd_buf_init(&host);
    sd_buf_init(&path);
    sd_buf_init(&out);
    if (!url) {
        sd_set_error(err, errlen, "no url");
        goto fail;
    }
    text = strip_url(url);
    if (!text)
        goto oom;
    url_parts parts;
    split_url(text, &parts);
    if (!parts.has_scheme || !parts.has_authority) {
        sd_set_error(err, errlen, "not an absolute url");
        goto fail;
    }
    if (!(parts.scheme_len == 4 && strncasecmp(parts.scheme, "http", 4) == 0) &&
        !(parts.scheme_len == 5 && strncasecmp(parts.scheme, "https", 5) == 0)) {
        sd_set_error(err, errlen, "scheme \"%.*s\" is not http or https",
                     parts.scheme_len > 16 ? 16 : (int)parts.scheme_len, parts.scheme);
        goto fail;
    }
    const char *port;
    size_t port_len;
    if (parse_authority(parts.authority, parts.authority_len, &host, &port, &port_len, err,
                        errlen) != 0)
        goto fail;
    if (host.failed)
        goto oom;
    simplify_host(&host);
    long port_number = parse_port(port, port_len);
    if (port_number < 0) {
        sd_set_error(err, errlen, "port \"%.*s\" is not a port number",
                     port_len > 16 ? 16 : (int)port_len, port);
        goto fail;
    }

    /* Escapes first, so that "%2E%2E" is removed as the ".." it is (RFC 3986 6.2.2). */
    sd_buf escaped;
    sd_buf_init(&escaped);
    append_normalized(&escaped, parts.path, parts.path_len, PATH_RAW);
    remove_dot_segments(&path, escaped.data ? escaped.data : "", escaped.len);
    bool escaped_failed = escaped.failed;
    sd_buf_release(&escaped);
    if (path.len == 0)
        sd_buf_append_char(&path, '/');
    sd_buf_append(&path, "", 0);
    if (escaped_failed || path.failed)
        goto oom;

    params = parse_query(parts.query ? parts.query : "", parts.query_len, &n_params);
    if (!params)
        goto oom;

    sd_buf_append_str(&out, "https://");
    sd_buf_append(&out, host.data, host.len);
    /* The canonical scheme is https whatever the url said, so both default ports go. */
    if (port_number != 0 && port_number != 80 && port_number != 443)
        sd_buf_printf(&out, ":%ld", port_number);
    sd_buf_append(&out, path.data, path.len);
    append_query(&out, params, n_params, rules, find_site_rule(rules, host.data, path.data));
    result = take_string(&out);
    if (!result)
        goto oom;
    goto done;

oom:
    sd_set_error(err, errlen, "out of memory");
fail:
    result = NULL;
done:
    free_params(params, n_params);
    free(text);
    sd_buf_release(&host);
    sd_buf_release(&path);
    sd_buf_release(&out);
    return result;
}

/* Appends the merge of a relative path with the base's (RFC 3986 5.2.3) to out. */
static void merge_paths(sd_buf *out, const url_parts *base, const char *path, size_t path_len)
{
    if (base->has_authority && base->path_len == 0) {
        sd_buf_append_char(out, '/');
    } else {
        size_t keep = base->path_len;
        while (keep > 0 && base->path[keep - 1] != '/')
            keep--;
        sd_buf_append(out, base->path, keep);
    }
    sd_buf_append(out, path, path_len);
}

char *cu_resolve(const char *base, const char *ref)
{
    char *base_text = NULL, *ref_text = NULL, *result = NULL;
    sd_buf merged, out;
    sd_buf_init(&merged);
    sd_buf_init(&out);
    if (!ref)
        return NULL;
    ref_text = strip_url(ref);
    if (!ref_text)
        goto fail;
    url_parts r, b;
    split_url(ref_text, &r);
    const url_parts *authority_from = &r;
    const url_parts *scheme_from = &r;
    const char *query = r.query;
    size_t query_len = r.query_len;
    bool has_query = r.has_query;
    if (!r.has_scheme) {
        if (!base)
            goto fail;
        base_text = strip_url(base);
        if (!base_text)
            goto fail;
        split_url(base_text, &b);
        if (!b.has_scheme)
            goto fail;
        scheme_from = &b;
        if (!r.has_authority) {
            authority_from = &b;
            if (r.path_len == 0) {
                sd_buf_append(&merged, b.path, b.path_len);
                if (!r.has_query) {
                    query = b.query;
                    query_len = b.query_len;
                    has_query = b.has_query;
                }
            } else if (r.path[0] == '/') {
                remove_dot_segments(&merged, r.path, r.path_len);
            } else {
                sd_buf path;
                sd_buf_init(&path);
                merge_paths(&path, &b, r.path, r.path_len);
                remove_dot_segments(&merged, path.data ? path.data : "", path.len);
                if (path.failed)
                    merged.failed = true;
                sd_buf_release(&path);
            }
        }
    }
    if (authority_from == &r)
        remove_dot_segments(&merged, r.path, r.path_len);

    sd_buf_append(&out, scheme_from->scheme, scheme_from->scheme_len);
    sd_buf_append_char(&out, ':');
    if (authority_from->has_authority) {
        sd_buf_append_str(&out, "//");
        sd_buf_append(&out, authority_from->authority, authority_from->authority_len);
    }
    sd_buf_append(&out, merged.data, merged.len);
    if (has_query) {
        sd_buf_append_char(&out, '?');
        sd_buf_append(&out, query, query_len);
    }
    if (r.has_fragment) {
        sd_buf_append_char(&out, '#');
        sd_buf_append(&out, r.fragment, r.fragment_len);
    }
    if (merged.failed)
        out.failed = true;
    result = take_string(&out);

fail:
    free(base_text);
    free(ref_text);
    sd_buf_release(&merged);
    sd_buf_release(&out);
    return result;
}

int cu_host(const char *url, char *out, size_t outlen)
{
    if (!url || !out || outlen == 0)
        return -1;
    char *text = strip_url(url);
    if (!text)
        return -1;
    int rc = -1;
    sd_buf host;
    sd_buf_init(&host);
    url_parts parts;
    split_url(text, &parts);
    const char *port;
    size_t port_len;
    if (!parts.has_scheme || !parts.has_authority ||
        parse_authority(parts.authority, parts.authority_len, &host, &port, &port_len, NULL, 0) !=
            0 ||
        host.failed || host.len == 0 || host.len >= outlen)
        goto fail;
    memcpy(out, host.data, host.len);
    out[host.len] = '\0';
    rc = 0;

fail:
    sd_buf_release(&host);
    free(text);
    return rc;
}
