/*
 * Unit tests of the block readers: bl_from_text (src/core/blocks.c) and
 * bl_from_html (src/core/blocks_html.c). Both must give the same structure
 * for the same page, so the HTML tests check the conventions of the text
 * renderings: "  • title" bullets at 2 x list depth, later lines of an item
 * indented 2 more, headings with their level.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/blocks.h"
#include "core/utf8.h"

#define BASE "https://www.dspdaily.com/news/index.php?code=netfu_1"

/* ---- Helpers ------------------------------------------------------------------------------ */

static bl_doc *text_doc(const char *text, const bl_limits *limits)
{
    bl_doc *doc = bl_from_text(text, strlen(text), limits);
    assert_non_null(doc);
    return doc;
}

static bl_doc *html_doc_with(const char *html, size_t len, const char *base,
                             const bl_limits *limits)
{
    char err[256] = "";
    bl_doc *doc = bl_from_html(html, len, base, limits, err, sizeof(err));
    if (!doc)
        fail_msg("bl_from_html failed: %s", err);
    assert_false(bl_ends_mid_line(doc));
    return doc;
}

static bl_doc *html_doc(const char *html)
{
    return html_doc_with(html, strlen(html), BASE, NULL);
}

/* Checks every property of line i; href NULL means the line must have none. */
#define LINE(doc, i, indent, bullet, heading, text, href)                                          \
    check_line(doc, i, indent, bullet, heading, text, href, __LINE__)

static void check_line(const bl_doc *doc, size_t i, unsigned indent, bool bullet, unsigned heading,
                       const char *text, const char *href, int line)
{
    if (i >= bl_count(doc))
        fail_msg("line %d: no line %zu (count %zu)", line, i, bl_count(doc));
    const bl_line *l = bl_at(doc, i);
    if (strcmp(l->text, text) != 0 || l->len != strlen(text) || l->indent != indent ||
        l->bullet != bullet || l->heading != heading ||
        (href ? !l->href || strcmp(l->href, href) != 0 : l->href != NULL))
        fail_msg("line %d: line %zu is {%u, %d, h%u, \"%s\", %s}, expected {%u, %d, h%u, "
                 "\"%s\", %s}",
                 line, i, l->indent, l->bullet, l->heading, l->text, l->href ? l->href : "NULL",
                 indent, bullet, heading, text, href ? href : "NULL");
}

/* Index of the first line at or after from whose text is text, or fails the test. */
static size_t find_line(const bl_doc *doc, size_t from, const char *text)
{
    for (size_t i = from; i < bl_count(doc); i++)
        if (strcmp(bl_at(doc, i)->text, text) == 0)
            return i;
    fail_msg("no line \"%s\" at or after %zu", text, from);
    return 0;
}

