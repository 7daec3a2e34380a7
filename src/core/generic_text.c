/*
 * The generic extractor for text renderings (gx_from_lines); see generic.h.
 * Its line classifiers live in generic_lines.c.
 *
 * A text rendering has lost its markup, so the story is found by shape: it
 * is the run of lines where long, sentence-like lines outweigh short ones.
 * Every line gets a weight (its length beyond what a menu entry, a
 * breadcrumb or a caption needs, with a bonus when it ends like a sentence;
 * links, bullets, boilerplate phrases and long lines that are not prose —
 * menus, tag clouds, tables, contact blocks — weigh against), and the run
 * with the largest sum is the body (the maximum-subarray scan of body text
 * extraction). It ends at a comment thread's heading or a copyright notice
 * wherever they stand, and at a related, share or sign-up heading unless a
 * paragraph follows it, and at a list of teasers known by their dates. When teasers and
 * menus above a short story outweigh it, the story's own header (a title, a date or byline
 * line, then paragraphs) starts it. Its edges are then refined with rules that hold for news
 * everywhere: the title, deck, date and byline lines above it become
 * fields, a dateline opening the lead ("(서울=뉴스1) 홍길동 기자 =") is moved
 * to the byline, and the body ends at a copyright line or a share, related
 * or footer block. Inside it, photo captions and their credits, "AI 요약"
 * boxes, subscription prompts and app banners are dropped.
 */
#include "core/generic.h"
#include "core/generic_text_internal.h"
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- The scan --------------------------------------------------------------------------- */

typedef struct tline {
    const char *text;
    size_t len, chars;
    long weight;
    bool blank, drop;
} tline;

static long line_weight(const bl_line *line, const tline *t)
{
    if (t->blank)
        return -2;
    long units = (long)gxt_units_of(t->text);
    if (line->href)
        return -(units + 20);
    /* A bullet must be long to count: menus are bullets, story points are sentences. */
    if (line->bullet || gxt_list_marker(t->text))
        return units > 120 && gxt_sentence_end(t->text, t->len) ? units - 90 : -(units / 2 + 20);
    if (gxt_is_end_line(t->text, t->chars) || gxt_is_noise_line(t->text, t->chars) ||
        gxt_is_legal_line(t->text) || gxt_is_cookie_line(t->text))
        return -40;
    long w = units - 45;
    if (gxt_sentence_end(t->text, t->len))
        w += 25;
    if (w > 0) {
        shape sh = gxt_shape_of(t->text);
        if (gxt_not_prose(&sh))
            return -(10 + units / 8);
    }
    return w;
}

static bool title_like(const bl_line *line, const tline *l)
{
    return !l->blank && !l->drop && l->chars >= 20 && l->chars <= 200 && !line->href &&
           !line->bullet && !gxt_list_marker(l->text) && !gxt_sentence_end(l->text, l->len) &&
           !gxt_is_date_line(l->text, l->chars) && !gxt_is_byline(l->text, l->chars);
}

/*
 * A story's header inside the run: a title, then (within three lines) a date or byline line,
 * then a paragraph within four lines. When the run opens with teasers and menus that outweigh
 * a short story, the story starts after that header, which is read from the title down
 * (*header is the title's line). The lines cut must look like a page, not a
 * story: at least three that weigh against, and no fewer than those that weigh for.
 */
