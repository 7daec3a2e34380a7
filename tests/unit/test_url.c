/*
 * Unit tests of url canonicalization and resolution (src/core/url.c). The
 * dspdaily.com cases are real urls from the crawl; the resolution cases are
 * RFC 3986 section 5.4 verbatim.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/url.h"

static const cu_site_rule dspdaily_rules[] = {
    {.host = "dspdaily.com", .path = "/news/view.php", .keep_param = "no"},
};
static const cu_rules dspdaily = {.site_rules = dspdaily_rules, .n_site_rules = 1};

static void check_canonical(const char *url, const cu_rules *rules, const char *expected)
{
    char err[128] = "";
    char *got = cu_canonical(url, rules, err, sizeof(err));
    if (!got)
        fail_msg("cu_canonical(\"%s\") failed: %s", url, err);
    assert_string_equal(got, expected);
    free(got);
}

static void check_rejected(const char *url)
{
    char err[128] = "";
    char *got = cu_canonical(url, NULL, err, sizeof(err));
    if (got)
        fail_msg("cu_canonical(\"%s\") accepted it as \"%s\"", url, got);
    assert_true(strlen(err) > 0);
}

static void check_resolve(const char *base, const char *ref, const char *expected)
{
    char *got = cu_resolve(base, ref);
    if (!got)
        fail_msg("cu_resolve(\"%s\", \"%s\") failed", base, ref);
    if (strcmp(got, expected) != 0) {
        char message[512];
        snprintf(message, sizeof(message), "resolving \"%s\": got \"%s\", want \"%s\"", ref, got,
                 expected);
        free(got);
        fail_msg("%s", message);
    }
    free(got);
}

/* --- The examples the canonical form is defined by --------------------------- */

static void test_article_keeps_only_no_and_drops_fragment(void **state)
{
    (void)state;
    check_canonical("http://www.DSPdaily.com/news/view.php?no=24345&page=2#top", &dspdaily,
                    "https://dspdaily.com/news/view.php?no=24345");
}

static void test_repeated_parameter_last_one_wins(void **state)
{
    (void)state;
    check_canonical("http://dspdaily.com/news/all.php?page=883&page=890", &dspdaily,
                    "https://dspdaily.com/news/all.php?page=890");
}

static void test_empty_parameter_dropped_and_last_wins(void **state)
{
    (void)state;
    check_canonical("https://dspdaily.com/news/index.php?code=20110516223442_0321&d_code=&page=3"
                    "&page=5",
                    &dspdaily,
                    "https://dspdaily.com/news/index.php?code=20110516223442_0321&page=5");
}

static void test_brackets_encoded_and_parameters_sorted(void **state)
{
    (void)state;
    const char *expected = "https://dspdaily.com/news/index.php?page=4&section%5B0%5D=10974";
    check_canonical("https://dspdaily.com/news/index.php?page=4&section%5B0%5D=10974", &dspdaily,
                    expected);
    check_canonical("https://dspdaily.com/news/index.php?section[0]=10974&page=4", &dspdaily,
                    expected);
}

static void test_default_port_dot_segments_and_tracking(void **state)
{
    (void)state;
    check_canonical("https://example.com:443/a/./b/../c?utm_source=x&id=1", NULL,
                    "https://example.com/a/c?id=1");
}

static void test_scheme_and_host_case_and_empty_path(void **state)
{
    (void)state;
    check_canonical("HTTP://Example.COM", NULL, "https://example.com/");
}

static void test_ftp_is_rejected(void **state)
{
    (void)state;
    check_rejected("ftp://x");
}

static void test_text_that_is_no_url_is_rejected(void **state)
{
    (void)state;
    check_rejected("not a url");
}

/* --- Authority ----------------------------------------------------------------- */

static void test_userinfo_is_dropped(void **state)
{
    (void)state;
    check_canonical("http://user:secret@example.com/x", NULL, "https://example.com/x");
}

static void test_other_ports_are_kept(void **state)
{
    (void)state;
    check_canonical("http://example.com:8080/x", NULL, "https://example.com:8080/x");
    check_canonical("http://example.com:0080/x", NULL, "https://example.com/x");
}

static void test_empty_port_is_the_default(void **state)
{
    (void)state;
    check_canonical("http://example.com:/x", NULL, "https://example.com/x");
}

static void test_trailing_dot_of_host_is_removed(void **state)
{
    (void)state;
    check_canonical("https://www.example.com./", NULL, "https://example.com/");
}

static void test_www_kept_when_it_is_the_name(void **state)
{
    (void)state;
    check_canonical("https://www.com/", NULL, "https://www.com/");
}

static void test_ipv6_literal_keeps_brackets(void **state)
{
    (void)state;
    check_canonical("http://[2001:DB8::1]:8080/a", NULL, "https://[2001:db8::1]:8080/a");
}