static bool starts_with(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

static bool has_line_containing(const bl_doc *doc, const char *needle)
{
    for (size_t i = 0; i < bl_count(doc); i++)
        if (strstr(bl_at(doc, i)->text, needle))
            return true;
    return false;
}

/* A test-owned copy of a fixture file; the path is found next to this source file. */
static char *read_fixture(const char *name, size_t *len)
{
    char path[1024];
    const char *file = __FILE__;
    const char *slash = strrchr(file, '/');
    assert_non_null(slash);
    /* __FILE__ is tests/unit/test_blocks.c; fixtures live in tests/fixtures. */
    int n =
        snprintf(path, sizeof(path), "%.*s/../fixtures/html/%s", (int)(slash - file), file, name);
    assert_true(n > 0 && (size_t)n < sizeof(path));
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open fixture %s", path);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

/* ---- bl_from_text --------------------------------------------------------------------------- */

static void text_indent_and_bullets(void **state)
{
    (void)state;
    bl_doc *doc = text_doc("실시간뉴스\n  • 제목 하나\n    [동포투데이] 리드\n    • 뉴스홈\n"
                           "    2024-05-23\n  •붙은 제목\n",
                           NULL);
    assert_int_equal(bl_count(doc), 6);
    LINE(doc, 0, 0, false, 0, "실시간뉴스", NULL);
    LINE(doc, 1, 2, true, 0, "제목 하나", NULL);
    LINE(doc, 2, 4, false, 0, "[동포투데이] 리드", NULL);
    LINE(doc, 3, 4, true, 0, "뉴스홈", NULL);
    LINE(doc, 4, 4, false, 0, "2024-05-23", NULL);
    LINE(doc, 5, 2, true, 0, "붙은 제목", NULL);
    assert_false(bl_ends_mid_line(doc));
    assert_false(bl_truncated(doc));
    bl_free(doc);
}

static void text_dash_lines(void **state)
{
    (void)state;
    bl_doc *doc = text_doc("-\n- 글로벌이슈\n  -\n• -\n", NULL);
    assert_int_equal(bl_count(doc), 4);
    assert_true(bl_at(doc, 0)->dash);
    assert_false(bl_at(doc, 1)->dash);
    assert_true(bl_at(doc, 2)->dash); /* a lone "-" stays one when indented */
    assert_int_equal(bl_at(doc, 2)->indent, 2);
    assert_false(bl_at(doc, 3)->dash); /* a bullet item whose title is "-" is not a separator */
    assert_true(bl_at(doc, 3)->bullet);
    bl_free(doc);
}

static void text_crlf_tabs_and_blank_lines(void **state)
{
    (void)state;
    bl_doc *doc = text_doc("제목\r\n\r\n\t본문 \t\r\n\t  깊은 줄\r\n", NULL);
    assert_int_equal(bl_count(doc), 4);
    LINE(doc, 0, 0, false, 0, "제목", NULL);
    LINE(doc, 1, 0, false, 0, "", NULL); /* the text reader keeps empty lines */
    LINE(doc, 2, 4, false, 0, "본문", NULL);
    LINE(doc, 3, 6, false, 0, "깊은 줄", NULL);
    assert_false(bl_ends_mid_line(doc));
    bl_free(doc);
}

static void text_trailing_newline_flag(void **state)
{
    (void)state;
    bl_doc *cut = text_doc("첫 줄\n잘린 문장", NULL);
    assert_int_equal(bl_count(cut), 2);
    assert_true(bl_ends_mid_line(cut));
    bl_free(cut);
    bl_doc *whole = text_doc("첫 줄\n끝난 문장\n", NULL);
    assert_int_equal(bl_count(whole), 2);
    assert_false(bl_ends_mid_line(whole));
    bl_free(whole);
}

static void text_empty_input(void **state)
{
    (void)state;
    bl_doc *doc = bl_from_text("", 0, NULL);
    assert_non_null(doc);
    assert_int_equal(bl_count(doc), 0);
    assert_false(bl_ends_mid_line(doc));
    assert_false(bl_truncated(doc));
    assert_null(bl_meta_of(doc)->title);
    bl_free(doc);
}

static void text_max_lines_truncates(void **state)
{
    (void)state;
    bl_limits limits = bl_default_limits;
    limits.max_lines = 3;
    bl_doc *doc = text_doc("a\nb\nc\nd\ne\n", &limits);
    assert_int_equal(bl_count(doc), 3);
    LINE(doc, 2, 0, false, 0, "c", NULL);
    assert_true(bl_truncated(doc));
    bl_free(doc);
}

/* ---- bl_from_html: structure ------------------------------------------------------------ */

static void html_paragraphs_collapse_whitespace(void **state)
{
    (void)state;
    bl_doc *doc = html_doc("<p>  첫째   <b>문단</b>\n\t이다 </p><p></p><div>둘째<span> 문단"
                           "</span></div>본문 밖 <i>글</i><em>자</em><p>&nbsp;</p>");
    assert_int_equal(bl_count(doc), 3);
    LINE(doc, 0, 0, false, 0, "첫째 문단 이다", NULL);
    LINE(doc, 1, 0, false, 0, "둘째 문단", NULL);
    LINE(doc, 2, 0, false, 0, "본문 밖 글자", NULL);
    assert_false(bl_truncated(doc));
    bl_free(doc);
}

static void html_headings_with_levels(void **state)
{
    (void)state;
    bl_doc *doc = html_doc("<h1>하나</h1><h2>둘 <small>작게</small></h2><h3>셋</h3>"
                           "<h4>넷</h4><h5>다섯</h5><h6>여섯</h6><p>본문</p>");
    assert_int_equal(bl_count(doc), 7);
    LINE(doc, 0, 0, false, 1, "하나", NULL);
    LINE(doc, 1, 0, false, 2, "둘 작게", NULL);
    LINE(doc, 2, 0, false, 3, "셋", NULL);
    LINE(doc, 3, 0, false, 4, "넷", NULL);
    LINE(doc, 4, 0, false, 5, "다섯", NULL);
    LINE(doc, 5, 0, false, 6, "여섯", NULL);
    LINE(doc, 6, 0, false, 0, "본문", NULL);
    bl_free(doc);
}

static void html_br_ends_lines(void **state)
{
    (void)state;
    bl_doc *doc = html_doc("<p>한 줄<br>두 줄<br/><br>세 <b>줄<br>네</b> 줄</p>");
    assert_int_equal(bl_count(doc), 4);
    LINE(doc, 0, 0, false, 0, "한 줄", NULL);
    LINE(doc, 1, 0, false, 0, "두 줄", NULL);
    LINE(doc, 2, 0, false, 0, "세 줄", NULL);
    LINE(doc, 3, 0, false, 0, "네 줄", NULL);
    bl_free(doc);
}

static void html_nested_lists(void **state)
{
    (void)state;
    bl_doc *doc =
        html_doc("<p>머리</p><ul><li>하나<ul><li>하나.1</li><li>하나.2<ol><li>깊이 3</li>"
                 "</ol></li></ul>하나 끝</li><li>둘<p>둘의 둘째 줄</p></li></ul><p>꼬리</p>");
    assert_int_equal(bl_count(doc), 9);
    LINE(doc, 0, 0, false, 0, "머리", NULL);
    LINE(doc, 1, 2, true, 0, "하나", NULL);
    LINE(doc, 2, 4, true, 0, "하나.1", NULL);
    LINE(doc, 3, 4, true, 0, "하나.2", NULL);
    LINE(doc, 4, 6, true, 0, "깊이 3", NULL);
    LINE(doc, 5, 4, false, 0, "하나 끝", NULL);
    LINE(doc, 6, 2, true, 0, "둘", NULL);
    LINE(doc, 7, 4, false, 0, "둘의 둘째 줄", NULL);
    LINE(doc, 8, 0, false, 0, "꼬리", NULL);
    bl_free(doc);
}

/* The old listing entry: "  • {title}" / "    {lead}" / "    • 뉴스홈" / "    2024-05-23". */
static void html_listing_entry(void **state)
{
    (void)state;
    bl_doc *doc =
        html_doc("<ul class=list><li>\n"
                 "  <a href=\"/news/view.php?no=7\"><strong>기사 제목</strong></a>\n"
                 "  <p>[동포투데이] 리드 문장이다.</p>\n"
                 "  <ul><li><a href=\"index.php?code=a\">뉴스홈</a></li><li>국제뉴스</li></ul>\n"
                 "  <span>2024-05-23</span>\n"
                 "</li></ul>");
    assert_int_equal(bl_count(doc), 5);
    LINE(doc, 0, 2, true, 0, "기사 제목", "https://www.dspdaily.com/news/view.php?no=7");
    LINE(doc, 1, 4, false, 0, "[동포투데이] 리드 문장이다.", NULL);
    LINE(doc, 2, 4, true, 0, "뉴스홈", "https://www.dspdaily.com/news/index.php?code=a");
    LINE(doc, 3, 4, true, 0, "국제뉴스", NULL);
    LINE(doc, 4, 4, false, 0, "2024-05-23", NULL);
    bl_free(doc);
}

static void html_table_rows(void **state)
{
    (void)state;
    bl_doc *doc = html_doc("<table><caption>표 제목</caption><tr><th>이름</th><th>값</th></tr>"
                           "<tr><td>가</td><td></td><td> 나 </td></tr>"
                           "<tr><td><p>문단 칸</p></td><td>옆 칸</td></tr></table>");
    assert_int_equal(bl_count(doc), 5);
    LINE(doc, 0, 0, false, 0, "표 제목", NULL);
    LINE(doc, 1, 0, false, 0, "이름 | 값", NULL);
    LINE(doc, 2, 0, false, 0, "가 | 나", NULL);
    /* A block inside a cell ends its line, as layout tables need. */
    LINE(doc, 3, 0, false, 0, "문단 칸", NULL);
    LINE(doc, 4, 0, false, 0, "옆 칸", NULL);
    bl_free(doc);
}

static void html_pre_keeps_newlines(void **state)
{
    (void)state;
    bl_doc *doc = html_doc("<pre>\n  첫 줄  있음\n\n셋째\t줄\r\n</pre><p>다음   문단</p>");
    assert_int_equal(bl_count(doc), 3);
    LINE(doc, 0, 0, false, 0, "첫 줄  있음", NULL);
    LINE(doc, 1, 0, false, 0, "셋째\t줄", NULL);
    LINE(doc, 2, 0, false, 0, "다음 문단", NULL);
    bl_free(doc);
}

static void html_skips_non_content(void **state)
{
    (void)state;
    bl_doc *doc =
        html_doc("<html><head><title>제목</title><style>p{color:red}</style>"
                 "<script>var a = '<p>스크립트</p>';</script></head><body>"
                 "<p>보임</p><script>document.write('x')</script><style>.x{}</style>"
                 "<noscript>노스크립트</noscript><template><p>템플릿</p></template>"
                 "<svg><text>그림 글자</text><title>그림 제목</title></svg><math><mi>x</mi></math>"
                 "<iframe src=x>프레임</iframe><object>객체</object>"
                 "<form><input value=입력값><select><option>선택지</option></select>"
                 "<textarea>글상자</textarea><button>단추</button><label>라벨</label></form>"
                 "<p>사진 <img src=a.jpg alt=\"대체 글\">끝</p></body></html>");
    assert_int_equal(bl_count(doc), 3);
    LINE(doc, 0, 0, false, 0, "보임", NULL);
    LINE(doc, 1, 0, false, 0, "라벨", NULL);
    LINE(doc, 2, 0, false, 0, "사진 끝", NULL);
    assert_string_equal(bl_meta_of(doc)->title, "제목");
    bl_free(doc);
}

static void html_skips_hidden(void **state)
{
    (void)state;
    bl_doc *doc = html_doc("<div hidden>숨김</div><p aria-hidden=\"true\">아리아</p>"
                           "<p aria-hidden=\" TRUE \">대문자</p><p aria-hidden=\"false\">보임1</p>"
                           "<div style=\"color: red; DISPLAY : none\">스타일</div>"
                           "<span style=\"visibility:hidden\">안보임</span>"
                           "<ul><li hidden>항목</li><li>보임2</li></ul>");
    assert_int_equal(bl_count(doc), 2);
    LINE(doc, 0, 0, false, 0, "보임1", NULL);
    LINE(doc, 1, 2, true, 0, "보임2", NULL);
    bl_free(doc);
}

static void html_entities_decoded(void **state)
{
    (void)state;
    bl_doc *doc = html_doc("<p>&lt;뉴스&gt; &amp; &quot;따옴&quot; &#xAC00;&#44032; "
                           "a&nbsp;b &middot; &hellip;</p><p>&nbsp;&nbsp;앞뒤&nbsp;</p>");
    assert_int_equal(bl_count(doc), 2);
    /* U+00A0 stays inside a line (the normalizer maps it later) ... */
    LINE(doc, 0, 0, false, 0,
         "<뉴스> & \"따옴\" 가가 a\xc2\xa0"
         "b \xc2\xb7 \xe2\x80\xa6",
         NULL);
    /* ... but is trimmed at the ends, where it would only indent. */
    LINE(doc, 1, 0, false, 0, "앞뒤", NULL);
    bl_free(doc);
}

/* ---- bl_from_html: links -------------------------------------------------------------- */

static void html_links_resolved_and_attributed(void **state)
{
    (void)state;
    bl_doc *doc =
        html_doc("<p><a href=\"view.php?no=1\">상대 주소</a></p>"
                 "<p><a href=\"/news/view.php?no=2#c\">절대 경로</a></p>"
                 "<p><a href=\"../img/a.html\">위로</a></p>"
                 "<p><a href=\"//m.dspdaily.com/x\">스킴 생략</a></p>"
                 "<p><a href=\" https://example.com/y \">완전한 주소</a></p>"
                 "<p><a href=\"javascript:void(0)\">스크립트</a></p>"
                 "<p><a href=\"mailto:a@b.c\">메일</a></p>"
                 "<p><a href=\"#top\">맨 위로</a></p>"
                 "<p>긴 설명 문장 안에 <a href=\"/x\">짧은</a> 링크</p>"
                 "<p><a href=\"/half\">반반</a>두자</p>"
                 "<p><a href=\"/a\">가나</a> <a href=\"/b\">다라마</a> <a href=\"/a\">바사</a></p>"
                 "<p><a href=\"/img\"><img src=x.jpg></a>그림 아래 글</p>"
                 "<p><a href=\"\x1ejavascript:alert(1)\">제어 문자</a></p>"
                 "<p><a href=\"java&#10;script:alert(1)\">줄바꿈 스킴</a></p>"
                 "<p><a href=\" \">빈 링크</a></p>");
    assert_int_equal(bl_count(doc), 15);
    LINE(doc, 0, 0, false, 0, "상대 주소", "https://www.dspdaily.com/news/view.php?no=1");
    LINE(doc, 1, 0, false, 0, "절대 경로", "https://www.dspdaily.com/news/view.php?no=2#c");
    LINE(doc, 2, 0, false, 0, "위로", "https://www.dspdaily.com/img/a.html");
    LINE(doc, 3, 0, false, 0, "스킴 생략", "https://m.dspdaily.com/x");
    LINE(doc, 4, 0, false, 0, "완전한 주소", "https://example.com/y");
    LINE(doc, 5, 0, false, 0, "스크립트", NULL);
    LINE(doc, 6, 0, false, 0, "메일", NULL);
    LINE(doc, 7, 0, false, 0, "맨 위로", NULL);
    LINE(doc, 8, 0, false, 0, "긴 설명 문장 안에 짧은 링크", NULL);
    /* Exactly half is enough. */
    LINE(doc, 9, 0, false, 0, "반반두자", "https://www.dspdaily.com/half");
    /* Two runs of one link count together: 4 of 7 characters. */
    LINE(doc, 10, 0, false, 0, "가나 다라마 바사", "https://www.dspdaily.com/a");
    LINE(doc, 11, 0, false, 0, "그림 아래 글", NULL);
    /* Browsers strip controls around a url and newlines inside it: still javascript:. */
    LINE(doc, 12, 0, false, 0, "제어 문자", NULL);
    LINE(doc, 13, 0, false, 0, "줄바꿈 스킴", NULL);
    LINE(doc, 14, 0, false, 0, "빈 링크", NULL);
    bl_free(doc);
}

static void html_links_without_base_and_with_base_tag(void **state)
{
    (void)state;
    const char *page =
        "<p><a href=\"rel.php\">상대</a></p><p><a href=\"http://x.kr/a\">절대</a></p>";
    bl_doc *doc = html_doc_with(page, strlen(page), NULL, NULL);
    LINE(doc, 0, 0, false, 0, "상대", NULL);
    LINE(doc, 1, 0, false, 0, "절대", "http://x.kr/a");
    bl_free(doc);

    doc = html_doc("<head><base href=\"https://cdn.example.kr/news/\"></head>"
                   "<p><a href=\"view.php?no=3\">기준</a></p>");
    LINE(doc, 0, 0, false, 0, "기준", "https://cdn.example.kr/news/view.php?no=3");
    bl_free(doc);
}

/* ---- bl_from_html: metadata ------------------------------------------------------------ */

static void html_metadata_from_head(void **state)
{
    (void)state;
    bl_doc *doc = html_doc(
        "<html lang=\"ko-KR\"><head><title>\n  기사   제목 - 동포투데이\n</title>"
        "<link rel=\"stylesheet\" href=\"/a.css\"><link rel=\"Canonical\" href=\"view.php?no=5\">"
        "<meta property=\"og:url\" content=\"https://www.dspdaily.com/news/view.php?no=5\">"
        "<meta property=\"og:title\" content=\"오지 제목\">"
        "<meta property=\"article:published_time\" content=\"2025-08-18T13:33:00+09:00\">"
        "<meta property=\"article:modified_time\" content=\"2025-08-18T14:00:00+09:00\">"
        "<meta name=\"author\" content=\"한결 기자\">"
        "<meta name=\"description\" content=\"요약  문장\">"
        "<meta property=\"og:description\" content=\"나중 요약\">"
        "<script type=\"application/ld+json\">{\"datePublished\":\"2000-01-01\","
        "\"headline\":\"LD 제목\"}</script></head><body><p>본문</p></body></html>");
    const bl_meta *m = bl_meta_of(doc);
    assert_string_equal(m->title, "기사 제목 - 동포투데이");
    assert_string_equal(m->canonical, "https://www.dspdaily.com/news/view.php?no=5");
    assert_string_equal(m->og_url, "https://www.dspdaily.com/news/view.php?no=5");
    assert_string_equal(m->og_title, "오지 제목"); /* the meta tag wins over JSON-LD */
    assert_string_equal(m->published_time, "2025-08-18T13:33:00+09:00");
    assert_string_equal(m->modified_time, "2025-08-18T14:00:00+09:00");
    assert_string_equal(m->author, "한결 기자");
    assert_string_equal(m->lang, "ko-KR");
    assert_string_equal(m->description, "요약 문장");
    assert_int_equal(bl_count(doc), 1);
    LINE(doc, 0, 0, false, 0, "본문", NULL);
    bl_free(doc);
}

static void html_metadata_from_json_ld(void **state)
{
    (void)state;
    /* An @graph whose WebPage comes before the article: the article's values win. */
    bl_doc *doc = html_doc(
        "<head><script type=\"application/ld+json\">{\"@context\":\"https://schema.org\","
        "\"@graph\":[{\"@type\":\"WebPage\",\"datePublished\":\"2001-01-01\"},"
        "{\"@type\":[\"NewsArticle\"],\"headline\":\"그래프 제목\","
        "\"datePublished\":\"2025-08-18T13:33:00+09:00\",\"dateModified\":\"2025-08-19\"}]}"
        "</script><meta property=\"article:author\" content=\"기자 이름\"></head><p>x</p>");
    const bl_meta *m = bl_meta_of(doc);
    assert_string_equal(m->published_time, "2025-08-18T13:33:00+09:00");
    assert_string_equal(m->modified_time, "2025-08-19");
    assert_string_equal(m->og_title, "그래프 제목");
    assert_string_equal(m->author, "기자 이름");
    assert_null(m->title);
    assert_null(m->canonical);
    bl_free(doc);

    /* A top-level array, in the body, after a malformed block that is ignored. */
    doc = html_doc("<p>x</p><script type=\"application/ld+json\">{\"datePublished\": oops}"
                   "</script><script type=\" Application/LD+JSON \">[{\"@type\":\"Person\"},"
                   "{\"@type\":\"BlogPosting\",\"datePublished\":\"2024-05-23\"}]</script>");
    assert_string_equal(bl_meta_of(doc)->published_time, "2024-05-23");
    assert_null(bl_meta_of(doc)->modified_time);
    assert_int_equal(bl_count(doc), 1);
    bl_free(doc);
}

/* ---- bl_from_html: limits and hostile input ------------------------------------------- */

static char *repeat(const char *head, const char *unit, size_t times, const char *tail, size_t *len)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *buf = malloc(hl + ul * times + tl + 1);
    assert_non_null(buf);
    memcpy(buf, head, hl);
    for (size_t i = 0; i < times; i++)
        memcpy(buf + hl + i * ul, unit, ul);
    memcpy(buf + hl + ul * times, tail, tl + 1);
    *len = hl + ul * times + tl;
    return buf;
}

static void html_deep_nesting_does_not_overflow(void **state)
{
    (void)state;
    const char *units[] = {"<div>", "<ul><li>", "<a href=x><span>", "<table><tr><td>"};
    for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
        size_t len;
        char *page = repeat("<p>위</p>", units[u], 100000, "깊은 글</p>", &len);
        bl_doc *doc = html_doc_with(page, len, BASE, NULL);
        /* Content below max_depth is still read, flattened. */
        assert_true(has_line_containing(doc, "깊은 글"));
        assert_string_equal(bl_at(doc, 0)->text, "위");
        for (size_t i = 0; i < bl_count(doc); i++)
            assert_true(bl_at(doc, i)->indent <= 2 * bl_default_limits.max_depth + 2);
        bl_free(doc);
        free(page);
    }
}

