/*
 * The generic extractor for text renderings (gx_from_lines), the article's
 * shared parts (gx_article_free, gx_parse_date); see generic.h.
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

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
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
    /* "..." and "…": a teaser cut short, not a sentence that ends. */
    if (ends(s, len, "...") || ends(s, len, "\xe2\x80\xa6"))
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

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/*
 * A cookie notice of any length ("This website uses cookies to improve your experience ...",
 * a consent dialog's "Necessary cookies are absolutely essential ..."): the site speaking of
 * its own cookies, not a story about them.
 */
static bool is_cookie_line(const char *s)
{
    static const char *const cookie[] = {
        "website uses cookies", "site uses cookies",  "we use cookies",    "uses cookies to",
        "use of cookies",       "cookie policy",      "cookie settings",   "accept cookies",
        "accept all cookies",   "necessary cookies",  "cookies policy",    "cookie preferences",
        "cookie consent",       "consent to cookies", "analytics cookies", "these cookies",
    };
    return strcasestr(s, "cookie") && has_any(s, cookie, sizeof(cookie) / sizeof(cookie[0]));
}

/* A copyright or legal notice of any length: "© 2025 Example Media. All rights reserved. ..." */
static bool is_legal_line(const char *s)
{
    if (strcasestr(s, "all rights reserved") || strcasestr(s, "rights reserved."))
        return true;
    /* "© 2025 Example Media", "Copyright 2025 ...": a year after the sign; "© Jane Roe" is a
     * photo credit. */
    const char *p = starts(s, "\xc2\xa9")                 ? s + 2
                    : starts(s, "\xe2\x93\x92")           ? s + 3
                    : strncasecmp(s, "copyright", 9) == 0 ? s + 9
                                                          : NULL;
    if (!p)
        return false;
    while (*p == ' ' || starts(p, "\xc2\xa9"))
        p += *p == ' ' ? 1 : 2;
    return is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2]) && is_digit(p[3]);
}

