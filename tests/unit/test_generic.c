/*
 * Unit tests of the generic extractor (src/core/generic*.c) on the fixtures of
 * tests/fixtures/generic/, all of our own making: an HTML news article with
 * navigation, share, related, comment and footer noise and JSON-LD and og
 * metadata; text renderings of a news agency article (dateline, deck, AI
 * summary box, a photo caption that opens with the agency tag, subscription
 * and app prompts), an AMP page, a portal copy with the portal's own menus, a
 * print copy, a rendering that starts in the middle of the story, and English
 * renderings with a comment thread longer than the story, long boilerplate
 * lines (contact block, tag cloud, menu, teasers) and a related box between
 * paragraphs above a copyright notice.
 *
 * Fixtures are found next to this file (its __FILE__ path), or under
 * STORYD_SOURCE_DIR when that is set.
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
#include "core/extract.h"
#include "core/generic.h"

/* ---- Files ------------------------------------------------------------------------------ */

static char *fixture_path(const char *name)
{
    const char *env = getenv("STORYD_SOURCE_DIR");
    char root[4096];
    if (env && env[0]) {
        snprintf(root, sizeof(root), "%s", env);
    } else {
        /* __FILE__ is .../tests/unit/test_generic.c: the source tree is three levels up. */
        snprintf(root, sizeof(root), "%s", __FILE__);
        char *cut = strstr(root, "tests/unit/test_generic.c");
        if (cut)
            *cut = '\0';
        else
            snprintf(root, sizeof(root), ".");
    }
    size_t n = strlen(root) + strlen(name) + 64;
    char *path = malloc(n);
    assert_non_null(path);
    snprintf(path, n, "%s/tests/fixtures/generic/%s", root, name);
    return path;
}

static char *read_fixture(const char *name, size_t *len)
{
    char *path = fixture_path(name);
    FILE *file = fopen(path, "rb");
    if (!file)
        fail_msg("cannot read %s", path);
    free(path);
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    rewind(file);
    char *text = malloc((size_t)size + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)size, file), (size_t)size);
    text[size] = '\0';
    fclose(file);
    *len = (size_t)size;
    return text;
}

static gx_article *from_text_fixture(const char *name)
{
    size_t len;
    char *text = read_fixture(name, &len);
    bl_doc *doc = bl_from_text(text, len, NULL);
    assert_non_null(doc);
    gx_article *a = NULL;
    char err[128];
    assert_int_equal(gx_from_lines(doc, &a, err, sizeof(err)), GX_OK);
    assert_non_null(a);
    bl_free(doc);
    free(text);
    return a;
}

static void assert_has(const char *haystack, const char *needle)
{
    if (!haystack || !strstr(haystack, needle))
        fail_msg("expected \"%s\" in:\n%s", needle, haystack ? haystack : "(null)");
}

static void assert_lacks(const char *haystack, const char *needle)
{
    if (haystack && strstr(haystack, needle))
        fail_msg("did not expect \"%s\" in:\n%s", needle, haystack);
}

static void assert_starts(const char *s, const char *prefix)
{
    if (!s || strncmp(s, prefix, strlen(prefix)) != 0)
        fail_msg("expected to start with \"%s\":\n%s", prefix, s ? s : "(null)");
}

/* ---- HTML ------------------------------------------------------------------------------- */

static void html_news_article(void **state)
{
    (void)state;
    size_t len;
    char *html = read_fixture("news.html", &len);
    gx_article *a = NULL;
    char err[128];
    assert_int_equal(gx_from_html(html, len, "https://gazette.invalid/news/ferry-terminal", NULL,
                                  &a, err, sizeof(err)),
                     GX_OK);
    assert_string_equal(a->title, "Harbour ferry terminal opens next month");
    assert_starts(a->body, "The city's new harbour ferry terminal will open");
    /* Headings inside the story stay; paragraphs are separated by newlines. */
    assert_has(a->body, "\nParking and buses\n");
    assert_has(a->body, "a spokesperson for the operator said.");
    static const char *const noise[] = {
        "Share on",      "More ferries", "Related", "reader comment", "Copyright",
        "Advertisement", "Subway fares", "Sport",   "By Jane Roe",    "seen from the pier"};
    for (size_t i = 0; i < sizeof(noise) / sizeof(noise[0]); i++)
        assert_lacks(a->body, noise[i]);
    assert_string_equal(a->published, "2025-03-14T09:12:00+09:00");
    assert_string_equal(a->modified, "2025-03-14T10:40:00+09:00");
    assert_string_equal(a->author, "Jane Roe");
    assert_string_equal(a->canonical,
                        "https://gazette.invalid/news/ferry-terminal?utm_medium=home");
    assert_string_equal(a->lang, "en");
    gx_article_free(a);
    free(html);
}

