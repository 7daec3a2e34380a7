/*
 * The article rules: find the page's own story among the templates the
 * profile describes.
 *
 * - Login header: a login prompt, the title, meta bullets (byline, "입력"
 *   date and time, comment counter), images and captions, the body.
 * - Legacy mail form: "기사제목 {title}" first, the form, "기사입력" date,
 *   share bullets, the body up to the copyright line.
 * - Old template: "• 최종편집 {page date}", the body, "태그", then a mail
 *   form whose "기사제목" line is the only place the title appears.
 * - Body first: the body with no title, up to the footer or a list header.
 *
 * Wherever the body starts, it ends at the copyright footer, an end marker
 * or a list header; the footer names the page's brand.
 */
#include <stdlib.h>
#include <string.h>

#include "core/extract_internal.h"

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The text after a marker at the start of s ("기사제목 X" gives "X"), or NULL. */
static const char *after_marker(const sp_list *markers, const char *s)
{
    for (size_t k = 0; k < markers->count; k++) {
        size_t ml = strlen(markers->items[k]);
        if (strncmp(s, markers->items[k], ml) == 0 && (s[ml] == ' ' || s[ml] == '\0')) {
            const char *rest = s + ml;
            while (*rest == ' ')
                rest++;
            return rest;
        }
    }
    return NULL;
}

/* Records the brand named by a copyright footer ("ⓒ 동포투데이 & dspdaily.com ..."). */
static void note_footer_brand(ex_ctx *ctx, const char *text)
{
    if (ctx->page->footer_brand)
        return;
    const sp_list *brands = &ctx->profile->brand_tags;
    const char *sign = strstr(text, "\xe2\x93\x92");
    if (!sign)
        return;
    sign += 3;
    while (*sign == ' ')
        sign++;
    for (size_t k = 0; k < brands->count; k++) {
        if (starts_with(sign, brands->items[k])) {
            ctx->page->footer_brand = strdup(brands->items[k]);
            if (!ctx->page->footer_brand)
                ctx->nomem = true;
            return;
        }
    }
}

/* The first h1..h3 within the next lines before the body could end, or ctx->n. */
static size_t first_heading(ex_ctx *ctx, size_t from)
{
    for (size_t h = from; h < ctx->n && h < from + 40; h++) {
        const bl_line *line = ex_line(ctx, h);
        if (ex_is_footer(ctx, h) || ex_is_list_header(ctx, h))
            break;
        if (line->heading >= 1 && line->heading <= 3)
            return h;
    }
    return ctx->n;
}

/* True for a line of an article's header that carries no story text. */
static bool header_noise(ex_ctx *ctx, size_t i, const char *title, ex_precision *precision,
                         int64_t *published)
{
    const bl_line *line = ex_line(ctx, i);
    const sp_profile *p = ctx->profile;
    if (ex_blank(ctx, i) || sp_list_has(&p->skip_lines, line->text))
        return true;
    if (ex_is_media_line(ctx, line->text))
        return ex_after_caption(ctx, line->text) == NULL;
    if (title && strcmp(line->text, title) == 0)
        return true;
    const char *date = after_marker(&p->input_date_markers, line->text);
    if (date) {
        int64_t when;
        ex_precision found = ex_parse_kst_date(date, &when);
        if (found != EX_TIME_NONE) {
            if (*precision == EX_TIME_NONE) {
                *precision = found;
                *published = when;
            }
            return true;
        }
    }
    if (after_marker(&p->meta_bullets, line->text) || sp_list_in(&p->share_markers, line->text))
        return line->len < 80;
    /* Bylines, subtitles and tool buttons come as bullets before the body starts. */
    return line->bullet;
}

/* True when line i ends an article body. */
static bool body_end(ex_ctx *ctx, size_t i)
{
    const bl_line *line = ex_line(ctx, i);
    return ex_is_footer(ctx, i) || sp_list_has(&ctx->profile->body_end_markers, line->text) ||
           after_marker(&ctx->profile->mail_title_markers, line->text) != NULL ||
           ex_is_list_header(ctx, i);
}

/* Finds the title in an old template's mail form after the body ("기사제목" then the title). */
static const char *mail_form_title(ex_ctx *ctx, size_t from)
{
    for (size_t i = from; i < ctx->n && i < from + 40; i++) {
        const char *rest = after_marker(&ctx->profile->mail_title_markers, ex_line(ctx, i)->text);
        if (!rest)
            continue;
        if (rest[0])
            return rest;
        size_t next = ex_skip_blank(ctx, i + 1);
        return next < ctx->n ? ex_line(ctx, next)->text : NULL;
    }
    return NULL;
}