static void html_max_depth_flattens(void **state)
{
    (void)state;
    bl_limits limits = bl_default_limits;
    limits.max_depth = 6; /* html, body, ul, li, ul, li: the third list is flattened */
    const char *page =
        "<ul><li>1<ul><li>2<ul><li>3<ul><li>4</li></ul></li></ul></li></ul></li></ul>";
    bl_doc *doc = html_doc_with(page, strlen(page), BASE, &limits);
    assert_int_equal(bl_count(doc), 4);
    LINE(doc, 0, 2, true, 0, "1", NULL);
    LINE(doc, 1, 4, true, 0, "2", NULL);
    LINE(doc, 2, 6, false, 0, "3", NULL);
    LINE(doc, 3, 6, false, 0, "4", NULL);
    bl_free(doc);
}

static void html_million_elements_bounded_by_max_nodes(void **state)
{
    (void)state;
    bl_limits limits = bl_default_limits;
    limits.max_nodes = 10000;
    size_t len;
    char *page = repeat("<html><head><title>t</title></head><body>", "<p>x</p>", 1000000, "", &len);
    bl_doc *doc = html_doc_with(page, len, BASE, &limits);
    assert_true(bl_truncated(doc));
    assert_true(bl_count(doc) > 1000);
    assert_true(bl_count(doc) <= limits.max_nodes / 2);
    assert_string_equal(bl_meta_of(doc)->title, "t");
    bl_free(doc);
    free(page);
}

