/*
 * The generic extractor for text renderings (gx_from_lines), the article's
 * shared parts (gx_article_free, gx_parse_date); see generic.h.
 *
 * A text rendering has lost its markup, so the story is found by shape: it
 * is the run of lines where long, sentence-like lines outweigh short ones.
 * Every line gets a weight (its length beyond what a menu entry, a
 * breadcrumb or a caption needs, with a bonus when it ends like a sentence;
 * links, bullets and boilerplate phrases weigh against), and the run with
 * the largest sum is the body (the maximum-subarray scan of body text
 * extraction). Its edges are then refined with rules that hold for news
 * everywhere: the title, deck, date and byline lines above it become
 * fields, a dateline opening the lead ("(서울=뉴스1) 홍길동 기자 =") is moved
 * to the byline, and the body ends at a copyright line or a share, related
 * or footer block. Inside it, photo captions and their credits, "AI 요약"
 * boxes, subscription prompts and app banners are dropped.
 */
#include "core/generic.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void gx_article_free(gx_article *a)
{
    if (!a)
        return;
    free(a->title);
    free(a->deck);
    free(a->byline);
    free(a->author);
    free(a->body);
    free(a->published);
    free(a->modified);
    free(a->canonical);
    free(a->lang);
    free(a);
}

/* ---- Dates ------------------------------------------------------------------------------ */

static int digits(const char **p, int min, int max)
{
    int value = 0, n = 0;
    while (n < max && (*p)[n] >= '0' && (*p)[n] <= '9')
        value = value * 10 + ((*p)[n++] - '0');
    if (n < min)
        return -1;
    *p += n;
    return value;
}

gx_precision gx_parse_date(const char *text, int default_offset_min, int64_t *epoch_ms)
{
    if (!text)
        return GX_TIME_NONE;
    const char *p = text;
    while (*p == ' ')
        p++;
    int year = digits(&p, 4, 4);
    if (year < 1900 || year > 2999 || (*p != '-' && *p != '.' && *p != '/'))
        return GX_TIME_NONE;
    char sep = *p++;
    int month = digits(&p, 1, 2);
    if (month < 1 || month > 12 || *p++ != sep)
        return GX_TIME_NONE;
    int day = digits(&p, 1, 2);
    if (day < 1 || day > 31)
        return GX_TIME_NONE;
    int hour = -1, minute = 0, second = 0;
    int offset = default_offset_min;
    if ((*p == 'T' || *p == ' ') && p[1] >= '0' && p[1] <= '9') {
        const char *q = p + 1;
        int h = digits(&q, 1, 2);
        if (h >= 0 && *q == ':') {
            q++;
            int m = digits(&q, 2, 2);
            if (h > 23 || m < 0 || m > 59)
                return GX_TIME_NONE;
            hour = h;
            minute = m;
            if (*q == ':') {
                q++;
                second = digits(&q, 2, 2);
                if (second < 0 || second > 60)
                    return GX_TIME_NONE;
                if (*q == '.' || *q == ',') {
                    q++;
                    while (*q >= '0' && *q <= '9')
                        q++;
                }
            }
            if (*q == 'Z' || *q == 'z') {
                offset = 0;
            } else if ((*q == '+' || *q == '-') && q[1] >= '0' && q[1] <= '9') {
                int sign = *q == '-' ? -1 : 1;
                q++;
                int oh = digits(&q, 2, 2), om = 0;
                if (*q == ':')
                    q++;
                if (*q >= '0' && *q <= '9')
                    om = digits(&q, 2, 2);
                if (oh < 0 || oh > 14 || om < 0 || om > 59)
                    return GX_TIME_NONE;
                offset = sign * (oh * 60 + om);
            }
        }
    } else if (*p >= '0' && *p <= '9') {
        return GX_TIME_NONE;
    }
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = month - 1,
                    .tm_mday = day,
                    .tm_hour = hour < 0 ? 0 : hour,
                    .tm_min = minute,
                    .tm_sec = second > 59 ? 59 : second};
    time_t seconds = timegm(&tm);
    struct tm check;
    if (!gmtime_r(&seconds, &check) || check.tm_mday != day || check.tm_mon != month - 1)
        return GX_TIME_NONE;
    *epoch_ms = ((int64_t)seconds - (int64_t)offset * 60) * 1000;
    return hour < 0 ? GX_TIME_DAY : GX_TIME_MINUTE;
}

/* ---- Line features ---------------------------------------------------------------------- */

typedef struct sbuf {
    char *s;
    size_t len, cap;
    bool failed;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->s, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->s = grown;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* Code points other than spaces: how long a line reads. */
static size_t chars_of(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xc0) != 0x80 && *p != ' ' && *p != '\t';
    return n;
}

