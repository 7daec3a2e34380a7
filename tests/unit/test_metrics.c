/* The Prometheus text format writer of /metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/metrics.h"

static const double bounds[] = {1, 10, 100};

static void test_histogram_buckets_are_cumulative(void **state)
{
    (void)state;
    mx_histogram h;
    mx_histogram_init(&h, bounds, 3);
    mx_observe(&h, 0.5);
    mx_observe(&h, 1); /* le is inclusive */
    mx_observe(&h, 7);
    mx_observe(&h, 1000);
    sd_buf out;
    sd_buf_init(&out);
    mx_write_histogram(&out, "x_seconds", "X.", &h);
    assert_string_equal(out.data, "# HELP x_seconds X.\n"
                                  "# TYPE x_seconds histogram\n"
                                  "x_seconds_bucket{le=\"1\"} 2\n"
                                  "x_seconds_bucket{le=\"10\"} 3\n"
                                  "x_seconds_bucket{le=\"100\"} 3\n"
                                  "x_seconds_bucket{le=\"+Inf\"} 4\n"
                                  "x_seconds_sum 1008.5\n"
                                  "x_seconds_count 4\n");
    sd_buf_release(&out);
}

static void test_label_values_are_escaped(void **state)
{
    (void)state;
    char labels[128] = "";
    mx_label(labels, sizeof(labels), "topic", "a\"b\\c\nd");
    mx_label(labels, sizeof(labels), "partition", "2");
    assert_string_equal(labels, "topic=\"a\\\"b\\\\c\\nd\",partition=\"2\"");
    /* A list too small is cut, never overrun. */
    char tiny[12] = "";
    mx_label(tiny, sizeof(tiny), "topic", "a-long-topic-name");
    assert_true(strlen(tiny) < sizeof(tiny));
}

static void test_samples_and_values(void **state)
{
    (void)state;
    sd_buf out;
    sd_buf_init(&out);
    mx_single(&out, "a_total", "counter", "A.", 12);
    mx_sample(&out, "g", "k=\"v\"", 0.25);
    mx_sample(&out, "big", "", 1e20);
    assert_string_equal(out.data, "# HELP a_total A.\n# TYPE a_total counter\na_total 12\n"
                                  "g{k=\"v\"} 0.25\nbig 1e+20\n");
    sd_buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histogram_buckets_are_cumulative),
        cmocka_unit_test(test_label_values_are_escaped),
        cmocka_unit_test(test_samples_and_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