static void html_max_lines_truncates(void **state)
{
    (void)state;
    bl_limits limits = bl_default_limits;
    limits.max_lines = 2;
    const char *page = "<p>1</p><p>2</p><p>3</p><p>4</p>";
    bl_doc *doc = html_doc_with(page, strlen(page), BASE, &limits);
    assert_int_equal(bl_count(doc), 2);
    assert_true(bl_truncated(doc));
    bl_free(doc);
}

/* A deterministic generator, so a failure reproduces. */
static uint32_t next_random(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void html_garbage_bytes(void **state)
{
    (void)state;
    static const char *pieces[] = {
        "<",  ">",    "</",   "<li>",      "<ul>",         "<a href='", "'",    "&",
        "&#", ";",    "<!--", "-->",       "<script>",     "\xff",      "\xc2", "\x00",
        "\n", "<td>", "<br>", "<![CDATA[", "\xea\xb0\x80", "<pre>"};
    uint32_t seed = 0x9e3779b9u;
    char *buf = malloc(70000);
    assert_non_null(buf);
    for (int round = 0; round < 50; round++) {
        size_t len = 0;
        while (len < 60000) {
            uint32_t r = next_random(&seed);
            if (r % 3 == 0) {
                buf[len++] = (char)(r >> 8);
            } else {
                const char *p = pieces[(r >> 8) % (sizeof(pieces) / sizeof(pieces[0]))];
                size_t pl = p[0] ? strlen(p) : 1;
                memcpy(buf + len, p, pl);
                len += pl;
            }
        }
        char err[256];
        bl_doc *doc = bl_from_html(buf, len, BASE, NULL, err, sizeof(err));
        if (!doc)
            continue; /* giving up is allowed; crashing is not */
        for (size_t i = 0; i < bl_count(doc); i++) {
            const bl_line *l = bl_at(doc, i);
            size_t bad;
            assert_true(l->len > 0);
            assert_true(sd_utf8_valid(l->text, l->len, &bad));
            if (l->href)
                assert_true(sd_utf8_valid(l->href, strlen(l->href), &bad));
        }
        bl_free(doc);
    }
    free(buf);
}

static void html_invalid_utf8_repaired(void **state)
{
    (void)state;
    bl_doc *doc = html_doc("<p>\xea\xb0\x80 bad\xff\xfe here</p>");
    assert_int_equal(bl_count(doc), 1);
    LINE(doc, 0, 0, false, 0, "\xea\xb0\x80 bad\xef\xbf\xbd\xef\xbf\xbd here", NULL);
    bl_free(doc);
}

static void html_empty_input(void **state)
{
    (void)state;
    const char *inputs[] = {"", " \n\t ", "<!-- only a comment -->", "<html></html>"};
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        bl_doc *doc = html_doc(inputs[i]);
        assert_int_equal(bl_count(doc), 0);
        assert_false(bl_truncated(doc));
        bl_free(doc);
    }
    char err[64];
    bl_doc *doc = bl_from_html(NULL, 0, NULL, NULL, err, sizeof(err));
    assert_non_null(doc);
    assert_int_equal(bl_count(doc), 0);
    bl_free(doc);
}