/*
 * The length a line counts for: Hangul and CJK characters carry about as much as two Latin
 * letters, so they count twice; a 40-syllable Korean sentence weighs like an English one.
 */
static size_t units_of(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xc0) == 0x80 || *p == ' ' || *p == '\t')
            continue;
        n += *p >= 0xe1 && *p <= 0xed ? 2 : 1; /* U+1000..U+DFFF: Hangul, CJK and kana */
    }
    return n;
}

/* Ends like a sentence: . ! ? (maybe followed by a quote or bracket), 다, 요, 。 */
static bool sentence_end(const char *s, size_t len)
{
    while (len &&
           (s[len - 1] == ' ' || s[len - 1] == '"' || s[len - 1] == '\'' || s[len - 1] == ')'))
        len--;
    if (ends(s, len, "\xe2\x80\x9d") || ends(s, len, "\xe2\x80\x99")) /* ” ’ */
        len -= 3;
    if (!len)
        return false;
    char c = s[len - 1];
    return c == '.' || c == '!' || c == '?' || ends(s, len, "\xe3\x80\x82") /* 。 */ ||
           ends(s, len, "\xeb\x8b\xa4") /* 다 */;
}

/* Contains any of the phrases (case-insensitive for ASCII). */
static bool has_any(const char *s, const char *const *phrases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcasestr(s, phrases[i]))
            return true;
    return false;
}

/* Phrases of the blocks that end a story: copyright, share, related, comments, footers. */
static const char *const end_phrases[] = {
    "\xe2\x93\x92", /* ⓒ */
    "\xc2\xa9",     /* © */
    "copyright",
    "all rights reserved",
    "무단전재",
    "재배포 금지",
    "재배포금지",
    "관련기사",
    "관련 기사",
    "많이 본 뉴스",
    "많이본뉴스",
    "기자의 다른 기사",
    "이 기사를 공유",
    "공유하기",
    "share this",
    "related stories",
    "related articles",
    "more stories",
    "recommended for you",
    "read next",
    "more from",
    "you may also like",
    "leave a comment",
    "comments",
    "댓글",
    "top stories",
    "trending now",
    "most popular",
    "most read",
    "sign up for",
    "추천 기사",
    "인기 기사",
    "주요뉴스",
    "실시간 인기",
    "이 시각 많이 본",
    "기사제보",
    "저작권자",
};

/* Lines that are never story text wherever they stand. */
static const char *const noise_phrases[] = {
    "구독",        "subscribe",     "앱 다운로드", "앱에서 보기",   "download the app",
    "get the app", "newsletter",    "sign up",     "log in",        "로그인",
    "회원가입",    "advertisement", "광고",        "좋아요",        "글자크기",
    "인쇄하기",    "기사 스크랩",   "facebook",    "twitter",       "카카오톡",
    "url 복사",    "클릭하세요",    "바로가기",    "click here",    "continue reading",
    "read more",   "더보기",        "기사 듣기",   "음성으로 듣기", "폰트",
};

static bool is_end_line(const char *s, size_t chars)
{
    return chars < 100 && has_any(s, end_phrases, sizeof(end_phrases) / sizeof(end_phrases[0]));
}

static bool is_noise_line(const char *s, size_t chars)
{
    return chars < 60 &&
           has_any(s, noise_phrases, sizeof(noise_phrases) / sizeof(noise_phrases[0]));
}

/* "AI 요약", "AI Summary", "3줄 요약": a box of machine-made bullet points, not the story. */
static bool is_summary_header(const char *s, size_t chars)
{
    return chars < 30 &&
           (strcasestr(s, "AI 요약") || strcasestr(s, "AI요약") || strcasestr(s, "ai summary") ||
            strcasestr(s, "key points") || strstr(s, "줄 요약") || strcmp(s, "요약") == 0);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* True when the line holds a date (YYYY-MM-DD, YYYY.MM.DD, YYYY/MM/DD) and little else. */
static const char *date_in(const char *s)
{
    for (const char *p = s; *p; p++) {
        if (is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2]) && is_digit(p[3]) &&
            (p[4] == '-' || p[4] == '.' || p[4] == '/') && is_digit(p[5]) &&
            (p == s || !is_digit(p[-1]))) {
            int64_t ms;
            if (gx_parse_date(p, 540, &ms) != GX_TIME_NONE)
                return p;
        }
    }
    return NULL;
}

static bool is_date_line(const char *s, size_t chars)
{
    return chars < 80 && date_in(s) != NULL;
}

/*
 * A photo caption or credit: "▲ ...", "[사진=...]", "(사진=...)" at the end, a line ending in
 * "2024.5.23/뉴스1" (the date and agency agencies close captions with), "ⓒ 뉴스1 홍길동 기자",
 * "Photo: ...", "Image: ...". A caption that opens with an agency tag just like a lead
 * ("(서울=뉴스1) 홍길동 기자 = ...") is known by these endings.
 */