/* Without a container the story is found from its paragraphs; og:url stands in for canonical. */
static void html_bare_paragraphs(void **state)
{
    (void)state;
    const char *html =
        "<html><head><meta property='og:url' content='https://x.invalid/a'></head><body>"
        "<div><a href='/'>Home</a> <a href='/b'>Blog</a></div>"
        "<div><p>First paragraph of a story, long enough to count as one, with a comma.</p>"
        "<p>Second paragraph of the same story, again long enough, and with a comma.</p>"
        "<p>Third paragraph closes the story, with one more comma, as stories do.</p></div>"
        "<div><a href='/c'>Contact</a></div></body></html>";
    gx_article *a = NULL;
    char err[128];
    assert_int_equal(gx_from_html(html, strlen(html), NULL, NULL, &a, err, sizeof(err)), GX_OK);
    assert_starts(a->body, "First paragraph");
    assert_has(a->body, "\nThird paragraph closes the story");
    assert_lacks(a->body, "Contact");
    assert_string_equal(a->canonical, "https://x.invalid/a");
    gx_article_free(a);
}

/* A JSON-LD articleBody stands in when the markup hides the story (an app shell). */
static void html_json_ld_body(void **state)
{
    (void)state;
    const char *html =
        "<html><head><script type='application/ld+json'>{\"@type\":\"NewsArticle\","
        "\"headline\":\"Shell\",\"articleBody\":\"The whole story lives in the metadata of this "
        "page, because the page itself is drawn by a script that we do not run. It goes on "
        "for a while so that it is clearly longer than anything in the markup.\"}</script>"
        "</head><body><div id='app'>Loading...</div></body></html>";
    gx_article *a = NULL;
    char err[128];
    assert_int_equal(gx_from_html(html, strlen(html), NULL, NULL, &a, err, sizeof(err)), GX_OK);
    assert_starts(a->body, "The whole story lives in the metadata");
    assert_string_equal(a->title, "Shell");
    gx_article_free(a);
}

/* Pages nested 100,000 deep are read without recursion; blank and broken pages are no error. */
static void html_hostile(void **state)
{
    (void)state;
    size_t depth = 100000;
    const char *story = "<p>A sentence of a story that sits at the bottom of the nesting, with a "
                        "comma, long enough to be a paragraph.</p>";
    size_t len = depth * 5 + strlen(story) + 1;
    char *html = malloc(len);
    assert_non_null(html);
    size_t at = 0;
    for (size_t i = 0; i < depth; i++, at += 5)
        memcpy(html + at, "<div>", 5);
    memcpy(html + at, story, strlen(story) + 1);
    gx_article *a = NULL;
    char err[128];
    assert_int_equal(gx_from_html(html, strlen(html), NULL, NULL, &a, err, sizeof(err)), GX_OK);
    assert_has(a->body, "A sentence of a story");
    gx_article_free(a);
    free(html);

    const char *odd[] = {"", "   \n", "<", "<html><body></body></html>", "\xff\xfe<p>\xc3</p>"};
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        a = NULL;
        assert_int_equal(gx_from_html(odd[i], strlen(odd[i]), NULL, NULL, &a, err, sizeof(err)),
                         GX_OK);
        assert_non_null(a);
        gx_article_free(a);
    }
}

/*
 * The flat DOM puts nodes where libxml2's tree builder put them: a page that goes on after
 * </html> has its late story read, with or without a doctype or a comment first (the late
 * element hangs under the first root element, or after the document's last node).
 */