static void test_bad_authorities_are_rejected(void **state)
{
    (void)state;
    check_rejected("http://");
    check_rejected("http:///path");
    check_rejected("http://example.com:99999/");
    check_rejected("http://example.com:8o/");
    check_rejected("http://exa mple.com/");
    check_rejected("http://[::1/");
    check_rejected("http://[::1]x/");
    check_rejected("http://ex\xff"
                   "ample.com/");
}

static void test_url_without_authority_is_rejected(void **state)
{
    (void)state;
    check_rejected("http:/example.com/x");
    check_rejected("/news/view.php?no=1");
    check_rejected("");
}

static void test_null_url_is_rejected_and_err_may_be_null(void **state)
{
    (void)state;
    char err[64] = "";
    assert_null(cu_canonical(NULL, NULL, err, sizeof(err)));
    assert_true(strlen(err) > 0);
    assert_null(cu_canonical("ftp://x", NULL, NULL, 0));
}

static void test_error_message_fits_small_buffer(void **state)
{
    (void)state;
    char err[8];
    memset(err, 'x', sizeof(err));
    assert_null(cu_canonical("gopher://example.com/", NULL, err, sizeof(err)));
    assert_int_equal(strlen(err), sizeof(err) - 1);
}

/* --- Path ---------------------------------------------------------------------- */

static void test_unreserved_escapes_decoded_others_upper_case(void **state)
{
    (void)state;
    check_canonical("https://a.com/%7euser/%e2%82%ac/%41", NULL, "https://a.com/~user/%E2%82%AC/A");
}

static void test_unsafe_path_bytes_are_escaped(void **state)
{
    (void)state;
    check_canonical("https://a.com/뉴스 1/[x]|\"", NULL,
                    "https://a.com/%EB%89%B4%EC%8A%A4%201/%5Bx%5D%7C%22");
}

static void test_stray_percent_is_escaped(void **state)
{
    (void)state;
    check_canonical("https://a.com/100%/%zz/%4", NULL, "https://a.com/100%25/%25zz/%254");
}

static void test_escaped_dot_segments_are_removed(void **state)
{
    (void)state;
    check_canonical("https://a.com/a/b/%2E%2E/%2e/c", NULL, "https://a.com/a/c");
}

static void test_reserved_escapes_stay_escaped(void **state)
{
    (void)state;
    check_canonical("https://a.com/a%2Fb/c%3Fd", NULL, "https://a.com/a%2Fb/c%3Fd");
}

static void test_dot_segments_above_root_are_dropped(void **state)
{
    (void)state;
    check_canonical("https://a.com/../../x/..", NULL, "https://a.com/");
}

static void test_surrounding_whitespace_and_line_breaks_are_ignored(void **state)
{
    (void)state;
    check_canonical("  \thttps://a.com/news/\n\tview.php?no=1 \r\n", NULL,
                    "https://a.com/news/view.php?no=1");
}

/* --- Query ----------------------------------------------------------------------- */

static void test_bare_parameter_is_kept_as_a_flag(void **state)
{
    (void)state;
    check_canonical("https://a.com/x?print&id=1", NULL, "https://a.com/x?id=1&print");
}

static void test_empty_keys_and_empty_pairs_are_dropped(void **state)
{
    (void)state;
    check_canonical("https://a.com/x?=1&&a=2&", NULL, "https://a.com/x?a=2");
}

static void test_last_empty_value_removes_parameter(void **state)
{
    (void)state;
    check_canonical("https://a.com/x?page=3&page=", NULL, "https://a.com/x");
}

static void test_keys_compare_after_escape_normalization(void **state)
{
    (void)state;
    check_canonical("https://a.com/x?%70age=1&page=2", NULL, "https://a.com/x?page=2");
}

static void test_list_parameters_are_all_kept(void **state)
{
    (void)state;
    check_canonical("https://a.com/x?tag[]=b&tag[]=a", NULL,
                    "https://a.com/x?tag%5B%5D=b&tag%5B%5D=a");
}

static void test_builtin_tracking_parameters_are_dropped(void **state)
{
    (void)state;
    check_canonical("https://a.com/x?utm_medium=m&UTM_Campaign=c&fbclid=1&gclid=2&dclid=3"
                    "&msclkid=4&mc_cid=5&mc_eid=6&_ga=7&igshid=8&yclid=9&spm=10&from=11"
                    "&ref_src=12&id=7",
                    NULL, "https://a.com/x?id=7");
}

static void test_caller_tracking_parameters_and_prefixes(void **state)
{
    (void)state;
    static const char *const extra[] = {"sid", "ga_*"};
    cu_rules rules = {.tracking_params = extra, .n_tracking_params = 2};
    check_canonical("https://a.com/x?sid=1&ga_x=2&ga=3&id=4", &rules, "https://a.com/x?ga=3&id=4");
}