static size_t header_start(const bl_doc *doc, const tline *t, size_t start, size_t stop,
                           size_t *header)
{
    *header = 0;
    for (size_t i = start + 1; i < stop; i++) {
        if (t[i].blank || t[i].drop ||
            !(gxt_is_date_line(t[i].text, t[i].chars) || gxt_is_byline(t[i].text, t[i].chars)))
            continue;
        size_t title = SIZE_MAX;
        for (size_t j = i, seen = 0; j-- > start && seen < 3;) {
            if (t[j].blank)
                continue;
            /* A share bar between title and byline ("* Facebook", "* Print") is not counted. */
            const bl_line *sl = bl_at(doc, j);
            if (t[j].chars <= 20 && (sl->bullet || sl->href || gxt_list_marker(t[j].text) ||
                                     gxt_is_noise_line(t[j].text, t[j].chars) ||
                                     gxt_end_marker(t[j].text, t[j].chars) != END_NONE))
                continue;
            seen++;
            if (title_like(bl_at(doc, j), &t[j])) {
                title = j;
                break;
            }
        }
        if (title == SIZE_MAX || title <= start)
            continue;
        /* A story follows: a paragraph within four lines, and two paragraphs and 200
         * characters before the next date or byline line (a list of teasers has one under
         * each headline). */
        bool paragraph = false;
        size_t paragraphs = 0, chars = 0;
        for (size_t j = i + 1, seen = 0; j < stop; j++) {
            if (t[j].blank || t[j].drop)
                continue;
            seen++;
            bool p = t[j].weight > 0 && gxt_sentence_end(t[j].text, t[j].len);
            if (!paragraph && !p && seen >= 4)
                break;
            if (p) {
                paragraph = true;
                paragraphs++;
                chars += t[j].chars;
            } else if (gxt_is_date_line(t[j].text, t[j].chars) ||
                       gxt_is_byline(t[j].text, t[j].chars)) {
                break;
            }
        }
        if (!paragraph || paragraphs < 2 || chars < 200)
            continue;
        size_t against = 0, story = 0;
        for (size_t j = start; j < title; j++) {
            if (t[j].blank)
                continue;
            if (t[j].weight > 0)
                story++;
            else
                against++;
        }
        if (against < 3 || against < story)
            return start;
        *header = title;
        return i + 1;
    }
    return start;
}

/*
 * After the story, a date line ends it when it is "First published …", or when it heads a
 * list of teasers: another date line follows with at most one paragraph between (a headline,
 * its author, a date and a sentence, over and over — a live blog's entries hold more). The
 * cut goes back over the teaser's headline and author above the date. SIZE_MAX when the
 * story goes on.
 */
static size_t teaser_list(const bl_doc *doc, const tline *t, size_t i, size_t stop)
{
    if (strncasecmp(t[i].text, "first published", 15) != 0) {
        size_t paragraphs = 0, seen = 0;
        bool again = false;
        for (size_t j = i + 1; j < stop && seen < 8 && !again; j++) {
            if (t[j].blank || t[j].drop)
                continue;
            seen++;
            if (gxt_is_date_line(t[j].text, t[j].chars))
                again = true;
            else if (t[j].weight > 0 && ++paragraphs > 1)
                break;
        }
        if (!again || paragraphs > 1)
            return SIZE_MAX;
    }
    size_t cut = i;
    for (size_t j = i, seen = 0; j-- > 0 && seen < 2;) {
        if (t[j].blank)
            continue;
        seen++;
        const bl_line *line = bl_at(doc, j);
        if (t[j].weight > 0 && !line->bullet && !gxt_list_marker(t[j].text))
            break;
        if (t[j].chars > 200 || gxt_sentence_end(t[j].text, t[j].len))
            break;
        cut = j;
    }
    return cut;
}

/*
 * A list the story announces: a line ending in ":" ("Here are the deals:", "Dare to Play 3:"),
 * the run's last line or one of the two short lines after it, with a list item within the next
 * two lines. The list goes with the story up to its last item: bullets and numbered items
 * ("1. ", "1) "), and the short lines between them (a product's name, its price, its shop
 * link) when another item follows within six lines. A paragraph, an end marker, a copyright
 * or cookie notice ends it. Items of a word or two (a share bar's "* Facebook") are not a
 * story's list. Returns the new end of the run.
 */