static void html_after_end(void **state)
{
    (void)state;
    static const char *const heads[] = {"", "<!DOCTYPE html>", "<!-- first -->"};
    char page[1024];
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        snprintf(page, sizeof(page),
                 "%s<html><body><p>Menu</p></body></html><!-- late --><p>The late story "
                 "paragraph after the end of the page, with commas, long enough to count as "
                 "one.</p>",
                 heads[i]);
        gx_article *a = NULL;
        char err[128];
        assert_int_equal(gx_from_html(page, strlen(page), NULL, NULL, &a, err, sizeof(err)), GX_OK);
        assert_starts(a->body, "The late story paragraph after the end of the page");
        gx_article_free(a);
    }
}

/*
 * max_nodes bounds the DOM itself: nodes past the limit are neither kept nor rendered, even
 * inside a container chosen from the nodes before it. The h1 title is its whole text.
 */
static void html_node_limit(void **state)
{
    (void)state;
    const char *para = "<p>A paragraph of the story, with commas, long enough to be a paragraph "
                       "of its own.</p>";
    char page[4096];
    int n = snprintf(page, sizeof(page), "<html><body><h1>Big <b>bold</b> title</h1><div>");
    for (int i = 0; i < 12; i++)
        n += snprintf(page + n, sizeof(page) - (size_t)n, "%s", para);
    snprintf(page + n, sizeof(page) - (size_t)n,
             "<p>The very last paragraph, with commas, long enough to count as one too.</p>"
             "</div></body></html>");
    gx_limits limits = {.max_nodes = 24, .max_depth = 512, .max_body_bytes = 1u << 20};
    gx_article *a = NULL;
    char err[128];
    assert_int_equal(gx_from_html(page, strlen(page), NULL, &limits, &a, err, sizeof(err)), GX_OK);
    assert_string_equal(a->title, "Big bold title");
    assert_starts(a->body, "A paragraph of the story");
    assert_lacks(a->body, "The very last paragraph");
    gx_article_free(a);
    a = NULL;
    assert_int_equal(gx_from_html(page, strlen(page), NULL, NULL, &a, err, sizeof(err)), GX_OK);
    assert_has(a->body, "The very last paragraph");
    gx_article_free(a);
}

/* ---- Text renderings -------------------------------------------------------------------- */

/*
 * What the parser is spared (script and style bodies, comments, unread attributes) must not
 * change what it reads: tags inside scripts, comments and quoted attributes are not tags,
 * "</scripts>" ends no script, JSON-LD is kept, hidden and class names still count.
 */
static void html_slimmed_markup(void **state)
{
    (void)state;
    static const char page[] =
        "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0//EN\" \"x>y\">\n"
        "<html lang=\"en\"><head><title>Page</title>\n"
        "<script type=\"application/ld+json\">{\"@type\":\"NewsArticle\","
        "\"headline\":\"Slim headline\",\"datePublished\":\"2024-05-23T10:00:00Z\"}</script>\n"
        "<script>var s = '<div class=\"story\"><p>Script text that is no story at all, "
        "none.</p></div>'; if (a </b) {} </scripts> x = '</SCRIPTED>';</SCRIPT>\n"
        "<style>p > b { color: red } /* </p> */</style></head>\n"
        "<body><!-- <script> not a script --><!---->"
        "<div class=\"sidebar\" data-x='a > b' onclick=\"f('<p>')\">Sidebar words that sit "
        "outside of the story and should not be read as part of it.</div>\n"
        "<article class=\"article-body\" data-long=\""
        "<p>quoted</p>"
        "\" title=x>\n"
        "  <p>The first paragraph of the story, long enough to count as one, with commas, "
        "and more.</p>\n\n\n   <p style=\"display : NONE\">Hidden paragraph of text that nobody "
        "should ever see in the body.</p>\n"
        "  <p>The second paragraph of the story <b>holds</b>   <i>inline</i> words, and "
        "it ends here.</p>\n"
        "<pre>line one\n\n   line two</pre>"
        "</article></body></html>";
    gx_article *a = NULL;
    char err[128];
    assert_int_equal(
        gx_from_html(page, sizeof(page) - 1, "https://x.invalid/a", NULL, &a, err, sizeof(err)),
        GX_OK);
    assert_string_equal(a->title, "Slim headline");
    assert_string_equal(a->published, "2024-05-23T10:00:00Z");
    assert_string_equal(a->lang, "en");
    assert_starts(a->body, "The first paragraph of the story");
    assert_has(a->body, "\nThe second paragraph of the story holds inline words, and it ends");
    assert_has(a->body, "line one\nline two");
    assert_lacks(a->body, "Script text");
    assert_lacks(a->body, "Hidden paragraph");
    assert_lacks(a->body, "Sidebar words");
    assert_lacks(a->body, "quoted");
    assert_lacks(a->body, "color");
    gx_article_free(a);
}