static bool is_caption(const char *s, size_t len)
{
    if (starts(s, "\xe2\x96\xb2") || starts(s, "\xe2\x96\xb3") || starts(s, "\xe2\x96\xb6 ") ||
        starts(s, "[사진") || starts(s, "(사진") || starts(s, "사진=") || starts(s, "사진 =") ||
        starts(s, "Photo:") || starts(s, "Image:") || starts(s, "Credit:") ||
        starts(s, "Photograph:"))
        return true;
    while (len && s[len - 1] == ' ')
        len--;
    if (len > 2 && s[len - 1] == ')') {
        const char *open = NULL;
        for (const char *p = s + len - 1; p > s && s + len - p < 120; p--)
            if (*p == '(') {
                open = p;
                break;
            }
        if (open && (starts(open, "(사진") || starts(open, "(그래픽") || strstr(open, "Photo") ||
                     strstr(open, "Getty Images") || strstr(open, "Image:")))
            return true;
    }
    /* "... 2024.5.23/뉴스1" and "... 2024.05.23. 홍길동 기자": a photo's date and credit. */
    const char *slash = NULL;
    for (const char *p = s + len; p > s && s + len - p < 40; p--)
        if (*p == '/') {
            slash = p;
            break;
        }
    if (slash && slash - s >= 8 && is_digit(slash[-1])) {
        const char *d = slash - 1;
        while (d > s && (is_digit(d[-1]) || d[-1] == '.'))
            d--;
        int dots = 0;
        for (const char *q = d; q < slash; q++)
            dots += *q == '.';
        if (dots >= 2)
            return true;
    }
    return (starts(s, "\xe2\x93\x92") || starts(s, "\xc2\xa9")) && chars_of(s) < 40;
}

/* ---- The dateline ----------------------------------------------------------------------- */

/*
 * Finds a Korean agency dateline at the start of a lead: "(서울=뉴스1) 홍길동 기자 =",
 * "[서울=뉴시스]홍길동 기자 =", "(서울=연합뉴스) 홍길동 김철수 기자 =". Returns where the
 * story starts after it, or NULL; the byline ("홍길동 기자") goes to *byline (owned).
 */
static const char *dateline(const char *s, char **byline)
{
    *byline = NULL;
    char close = s[0] == '(' ? ')' : s[0] == '[' ? ']' : '\0';
    if (!close)
        return NULL;
    const char *end = strchr(s, close);
    if (!end || end - s > 60 || !memchr(s, '=', (size_t)(end - s)))
        return NULL;
    const char *p = end + 1;
    while (*p == ' ')
        p++;
    const char *eq = strstr(p, " =");
    if (!eq)
        eq = strstr(p, "=");
    const char *who_end = eq;
    if (!eq || eq - p > 80)
        return NULL;
    while (who_end > p && who_end[-1] == ' ')
        who_end--;
    if (who_end > p)
        *byline = strndup(p, (size_t)(who_end - p));
    const char *rest = eq + (eq[0] == ' ' ? 2 : 1);
    while (*rest == ' ')
        rest++;
    return rest;
}

/* "홍길동 기자" → "홍길동"; "By Jane Roe" → "Jane Roe". Returns a new string or NULL. */
static char *author_of(const char *byline)
{
    if (!byline)
        return NULL;
    const char *p = byline;
    if (strncasecmp(p, "by ", 3) == 0)
        p += 3;
    size_t n = strlen(p);
    static const char *const titles[] = {" 기자", " 특파원", " 선임기자", " 객원기자", " 논설위원"};
    for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++) {
        const char *t = strstr(p, titles[i]);
        if (t) {
            n = (size_t)(t - p);
            break;
        }
    }
    while (n && p[n - 1] == ' ')
        n--;
    return n ? strndup(p, n) : NULL;
}

/* A byline without the e-mail address sites put after it; a new string or NULL. */
static char *byline_of(const char *line)
{
    size_t n = strlen(line);
    const char *at = strchr(line, '@');
    if (at) {
        while (at > line && at[-1] != ' ' && at[-1] != '(')
            at--;
        n = (size_t)(at - line);
    }
    while (n && (line[n - 1] == ' ' || line[n - 1] == '('))
        n--;
    return strndup(line, n ? n : strlen(line));
}

static bool is_byline(const char *s, size_t chars)
{
    if (chars > 40)
        return false;
    return strncasecmp(s, "by ", 3) == 0 || strstr(s, " 기자") || strstr(s, " 특파원") ||
           strstr(s, "기자 ") == s;
}

/*
 * The length of a list marker opening a line: "* ", "+ ", "- ", "• ", "· " (how text renderers
 * draw bullets) or "12. "; 0 when there is none.
 */