static bool announces(const tline *l)
{
    /* "Related coverage:", "See also:", "Follow us on:" head a box, not the story's list. */
    static const char *const boxes[] = {"related",  "see also", "read ",       "more ",
                                        "also ",    "follow",   "recommended", "popular",
                                        "trending", "you may",  "you might",   "share"};
    for (size_t i = 0; i < sizeof(boxes) / sizeof(boxes[0]); i++)
        if (strncasecmp(l->text, boxes[i], strlen(boxes[i])) == 0)
            return false;
    size_t m = l->len;
    while (m && l->text[m - 1] == ' ')
        m--;
    return !l->blank && !l->drop && m && l->text[m - 1] == ':' && l->chars <= 600 &&
           gxt_end_marker(l->text, l->chars) == END_NONE && !gxt_is_end_line(l->text, l->chars) &&
           !gxt_is_noise_line(l->text, l->chars);
}

static bool ends_list(const tline *l)
{
    return gxt_end_marker(l->text, l->chars) != END_NONE || gxt_is_end_line(l->text, l->chars) ||
           gxt_is_legal_line(l->text) || gxt_is_cookie_line(l->text) ||
           (l->weight > 0 && l->chars > 80);
}

static size_t announced_list(const bl_doc *doc, const tline *t, size_t start, size_t stop, size_t n)
{
    /* The announcing line: the run's last line, or a short line just after the run. */
    size_t last = stop;
    while (last > start && t[last - 1].blank)
        last--;
    if (last == start)
        return stop;
    size_t at = SIZE_MAX, i = last - 1;
    for (size_t seen = 0; i < n && seen < 3; i++) {
        if (t[i].blank)
            continue;
        seen++;
        if (announces(&t[i])) {
            at = i;
            break;
        }
        if (seen > 1 && (t[i].chars > 80 || bl_at(doc, i)->href ||
                         gxt_is_item(bl_at(doc, i), t[i].text) || ends_list(&t[i])))
            break;
    }
    /* Or a line inside the run with only list lines after it (the run took a few items). */
    for (size_t k = last, seen = 0; at == SIZE_MAX && k-- > start;) {
        if (t[k].blank)
            continue;
        if (announces(&t[k])) {
            at = seen ? k : SIZE_MAX;
            break;
        }
        seen++;
        if (!gxt_is_item(bl_at(doc, k), t[k].text) && (t[k].chars > 80 || ends_list(&t[k])))
            break;
    }
    if (at == SIZE_MAX)
        return stop;
    size_t end = stop, items = 0, item_chars = 0;
    for (size_t j = at + 1, gap = 0; j < n; j++) {
        if (t[j].blank)
            continue;
        if (gxt_is_item(bl_at(doc, j), t[j].text)) {
            if (ends_list(&t[j]) && t[j].weight <= 0)
                break;
            items++;
            item_chars += t[j].chars;
            end = j + 1;
            gap = 0;
            continue;
        }
        if (ends_list(&t[j]) || t[j].chars > 120)
            break;
        /* A short line between items: kept when an item follows within six lines. */
        if (++gap > (items ? 6u : 2u))
            break;
        size_t k = j + 1, seen = 0;
        bool more = false;
        for (; k < n && seen < 6 && !more; k++) {
            if (t[k].blank)
                continue;
            seen++;
            if (ends_list(&t[k]))
                break;
            more = gxt_is_item(bl_at(doc, k), t[k].text);
        }
        if (!more) {
            /* The last item's own line (its shop link) stays, with no blank between. */
            if (items && j == end && t[j].chars <= 80 && !bl_at(doc, j - 1)->bullet &&
                t[j - 1].text[0] != '*' && t[j - 1].text[0] != '-')
                end = j + 1;
            break;
        }
    }
    if (items < 2 || item_chars < items * 20 || end <= stop)
        return stop;
    return end;
}

/*
 * A header left at the top of the run: the title, the deck, a photo's caption, a sign-up
 * prompt and then the byline ("By Jane Roe", "by Sam Writer | November 19, 2019"), within the
 * run's first seven lines and none of them long. The story starts after the byline when two
 * paragraphs (200+ characters) follow. Returns the new start of the run.
 */
