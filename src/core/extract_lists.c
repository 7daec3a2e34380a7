/*
 * The list rules: every list on a page, wherever it stands.
 *
 * Two shapes occur, and the shape, not the header's name, decides how a list
 * is read; whether an entry has a lead decides teaser or headline:
 * - dash lists ("BEST 뉴스", "실시간뉴스" boxes, new section listings): a lone
 *   "-" line, a title, and for teasers a lead that may end in "... -" (the
 *   next title follows without a "-") or carry the entry's section glued to
 *   its end ("...- 글로벌이슈"), then "- section" lines and a date;
 * - bullet lists (old listings, "추천뉴스"): "  • title", then lines indented
 *   further: the lead, "• section" bullets and the date.
 * An entry whose title is the rendering's cut-off last line is no item
 * unless the title is long enough to be whole; a cut lead still is one.
 */
#include <stdlib.h>
#include <string.h>

#include "core/extract_internal.h"

/* A growing " > "-joined section path. */
typedef struct section_path {
    char text[EX_SECTION_MAX];
} section_path;

static void section_add(ex_ctx *ctx, section_path *path, const char *name, size_t len)
{
    while (len && name[len - 1] == ' ')
        len--;
    while (len && *name == ' ') {
        name++;
        len--;
    }
    if (!len)
        return;
    char one[128];
    if (len >= sizeof(one))
        return;
    memcpy(one, name, len);
    one[len] = '\0';
    if (sp_list_has(&ctx->profile->section_skip, one))
        return;
    /* The new listings repeat their category block; a name already there is not added again. */
    for (const char *seg = path->text; *seg;) {
        const char *sep = strstr(seg, " > ");
        size_t seg_len = sep ? (size_t)(sep - seg) : strlen(seg);
        if (seg_len == len && memcmp(seg, one, len) == 0)
            return;
        seg = sep ? sep + 3 : seg + seg_len;
    }
    size_t used = strlen(path->text);
    if (used + len + 4 >= sizeof(path->text))
        return;
    if (used)
        strcat(path->text, " > ");
    strcat(path->text, one);
}

static const char *section_or_page(ex_ctx *ctx, const section_path *path)
{
    return path->text[0] ? path->text : ctx->page_section;
}