/* ---- bl_from_html: fixtures ------------------------------------------------------------ */

#define ARTICLE_URL "https://www.dspdaily.com/news/view.php?no=90001"
#define VIEW        "https://www.dspdaily.com/news/view.php?no="

static void html_fixture_article(void **state)
{
    (void)state;
    size_t len;
    char *page = read_fixture("dspdaily-article.html", &len);
    bl_doc *doc = html_doc_with(page, len, ARTICLE_URL, NULL);

    size_t i = find_line(doc, 0, "동해 어촌마을 ‘바다학교’ 3년… 청년 귀어인 41명 정착");
    LINE(doc, i, 0, false, 1, "동해 어촌마을 ‘바다학교’ 3년… 청년 귀어인 41명 정착", NULL);
    LINE(doc, i + 1, 0, false, 3, "빈집 고쳐 숙소로, 폐선 수리해 실습선으로… 주민이 직접 가르쳐",
         NULL);
    LINE(doc, i + 2, 2, true, 0, "한결 기자", NULL);
    LINE(doc, i + 3, 2, true, 0, "입력 2025.08.18 13:33", NULL);
    LINE(doc, i + 4, 2, true, 0, "댓글 0", NULL);
    LINE(doc, i + 5, 2, true, 0, "글자크기설정", NULL); /* a javascript: link */
    LINE(doc, i + 6, 0, false, 0, "▲ 바다학교 수강생들이 그물 손질을 배우고 있다. (사진=독자 제공)",
         NULL);
    const bl_line *body = bl_at(doc, i + 7);
    assert_true(starts_with(body->text, "[동포투데이] 동해안의 작은 어촌마을"));
    assert_non_null(strstr(body->text, "졸업생을 배출했다. 마을 주민들이")); /* joined lines */
    /* Four body paragraphs; the &nbsp; one renders to nothing. */
    assert_true(starts_with(bl_at(doc, i + 10)->text, "군은 내년부터"));
    LINE(doc, i + 11, 0, false, 0, "ⓒ 동포투데이 & www.dspdaily.com 무단전재-재배포금지", NULL);

    i = find_line(doc, i, "BEST 뉴스");
    assert_int_equal(bl_at(doc, i)->heading, 4);
    LINE(doc, i + 1, 2, true, 0, "산골 분교에 다시 켜진 불… 전학생 12명이 만든 변화", VIEW "89950");
    assert_int_equal(bl_at(doc, i + 2)->indent, 4);
    assert_false(bl_at(doc, i + 2)->bullet);
    assert_null(bl_at(doc, i + 2)->href);
    assert_true(starts_with(bl_at(doc, i + 2)->text, "[동포투데이] 폐교 위기에"));
    const char *lead = bl_at(doc, i + 2)->text;
    assert_string_equal(lead + strlen(lead) - 4, " ...");
    LINE(doc, i + 3, 2, true, 0, "“장터가 살아야 마을이 산다” 닷새장 되살린 상인들", VIEW "89871");
    LINE(doc, i + 5, 2, true, 0, "기차역 옆 작은 도서관, 10년째 불을 밝히는 사람들", VIEW "89802");

    i = find_line(doc, i, "실시간뉴스");
    assert_int_equal(i, find_line(doc, 0, "BEST 뉴스") + 7);
    LINE(doc, i + 1, 2, true, 0, "항구 야시장 올해는 9월까지 연장 운영", VIEW "90000");
    LINE(doc, i + 5, 2, true, 0, "수산시장 현대화 사업 첫 삽, 2027년 완공 목표", VIEW "89996");
    LINE(doc, i + 6, 0, false, 4, "추천뉴스", NULL);
    LINE(doc, i + 7, 2, true, 0, "귀어 5년 차 부부가 말하는 ‘바다에서 버티는 법’", VIEW "89920");
    LINE(doc, i + 8, 2, true, 0, "폐선 활용한 해양 체험관, 관광객 발길 이어져", VIEW "89911");

    /* Nothing from scripts, styles, form controls, noscript or the aria-hidden share box. */
    assert_false(has_line_containing(doc, "fontSize"));
    assert_false(has_line_containing(doc, "display"));
    assert_false(has_line_containing(doc, "검색"));
    assert_false(has_line_containing(doc, "자바스크립트"));
    assert_false(has_line_containing(doc, "광고"));
    assert_false(has_line_containing(doc, "보내기"));
    assert_false(has_line_containing(doc, "바다학교 실습 장면")); /* img alt */

    const bl_meta *m = bl_meta_of(doc);
    assert_string_equal(m->title,
                        "동해 어촌마을 ‘바다학교’ 3년… 청년 귀어인 41명 정착 - 동포투데이");
    assert_string_equal(m->canonical, ARTICLE_URL);
    assert_string_equal(m->og_url, ARTICLE_URL);
    assert_string_equal(m->og_title, "동해 어촌마을 ‘바다학교’ 3년… 청년 귀어인 41명 정착");
    assert_string_equal(m->published_time, "2025-08-18T13:33:00+09:00");
    assert_string_equal(m->modified_time, "2025-08-18T15:02:00+09:00"); /* from JSON-LD */
    assert_string_equal(m->author, "한결 기자");
    assert_string_equal(m->lang, "ko");
    assert_false(bl_truncated(doc));
    bl_free(doc);
    free(page);
}

