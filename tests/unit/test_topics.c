/*
 * Unit tests of the topic check (src/daemon/topics.c): tp_verify on described
 * topics, and the spec table storyd creates its topics from.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/topics.h"

/* Topics as `storyd topics --create` makes them. */
static void good(tp_described t[TP_ROLES])
{
    t[TP_INPUT] = (tp_described){.name = "pages",
                                 .cleanup_policy = "delete",
                                 .max_message_bytes = 33554432,
                                 .retention_ms = 604800000};
    t[TP_STORIES] = (tp_described){.name = "stories",
                                   .cleanup_policy = "delete",
                                   .max_message_bytes = 8388608,
                                   .retention_ms = 604800000};
    t[TP_DEAD_LETTERS] = (tp_described){.name = "dead",
                                        .cleanup_policy = "delete",
                                        .max_message_bytes = 33619968,
                                        .retention_ms = 2592000000LL};
}

static void test_created_topics_pass(void **state)
{
    (void)state;
    tp_described t[TP_ROLES];
    good(t);
    bool warning = true;
    char err[512];
    assert_int_equal(tp_verify(t, &warning, err, sizeof(err)), 0);
    assert_false(warning);
    assert_string_equal(err, "");
}

static void test_a_missing_output_topic_names_its_key_and_the_fix(void **state)
{
    (void)state;
    tp_described t[TP_ROLES];
    char err[512];
    bool warning;
    good(t);
    t[TP_STORIES].missing = true;
    assert_int_equal(tp_verify(t, &warning, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "storyd.story_topic 'stories' does not exist"));
    assert_non_null(strstr(err, "storyd topics --create"));
    good(t);
    t[TP_DEAD_LETTERS].missing = true;
    assert_int_equal(tp_verify(t, &warning, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "storyd.dead_letter_topic 'dead' does not exist"));
}

static void test_compaction_is_refused_but_compact_and_delete_is_not(void **state)
{
    (void)state;
    tp_described t[TP_ROLES];
    char err[512];
    bool warning;
    good(t);
    t[TP_STORIES].cleanup_policy = "compact";
    assert_int_equal(tp_verify(t, &warning, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "storyd.story_topic 'stories' has cleanup.policy=compact"));
    assert_non_null(strstr(err, "a story's earlier events"));
    good(t);
    t[TP_DEAD_LETTERS].cleanup_policy = "compact";
    assert_int_equal(tp_verify(t, &warning, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "would drop dead letters"));
    good(t);
    t[TP_STORIES].cleanup_policy = "compact,delete";
    assert_int_equal(tp_verify(t, &warning, err, sizeof(err)), 0);
}

static void test_a_dead_letter_topic_smaller_than_the_input_is_refused(void **state)
{
    (void)state;
    tp_described t[TP_ROLES];
    char err[512];
    bool warning;
    good(t);
    t[TP_DEAD_LETTERS].max_message_bytes = 33554432; /* equal is not enough: headers */
    assert_int_equal(tp_verify(t, &warning, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "max.message.bytes=33554432, less than the input topic 'pages'"));
    assert_non_null(strstr(err, "at least 33558528"));
    t[TP_DEAD_LETTERS].max_message_bytes = 33554432 + TP_DEAD_LETTER_HEADROOM;
    assert_int_equal(tp_verify(t, &warning, err, sizeof(err)), 0);
}

static void test_a_missing_input_is_only_a_warning(void **state)
{
    (void)state;
    tp_described t[TP_ROLES];
    char err[512];
    bool warning = false;
    good(t);
    t[TP_INPUT].missing = true;
    t[TP_INPUT].max_message_bytes = 0;
    t[TP_DEAD_LETTERS].max_message_bytes = 1048588; /* nothing to compare with */
    assert_int_equal(tp_verify(t, &warning, err, sizeof(err)), 0);
    assert_true(warning);
    assert_non_null(strstr(err, "storyd.input_topic 'pages' does not exist yet"));
}

static void test_story_events_can_be_off(void **state)
{
    (void)state;
    tp_described t[TP_ROLES];
    char err[512];
    bool warning;
    good(t);
    t[TP_STORIES] = (tp_described){.name = NULL, .missing = false};
    assert_int_equal(tp_verify(t, &warning, err, sizeof(err)), 0);
    sd_config *config = sd_config_new();
    assert_non_null(config);
    assert_string_equal(tp_topic_name(config, TP_STORIES), "storyd.stories");
    free(config->story_topic);
    config->story_topic = strdup("");
    assert_null(tp_topic_name(config, TP_STORIES));
    assert_string_equal(tp_topic_name(config, TP_DEAD_LETTERS), "storyd.dead-letters");
    sd_config_free(config);
}

/* The table storyd creates from must itself pass the check. */
static void test_the_spec_table_passes_its_own_check(void **state)
{
    (void)state;
    tp_described t[TP_ROLES];
    static const char *const names[TP_ROLES] = {"a", "b", "c"};
    for (int role = 0; role < TP_ROLES; role++) {
        const tp_spec *spec = tp_spec_of((tp_role)role);
        assert_non_null(spec);
        assert_true(spec->partitions >= 1);
        t[role] = (tp_described){.name = names[role],
                                 .cleanup_policy = spec->cleanup_policy,
                                 .max_message_bytes = atoll(spec->max_message_bytes),
                                 .retention_ms = atoll(spec->retention_ms)};
    }
    assert_null(tp_spec_of(TP_ROLES));
    bool warning;
    char err[512];
    assert_int_equal(tp_verify(t, &warning, err, sizeof(err)), 0);
    assert_string_equal(tp_spec_of(TP_DEAD_LETTERS)->role, "storyd.dead_letter_topic");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_created_topics_pass),
        cmocka_unit_test(test_a_missing_output_topic_names_its_key_and_the_fix),
        cmocka_unit_test(test_compaction_is_refused_but_compact_and_delete_is_not),
        cmocka_unit_test(test_a_dead_letter_topic_smaller_than_the_input_is_refused),
        cmocka_unit_test(test_a_missing_input_is_only_a_warning),
        cmocka_unit_test(test_story_events_can_be_off),
        cmocka_unit_test(test_the_spec_table_passes_its_own_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