/* The number of characters (not bytes) of a UTF-8 string. */
static size_t char_count(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* True when line i is the cut-off last line and too short to be a whole title. */
static bool title_cut_short(ex_ctx *ctx, size_t i)
{
    return ex_is_cut_line(ctx, i) &&
           char_count(ex_line(ctx, i)->text) < (size_t)ctx->profile->min_title_chars;
}

static void note_date(const char *text, int64_t *when, ex_precision *precision)
{
    int64_t at;
    ex_precision found = ex_parse_kst_date(text, &at);
    if (found != EX_TIME_NONE && *precision == EX_TIME_NONE) {
        *when = at;
        *precision = found;
    }
}

static void set_date(ex_item *item, int64_t when, ex_precision precision)
{
    if (item && precision != EX_TIME_NONE) {
        item->published_at_ms = when;
        item->precision = precision;
    }
}

/* A "- 군사·안보" line of a section listing's meta block. */
static bool is_section_line(const bl_line *line)
{
    return !line->bullet && line->len > 2 && line->text[0] == '-' && line->text[1] == ' ' &&
           line->len < 80;
}

/* A "2026.03.11 14:11" or "2024-05-23" line. */
static bool is_date_line(const bl_line *line)
{
    int64_t ignored;
    return line->len <= 24 && ex_parse_kst_date(line->text, &ignored) != EX_TIME_NONE;
}

/* Reads a meta block ("- section" lines and dates) up to the next "-" or header. */
static size_t meta_block(ex_ctx *ctx, size_t i, section_path *path, int64_t *when,
                         ex_precision *precision)
{
    while (i < ctx->n && !ex_line(ctx, i)->dash && !ex_is_list_header(ctx, i)) {
        const bl_line *meta = ex_line(ctx, i);
        if (is_section_line(meta))
            section_add(ctx, path, meta->text + 2, meta->len - 2);
        else if (is_date_line(meta))
            note_date(meta->text, when, precision);
        else if (!ex_blank(ctx, i))
            break;
        i++;
    }
    return i;
}

/*
 * Splits "lead...- 글로벌이슈" into the lead and its glued section when the
 * next line continues the meta block. Returns the length of the lead part.
 */
static size_t unglue_section(const char *lead, size_t len, const char **section, size_t *slen)
{
    const char *dash = NULL;
    for (const char *p = lead; (p = strstr(p, "- ")) != NULL; p++)
        dash = p;
    if (!dash || dash == lead)
        return len;
    const char *name = dash + 2;
    size_t name_len = len - (size_t)(name - lead);
    if (name_len == 0 || name_len > 40 || memchr(name, ' ', name_len))
        return len;
    *section = name;
    *slen = name_len;
    return (size_t)(dash - lead);
}

/* Reads a dash list starting at line i (a "-" line); returns the first line after it. */
static size_t dash_list(ex_ctx *ctx, size_t i)
{
    while (i < ctx->n && !ctx->nomem) {
        i = ex_skip_blank(ctx, i);
        if (i >= ctx->n)
            break;
        if (ex_line(ctx, i)->dash)
            i = ex_skip_blank(ctx, i + 1);
        if (i >= ctx->n || ex_is_list_header(ctx, i) || ex_is_footer(ctx, i) ||
            ex_line(ctx, i)->dash)
            break;
        size_t title_at = i++;
        const bl_line *title = ex_line(ctx, title_at);
        if (title->bullet || title->indent > 0)
            return title_at;
        /* A bare headline: the title is followed by "-", a header, the end, or directly by
         * the entry's meta block (a photo story in a section listing has no lead). */
        i = ex_skip_blank(ctx, i);
        if (i < ctx->n && (is_section_line(ex_line(ctx, i)) || is_date_line(ex_line(ctx, i)))) {
            section_path path = {{0}};
            int64_t when = 0;
            ex_precision precision = EX_TIME_NONE;
            i = meta_block(ctx, i, &path, &when, &precision);
            ex_item *item = ex_emit(ctx, EX_HEADLINE, title->text, NULL,
                                    section_or_page(ctx, &path), title->href, EX_CUT_NONE);
            set_date(item, when, precision);
            continue;
        }
        if (i >= ctx->n || ex_line(ctx, i)->dash || ex_is_list_header(ctx, i) ||
            ex_is_footer(ctx, i)) {
            if (!title_cut_short(ctx, title_at))
                ex_emit(ctx, EX_HEADLINE, title->text, NULL, NULL, title->href,
                        ex_is_cut_line(ctx, title_at) ? EX_CUT_PAGE_END : EX_CUT_NONE);
            continue;
        }
        /* A teaser: the lead, maybe ending in " -", maybe with its section glued on. */
        size_t lead_at = i++;
        const bl_line *lead = ex_line(ctx, lead_at);
        size_t lead_len = lead->len;
        ex_cut cut = ex_is_cut_line(ctx, lead_at) ? EX_CUT_PAGE_END : EX_CUT_NONE;
        bool next_title_follows = false;
        section_path path = {{0}};
        if (lead_len >= 2 && lead->text[lead_len - 1] == '-' && lead->text[lead_len - 2] == ' ') {
            lead_len -= 2;
            next_title_follows = true;
        } else if (i < ctx->n && is_section_line(ex_line(ctx, i))) {
            const char *glued;
            size_t glued_len;
            size_t kept = unglue_section(lead->text, lead_len, &glued, &glued_len);
            if (kept != lead_len) {
                section_add(ctx, &path, glued, glued_len);
                lead_len = kept;
            }
        }
        char *lead_text = strndup(lead->text, lead_len);
        if (!lead_text) {
            ctx->nomem = true;
            break;
        }
        int64_t when = 0;
        ex_precision precision = EX_TIME_NONE;
        if (!next_title_follows)
            i = meta_block(ctx, i, &path, &when, &precision);
        if (next_title_follows && cut == EX_CUT_NONE)
            cut = EX_CUT_SITE;
        ex_item *item = ex_emit(ctx, EX_TEASER, title->text, lead_text, section_or_page(ctx, &path),
                                title->href, cut);
        set_date(item, when, precision);
        free(lead_text);
        if (i < ctx->n && !ex_line(ctx, i)->dash && !next_title_follows)
            break;
    }
    return i;
}

/* Reads a bullet list whose first entry is line i; returns the first line after it. */
static size_t bullet_list(ex_ctx *ctx, size_t i)
{
    uint16_t indent = ex_line(ctx, i)->indent;
    while (i < ctx->n && !ctx->nomem) {
        const bl_line *title = ex_line(ctx, i);
        if (!title->bullet || title->indent != indent)
            break;
        size_t title_at = i++;
        sd_buf lead;
        sd_buf_init(&lead);
        section_path path = {{0}};
        int64_t when = 0;
        ex_precision precision = EX_TIME_NONE;
        size_t last = title_at;
        while (i < ctx->n) {
            const bl_line *line = ex_line(ctx, i);
            if (ex_blank(ctx, i)) {
                size_t next = ex_skip_blank(ctx, i);
                if (next < ctx->n && ex_line(ctx, next)->indent > indent) {
                    i = next;
                    continue;
                }
                break;
            }
            if (line->indent <= indent)
                break;
            if (line->bullet) {
                section_add(ctx, &path, line->text, line->len);
            } else if (is_date_line(line)) {
                note_date(line->text, &when, &precision);
            } else {
                if (lead.len)
                    sd_buf_append_char(&lead, '\n');
                sd_buf_append(&lead, line->text, line->len);
            }
            last = i++;
        }
        if (lead.failed) {
            ctx->nomem = true;
        } else if (lead.len) {
            ex_item *item =
                ex_emit(ctx, EX_TEASER, title->text, lead.data, section_or_page(ctx, &path),
                        title->href, ex_is_cut_line(ctx, last) ? EX_CUT_PAGE_END : EX_CUT_NONE);
            set_date(item, when, precision);
        } else if (!title_cut_short(ctx, title_at)) {
            ex_item *item =
                ex_emit(ctx, EX_HEADLINE, title->text, NULL, section_or_page(ctx, &path),
                        title->href, ex_is_cut_line(ctx, title_at) ? EX_CUT_PAGE_END : EX_CUT_NONE);
            set_date(item, when, precision);
        }
        sd_buf_release(&lead);
        i = ex_skip_blank(ctx, i);
    }
    return i;
}

/* "Home >  스포츠  > " gives the page's section. */
static void note_breadcrumb(ex_ctx *ctx, size_t i)
{
    const bl_line *line = ex_line(ctx, i);
    for (size_t k = 0; k < ctx->profile->breadcrumb_prefixes.count; k++) {
        const char *prefix = ctx->profile->breadcrumb_prefixes.items[k];
        if (strncmp(line->text, prefix, strlen(prefix)) != 0)
            continue;
        section_path crumb = {{0}};
        const char *p = line->text + strlen(prefix);
        while (*p) {
            const char *gt = strchr(p, '>');
            size_t len = gt ? (size_t)(gt - p) : strlen(p);
            section_add(ctx, &crumb, p, len);
            p += len + (gt ? 1 : 0);
        }
        if (crumb.text[0]) {
            memcpy(ctx->page_section_buf, crumb.text, sizeof(crumb.text));
            ctx->page_section = ctx->page_section_buf;
        }
        return;
    }
}

void ex_lists(ex_ctx *ctx, size_t from)
{
    size_t i = from;
    while (i < ctx->n && !ctx->nomem) {
        const bl_line *line = ex_line(ctx, i);
        if (ctx->page->kind != SP_PAGE_ARTICLE && !line->bullet && line->indent == 0)
            note_breadcrumb(ctx, i);
        if (!ex_is_list_header(ctx, i)) {
            i++;
            continue;
        }
        size_t next = ex_skip_blank(ctx, i + 1);
        if (next >= ctx->n) {
            break;
        } else if (ex_line(ctx, next)->dash) {
            i = dash_list(ctx, next);
        } else if (ex_line(ctx, next)->bullet) {
            i = bullet_list(ctx, next);
        } else {
            i = next;
        }
        if (i == next && !ex_is_list_header(ctx, i))
            i++;
    }
}