static size_t lead_byline(const tline *t, size_t start, size_t stop)
{
    for (size_t i = start, seen = 0; i < stop && seen < 7; i++) {
        if (t[i].blank || t[i].drop)
            continue;
        seen++;
        if (gxt_is_byline(t[i].text, t[i].chars) ||
            (gxt_posted_by(t[i].text) && t[i].chars <= 120 &&
             !gxt_sentence_end(t[i].text, t[i].len))) {
            size_t story = 0, paragraphs = 0;
            for (size_t j = i + 1; j < stop; j++)
                if (!t[j].blank && !t[j].drop && t[j].weight > 0) {
                    story += t[j].chars;
                    paragraphs++;
                }
            return story >= 200 && paragraphs >= 2 ? i + 1 : start;
        }
        if (t[i].chars > 300)
            break;
    }
    return start;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int gx_from_lines(const bl_doc *doc, gx_article **out, char *err, size_t errlen)
{
    *out = NULL;
    gx_article *a = calloc(1, sizeof(*a));
    size_t n = bl_count(doc);
    tline *t = calloc(n ? n : 1, sizeof(*t));
    sbuf body = {0};
    if (!a || !t)
        goto nomem;
    for (size_t i = 0; i < n; i++) {
        const bl_line *line = bl_at(doc, i);
        t[i].text = line->text;
        t[i].len = line->len;
        t[i].chars = gxt_chars_of(line->text);
        t[i].blank = t[i].chars == 0;
        t[i].weight = line_weight(line, &t[i]);
    }
    /* A summary box drops its header and the lines under it up to the next blank line. */
    for (size_t i = 0; i < n; i++) {
        if (t[i].blank || !gxt_is_summary_header(t[i].text, t[i].chars))
            continue;
        t[i].drop = true;
        t[i].weight = -40;
        size_t j = i + 1;
        while (j < n && t[j].blank)
            j++;
        for (; j < n && !t[j].blank; j++) {
            t[j].drop = true;
            t[j].weight = -10;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!t[i].blank && gxt_is_caption(t[i].text, t[i].len)) {
            t[i].drop = true;
            t[i].weight = t[i].weight > 0 ? -5 : t[i].weight;
        }
    }
    /* The maximum-sum run of lines. */
    long best = 0, sum = 0;
    size_t from = 0, start = 0, stop = 0;
    for (size_t i = 0; i < n; i++) {
        if (sum <= 0) {
            sum = 0;
            from = i;
        }
        sum += t[i].weight;
        if (sum > best) {
            best = sum;
            start = from;
            stop = i + 1;
        }
    }
    const bl_meta *meta = bl_meta_of(doc);
    if (best > 0) {
        /* The body ends at the first end block inside the run that comes after most of the
         * story: an end phrase above the story (a share bar, a "sign up" prompt) is noise. */
        size_t story = 0, total = 0, paragraphs = 0;
        for (size_t i = start; i < stop; i++)
            if (!t[i].blank && !t[i].drop && t[i].weight > 0)
                total += t[i].chars;
        for (size_t i = start; i < stop; i++) {
            if (t[i].blank)
                continue;
            /* A strong end marker ends the story wherever it stands after a paragraph or two:
             * the comment thread under a short story can be longer than the story. */
            bool enough = story >= 200 && paragraphs >= 2;
            int marker = enough ? gxt_end_marker(t[i].text, t[i].chars) : END_NONE;
            if (enough && !t[i].drop && gxt_is_legal_line(t[i].text))
                marker = END_THREAD; /* the notice closes the story; what follows is the page */
            if (enough && !t[i].drop && gxt_is_author_note(t[i].text, t[i].chars))
                marker = END_THREAD; /* the writer's note closes the story */
            if (marker == END_THREAD) {
                stop = i;
                break;
            }

            if (!t[i].drop && story >= 100 && story * 2 >= total &&
                gxt_is_end_line(t[i].text, t[i].chars)) {
                stop = i;
                break;
            }
            /* A related or sign-up box can also stand between two paragraphs: it ends the
             * story only when no paragraph follows within the next lines. */
            if (marker == END_BLOCK) {
                bool resumes = false, teasers = false;
                for (size_t j = i + 1, seen = 0; j < stop && seen < 10 && !resumes && !teasers;
                     j++) {
                    if (t[j].blank)
                        continue;
                    seen++;
                    /* A long line cut short ("…") is one of the box's teasers: a box of
                     * excerpts is what follows a story, not a box inside it. */
                    teasers = t[j].chars >= 80 && (gxt_ends(t[j].text, t[j].len, "...") ||
                                                   gxt_ends(t[j].text, t[j].len, "\xe2\x80\xa6"));
                    resumes = !teasers && t[j].weight > 0 && !bl_at(doc, j)->bullet &&
                              !gxt_list_marker(t[j].text);
                }
                if (!resumes) {
                    stop = i;
                    break;
                }
                /* The box goes: its heading and its links up to the next paragraph. */
                t[i].drop = true;
                for (size_t j = i + 1; j < stop && t[j].weight <= 0; j++)
                    if (bl_at(doc, j)->bullet || bl_at(doc, j)->href || gxt_list_marker(t[j].text))
                        t[j].drop = true;
            }
            if (!t[i].drop && t[i].weight > 0) {
                story += t[i].chars;
                paragraphs++;
            }
        }
        /* A story does not end in a share bar or a box heading: what trails the last
         * paragraph of that kind goes. */
        while (stop > start) {
            const tline *l = &t[stop - 1];
            const bl_line *line = bl_at(doc, stop - 1);
            if (!l->blank && !l->drop &&
                (l->weight > 0 ||
                 !(line->bullet || line->href || gxt_list_marker(l->text) ||
                   gxt_end_marker(l->text, l->chars) != END_NONE ||
                   gxt_is_end_line(l->text, l->chars) || gxt_is_noise_line(l->text, l->chars))))
                break;
            stop--;
        }
        size_t header = 0;
        start = header_start(doc, t, start, stop, &header);
        /* A list of teasers after the story (known by their dates) ends it. */
        story = paragraphs = 0;
        for (size_t i = start; i < stop; i++) {
            if (t[i].blank || t[i].drop)
                continue;
            if (story >= 200 && paragraphs >= 2 && gxt_is_date_line(t[i].text, t[i].chars)) {
                size_t cut = teaser_list(doc, t, i, stop);
                if (cut != SIZE_MAX) {
                    stop = cut;
                    break;
                }
            }
            if (t[i].weight > 0) {
                story += t[i].chars;
                paragraphs++;
            }
        }
        /* A list the story announces with a colon goes with it. */
        stop = announced_list(doc, t, start, stop, n);
        if (!header)
            start = lead_byline(t, start, stop);
        /* Above the run: title, deck, dates and byline, read upward from the body. */
        size_t header_from = header ? header : start > 12 ? start - 12 : 0;
        for (size_t i = start; i-- > header_from;) {
            if (t[i].blank || t[i].drop)
                continue;
            const bl_line *line = bl_at(doc, i);
            if (line->href || line->bullet || gxt_list_marker(t[i].text) ||
                gxt_is_noise_line(t[i].text, t[i].chars))
                continue;
            if (gxt_is_date_line(t[i].text, t[i].chars)) {
                char iso[40];
                if (!a->byline && gxt_posted_by(t[i].text) &&
                    !(a->byline = gxt_byline_before_date(t[i].text)))
                    goto nomem;
                if (!a->published && !gxt_date_in(t[i].text) &&
                    gxt_english_date(t[i].text, iso, sizeof(iso))) {
                    if (!(a->published = strdup(iso)))
                        goto nomem;
                } else if (!a->published && gxt_date_in(t[i].text)) {
                    /* The date and a time right after it: "2025.03.14 09:12 | 수정 ..." */
                    const char *d = gxt_date_in(t[i].text);
                    size_t dl = strspn(d, "0123456789-./");
                    if (d[dl] == ' ' && gxt_is_digit(d[dl + 1]))
                        dl += 1 + strspn(d + dl + 1, "0123456789:");
                    while (dl && (d[dl - 1] == '.' || d[dl - 1] == ' '))
                        dl--;
                    a->published = strndup(d, dl);
                    if (!a->published)
                        goto nomem;
                }
                continue;
            }
            if (gxt_is_byline(t[i].text, t[i].chars)) {
                if (!a->byline && !(a->byline = gxt_byline_of(t[i].text)))
                    goto nomem;
                continue;
            }
            /* Korean headlines often end in 다 like sentences; a short line is still a title. */
            if (t[i].chars >= 8 && t[i].chars <= 200 &&
                (t[i].chars <= 60 || !gxt_sentence_end(t[i].text, t[i].len))) {
                if (!a->title) {
                    if (!(a->title = strdup(t[i].text)))
                        goto nomem;
                } else if (!a->deck) {
                    /* What was taken for the title is the deck under the real title. */
                    a->deck = a->title;
                    if (!(a->title = strdup(t[i].text)))
                        goto nomem;
                    break;
                }
            }
            if (a->title && t[i].chars > 200)
                break;
        }
        bool lead = true, crumb = false;
        for (size_t i = start; i < stop; i++) {
            if (t[i].blank || t[i].drop)
                continue;
            const bl_line *line = bl_at(doc, i);
            if (line->href || gxt_is_noise_line(t[i].text, t[i].chars) ||
                (t[i].weight < 0 && gxt_is_date_line(t[i].text, t[i].chars)))
                continue;
            const char *text = t[i].text;
            if (lead) {
                char *by = NULL;
                const char *rest = gxt_dateline(text, &by);
                if (rest) {
                    free(a->byline);
                    a->byline = by;
                    text = rest;
                }
                if (gxt_is_byline(text, t[i].chars) && t[i].weight < 0) {
                    if (!a->byline && !(a->byline = strdup(text)))
                        goto nomem;
                    continue;
                }
                /* The title or deck repeated as the run's first line stays a field. */
                if ((a->title && strcmp(text, a->title) == 0) ||
                    (a->deck && strcmp(text, a->deck) == 0))
                    continue;
                /* A breadcrumb glued to the title ("HomeNews Title") above the title. */
                size_t nx = i + 1;
                while (nx < stop && (t[nx].blank || t[nx].drop))
                    nx++;
                if (nx < stop && t[nx].len < t[i].len && t[nx].chars >= 20 &&
                    strcmp(t[i].text + t[i].len - t[nx].len, t[nx].text) == 0) {
                    crumb = true;
                    continue;
                }
                /* The line under the breadcrumb is the title it ends with. */
                if (crumb) {
                    crumb = false;
                    if (!a->title && !(a->title = strdup(text)))
                        goto nomem;
                    continue;
                }
                if (t[i].weight < 0 && t[i].chars <= 200 && !gxt_sentence_end(text, strlen(text))) {
                    if (!a->title) {
                        if (!(a->title = strdup(text)))
                            goto nomem;
                        continue;
                    }
                    if (!a->deck) {
                        if (!(a->deck = strdup(text)))
                            goto nomem;
                        continue;
                    }
                }
            }
            lead = false;
            if (body.len)
                gx__sb_put(&body, "\n", 1);
            gx__sb_put(&body, text, strlen(text));
        }
        if (body.failed)
            goto nomem;
    }
    a->body = body.s;
    body.s = NULL;
    if (!a->title && meta->og_title && !(a->title = strdup(meta->og_title)))
        goto nomem;
    if (!a->title && meta->title && !(a->title = strdup(meta->title)))
        goto nomem;
    if (!a->published && meta->published_time && !(a->published = strdup(meta->published_time)))
        goto nomem;
    a->author = a->byline ? gxt_author_of(a->byline) : dup_or_null(meta->author);
    a->modified = dup_or_null(meta->modified_time);
    a->canonical = dup_or_null(meta->canonical ? meta->canonical : meta->og_url);
    a->lang = dup_or_null(meta->lang);
    free(t);
    *out = a;
    return GX_OK;

nomem:
    free(body.s);
    free(t);
    gx_article_free(a);
    snprintf(err, errlen, "out of memory");
    return GX_ERR_NOMEM;
}