static void text_agency_article(void **state)
{
    (void)state;
    gx_article *a = from_text_fixture("agency.txt");
    assert_string_equal(a->title, "항구도시 새 여객선 터미널 다음 달 문 연다");
    assert_string_equal(a->deck, "하루 이용객 1만명 규모…주차장·환승센터 함께 갖춰");
    assert_string_equal(a->byline, "홍길동 기자");
    assert_string_equal(a->author, "홍길동");
    assert_string_equal(a->published, "2025.03.14 09:12");
    /* The dateline goes to the byline; the story starts after it. */
    assert_starts(a->body, "바닷가 항구도시에 새 여객선 터미널이");
    assert_has(a->body, "해양 문화 전시관으로 쓰일 예정이다.");
    static const char *const noise[] = {"직원들이 개장 준비를",
                                        "ⓒ 뉴스하나 홍길동",
                                        "구독하고",
                                        "앱 다운로드",
                                        "AI 요약",
                                        "개장한다",
                                        "저작권자",
                                        "관련기사",
                                        "섬 주민 배편",
                                        "gildong@",
                                        "회사소개",
                                        "(부산=뉴스하나)"};
    for (size_t i = 0; i < sizeof(noise) / sizeof(noise[0]); i++)
        assert_lacks(a->body, noise[i]);
    gx_article_free(a);
}

static void text_amp_page(void **state)
{
    (void)state;
    gx_article *a = from_text_fixture("amp.txt");
    assert_string_equal(a->title, "도서관 야간 개방 시범 운영…평일 밤 10시까지");
    assert_string_equal(a->byline, "김철수 기자");
    assert_starts(a->body, "시립 도서관 다섯 곳이");
    assert_has(a->body, "결정할 계획이다.");
    assert_lacks(a->body, "공유");
    assert_lacks(a->body, "Copyright");
    gx_article_free(a);
}

static void text_portal_copy(void **state)
{
    (void)state;
    gx_article *a = from_text_fixture("portal.txt");
    assert_string_equal(a->title, "주말 비 소식에 기온 뚝…다음 주 초 쌀쌀");
    assert_string_equal(a->author, "이영희");
    assert_starts(a->body, "이번 주말 전국에 비가 내린 뒤");
    assert_has(a->body, "유의해 달라고 당부했다.");
    static const char *const noise[] = {"기사원문", "요약봇", "구독자", "랭킹", "추천", "약관"};
    for (size_t i = 0; i < sizeof(noise) / sizeof(noise[0]); i++)
        assert_lacks(a->body, noise[i]);
    gx_article_free(a);
}

static void text_print_copy(void **state)
{
    (void)state;
    gx_article *a = from_text_fixture("print.txt");
    assert_string_equal(a->title, "시내버스 노선 12개 개편…출퇴근 배차 간격 줄인다");
    assert_string_equal(a->byline, "박민수 기자");
    assert_string_equal(a->published, "2025-06-09 11:20");
    assert_starts(a->body, "시가 다음 달부터 시내버스 노선");
    assert_has(a->body, "배치할 예정이다.");
    assert_lacks(a->body, "인쇄");
    assert_lacks(a->body, "Copyright");
    gx_article_free(a);
}

/* A rendering that starts in the middle of the story keeps its first, broken sentence. */
static void text_mid_article(void **state)
{
    (void)state;
    gx_article *a = from_text_fixture("midarticle.txt");
    assert_starts(a->body, "설명했다. 이에 따라 올해 지원 대상은");
    assert_has(a->body, "말했다.");
    assert_lacks(a->body, "저작권자");
    assert_lacks(a->body, "산불");
    assert_null(a->title);
    gx_article_free(a);
}

/* A comment thread longer than the story ends it at its heading ("12 responses to", "says:"). */
static void text_comment_thread(void **state)
{
    (void)state;
    gx_article *a = from_text_fixture("thread.txt");
    assert_starts(a->body, "Harbor City coach Lena Ortiz said");
    assert_has(a->body, "that is on me.");
    static const char *const noise[] = {
        "Share this", "responses", "says:", "bluefan42", "neutral zone", "goalie"};
    for (size_t i = 0; i < sizeof(noise) / sizeof(noise[0]); i++)
        assert_lacks(a->body, noise[i]);
    gx_article_free(a);
}