static void html_fixture_listing(void **state)
{
    (void)state;
    size_t len;
    char *page = read_fixture("dspdaily-listing.html", &len);
    bl_doc *doc = html_doc_with(page, len, BASE, NULL);
    LINE(doc, 0, 2, true, 0, "최종편집 2024-05-23(목)", NULL);
    LINE(doc, 1, 0, false, 2, "뉴스홈", NULL);
    LINE(doc, 2, 0, false, 0, "Home >\xc2\xa0 뉴스홈", NULL);
    LINE(doc, 3, 0, false, 3, "실시간뉴스", NULL);
    LINE(doc, 4, 2, true, 0, "강 건너 두 도시 잇는 보행교 착공… 2026년 개통 예정", VIEW "70101");
    assert_true(starts_with(bl_at(doc, 5)->text, "[동포투데이] 강을 사이에 둔"));
    assert_int_equal(bl_at(doc, 5)->indent, 4);
    assert_false(bl_at(doc, 5)->bullet);
    const char *sect = "https://www.dspdaily.com/news/index.php?code=netfu_00000_0000";
    char href[128];
    snprintf(href, sizeof(href), "%s1", sect);
    LINE(doc, 6, 4, true, 0, "뉴스홈", href);
    snprintf(href, sizeof(href), "%s2", sect);
    LINE(doc, 7, 4, true, 0, "국제뉴스", href);
    snprintf(href, sizeof(href), "%s3", sect);
    LINE(doc, 8, 4, true, 0, "아시아", href);
    LINE(doc, 9, 4, false, 0, "2024-05-23", NULL);
    LINE(doc, 10, 2, true, 0, "겨울 철새 도래지 보호구역 두 배로 넓힌다", VIEW "70098");
    /* The photo caption stays glued in front of the lead, as in the text renderings. */
    assert_true(starts_with(bl_at(doc, 11)->text, "▲ 사진=독자 제공 [동포투데이] 해마다"));
    LINE(doc, 14, 4, false, 0, "2024-05-22", NULL);
    LINE(doc, 15, 2, true, 0, "전통시장 온라인 장보기, 석 달 만에 주문 1만 건", VIEW "70090");
    LINE(doc, 19, 4, false, 0, "2024-05-21", NULL);
    LINE(doc, 20, 0, false, 0, "이전 3 다음", NULL); /* no one link covers half of it */
    assert_int_equal(bl_count(doc), 21);
    assert_string_equal(bl_meta_of(doc)->canonical,
                        "https://www.dspdaily.com/news/index.php?code=netfu_00000_00001&page=3");
    bl_free(doc);
    free(page);
}