/* "AI 요약", "AI Summary", "3줄 요약": a box of machine-made bullet points, not the story. */
static bool is_summary_header(const char *s, size_t chars)
{
    return chars < 30 &&
           (strcasestr(s, "AI 요약") || strcasestr(s, "AI요약") || strcasestr(s, "ai summary") ||
            strcasestr(s, "key points") || strstr(s, "줄 요약") || strcmp(s, "요약") == 0);
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

/*
 * An English date: "November 19, 2019", "Nov. 19, 2019", "Sept 3 2019", "19 November 2019",
 * then maybe a time ("at 9:45 am", "10:30 a.m. ET", "15:04 GMT"). Fills *iso with
 * "2019-11-19", "2019-11-19 09:45" or "2019-11-19 09:45-05:00" (when the zone is known) and
 * returns where the date starts, or NULL.
 */
static size_t month_at(const char *p, int *month)
{
    static const char *const names[] = {"january",   "february", "march",    "april",
                                        "may",       "june",     "july",     "august",
                                        "september", "october",  "november", "december"};
    for (int m = 0; m < 12; m++) {
        size_t full = strlen(names[m]), n = 0;
        if (strncasecmp(p, names[m], full) == 0)
            n = full;
        else if (m == 8 && strncasecmp(p, "sept", 4) == 0)
            n = 4;
        else if (strncasecmp(p, names[m], 3) == 0)
            n = 3;
        if (!n || isalpha((unsigned char)p[n]))
            continue;
        if (n < full && p[n] == '.')
            n++;
        *month = m + 1;
        return n;
    }
    return 0;
}

static const char *english_date(const char *s, char *iso, size_t isolen)
{
    for (const char *p = s; *p; p++) {
        if (p > s && isalnum((unsigned char)p[-1]))
            continue;
        int month = 0, day = -1, year = -1;
        const char *q = p;
        size_t n = month_at(q, &month);
        if (n) { /* November 19, 2019 */
            q += n;
            while (*q == ' ')
                q++;
            day = digits(&q, 1, 2);
        } else if (is_digit(*q)) { /* 19 November 2019 */
            day = digits(&q, 1, 2);
            if (day < 0 || *q != ' ')
                continue;
            q++;
            if (!(n = month_at(q, &month)))
                continue;
            q += n;
        } else {
            continue;
        }
        if (day < 1 || day > 31)
            continue;
        if (starts(q, "st") || starts(q, "nd") || starts(q, "rd") || starts(q, "th"))
            q += 2;
        if (*q == ',')
            q++;
        if (*q != ' ')
            continue;
        while (*q == ' ')
            q++;
        year = digits(&q, 4, 4);
        if (year < 1900 || year > 2999 || is_digit(*q))
            continue;
        /* A time: "at 9:45 am", ", 10:30 a.m. ET", " - 15:04 GMT", "| 3:45PM EST" */
        int hour = -1, minute = 0, offset = 0;
        bool zone = false;
        const char *t = q;
        while (*t == ' ' || *t == ',' || *t == '-' || *t == '|' || *t == '/')
            t++;
        if (strncasecmp(t, "at ", 3) == 0)
            t += 3;
        int h = digits(&t, 1, 2);
        if (h >= 0 && *t == ':') {
            t++;
            int m = digits(&t, 2, 2);
            if (m >= 0 && m < 60 && h < 24) {
                while (*t == ' ')
                    t++;
                bool am = strncasecmp(t, "am", 2) == 0 || strncasecmp(t, "a.m.", 4) == 0;
                bool pm = strncasecmp(t, "pm", 2) == 0 || strncasecmp(t, "p.m.", 4) == 0;
                if ((am || pm) && h >= 1 && h <= 12) {
                    hour = h % 12 + (pm ? 12 : 0);
                    t += t[1] == '.' ? 4 : 2;
                } else if (!am && !pm) {
                    hour = h;
                }
                minute = m;
                while (*t == ' ')
                    t++;
                static const struct {
                    const char *name;
                    int offset;
                } zones[] = {{"UTC", 0},    {"GMT", 0},    {"EST", -300}, {"EDT", -240},
                             {"CST", -360}, {"CDT", -300}, {"MST", -420}, {"MDT", -360},
                             {"PST", -480}, {"PDT", -420}, {"BST", 60},   {"CET", 60},
                             {"CEST", 120}};
                for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
                    size_t zl = strlen(zones[z].name);
                    if (strncmp(t, zones[z].name, zl) == 0 && !isalpha((unsigned char)t[zl])) {
                        offset = zones[z].offset;
                        zone = true;
                        break;
                    }
                }
            }
        }
        int64_t ms;
        char day_iso[16];
        snprintf(day_iso, sizeof(day_iso), "%04d-%02d-%02d", year, month, day);
        if (gx_parse_date(day_iso, 0, &ms) == GX_TIME_NONE)
            continue;
        if (hour < 0)
            snprintf(iso, isolen, "%s", day_iso);
        else if (!zone)
            snprintf(iso, isolen, "%s %02d:%02d", day_iso, hour, minute);
        else
            snprintf(iso, isolen, "%sT%02d:%02d:00%c%02d:%02d", day_iso, hour, minute,
                     offset < 0 ? '-' : '+', abs(offset) / 60, abs(offset) % 60);
        return p;
    }
    return NULL;
}

/* "Updated 3:45 PM EST", "Published 2 hours ago", "Posted on Monday": a time stamp line. */
static bool is_stamp_line(const char *s, size_t chars)
{
    static const char *const words[] = {"updated ", "published ", "posted ", "last updated ",
                                        "first published "};
    if (chars > 60)
        return false;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        size_t n = strlen(words[i]);
        if (strncasecmp(s, words[i], n) != 0)
            continue;
        const char *p = s + n;
        if (strncasecmp(p, "on ", 3) == 0 || strncasecmp(p, "at ", 3) == 0)
            p += 3;
        if (strncasecmp(p, "by ", 3) == 0)
            return false; /* "Posted by Jane Roe": a byline */
        return is_digit(*p) || strcasestr(p, " ago") || month_at(p, &(int){0}) ||
               strncasecmp(p, "yesterday", 9) == 0 || strncasecmp(p, "today", 5) == 0 ||
               strncasecmp(p, "mon", 3) == 0 || strncasecmp(p, "tue", 3) == 0 ||
               strncasecmp(p, "wed", 3) == 0 || strncasecmp(p, "thu", 3) == 0 ||
               strncasecmp(p, "fri", 3) == 0 || strncasecmp(p, "sat", 3) == 0 ||
               strncasecmp(p, "sun", 3) == 0;
    }
    return false;
}