static void test_empty_query_leaves_no_question_mark(void **state)
{
    (void)state;
    check_canonical("https://a.com/x?", NULL, "https://a.com/x");
    check_canonical("https://a.com/x?utm_source=y", NULL, "https://a.com/x");
}

static void test_query_escapes_normalized(void **state)
{
    (void)state;
    check_canonical("https://a.com/x?q=%ed%95%9c+%7e a&b=c=d", NULL,
                    "https://a.com/x?b=c=d&q=%ED%95%9C+~%20a");
}

static void test_site_rule_applies_only_to_its_path(void **state)
{
    (void)state;
    check_canonical("https://dspdaily.com/news/view.php?page=2", &dspdaily,
                    "https://dspdaily.com/news/view.php");
    check_canonical("https://dspdaily.com/news/other.php?no=5&page=2", &dspdaily,
                    "https://dspdaily.com/news/other.php?no=5&page=2");
    check_canonical("https://other.com/news/view.php?no=5&page=2", &dspdaily,
                    "https://other.com/news/view.php?no=5&page=2");
}

static void test_fragment_is_dropped(void **state)
{
    (void)state;
    check_canonical("https://a.com/x#a?b=c", NULL, "https://a.com/x");
}

/* --- Resolution ------------------------------------------------------------------ */

static const char rfc_base[] = "http://a/b/c/d;p?q";

static void test_resolve_rfc3986_normal_examples(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"g:h", "g:h"},
        {"g", "http://a/b/c/g"},
        {"./g", "http://a/b/c/g"},
        {"g/", "http://a/b/c/g/"},
        {"/g", "http://a/g"},
        {"//g", "http://g"},
        {"?y", "http://a/b/c/d;p?y"},
        {"g?y", "http://a/b/c/g?y"},
        {"#s", "http://a/b/c/d;p?q#s"},
        {"g#s", "http://a/b/c/g#s"},
        {"g?y#s", "http://a/b/c/g?y#s"},
        {";x", "http://a/b/c/;x"},
        {"g;x", "http://a/b/c/g;x"},
        {"g;x?y#s", "http://a/b/c/g;x?y#s"},
        {"", "http://a/b/c/d;p?q"},
        {".", "http://a/b/c/"},
        {"./", "http://a/b/c/"},
        {"..", "http://a/b/"},
        {"../", "http://a/b/"},
        {"../g", "http://a/b/g"},
        {"../..", "http://a/"},
        {"../../", "http://a/"},
        {"../../g", "http://a/g"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_resolve(rfc_base, cases[i][0], cases[i][1]);
}

