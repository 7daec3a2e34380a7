/*
 * URL canonicalization and resolution. Pure.
 *
 * Canonical form: scheme "https" for http and https; host lower-cased,
 * trailing dot and a leading "www." removed, default ports dropped; path
 * with "." and ".." segments resolved, percent-escapes normalized (unreserved
 * characters decoded, others upper-case hex, raw '[' ']' encoded), "/" when
 * empty; query parameters: empty ones dropped ("d_code="), a repeated one
 * resolved as PHP does (the last value wins), tracking parameters dropped,
 * the rest sorted by name; fragment dropped. A site rule can keep a single
 * parameter on one path (dspdaily article pages keep only "no").
 *
 * Details: leading and trailing spaces and controls, and tabs and line breaks
 * anywhere, are ignored (as browsers read an href). Userinfo is dropped.
 * Ports 80 and 443 are both dropped, the scheme being https either way.
 * "www." is only removed when a dot remains ("www.com" stays). Parameter
 * names compare after escape normalization ("section[0]" is
 * "section%5B0%5D"). A bare parameter ("?print") is a flag and is kept;
 * "k=" is dropped. Names ending in "[]" are PHP lists: every value is kept,
 * in order.
 */
#ifndef SD_CORE_URL_H
#define SD_CORE_URL_H

#include <stddef.h>

typedef struct cu_site_rule {
    const char *host;       /* canonical host, e.g. "dspdaily.com" */
    const char *path;       /* exact path, e.g. "/news/view.php" */
    const char *keep_param; /* the only parameter kept on that path, e.g. "no" */
} cu_site_rule;

typedef struct cu_rules {
    const cu_site_rule *site_rules;
    size_t n_site_rules;
    /* Parameter names dropped everywhere; a name ending in '*' is a prefix ("utm_*"). These
     * come on top of the built-in list: utm_*, fbclid, gclid, dclid, msclkid, mc_cid, mc_eid,
     * _ga, igshid, yclid, spm, from, ref_src. */
    const char *const *tracking_params;
    size_t n_tracking_params;
} cu_rules;

/*
 * Returns the canonical form of url as a new string (free with free()), or
 * NULL with err filled when url is not an absolute http(s) url or memory runs
 * out. rules may be NULL.
 */
char *cu_canonical(const char *url, const cu_rules *rules, char *err, size_t errlen);

/*
 * Resolves ref against base (RFC 3986 section 5.2, strict) and returns a new
 * absolute url, or NULL when base is not absolute and ref is relative, or on
 * OOM. ref may be absolute, scheme-relative ("//host/x"), absolute-path or
 * relative; base may be NULL when ref is absolute. The result is not
 * canonical (its fragment is kept): pass it to cu_canonical for that.
 */
char *cu_resolve(const char *base, const char *ref);

/*
 * Copies the lower-cased host of an absolute url (without userinfo and port;
 * "www." is kept) into out. Returns 0, or -1 if there is none or it does not
 * fit in outlen bytes.
 */
int cu_host(const char *url, char *out, size_t outlen);

#endif