static size_t list_marker(const char *s)
{
    if ((s[0] == '*' || s[0] == '+' || s[0] == '-') && (s[1] == ' ' || s[1] == '\0'))
        return s[1] ? 2 : 1;
    if ((starts(s, "\xe2\x80\xa2") || starts(s, "\xc2\xb7"))) /* • · */
        return s[0] == '\xc2' ? 2 : 3;
    size_t n = 0;
    while (n < 3 && is_digit(s[n]))
        n++;
    return n && s[n] == '.' && s[n + 1] == ' ' ? n + 2 : 0;
}

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
    long units = (long)units_of(t->text);
    if (line->href)
        return -(units + 20);
    /* A bullet must be long to count: menus are bullets, story points are sentences. */
    if (line->bullet || list_marker(t->text))
        return units > 120 && sentence_end(t->text, t->len) ? units - 90 : -(units / 2 + 20);
    if (is_end_line(t->text, t->chars) || is_noise_line(t->text, t->chars))
        return -40;
    long w = units - 45;
    if (sentence_end(t->text, t->len))
        w += 25;
    return w;
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
        t[i].chars = chars_of(line->text);
        t[i].blank = t[i].chars == 0;
        t[i].weight = line_weight(line, &t[i]);
    }
    /* A summary box drops its header and the lines under it up to the next blank line. */
    for (size_t i = 0; i < n; i++) {
        if (t[i].blank || !is_summary_header(t[i].text, t[i].chars))
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
        if (!t[i].blank && is_caption(t[i].text, t[i].len)) {
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
        size_t story = 0, total = 0;
        for (size_t i = start; i < stop; i++)
            if (!t[i].blank && !t[i].drop && t[i].weight > 0)
                total += t[i].chars;
        for (size_t i = start; i < stop; i++) {
            if (t[i].blank)
                continue;
            if (story >= 100 && story * 2 >= total && is_end_line(t[i].text, t[i].chars)) {
                stop = i;
                break;
            }
            if (!t[i].drop && t[i].weight > 0)
                story += t[i].chars;
        }
        /* Above the run: title, deck, dates and byline, read upward from the body. */
        size_t header_from = start > 12 ? start - 12 : 0;
        for (size_t i = start; i-- > header_from;) {
            if (t[i].blank || t[i].drop)
                continue;
            const bl_line *line = bl_at(doc, i);
            if (line->href || line->bullet || list_marker(t[i].text) ||
                is_noise_line(t[i].text, t[i].chars))
                continue;
            if (is_date_line(t[i].text, t[i].chars)) {
                if (!a->published) {
                    /* The date and a time right after it: "2025.03.14 09:12 | 수정 ..." */
                    const char *d = date_in(t[i].text);
                    size_t dl = strspn(d, "0123456789-./");
                    if (d[dl] == ' ' && is_digit(d[dl + 1]))
                        dl += 1 + strspn(d + dl + 1, "0123456789:");
                    while (dl && (d[dl - 1] == '.' || d[dl - 1] == ' '))
                        dl--;
                    a->published = strndup(d, dl);
                    if (!a->published)
                        goto nomem;
                }
                continue;
            }
            if (is_byline(t[i].text, t[i].chars)) {
                if (!a->byline && !(a->byline = byline_of(t[i].text)))
                    goto nomem;
                continue;
            }
            /* Korean headlines often end in 다 like sentences; a short line is still a title. */
            if (t[i].chars >= 8 && t[i].chars <= 200 &&
                (t[i].chars <= 60 || !sentence_end(t[i].text, t[i].len))) {
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
        bool lead = true;
        for (size_t i = start; i < stop; i++) {
            if (t[i].blank || t[i].drop)
                continue;
            const bl_line *line = bl_at(doc, i);
            if (line->href || is_noise_line(t[i].text, t[i].chars) ||
                (t[i].weight < 0 && is_date_line(t[i].text, t[i].chars)))
                continue;
            const char *text = t[i].text;
            if (lead) {
                char *by = NULL;
                const char *rest = dateline(text, &by);
                if (rest) {
                    free(a->byline);
                    a->byline = by;
                    text = rest;
                }
                if (is_byline(text, t[i].chars) && t[i].weight < 0) {
                    if (!a->byline && !(a->byline = strdup(text)))
                        goto nomem;
                    continue;
                }
                /* The title or deck repeated as the run's first line stays a field. */
                if ((a->title && strcmp(text, a->title) == 0) ||
                    (a->deck && strcmp(text, a->deck) == 0))
                    continue;
                if (t[i].weight < 0 && t[i].chars <= 200 && !sentence_end(text, strlen(text))) {
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
                sb_put(&body, "\n", 1);
            sb_put(&body, text, strlen(text));
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
    a->author = a->byline ? author_of(a->byline) : dup_or_null(meta->author);
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