/*
 * Long lines that are not prose lose to a short story: a contact block (e-mail, phone
 * numbers), a tag cloud without punctuation, a "|" menu, teasers cut off with "...".
 */
static void text_long_boilerplate(void **state)
{
    (void)state;
    gx_article *a = from_text_fixture("boilerplate.txt");
    assert_starts(a->body, "A water main broke under Elm Street");
    assert_has(a->body, "public works department said.");
    static const char *const noise[] = {"Customer Service", "service@",       "infrastructure",
                                        "Obituaries",       "library branch", "four-day week"};
    for (size_t i = 0; i < sizeof(noise) / sizeof(noise[0]); i++)
        assert_lacks(a->body, noise[i]);
    gx_article_free(a);
}

/*
 * A "Related" box between paragraphs does not end the story; a copyright notice does, and the
 * teasers under it stay out. A photo credit ("© Jane Photographer") is no notice.
 */
static void text_related_box_and_notice(void **state)
{
    (void)state;
    gx_article *a = from_text_fixture("related.txt");
    assert_starts(a->body, "A team of biologists");
    assert_has(a->body, "whenever it was wet.");
    assert_has(a->body, "travel farther than adults.");
    static const char *const noise[] = {"beetles", "cave fish", "Example Science Media",
                                        "cattle",  "bicycle",   "2H ago"};
    for (size_t i = 0; i < sizeof(noise) / sizeof(noise[0]); i++)
        assert_lacks(a->body, noise[i]);
    gx_article_free(a);
}

/*
 * Teasers and menus above a short story outweigh it; the story's header — a title, then an
 * English date and byline line — starts it. The date becomes `published` with its zone and
 * "Posted by … on …" the byline.
 */
static void text_teasers_above(void **state)
{
    (void)state;
    gx_article *a = from_text_fixture("teasers_above.txt");
    assert_starts(a->body, "HARBOR CITY");
    assert_has(a->body, "painted lanes.");
    assert_lacks(a->body, "Bakery");
    assert_lacks(a->body, "Library");
    assert_lacks(a->body, "Posted by");
    assert_string_equal(a->title, "City Council Approves New Bicycle Lanes On Harbor Road");
    assert_string_equal(a->published, "2019-11-19T10:30:00-05:00");
    assert_string_equal(a->author, "Jane Roe");
    gx_article_free(a);
}

/*
 * A list of teasers after the story — headline, author, date and a sentence, over and over,
 * with no heading before it — ends the story at the first teaser's headline.
 */
static void text_teaser_list(void **state)
{
    (void)state;
    gx_article *a = from_text_fixture("teaser_list.txt");
    assert_starts(a->body, "Post offices in small towns");
    assert_has(a->body, "say so plainly.");
    static const char *const noise[] = {"school lunches", "Alex Columnist", "stadium", "Libraries",
                                        "November 20"};
    for (size_t i = 0; i < sizeof(noise) / sizeof(noise[0]); i++)
        assert_lacks(a->body, noise[i]);
    assert_string_equal(a->published, "2019-11-19");
    assert_string_equal(a->author, "Sam Writer");
    gx_article_free(a);
}

/*
 * Box headings in other languages ("Leia também", "Você pode gostar...") are box headings:
 * one between paragraphs goes, one above the teasers under the story ends it.
 */
static void text_foreign_box_headings(void **state)
{
    (void)state;
    gx_article *a = from_text_fixture("foreign_box.txt");
    assert_starts(a->body, "A padaria do bairro");
    assert_has(a->body, "perto da esta");
    assert_lacks(a->body, "Leia tamb");
    assert_lacks(a->body, "gostar");
    assert_lacks(a->body, "leitora");
    gx_article_free(a);
}

/* A box heading followed by excerpts cut short ("…") ends the story, though a sentence follows. */
static void text_teaser_box(void **state)
{
    (void)state;
    gx_article *a = from_text_fixture("teaser_box.txt");
    assert_starts(a->body, "Tomatoes split");
    assert_has(a->body, "dries out.");
    assert_lacks(a->body, "peppers");
    assert_lacks(a->body, "pumpkins");
    gx_article_free(a);
}

