/*
 * The line classifiers of the generic text-rendering extractor (dates, bylines,
 * datelines, captions, end markers, how prose-like a line is) and the
 * article's shared parts (gx_article_free, gx_parse_date). The scan that uses
 * them is generic_text.c; see there for how a story is found by shape.
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

bool gxt_starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool gxt_ends(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* Code points other than spaces: how long a line reads. */
size_t gxt_chars_of(const char *s)
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
size_t gxt_units_of(const char *s)
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
bool gxt_sentence_end(const char *s, size_t len)
{
    while (len &&
           (s[len - 1] == ' ' || s[len - 1] == '"' || s[len - 1] == '\'' || s[len - 1] == ')'))
        len--;
    if (gxt_ends(s, len, "\xe2\x80\x9d") || gxt_ends(s, len, "\xe2\x80\x99")) /* ” ’ */
        len -= 3;
    if (!len)
        return false;
    /* "..." and "…": a teaser cut short, not a sentence that ends. */
    if (gxt_ends(s, len, "...") || gxt_ends(s, len, "\xe2\x80\xa6"))
        return false;
    char c = s[len - 1];
    return c == '.' || c == '!' || c == '?' || gxt_ends(s, len, "\xe3\x80\x82") /* 。 */ ||
           gxt_ends(s, len, "\xeb\x8b\xa4") /* 다 */;
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

bool gxt_is_end_line(const char *s, size_t chars)
{
    return chars < 100 && has_any(s, end_phrases, sizeof(end_phrases) / sizeof(end_phrases[0]));
}

bool gxt_is_noise_line(const char *s, size_t chars)
{
    return chars < 60 &&
           has_any(s, noise_phrases, sizeof(noise_phrases) / sizeof(noise_phrases[0]));
}

bool gxt_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/*
 * A cookie notice of any length ("This website uses cookies to improve your experience ...",
 * a consent dialog's "Necessary cookies are absolutely essential ..."): the site speaking of
 * its own cookies, not a story about them.
 */
bool gxt_is_cookie_line(const char *s)
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
bool gxt_is_legal_line(const char *s)
{
    if (strcasestr(s, "all rights reserved") || strcasestr(s, "rights reserved."))
        return true;
    /* "© 2025 Example Media", "Copyright 2025 ...": a year after the sign; "© Jane Roe" is a
     * photo credit. */
    const char *p = gxt_starts(s, "\xc2\xa9")             ? s + 2
                    : gxt_starts(s, "\xe2\x93\x92")       ? s + 3
                    : strncasecmp(s, "copyright", 9) == 0 ? s + 9
                                                          : NULL;
    if (!p)
        return false;
    while (*p == ' ' || gxt_starts(p, "\xc2\xa9"))
        p += *p == ' ' ? 1 : 2;
    return gxt_is_digit(p[0]) && gxt_is_digit(p[1]) && gxt_is_digit(p[2]) && gxt_is_digit(p[3]);
}

/* "AI 요약", "AI Summary", "3줄 요약": a box of machine-made bullet points, not the story. */
bool gxt_is_summary_header(const char *s, size_t chars)
{
    return chars < 30 &&
           (strcasestr(s, "AI 요약") || strcasestr(s, "AI요약") || strcasestr(s, "ai summary") ||
            strcasestr(s, "key points") || strstr(s, "줄 요약") || strcmp(s, "요약") == 0);
}

/* True when the line holds a date (YYYY-MM-DD, YYYY.MM.DD, YYYY/MM/DD) and little else. */
const char *gxt_date_in(const char *s)
{
    for (const char *p = s; *p; p++) {
        if (gxt_is_digit(p[0]) && gxt_is_digit(p[1]) && gxt_is_digit(p[2]) && gxt_is_digit(p[3]) &&
            (p[4] == '-' || p[4] == '.' || p[4] == '/') && gxt_is_digit(p[5]) &&
            (p == s || !gxt_is_digit(p[-1]))) {
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

const char *gxt_english_date(const char *s, char *iso, size_t isolen)
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
        } else if (gxt_is_digit(*q)) { /* 19 November 2019 */
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
        if (gxt_starts(q, "st") || gxt_starts(q, "nd") || gxt_starts(q, "rd") ||
            gxt_starts(q, "th"))
            q += 2;
        if (*q == ',')
            q++;
        if (*q != ' ')
            continue;
        while (*q == ' ')
            q++;
        year = digits(&q, 4, 4);
        if (year < 1900 || year > 2999 || gxt_is_digit(*q))
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
        return gxt_is_digit(*p) || strcasestr(p, " ago") || month_at(p, &(int){0}) ||
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
    if (!gxt_is_digit(*p) && strncasecmp(p, "an ", 3) != 0 && strncasecmp(p, "a ", 2) != 0)
        return false;
    size_t n = strlen(p);
    return gxt_ends(p, n, " ago") || gxt_ends(p, n, " ago.");
}

/*
 * A line that is a date and little else: a numeric date in a short line, or an English date
 * near the start of a short line that does not read as a sentence ("November 19, 2019 at
 * 9:45 am", "Posted by Jane Roe on Nov. 19, 2019"), or a time stamp ("Updated 3:45 PM EST").
 */
bool gxt_is_date_line(const char *s, size_t chars)
{
    if (chars >= 80)
        return false;
    if (gxt_date_in(s))
        return true;
    if (is_stamp_line(s, chars) || is_relative_time(s, chars))
        return true;
    char iso[40];
    const char *d = chars <= 70 ? gxt_english_date(s, iso, sizeof(iso)) : NULL;
    /* "— Jane Roe (@jroe) November 19, 2019" closes a quoted post: it is the story's. */
    if (!d || d - s > 40 || gxt_starts(s, "\xe2\x80\x94") || gxt_starts(s, "- ") || strstr(s, "(@"))
        return false;
    size_t len = strlen(s);
    return !gxt_sentence_end(s, len) || gxt_ends(s, len, "a.m.") || gxt_ends(s, len, "p.m.");
}

/*
 * A photo caption or credit: "▲ ...", "[사진=...]", "(사진=...)" at the end, a line ending in
 * "2024.5.23/뉴스1" (the date and agency agencies close captions with), "ⓒ 뉴스1 홍길동 기자",
 * "Photo: ...", "Image: ...". A caption that opens with an agency tag just like a lead
 * ("(서울=뉴스1) 홍길동 기자 = ...") is known by these endings.
 */
bool gxt_is_caption(const char *s, size_t len)
{
    if (gxt_starts(s, "\xe2\x96\xb2") || gxt_starts(s, "\xe2\x96\xb3") ||
        gxt_starts(s, "\xe2\x96\xb6 ") || gxt_starts(s, "[사진") || gxt_starts(s, "(사진") ||
        gxt_starts(s, "사진=") || gxt_starts(s, "사진 =") || gxt_starts(s, "Photo:") ||
        gxt_starts(s, "Image:") || gxt_starts(s, "Credit:") || gxt_starts(s, "Photograph:"))
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
        if (open &&
            (gxt_starts(open, "(사진") || gxt_starts(open, "(그래픽") || strstr(open, "Photo") ||
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
    if (slash && slash - s >= 8 && gxt_is_digit(slash[-1])) {
        const char *d = slash - 1;
        while (d > s && (gxt_is_digit(d[-1]) || d[-1] == '.'))
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
    return (gxt_starts(s, "\xe2\x93\x92") || gxt_starts(s, "\xc2\xa9")) &&
           (gxt_chars_of(s) < 40 || !gxt_is_legal_line(s));
}

/* ---- The dateline ----------------------------------------------------------------------- */

/*
 * Finds a Korean agency dateline at the start of a lead: "(서울=뉴스1) 홍길동 기자 =",
 * "[서울=뉴시스]홍길동 기자 =", "(서울=연합뉴스) 홍길동 김철수 기자 =". Returns where the
 * story starts after it, or NULL; the byline ("홍길동 기자") goes to *byline (owned).
 */
const char *gxt_dateline(const char *s, char **byline)
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
char *gxt_author_of(const char *byline)
{
    if (!byline)
        return NULL;
    const char *p = byline;
    if (gxt_posted_by(p))
        p = gxt_posted_by(p);
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
char *gxt_byline_of(const char *line)
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
const char *gxt_posted_by(const char *s)
{
    static const char *const lead[] = {"by ", "posted by ", "written by ", "words by ",
                                       "story by "};
    for (size_t i = 0; i < sizeof(lead) / sizeof(lead[0]); i++)
        if (strncasecmp(s, lead[i], strlen(lead[i])) == 0)
            return s + strlen(lead[i]);
    return NULL;
}

/* "Posted by Jane Roe on November 19, 2019" → "Jane Roe"; a new string, or NULL when none. */
char *gxt_byline_before_date(const char *s)
{
    const char *name = gxt_posted_by(s);
    if (!name)
        return NULL;
    const char *end = name;
    while (*end && *end != '|' && *end != ',' && strncasecmp(end, " on ", 4) != 0 &&
           strncasecmp(end, " - ", 3) != 0 && !gxt_is_digit(*end))
        end++;
    char iso[40];
    const char *d = gxt_english_date(name, iso, sizeof(iso));
    if (d && d < end)
        end = d;
    while (end > name && end[-1] == ' ')
        end--;
    return end > name ? strndup(s, (size_t)(end - s)) : strdup(s);
}

bool gxt_is_byline(const char *s, size_t chars)
{
    if (chars > 40)
        return gxt_posted_by(s) && chars <= 80 && !gxt_sentence_end(s, strlen(s)) &&
               strncasecmp(s, "by ", 3) != 0;
    return gxt_posted_by(s) || strstr(s, " 기자") || strstr(s, " 특파원") ||
           strstr(s, "기자 ") == s;
}

/*
 * The length of a list marker opening a line: "* ", "+ ", "- ", "• ", "· " (how text renderers
 * draw bullets) or "12. "; 0 when there is none.
 */
size_t gxt_list_marker(const char *s)
{
    if ((s[0] == '*' || s[0] == '+' || s[0] == '-') && (s[1] == ' ' || s[1] == '\0'))
        return s[1] ? 2 : 1;
    if ((gxt_starts(s, "\xe2\x80\xa2") || gxt_starts(s, "\xc2\xb7"))) /* • · */
        return s[0] == '\xc2' ? 2 : 3;
    size_t n = 0;
    while (n < 3 && gxt_is_digit(s[n]))
        n++;
    return n && s[n] == '.' && s[n + 1] == ' ' ? n + 2 : 0;
}

/* A list item as text renderers draw it: a bullet, "12. " or "12) ". */
bool gxt_is_item(const bl_line *line, const char *s)
{
    if (line->bullet || gxt_list_marker(s))
        return true;
    size_t n = 0;
    while (n < 3 && gxt_is_digit(s[n]))
        n++;
    return n && s[n] == ')' && s[n + 1] == ' ';
}

/* ---- Sentence-ness ---------------------------------------------------------------------- */

static bool is_sep_at(const char *p)
{
    return *p == '|' || gxt_starts(p, "\xc2\xb7") /* · */ ||
           gxt_starts(p, "\xe2\x80\xa2") /* • */ || gxt_starts(p, "\xc2\xbb") /* » */ ||
           gxt_starts(p, "\xe2\x80\xba") /* › */;
}

shape gxt_shape_of(const char *s)
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
                if (gxt_starts(p, "\xe3\x80\x82") || gxt_starts(p, "\xe3\x80\x81")) /* 。 、 */
                    sh.punct++;
                else if (!(c == 0xe2 &&
                           ((unsigned char)p[1] == 0x80 || (unsigned char)p[1] == 0x81)))
                    letters_in++;
            } else if (isalpha(c)) {
                letters_in++;
            } else if (gxt_is_digit((char)c)) {
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
bool gxt_not_prose(const shape *sh)
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

int gxt_end_marker(const char *s, size_t chars)
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
    while (gxt_is_digit(*p) || *p == ' ' || *p == '[' || *p == '(' || *p == ',')
        p++;
    size_t m = 0;
    for (; *p; p++)
        buf[m++] = (char)tolower((unsigned char)*p);
    buf[m] = '\0';
    while (m &&
           (strchr(" .:()[],0123456789>|-", buf[m - 1]) || (unsigned char)buf[m - 1] >= 0x80)) {
        if ((unsigned char)buf[m - 1] >= 0x80) {
            /* keep letters outside ASCII; drop only » › … */
            if (gxt_ends(buf, m, "\xc2\xbb") || gxt_ends(buf, m, "\xe2\x80\xba") ||
                gxt_ends(buf, m, "\xe2\x80\xa6"))
                m -= gxt_ends(buf, m, "\xc2\xbb") ? 2 : 3;
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
    if (gxt_starts(buf, "more from ") && chars <= 40)
        return END_BLOCK;
    /* "12 responses to “…”", "3 thoughts on “…”", "one comment on …" */
    if (gxt_is_digit(s[0]) || gxt_starts(buf, "one ")) {
        static const char *const thread[] = {"responses to ", "response to ", "thoughts on ",
                                             "comments on ",  "comment on ",  "replies to ",
                                             "reply to "};
        for (size_t i = 0; i < sizeof(thread) / sizeof(thread[0]); i++)
            if (strstr(buf, thread[i]))
                return END_THREAD;
    }
    /* "jdoe says:", "1. Jane Roe says:" */
    return gxt_ends(buf, m, " says") && chars <= 40 && strchr(s, ':') ? END_THREAD : END_NONE;
}

/*
 * An author's note under a story: "Jane Roe is a reporter at the Gazette covering ...",
 * "Sam Writer (@sam) is a contributor at ...", "Have a tip? Jane Roe may be reached at ...",
 * "Contact the author at ...", "Follow her on Twitter". A name, "is a"/"is an" and a
 * writer's trade in the line's first sentence, or a way to reach the writer.
 */
bool gxt_is_author_note(const char *s, size_t chars)
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