static void test_resolve_rfc3986_abnormal_examples(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"../../../g", "http://a/g"},
        {"../../../../g", "http://a/g"},
        {"/./g", "http://a/g"},
        {"/../g", "http://a/g"},
        {"g.", "http://a/b/c/g."},
        {".g", "http://a/b/c/.g"},
        {"g..", "http://a/b/c/g.."},
        {"..g", "http://a/b/c/..g"},
        {"./../g", "http://a/b/g"},
        {"./g/.", "http://a/b/c/g/"},
        {"g/./h", "http://a/b/c/g/h"},
        {"g/../h", "http://a/b/c/h"},
        {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
        {"g;x=1/../y", "http://a/b/c/y"},
        {"g?y/./x", "http://a/b/c/g?y/./x"},
        {"g?y/../x", "http://a/b/c/g?y/../x"},
        {"g#s/./x", "http://a/b/c/g#s/./x"},
        {"g#s/../x", "http://a/b/c/g#s/../x"},
        {"http:g", "http:g"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_resolve(rfc_base, cases[i][0], cases[i][1]);
}

static void test_resolve_against_base_without_path(void **state)
{
    (void)state;
    check_resolve("https://dspdaily.com", "news/view.php?no=1",
                  "https://dspdaily.com/news/view.php?no=1");
}

static void test_resolve_absolute_ref_needs_no_base(void **state)
{
    (void)state;
    check_resolve(NULL, "https://a.com/x/../y", "https://a.com/y");
}

static void test_resolve_relative_ref_needs_absolute_base(void **state)
{
    (void)state;
    char *got = cu_resolve("/news/list.php", "view.php?no=1");
    assert_null(got);
    got = cu_resolve(NULL, "view.php");
    assert_null(got);
}

static void test_resolve_strips_whitespace_of_href(void **state)
{
    (void)state;
    check_resolve("http://dspdaily.com/news/list.php", " \n view.php?no=24345\t",
                  "http://dspdaily.com/news/view.php?no=24345");
}

static void test_resolve_then_canonical(void **state)
{
    (void)state;
    char *resolved =
        cu_resolve("http://www.dspdaily.com/news/all.php?page=2", "./view.php?no=24345&page=2#c");
    assert_non_null(resolved);
    char err[64];
    char *canonical = cu_canonical(resolved, &dspdaily, err, sizeof(err));
    assert_non_null(canonical);
    assert_string_equal(canonical, "https://dspdaily.com/news/view.php?no=24345");
    free(canonical);
    free(resolved);
}

/* --- Host ------------------------------------------------------------------------ */

static void test_host_is_lower_cased_without_userinfo_and_port(void **state)
{
    (void)state;
    char host[64];
    assert_int_equal(cu_host("http://me@WWW.DSPdaily.com:8080/news?x#y", host, sizeof(host)), 0);
    assert_string_equal(host, "www.dspdaily.com");
}

static void test_host_of_relative_url_is_none(void **state)
{
    (void)state;
    char host[64] = "untouched";
    assert_int_equal(cu_host("/news/view.php", host, sizeof(host)), -1);
    assert_int_equal(cu_host("http:///x", host, sizeof(host)), -1);
    assert_int_equal(cu_host(NULL, host, sizeof(host)), -1);
}

static void test_host_too_long_for_buffer_fails(void **state)
{
    (void)state;
    char host[8];
    assert_int_equal(cu_host("https://dspdaily.com/", host, sizeof(host)), -1);
    assert_int_equal(cu_host("https://abcdefg/", host, sizeof(host)), 0);
    assert_string_equal(host, "abcdefg");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_article_keeps_only_no_and_drops_fragment),
        cmocka_unit_test(test_repeated_parameter_last_one_wins),
        cmocka_unit_test(test_empty_parameter_dropped_and_last_wins),
        cmocka_unit_test(test_brackets_encoded_and_parameters_sorted),
        cmocka_unit_test(test_default_port_dot_segments_and_tracking),
        cmocka_unit_test(test_scheme_and_host_case_and_empty_path),
        cmocka_unit_test(test_ftp_is_rejected),
        cmocka_unit_test(test_text_that_is_no_url_is_rejected),
        cmocka_unit_test(test_userinfo_is_dropped),
        cmocka_unit_test(test_other_ports_are_kept),
        cmocka_unit_test(test_empty_port_is_the_default),
        cmocka_unit_test(test_trailing_dot_of_host_is_removed),
        cmocka_unit_test(test_www_kept_when_it_is_the_name),
        cmocka_unit_test(test_ipv6_literal_keeps_brackets),
        cmocka_unit_test(test_bad_authorities_are_rejected),
        cmocka_unit_test(test_url_without_authority_is_rejected),
        cmocka_unit_test(test_null_url_is_rejected_and_err_may_be_null),
        cmocka_unit_test(test_error_message_fits_small_buffer),
        cmocka_unit_test(test_unreserved_escapes_decoded_others_upper_case),
        cmocka_unit_test(test_unsafe_path_bytes_are_escaped),
        cmocka_unit_test(test_stray_percent_is_escaped),
        cmocka_unit_test(test_escaped_dot_segments_are_removed),
        cmocka_unit_test(test_reserved_escapes_stay_escaped),
        cmocka_unit_test(test_dot_segments_above_root_are_dropped),
        cmocka_unit_test(test_surrounding_whitespace_and_line_breaks_are_ignored),
        cmocka_unit_test(test_bare_parameter_is_kept_as_a_flag),
        cmocka_unit_test(test_empty_keys_and_empty_pairs_are_dropped),
        cmocka_unit_test(test_last_empty_value_removes_parameter),
        cmocka_unit_test(test_keys_compare_after_escape_normalization),
        cmocka_unit_test(test_list_parameters_are_all_kept),
        cmocka_unit_test(test_builtin_tracking_parameters_are_dropped),
        cmocka_unit_test(test_caller_tracking_parameters_and_prefixes),
        cmocka_unit_test(test_empty_query_leaves_no_question_mark),
        cmocka_unit_test(test_query_escapes_normalized),
        cmocka_unit_test(test_site_rule_applies_only_to_its_path),
        cmocka_unit_test(test_fragment_is_dropped),
        cmocka_unit_test(test_resolve_rfc3986_normal_examples),
        cmocka_unit_test(test_resolve_rfc3986_abnormal_examples),
        cmocka_unit_test(test_resolve_against_base_without_path),
        cmocka_unit_test(test_resolve_absolute_ref_needs_no_base),
        cmocka_unit_test(test_resolve_relative_ref_needs_absolute_base),
        cmocka_unit_test(test_resolve_strips_whitespace_of_href),
        cmocka_unit_test(test_resolve_then_canonical),
        cmocka_unit_test(test_host_is_lower_cased_without_userinfo_and_port),
        cmocka_unit_test(test_host_of_relative_url_is_none),
        cmocka_unit_test(test_host_too_long_for_buffer_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