/* "32M ago", "2 hours ago", "updated 15M ago", "Published 1 day ago": a relative time. */
static bool is_relative_time(const char *s, size_t chars)
{
    if (chars > 30)
        return false;
    const char *p = s;
    if (strncasecmp(p, "updated ", 8) == 0)
        p += 8;
    else if (strncasecmp(p, "published ", 10) == 0)
        p += 10;
    if (!is_digit(*p) && strncasecmp(p, "an ", 3) != 0 && strncasecmp(p, "a ", 2) != 0)
        return false;
    size_t n = strlen(p);
    return ends(p, n, " ago") || ends(p, n, " ago.");
}

/*
 * A line that is a date and little else: a numeric date in a short line, or an English date
 * near the start of a short line that does not read as a sentence ("November 19, 2019 at
 * 9:45 am", "Posted by Jane Roe on Nov. 19, 2019"), or a time stamp ("Updated 3:45 PM EST").
 */
static bool is_date_line(const char *s, size_t chars)
{
    if (chars >= 80)
        return false;
    if (date_in(s))
        return true;
    if (is_stamp_line(s, chars) || is_relative_time(s, chars))
        return true;
    char iso[40];
    const char *d = chars <= 70 ? english_date(s, iso, sizeof(iso)) : NULL;
    /* "— Jane Roe (@jroe) November 19, 2019" closes a quoted post: it is the story's. */
    if (!d || d - s > 40 || starts(s, "\xe2\x80\x94") || starts(s, "- ") || strstr(s, "(@"))
        return false;
    size_t len = strlen(s);
    return !sentence_end(s, len) || ends(s, len, "a.m.") || ends(s, len, "p.m.");
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
    /* "... in Hanoi. Jane Roe / Reuters file", "Alex Wong | Getty Images", "(Image: © NASA)",
     * "[File: Reuters]", "Credit: The Times": the photo agency's credit closing a caption. */
    if (len <= 400) {
        static const char *const credits[] = {
            "getty images",  "/ reuters", "/reuters",     "/ ap",      "/ap photo",
            "/ afp",         "/afp",      "shutterstock", "istock",    "(image:",
            "(image credit", "(credit:",  "[file:",       " credit: ", "credit..."};
        char tail[64];
        size_t from = len > 48 ? len - 48 : 0, m = 0;
        for (size_t i = from; i < len; i++)
            tail[m++] = (char)tolower((unsigned char)s[i]);
        tail[m] = '\0';
        for (size_t i = 0; i < sizeof(credits) / sizeof(credits[0]); i++) {
            const char *hit = strstr(tail, credits[i]);
            /* "/ap" and "/afp" end the line or come before " file" or a photographer */
            if (hit && (credits[i][strlen(credits[i]) - 1] != 'p' ||
                        !isalpha((unsigned char)hit[strlen(credits[i])])))
                return true;
        }
    }
    /* "ⓒ 뉴스1 홍길동 기자", "© Jane Roe A snail on a stone.": a credit, unless a notice. */
    return (starts(s, "\xe2\x93\x92") || starts(s, "\xc2\xa9")) &&
           (chars_of(s) < 40 || !is_legal_line(s));
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

static const char *posted_by(const char *s);

/* "홍길동 기자" → "홍길동"; "By Jane Roe" → "Jane Roe". Returns a new string or NULL. */
static char *author_of(const char *byline)
{
    if (!byline)
        return NULL;
    const char *p = byline;
    if (posted_by(p))
        p = posted_by(p);
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

/* "Posted by Jane Roe on …", "Written by …", "By …": where the name starts, or NULL. */
static const char *posted_by(const char *s)
{
    static const char *const lead[] = {"by ", "posted by ", "written by ", "words by ",
                                       "story by "};
    for (size_t i = 0; i < sizeof(lead) / sizeof(lead[0]); i++)
        if (strncasecmp(s, lead[i], strlen(lead[i])) == 0)
            return s + strlen(lead[i]);
    return NULL;
}

/* "Posted by Jane Roe on November 19, 2019" → "Jane Roe"; a new string, or NULL when none. */
static char *byline_before_date(const char *s)
{
    const char *name = posted_by(s);
    if (!name)
        return NULL;
    const char *end = name;
    while (*end && *end != '|' && *end != ',' && strncasecmp(end, " on ", 4) != 0 &&
           strncasecmp(end, " - ", 3) != 0 && !is_digit(*end))
        end++;
    char iso[40];
    const char *d = english_date(name, iso, sizeof(iso));
    if (d && d < end)
        end = d;
    while (end > name && end[-1] == ' ')
        end--;
    return end > name ? strndup(s, (size_t)(end - s)) : strdup(s);
}

static bool is_byline(const char *s, size_t chars)
{
    if (chars > 40)
        return posted_by(s) && chars <= 80 && !sentence_end(s, strlen(s)) &&
               strncasecmp(s, "by ", 3) != 0;
    return posted_by(s) || strstr(s, " 기자") || strstr(s, " 특파원") || strstr(s, "기자 ") == s;
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

/* A list item as text renderers draw it: a bullet, "12. " or "12) ". */
static bool is_item(const bl_line *line, const char *s)
{
    if (line->bullet || list_marker(s))
        return true;
    size_t n = 0;
    while (n < 3 && is_digit(s[n]))
        n++;
    return n && s[n] == ')' && s[n + 1] == ' ';
}

/* ---- Sentence-ness ---------------------------------------------------------------------- */

/*
 * What a line is made of, to tell prose from menus, tag clouds, tables and contact blocks that
 * are just as long: prose has punctuation every sentence or clause, is mostly letters, and its
 * words are not separated by "|", "·" or "»".
 */
typedef struct shape {
    size_t nonspace, letters, punct, seps, words, numbers, phones;
    bool email;
} shape;

static bool is_sep_at(const char *p)
{
    return *p == '|' || starts(p, "\xc2\xb7") /* · */ || starts(p, "\xe2\x80\xa2") /* • */ ||
           starts(p, "\xc2\xbb") /* » */ || starts(p, "\xe2\x80\xba") /* › */;
}

static shape shape_of(const char *s)
{
    shape sh = {0};
    const char *p = s;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        /* One word: up to the next blank. */
        const char *w = p;
        size_t digits_in = 0, letters_in = 0, dashes = 0;
        bool at = false;
        while (*p && *p != ' ' && *p != '\t') {
            unsigned char c = (unsigned char)*p;
            if (is_sep_at(p)) {
                sh.seps++;
            } else if ((c & 0xc0) == 0x80) {
                /* continuation byte */
            } else if (c >= 0xc0) {
                /* A letter outside ASCII, unless it is CJK punctuation (U+3000..U+303F) or a
                 * general punctuation mark (U+2000..U+206F). */
                if (starts(p, "\xe3\x80\x82") || starts(p, "\xe3\x80\x81")) /* 。 、 */
                    sh.punct++;
                else if (!(c == 0xe2 &&
                           ((unsigned char)p[1] == 0x80 || (unsigned char)p[1] == 0x81)))
                    letters_in++;
            } else if (isalpha(c)) {
                letters_in++;
            } else if (is_digit((char)c)) {
                digits_in++;
            } else if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?') {
                sh.punct++;
            } else if (c == '@') {
                at = true;
            } else if (c == '-' || c == '(' || c == ')' || c == '/' || c == '+') {
                dashes++;
            }
            if ((c & 0xc0) != 0x80)
                sh.nonspace++;
            p++;
        }
        if (p - w == 1 && (*w == '/' || *w == '>'))
            sh.seps++; /* " / " and " > " between menu entries and breadcrumbs */
        sh.letters += letters_in;
        sh.words++;
        if (digits_in && !letters_in)
            sh.numbers++;
        if (digits_in >= 7 && !letters_in && dashes)
            sh.phones++;
        if (at && letters_in >= 4 && memchr(w, '.', (size_t)(p - w)))
            sh.email = true;
    }
    return sh;
}

/*
 * How much a long line fails to read as prose: 0 for prose, else a penalty the caller turns
 * the line's weight negative with. A menu is separators; a tag cloud or a flattened
 * navigation is long with almost no punctuation; a table row is mostly numbers; a contact
 * block is an e-mail address or phone numbers.
 */
static bool not_prose(const shape *sh)
{
    if (sh->seps >= 3 && sh->seps * 12 >= sh->words)
        return true;
    if (sh->nonspace >= 150 && sh->punct * 300 < sh->nonspace)
        return true;
    if (sh->nonspace >= 40 && sh->letters * 10 < sh->nonspace * 6)
        return true;
    if (sh->words >= 12 && sh->numbers * 100 > sh->words * 40)
        return true;
    return sh->phones >= 2 || (sh->email && sh->phones >= 1);
}

/*
 * The strong end markers: a line that is nothing but the heading of what follows a story —
 * comments, related links, recommendations, share bars, sign-up boxes ("Comments",
 * "34 Comments", "Leave a Reply", "Related Articles", "More from Reuters", "Share this:",
 * "댓글 3", "관련기사"). Only the heading alone counts: "Related: a headline" is a link inside a
 * story. Comment threads are known by their own shape too: "12 responses to “…”",
 * "3 thoughts on “…”", "jdoe says:".
 */
static const char *const thread_headings[] = {
    "comments",
    "comment",
    "leave a reply",
    "leave a comment",
    "add a comment",
    "post a comment",
    "join the discussion",
    "join the conversation",
    "discussion",
    "responses",
    "reader comments",
    "top comments",
    "top rated comments",
    "view comments",
    "show comments",
    "load comments",
    "댓글",
};

static const char *const end_headings[] = {
    "related",
    "related articles",
    "related stories",
    "related posts",
    "related content",
    "related news",
    "related coverage",
    "related topics",
    "recommended",
    "recommended for you",
    "recommended stories",
    "recommended articles",
    "you may also like",
    "you might also like",
    "read next",
    "up next",
    "share this",
    "share this article",
    "share this story",
    "share this post",
    "share on",
    "share",
    "sign up",
    "subscribe",
    "more stories",
    "most popular",
    "most read",
    "trending",
    "trending now",
    "popular posts",
    "about the author",
    "관련기사",
    "관련 기사",
    "많이 본 뉴스",
    "많이본 뉴스",
    "많이본뉴스",
    "추천뉴스",
    "추천 뉴스",
    "구독",
    "공유하기",
    "기자의 다른 기사",
    /* The same boxes in other languages. */
    "você pode gostar",
    "voce pode gostar",
    "leia também",
    "leia mais",
    "veja também",
    "lesen sie auch",
    "mehr zum thema",
    "das könnte sie auch interessieren",
    "lire aussi",
    "à lire aussi",
    "\xc3\x80 lire aussi", /* À */
    "sur le même sujet",
    "vous aimerez aussi",
    "te puede interesar",
    "también te puede interesar",
    "lee también",
    "noticias relacionadas",
    "leggi anche",
    "potrebbe interessarti",
    "articoli correlati",
    "関連記事",
    "おすすめ記事",
    "相关阅读",
    "相关文章",
    "推荐阅读",
    "相關閱讀",
    "相關文章",
};

enum { END_NONE, END_BLOCK, END_THREAD };

static int end_marker(const char *s, size_t chars)
{
    if (chars > 200)
        return END_NONE;
    char buf[1024];
    size_t n = strlen(s);
    if (n >= sizeof(buf))
        return END_NONE;
    /* Lower-cased, a leading count ("34 Comments") and trailing counts, colons, arrows and
     * brackets ("Comments (12)", "댓글 3", "Share this:") set aside. */
    const char *p = s;
    while (is_digit(*p) || *p == ' ' || *p == '[' || *p == '(' || *p == ',')
        p++;
    size_t m = 0;
    for (; *p; p++)
        buf[m++] = (char)tolower((unsigned char)*p);
    buf[m] = '\0';
    while (m &&
           (strchr(" .:()[],0123456789>|-", buf[m - 1]) || (unsigned char)buf[m - 1] >= 0x80)) {
        if ((unsigned char)buf[m - 1] >= 0x80) {
            /* keep letters outside ASCII; drop only » › … */
            if (ends(buf, m, "\xc2\xbb") || ends(buf, m, "\xe2\x80\xba") ||
                ends(buf, m, "\xe2\x80\xa6"))
                m -= ends(buf, m, "\xc2\xbb") ? 2 : 3;
            else
                break;
        } else {
            m--;
        }
        buf[m] = '\0';
    }
    if (!m)
        return END_NONE;
    for (size_t i = 0; chars <= 60 && i < sizeof(thread_headings) / sizeof(thread_headings[0]); i++)
        if (strcmp(buf, thread_headings[i]) == 0)
            return END_THREAD;
    for (size_t i = 0; chars <= 60 && i < sizeof(end_headings) / sizeof(end_headings[0]); i++)
        if (strcmp(buf, end_headings[i]) == 0)
            return END_BLOCK;
    if (starts(buf, "more from ") && chars <= 40)
        return END_BLOCK;
    /* "12 responses to “…”", "3 thoughts on “…”", "one comment on …" */
    if (is_digit(s[0]) || starts(buf, "one ")) {
        static const char *const thread[] = {"responses to ", "response to ", "thoughts on ",
                                             "comments on ",  "comment on ",  "replies to ",
                                             "reply to "};
        for (size_t i = 0; i < sizeof(thread) / sizeof(thread[0]); i++)
            if (strstr(buf, thread[i]))
                return END_THREAD;
    }
    /* "jdoe says:", "1. Jane Roe says:" */
    return ends(buf, m, " says") && chars <= 40 && strchr(s, ':') ? END_THREAD : END_NONE;
}

/*
 * An author's note under a story: "Jane Roe is a reporter at the Gazette covering ...",
 * "Sam Writer (@sam) is a contributor at ...", "Have a tip? Jane Roe may be reached at ...",
 * "Contact the author at ...", "Follow her on Twitter". A name, "is a"/"is an" and a
 * writer's trade in the line's first sentence, or a way to reach the writer.
 */
static bool is_author_note(const char *s, size_t chars)
{
    if (chars > 400)
        return false;
    static const char *const reach[] = {"may be reached at",     "can be reached at",
                                        "contact the author",    "email the author",
                                        "follow her on twitter", "follow him on twitter",
                                        "follow them on twitter"};
    for (size_t i = 0; i < sizeof(reach) / sizeof(reach[0]); i++)
        if (strcasestr(s, reach[i]))
            return true;
    if (!(*s >= 'A' && *s <= 'Z'))
        return false;
    const char *is = strstr(s, " is a");
    if (!is || is - s > 60 || (is[5] != ' ' && is[5] != 'n'))
        return false;
    for (const char *p = s; p < is; p++)
        if (*p == '.' && p[1] == ' ')
            return false; /* the name is one sentence's subject, not the end of another */
    const char *stop = strstr(is, ". ");
    size_t span = stop ? (size_t)(stop - is) : strlen(is);
    static const char *const trades[] = {"reporter",    "writer",     "editor",    "correspondent",
                                         "contributor", "journalist", "columnist", "producer",
                                         "author",      "freelance"};
    char buf[512];
    if (span >= sizeof(buf))
        span = sizeof(buf) - 1;
    for (size_t i = 0; i < span; i++)
        buf[i] = (char)tolower((unsigned char)is[i]);
    buf[span] = '\0';
    for (size_t i = 0; i < sizeof(trades) / sizeof(trades[0]); i++)
        if (strstr(buf, trades[i]))
            return true;
    return false;
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
    if (is_end_line(t->text, t->chars) || is_noise_line(t->text, t->chars) ||
        is_legal_line(t->text) || is_cookie_line(t->text))
        return -40;
    long w = units - 45;
    if (sentence_end(t->text, t->len))
        w += 25;
    if (w > 0) {
        shape sh = shape_of(t->text);
        if (not_prose(&sh))
            return -(10 + units / 8);
    }
    return w;
}

static bool title_like(const bl_line *line, const tline *l)
{
    return !l->blank && !l->drop && l->chars >= 20 && l->chars <= 200 && !line->href &&
           !line->bullet && !list_marker(l->text) && !sentence_end(l->text, l->len) &&
           !is_date_line(l->text, l->chars) && !is_byline(l->text, l->chars);
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
            !(is_date_line(t[i].text, t[i].chars) || is_byline(t[i].text, t[i].chars)))
            continue;
        size_t title = SIZE_MAX;
        for (size_t j = i, seen = 0; j-- > start && seen < 3;) {
            if (t[j].blank)
                continue;
            /* A share bar between title and byline ("* Facebook", "* Print") is not counted. */
            const bl_line *sl = bl_at(doc, j);
            if (t[j].chars <= 20 && (sl->bullet || sl->href || list_marker(t[j].text) ||
                                     is_noise_line(t[j].text, t[j].chars) ||
                                     end_marker(t[j].text, t[j].chars) != END_NONE))
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
            bool p = t[j].weight > 0 && sentence_end(t[j].text, t[j].len);
            if (!paragraph && !p && seen >= 4)
                break;
            if (p) {
                paragraph = true;
                paragraphs++;
                chars += t[j].chars;
            } else if (is_date_line(t[j].text, t[j].chars) || is_byline(t[j].text, t[j].chars)) {
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
            if (is_date_line(t[j].text, t[j].chars))
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
        if (t[j].weight > 0 && !line->bullet && !list_marker(t[j].text))
            break;
        if (t[j].chars > 200 || sentence_end(t[j].text, t[j].len))
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
           end_marker(l->text, l->chars) == END_NONE && !is_end_line(l->text, l->chars) &&
           !is_noise_line(l->text, l->chars);
}

static bool ends_list(const tline *l)
{
    return end_marker(l->text, l->chars) != END_NONE || is_end_line(l->text, l->chars) ||
           is_legal_line(l->text) || is_cookie_line(l->text) || (l->weight > 0 && l->chars > 80);
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
                         is_item(bl_at(doc, i), t[i].text) || ends_list(&t[i])))
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
        if (!is_item(bl_at(doc, k), t[k].text) && (t[k].chars > 80 || ends_list(&t[k])))
            break;
    }
    if (at == SIZE_MAX)
        return stop;
    size_t end = stop, items = 0, item_chars = 0;
    for (size_t j = at + 1, gap = 0; j < n; j++) {
        if (t[j].blank)
            continue;
        if (is_item(bl_at(doc, j), t[j].text)) {
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
            more = is_item(bl_at(doc, k), t[k].text);
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
        if (is_byline(t[i].text, t[i].chars) ||
            (posted_by(t[i].text) && t[i].chars <= 120 && !sentence_end(t[i].text, t[i].len))) {
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
            int marker = enough ? end_marker(t[i].text, t[i].chars) : END_NONE;
            if (enough && !t[i].drop && is_legal_line(t[i].text))
                marker = END_THREAD; /* the notice closes the story; what follows is the page */
            if (enough && !t[i].drop && is_author_note(t[i].text, t[i].chars))
                marker = END_THREAD; /* the writer's note closes the story */
            if (marker == END_THREAD) {
                stop = i;
                break;
            }

            if (!t[i].drop && story >= 100 && story * 2 >= total &&
                is_end_line(t[i].text, t[i].chars)) {
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
                    teasers = t[j].chars >= 80 && (ends(t[j].text, t[j].len, "...") ||
                                                   ends(t[j].text, t[j].len, "\xe2\x80\xa6"));
                    resumes = !teasers && t[j].weight > 0 && !bl_at(doc, j)->bullet &&
                              !list_marker(t[j].text);
                }
                if (!resumes) {
                    stop = i;
                    break;
                }
                /* The box goes: its heading and its links up to the next paragraph. */
                t[i].drop = true;
                for (size_t j = i + 1; j < stop && t[j].weight <= 0; j++)
                    if (bl_at(doc, j)->bullet || bl_at(doc, j)->href || list_marker(t[j].text))
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
                 !(line->bullet || line->href || list_marker(l->text) ||
                   end_marker(l->text, l->chars) != END_NONE || is_end_line(l->text, l->chars) ||
                   is_noise_line(l->text, l->chars))))
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
            if (story >= 200 && paragraphs >= 2 && is_date_line(t[i].text, t[i].chars)) {
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
            if (line->href || line->bullet || list_marker(t[i].text) ||
                is_noise_line(t[i].text, t[i].chars))
                continue;
            if (is_date_line(t[i].text, t[i].chars)) {
                char iso[40];
                if (!a->byline && posted_by(t[i].text) &&
                    !(a->byline = byline_before_date(t[i].text)))
                    goto nomem;
                if (!a->published && !date_in(t[i].text) &&
                    english_date(t[i].text, iso, sizeof(iso))) {
                    if (!(a->published = strdup(iso)))
                        goto nomem;
                } else if (!a->published && date_in(t[i].text)) {
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
        bool lead = true, crumb = false;
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