/* A cookie notice's long sentences weigh against: the short review stays the story. */
static void text_cookie_notice(void **state)
{
    (void)state;
    gx_article *a = from_text_fixture("cookies.txt");
    assert_has(a->body, "clutch adjustment");
    assert_has(a->body, "busy with the spanners.");
    assert_lacks(a->body, "cookies");
    gx_article_free(a);
}

/* A share bar between the title and the byline does not hide the story's header. */
static void text_share_bar_header(void **state)
{
    (void)state;
    gx_article *a = from_text_fixture("share_bar_header.txt");
    assert_starts(a->body, "The hardware chain reported");
    assert_has(a->body, "kept unchanged.");
    assert_lacks(a->body, "Quotes delayed");
    assert_string_equal(a->title, "Hardware chain sales miss estimates, shares fall");
    assert_string_equal(a->author, "Pat Reporter");
    gx_article_free(a);
}

/* A list the story announces with a colon stays with it, up to its last item. */
static void text_announced_list(void **state)
{
    (void)state;
    gx_article *a = from_text_fixture("announced_list.txt");
    assert_has(a->body, "Here are the five they named:");
    assert_has(a->body, "bypass secateurs");
    assert_has(a->body, "survives a wet autumn");
    assert_lacks(a->body, "Twitter");
    assert_lacks(a->body, "Ten shrubs");
    gx_article_free(a);
}

/* A writer's note under the story ("Jane Roe is a reporter at ...") closes it. */
static void text_author_note(void **state)
{
    (void)state;
    gx_article *a = from_text_fixture("author_note.txt");
    assert_starts(a->body, "The town library will open");
    assert_has(a->body, "nowhere quiet to study.");
    assert_lacks(a->body, "is a reporter");
    assert_lacks(a->body, "harbour festival");
    assert_lacks(a->body, "cafes");
    gx_article_free(a);
}

/* Title, deck and a sign-up prompt above the byline at the run's top are header, not story. */
static void text_lead_byline(void **state)
{
    (void)state;
    gx_article *a = from_text_fixture("lead_byline.txt");
    assert_starts(a->body, "Ecologists counting insects");
    assert_has(a->body, "northern shore.");
    assert_lacks(a->body, "Breaking News");
    assert_lacks(a->body, "By Sam Writer");
    assert_string_equal(a->author, "Sam Writer");
    gx_article_free(a);
}

/* A caption closed by a photo agency's credit ("Jane Roe / Reuters file") is dropped. */
static void text_photo_credit(void **state)
{
    (void)state;
    gx_article *a = from_text_fixture("photo_credit.txt");
    assert_starts(a->body, "The three cranes");
    assert_has(a->body, "across the bay.");
    assert_lacks(a->body, "Reuters");
    assert_lacks(a->body, "Image credit");
    gx_article_free(a);
}

/* A breadcrumb glued to the title ("HomeLocal News Title") goes, and the title is a field. */
static void text_breadcrumb(void **state)
{
    (void)state;
    gx_article *a = from_text_fixture("breadcrumb.txt");
    assert_starts(a->body, "The family bakery");
    assert_has(a->body, "opened in 1987.");
    assert_lacks(a->body, "Home");
    assert_string_equal(a->title, "Bakery on Mill Street Wins Regional Bread Prize");
    gx_article_free(a);
}

static void text_empty(void **state)
{
    (void)state;
    bl_doc *doc = bl_from_text("", 0, NULL);
    gx_article *a = NULL;
    char err[64];
    assert_int_equal(gx_from_lines(doc, &a, err, sizeof(err)), GX_OK);
    assert_null(a->body);
    gx_article_free(a);
    bl_free(doc);
}

/* ---- Dates ------------------------------------------------------------------------------ */