/* A teaser box item: title and lead inside one link, the lead in a span classed as a lead. */
static void html_teaser_lead_span_is_second_line(void **state)
{
    (void)state;
    bl_doc *doc =
        html_doc("<ul><li><a href=\"/news/view.php?no=5\"><strong>제목 하나</strong>"
                 "<span class=\"lead\">[동포투데이] 리드 글...</span></a></li>"
                 "<li><a href=\"/news/view.php?no=6\">제목 둘 <em>강조</em></a></li></ul>");
    assert_int_equal(bl_count(doc), 3);
    LINE(doc, 0, 2, true, 0, "제목 하나", "https://www.dspdaily.com/news/view.php?no=5");
    LINE(doc, 1, 4, false, 0, "[동포투데이] 리드 글...",
         "https://www.dspdaily.com/news/view.php?no=5");
    /* An inline element without a lead class stays on its line. */
    LINE(doc, 2, 2, true, 0, "제목 둘 강조", "https://www.dspdaily.com/news/view.php?no=6");
    bl_free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_indent_and_bullets),
        cmocka_unit_test(html_teaser_lead_span_is_second_line),
        cmocka_unit_test(text_dash_lines),
        cmocka_unit_test(text_crlf_tabs_and_blank_lines),
        cmocka_unit_test(text_trailing_newline_flag),
        cmocka_unit_test(text_empty_input),
        cmocka_unit_test(text_max_lines_truncates),
        cmocka_unit_test(html_paragraphs_collapse_whitespace),
        cmocka_unit_test(html_headings_with_levels),
        cmocka_unit_test(html_br_ends_lines),
        cmocka_unit_test(html_nested_lists),
        cmocka_unit_test(html_listing_entry),
        cmocka_unit_test(html_table_rows),
        cmocka_unit_test(html_pre_keeps_newlines),
        cmocka_unit_test(html_skips_non_content),
        cmocka_unit_test(html_skips_hidden),
        cmocka_unit_test(html_entities_decoded),
        cmocka_unit_test(html_links_resolved_and_attributed),
        cmocka_unit_test(html_links_without_base_and_with_base_tag),
        cmocka_unit_test(html_metadata_from_head),
        cmocka_unit_test(html_metadata_from_json_ld),
        cmocka_unit_test(html_deep_nesting_does_not_overflow),
        cmocka_unit_test(html_max_depth_flattens),
        cmocka_unit_test(html_million_elements_bounded_by_max_nodes),
        cmocka_unit_test(html_max_lines_truncates),
        cmocka_unit_test(html_garbage_bytes),
        cmocka_unit_test(html_invalid_utf8_repaired),
        cmocka_unit_test(html_empty_input),
        cmocka_unit_test(html_fixture_article),
        cmocka_unit_test(html_fixture_listing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