size_t ex_article(ex_ctx *ctx)
{
    const sp_profile *p = ctx->profile;
    size_t i = ex_skip_blank(ctx, 0);
    const char *title = NULL;
    bool old_template = false;
    ex_precision precision = EX_TIME_NONE;
    int64_t published = 0;

    if (i < ctx->n && sp_list_has(&p->login_start, ex_line(ctx, i)->text)) {
        /* The title is the first line after the login prompt. */
        size_t end = i;
        while (end < ctx->n && end < i + 20 && !sp_list_has(&p->login_end, ex_line(ctx, end)->text))
            end++;
        i = end < ctx->n ? end + 1 : i + 1;
        while (i < ctx->n &&
               (ex_blank(ctx, i) || sp_list_has(&p->skip_lines, ex_line(ctx, i)->text)))
            i++;
        /* HTML puts menus between the prompt and the title; its heading is the title there. */
        size_t heading = first_heading(ctx, i);
        if (heading < ctx->n) {
            title = ex_line(ctx, heading)->text;
            i = heading + 1;
        } else if (i < ctx->n && !body_end(ctx, i)) {
            title = ex_line(ctx, i++)->text;
        }
    } else if (i < ctx->n && after_marker(&p->mail_title_markers, ex_line(ctx, i)->text)) {
        const char *rest = after_marker(&p->mail_title_markers, ex_line(ctx, i)->text);
        i++;
        if (!rest[0] && i < ctx->n)
            rest = ex_line(ctx, i++)->text;
        title = rest;
    } else if (i < ctx->n && ex_line(ctx, i)->bullet &&
               after_marker(&p->page_edit_markers, ex_line(ctx, i)->text)) {
        old_template = true;
        i++;
    } else {
        /* An HTML page names its title in a heading before the body. */
        size_t heading = first_heading(ctx, i);
        if (heading < ctx->n) {
            title = ex_line(ctx, heading)->text;
            i = heading + 1;
        }
    }

    /* The header: meta bullets, images, captions, dates. */
    while (i < ctx->n && !body_end(ctx, i) && header_noise(ctx, i, title, &precision, &published))
        i++;

    /* The body, up to its end marker. */
    sd_buf body;
    sd_buf_init(&body);
    bool reached_end = true;
    size_t last_line = i;
    for (; i < ctx->n; i++) {
        if (body_end(ctx, i)) {
            reached_end = false;
            break;
        }
        const bl_line *line = ex_line(ctx, i);
        if (ex_blank(ctx, i))
            continue;
        const char *text = line->text;
        if (ex_is_media_line(ctx, text)) {
            /* "▲ 사진=신화통신 [동포투데이] 본문...": the caption goes, the story stays. */
            text = ex_after_caption(ctx, text);
            if (!text)
                continue;
        }
        if (body.len)
            sd_buf_append_char(&body, '\n');
        sd_buf_append_str(&body, text);
        last_line = i;
    }
    size_t after = i;
    if (i < ctx->n && ex_is_footer(ctx, i)) {
        note_footer_brand(ctx, ex_line(ctx, i)->text);
        after = i + 1;
    }
    if (old_template && !title)
        title = mail_form_title(ctx, i);
    if (!title && ctx->page->is_html && bl_meta_of(ctx->doc)->og_title)
        title = bl_meta_of(ctx->doc)->og_title;
    if (body.failed) {
        ctx->nomem = true;
    } else if (body.len >= (size_t)p->min_body_bytes) {
        ex_cut cut = reached_end && ex_is_cut_line(ctx, last_line) ? EX_CUT_PAGE_END : EX_CUT_NONE;
        ex_item *item = ex_emit(ctx, EX_ARTICLE, title, body.data, ctx->page_section,
                                ctx->page->canonical_url, cut);
        if (item) {
            /* A site-shortened lead is a teaser's business; a body ending "..." is just text. */
            if (item->cut == EX_CUT_SITE)
                item->cut = EX_CUT_NONE;
            if (precision != EX_TIME_NONE) {
                item->published_at_ms = published;
                item->precision = precision;
            }
        }
    }
    sd_buf_release(&body);
    /* The footer may come later (after a list) or its brand fills in a lead without a tag. */
    for (size_t f = after; f < ctx->n && !ctx->page->footer_brand; f++) {
        if (ex_is_footer(ctx, f))
            note_footer_brand(ctx, ex_line(ctx, f)->text);
    }
    for (size_t k = 0; k < ctx->page->n_items; k++) {
        ex_item *item = &ctx->page->items[k];
        if (item->kind == EX_ARTICLE && !item->brand && ctx->page->footer_brand) {
            item->brand = strdup(ctx->page->footer_brand);
            if (!item->brand)
                ctx->nomem = true;
        }
    }
    return after;
}