static void dates(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(gx_parse_date("2025-03-14T09:12:00+09:00", 0, &ms), GX_TIME_MINUTE);
    assert_int_equal(ms, 1741911120000); /* 2025-03-14T00:12:00Z */
    assert_int_equal(gx_parse_date("2025-03-14T00:12:00.123Z", 540, &ms), GX_TIME_MINUTE);
    assert_int_equal(ms, 1741911120000);
    assert_int_equal(gx_parse_date("2025.03.14 09:12", 540, &ms), GX_TIME_MINUTE);
    assert_int_equal(ms, 1741911120000);
    assert_int_equal(gx_parse_date("2025-03-14T05:12:00-0700", 0, &ms), GX_TIME_MINUTE);
    assert_int_equal(ms, 1741954320000); /* 12:12Z */
    assert_int_equal(gx_parse_date("2024-05-23", 540, &ms), GX_TIME_DAY);
    assert_int_equal(gx_parse_date("2025-02-30", 0, &ms), GX_TIME_NONE);
    assert_int_equal(gx_parse_date("yesterday", 0, &ms), GX_TIME_NONE);
    assert_int_equal(gx_parse_date(NULL, 0, &ms), GX_TIME_NONE);
    assert_int_equal(gx_parse_date("2025-03-14T25:00", 0, &ms), GX_TIME_NONE);
}

/* ---- The driver ------------------------------------------------------------------------- */

/* A page no profile serves gets one article item from the generic extractor. */
static void extract_without_profile(void **state)
{
    (void)state;
    size_t len;
    char *html = read_fixture("news.html", &len);
    ex_input input = {.url = "https://www.gazette.invalid/news/ferry-terminal?utm_source=x",
                      .content_type = "text/html; charset=utf-8",
                      .body = (const uint8_t *)html,
                      .len = len};
    ex_page *page = NULL;
    char err[128];
    assert_int_equal(ex_extract(NULL, 0, &input, NULL, &page, err, sizeof(err)), EX_OK);
    assert_int_equal(page->n_items, 1);
    const ex_item *item = &page->items[0];
    assert_int_equal(item->kind, EX_ARTICLE);
    assert_string_equal(item->title, "Harbour ferry terminal opens next month");
    assert_starts(item->text, "The city's new harbour ferry terminal");
    assert_null(item->brand);
    assert_string_equal(item->url, "https://gazette.invalid/news/ferry-terminal");
    assert_int_equal(item->precision, EX_TIME_MINUTE);
    assert_int_equal(item->published_at_ms, 1741911120000);
    assert_non_null(item->title_key);
    assert_non_null(item->text_key);
    ex_page_free(page);
    free(html);

    /* A text rendering takes the text path. */
    char *text = read_fixture("agency.txt", &len);
    input = (ex_input){.url = "https://news.invalid/view/1",
                       .content_type = "text/plain; charset=utf-8",
                       .body = (const uint8_t *)text,
                       .len = len};
    assert_int_equal(ex_extract(NULL, 0, &input, NULL, &page, err, sizeof(err)), EX_OK);
    assert_int_equal(page->n_items, 1);
    assert_string_equal(page->items[0].title, "항구도시 새 여객선 터미널 다음 달 문 연다");
    assert_starts(page->items[0].text, "바닷가 항구도시에");
    assert_int_equal(page->items[0].precision, EX_TIME_MINUTE);
    ex_page_free(page);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(html_news_article),
        cmocka_unit_test(html_bare_paragraphs),
        cmocka_unit_test(html_json_ld_body),
        cmocka_unit_test(html_hostile),
        cmocka_unit_test(html_slimmed_markup),
        cmocka_unit_test(html_after_end),
        cmocka_unit_test(html_node_limit),
        cmocka_unit_test(text_agency_article),
        cmocka_unit_test(text_amp_page),
        cmocka_unit_test(text_portal_copy),
        cmocka_unit_test(text_print_copy),
        cmocka_unit_test(text_mid_article),
        cmocka_unit_test(text_comment_thread),
        cmocka_unit_test(text_long_boilerplate),
        cmocka_unit_test(text_related_box_and_notice),
        cmocka_unit_test(text_teasers_above),
        cmocka_unit_test(text_teaser_list),
        cmocka_unit_test(text_foreign_box_headings),
        cmocka_unit_test(text_teaser_box),
        cmocka_unit_test(text_cookie_notice),
        cmocka_unit_test(text_share_bar_header),
        cmocka_unit_test(text_announced_list),
        cmocka_unit_test(text_author_note),
        cmocka_unit_test(text_lead_byline),
        cmocka_unit_test(text_photo_credit),
        cmocka_unit_test(text_breadcrumb),
        cmocka_unit_test(text_empty),
        cmocka_unit_test(dates),
        cmocka_unit_test(extract_without_profile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
