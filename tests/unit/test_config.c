/*
 * Unit tests of the declarative configuration (src/common/config.c): defaults,
 * INI files, "-o section.key=value" overrides, passthrough sections and
 * cross-key validation. Config files are written to mkstemp paths under /tmp.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"

/* A config file on disk for one test; removed by the teardown. */
typedef struct fixture {
    sd_config *config;
    char path[64];
    char err[512];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    f->config = sd_config_new();
    if (!f->config) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->path[0])
        unlink(f->path);
    sd_config_free(f->config);
    free(f);
    return 0;
}

/* Writes text to a fresh temporary file whose path goes to f->path. */
static void write_file(fixture *f, const char *text)
{
    snprintf(f->path, sizeof(f->path), "/tmp/storyd-test-config-XXXXXX");
    int fd = mkstemp(f->path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

/* Loads text as a config file; returns the load's result. */
static int load_text(fixture *f, const char *text)
{
    write_file(f, text);
    f->err[0] = '\0';
    return sd_config_load_file(f->config, f->path, f->err, sizeof(f->err));
}

/* Asserts that f->err starts with "<path>:<line>:". */
static void assert_err_at_line(const fixture *f, int line)
{
    char prefix[96];
    snprintf(prefix, sizeof(prefix), "%s:%d:", f->path, line);
    if (strncmp(f->err, prefix, strlen(prefix)) != 0)
        fail_msg("error '%s' does not start with '%s'", f->err, prefix);
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("'%s' does not contain '%s'", haystack, needle);
}

/* A config that passes validate(): the one required passthrough key set. */
static void set_bootstrap(fixture *f)
{
    assert_int_equal(sd_config_set(f->config, "kafka.bootstrap.servers", "k1:9092", "test", f->err,
                                   sizeof(f->err)),
                     0);
}

/* --- Defaults -------------------------------------------------------------- */

static void test_defaults_present(void **state)
{
    fixture *f = *state;
    assert_string_equal(f->config->input_topic, "storyd.pages");
    assert_string_equal(f->config->consumer_group, "storyd");
    assert_int_equal(f->config->log_level, SD_LOG_INFO);
    assert_int_equal(f->config->batch_max_events, 500);
    assert_int_equal(f->config->batch_max_wait_ms, 200);
    assert_int_equal(f->config->shutdown_timeout_ms, 30000);
    assert_int_equal(f->config->poll_interval_ms, 1000);
    assert_int_equal(f->config->test_crash_after_batches, 1);
}

static void test_defaults_leave_optional_keys_unset(void **state)
{
    fixture *f = *state;
    assert_null(f->config->test_crash_point);
    assert_int_equal(f->config->kafka.count, 0);
    assert_int_equal(f->config->postgres.count, 0);
    assert_null(sd_kv_get(&f->config->kafka, "bootstrap.servers"));
}

static void test_key_table_describes_every_default(void **state)
{
    (void)state;
    size_t count = 0;
    const sd_config_key *keys = sd_config_keys(&count);
    assert_true(count >= 9);
    bool found_max_events = false;
    for (size_t i = 0; i < count; i++) {
        assert_non_null(keys[i].section);
        assert_non_null(keys[i].name);
        assert_non_null(keys[i].help);
        if (keys[i].type == SD_CFG_INT)
            assert_true(keys[i].min <= keys[i].max);
        if (strcmp(keys[i].section, "batch") == 0 && strcmp(keys[i].name, "max_events") == 0) {
            found_max_events = true;
            assert_int_equal(keys[i].type, SD_CFG_INT);
            assert_string_equal(keys[i].default_value, "500");
        }
    }
    assert_true(found_max_events);
}

/* --- Loading files --------------------------------------------------------- */

static void test_file_sets_keys(void **state)
{
    fixture *f = *state;
    int rc = load_text(f, "; a comment\n"
                          "[storyd]\n"
                          "input_topic = other.pages\n"
                          "consumer_group = group-2\n"
                          "log_level = debug\n"
                          "[batch]\n"
                          "max_events = 1000\n"
                          "max_wait_ms = 0\n"
                          "[test]\n"
                          "crash_point = after_commit\n");
    assert_int_equal(rc, 0);
    assert_string_equal(f->config->input_topic, "other.pages");
    assert_string_equal(f->config->consumer_group, "group-2");
    assert_int_equal(f->config->log_level, SD_LOG_DEBUG);
    assert_int_equal(f->config->batch_max_events, 1000);
    assert_int_equal(f->config->batch_max_wait_ms, 0);
    assert_string_equal(f->config->test_crash_point, "after_commit");
    /* Keys the file does not name keep their defaults. */
    assert_int_equal(f->config->poll_interval_ms, 1000);
}

static void test_file_int_bounds_are_inclusive(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_text(f, "[batch]\nmax_events = 1000000\n"), 0);
    assert_int_equal(f->config->batch_max_events, 1000000);
    unlink(f->path);
    assert_int_equal(load_text(f, "[batch]\nmax_events = 1\n"), 0);
    assert_int_equal(f->config->batch_max_events, 1);
}

static void test_log_level_is_case_insensitive(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_text(f, "[storyd]\nlog_level = WARNING\n"), 0);
    assert_int_equal(f->config->log_level, SD_LOG_WARNING);
}

static void test_passthrough_keys_keep_file_order(void **state)
{
    fixture *f = *state;
    int rc = load_text(f, "[kafka]\n"
                          "bootstrap.servers = k1:9092,k2:9092\n"
                          "security.protocol = ssl\n"
                          "linger.ms = 5\n"
                          "[postgres]\n"
                          "host = db.example\n"
                          "dbname = storyd\n");
    assert_int_equal(rc, 0);
    assert_int_equal(f->config->kafka.count, 3);
    assert_string_equal(f->config->kafka.keys[0], "bootstrap.servers");
    assert_string_equal(f->config->kafka.values[0], "k1:9092,k2:9092");
    assert_string_equal(f->config->kafka.keys[1], "security.protocol");
    assert_string_equal(f->config->kafka.values[1], "ssl");
    assert_string_equal(f->config->kafka.keys[2], "linger.ms");
    assert_string_equal(f->config->kafka.values[2], "5");
    assert_int_equal(f->config->postgres.count, 2);
    assert_string_equal(f->config->postgres.keys[0], "host");
    assert_string_equal(f->config->postgres.keys[1], "dbname");
    assert_string_equal(sd_kv_get(&f->config->postgres, "dbname"), "storyd");
}

static void test_passthrough_duplicate_replaces_in_place(void **state)
{
    fixture *f = *state;
    int rc = load_text(f, "[kafka]\n"
                          "bootstrap.servers = old:9092\n"
                          "linger.ms = 5\n"
                          "bootstrap.servers = new:9092\n");
    assert_int_equal(rc, 0);
    assert_int_equal(f->config->kafka.count, 2);
    assert_string_equal(f->config->kafka.keys[0], "bootstrap.servers");
    assert_string_equal(f->config->kafka.values[0], "new:9092");
    assert_string_equal(f->config->kafka.keys[1], "linger.ms");
    assert_string_equal(sd_kv_get(&f->config->kafka, "bootstrap.servers"), "new:9092");
}

static void test_passthrough_sections_are_separate(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_text(f, "[kafka]\nclient.id = a\n[postgres]\nclient.id = b\n"), 0);
    assert_string_equal(sd_kv_get(&f->config->kafka, "client.id"), "a");
    assert_string_equal(sd_kv_get(&f->config->postgres, "client.id"), "b");
    assert_null(sd_kv_get(&f->config->kafka, "host"));
}

static void test_unknown_key_names_file_line_key_section(void **state)
{
    fixture *f = *state;
    int rc = load_text(f, "[storyd]\n"
                          "input_topic = x\n"
                          "\n"
                          "input_topik = y\n");
    assert_int_equal(rc, -1);
    assert_err_at_line(f, 4);
    assert_contains(f->err, "input_topik");
    assert_contains(f->err, "[storyd]");
}

static void test_unknown_section_is_an_error(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_text(f, "[storyd]\ninput_topic = x\n[bogus]\nkey = 1\n"), -1);
    assert_err_at_line(f, 4);
    assert_contains(f->err, "key");
    assert_contains(f->err, "[bogus]");
}

static void test_first_error_wins(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_text(f, "[storyd]\nnope1 = a\nnope2 = b\n"), -1);
    assert_err_at_line(f, 2);
    assert_contains(f->err, "nope1");
    assert_null(strstr(f->err, "nope2"));
}

static void test_out_of_range_int_names_key(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_text(f, "[batch]\nmax_events = 0\n"), -1);
    assert_err_at_line(f, 2);
    assert_contains(f->err, "batch.max_events");
    assert_contains(f->err, "[1, 1000000]");
    /* The rejected value does not replace the default. */
    assert_int_equal(f->config->batch_max_events, 500);
}

static void test_too_large_int_names_key(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_text(f, "[batch]\nmax_events = 1000001\n"), -1);
    assert_err_at_line(f, 2);
    assert_contains(f->err, "batch.max_events");
    assert_contains(f->err, "1000001");
}

static void test_non_integer_names_key(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_text(f, "[batch]\nmax_events = 12abc\n"), -1);
    assert_err_at_line(f, 2);
    assert_contains(f->err, "batch.max_events");
    assert_contains(f->err, "'12abc' is not an integer");
}

static void test_empty_and_overflowing_ints_rejected(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_text(f, "[batch]\nmax_events =\n"), -1);
    assert_contains(f->err, "batch.max_events");
    assert_contains(f->err, "not an integer");
    unlink(f->path);
    assert_int_equal(load_text(f, "[batch]\nmax_events = 99999999999999999999999\n"), -1);
    assert_contains(f->err, "batch.max_events");
    assert_contains(f->err, "not an integer");
}

static void test_bad_log_level(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_text(f, "[storyd]\nlog_level = verbose\n"), -1);
    assert_err_at_line(f, 2);
    assert_contains(f->err, "storyd.log_level");
    assert_contains(f->err, "'verbose'");
    assert_int_equal(f->config->log_level, SD_LOG_INFO);
}

static void test_key_outside_section(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_text(f, "input_topic = x\n[storyd]\n"), -1);
    assert_err_at_line(f, 1);
    assert_contains(f->err, "input_topic");
    assert_contains(f->err, "outside of any [section]");
}

static void test_syntax_error_names_line(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_text(f, "[storyd]\ninput_topic = x\nthis line has no equals sign\n"), -1);
    assert_err_at_line(f, 3);
}

static void test_missing_file_names_path(void **state)
{
    fixture *f = *state;
    const char *path = "/tmp/storyd-test-config-does-not-exist/storyd.conf";
    assert_int_equal(sd_config_load_file(f->config, path, f->err, sizeof(f->err)), -1);
    assert_contains(f->err, path);
    assert_contains(f->err, "No such file");
}

/*
 * An indented line is a key of its own. (inih, used at first, read it as the
 * continuation of the previous value: bootstrap.servers became
 * "security.protocol = ssl".)
 */
static void test_indented_lines_are_keys_not_continuations(void **state)
{
    fixture *f = *state;
    int rc = load_text(f, "[kafka]\n"
                          "    bootstrap.servers = k1:9092\n"
                          "    security.protocol = ssl\n");
    if (rc == 0) {
        assert_string_equal(sd_kv_get(&f->config->kafka, "bootstrap.servers"), "k1:9092");
        assert_non_null(sd_kv_get(&f->config->kafka, "security.protocol"));
        assert_string_equal(sd_kv_get(&f->config->kafka, "security.protocol"), "ssl");
    } else {
        assert_err_at_line(f, 3);
    }
}

/*
 * Lines have no length limit. (Debian's inih cut them at 200 bytes and parsed
 * the rest of a long bootstrap.servers list as further, bogus keys.)
 */
static void test_long_value_is_kept_whole(void **state)
{
    fixture *f = *state;
    char servers[400] = "";
    for (int i = 0; strlen(servers) + 32 < sizeof(servers); i++) {
        char one[32];
        snprintf(one, sizeof(one), "%sbroker-%02d.example:9092", i ? "," : "", i);
        strcat(servers, one);
    }
    char text[512];
    snprintf(text, sizeof(text), "[kafka]\nbootstrap.servers = %s\nlinger.ms = 5\n", servers);
    int rc = load_text(f, text);
    if (rc == 0) {
        assert_string_equal(sd_kv_get(&f->config->kafka, "bootstrap.servers"), servers);
        assert_int_equal(f->config->kafka.count, 2);
    } else {
        assert_err_at_line(f, 2);
    }
}

/*
 * The first error is reported with its own line and message, not the line of
 * one error with the message of another.
 */
static void test_syntax_error_is_reported_at_its_line(void **state)
{
    fixture *f = *state;
    int rc = load_text(f, "[storyd]\n"
                          "this line has no separator\n"
                          "input_topik = y\n");
    assert_int_equal(rc, -1);
    char line2[96];
    snprintf(line2, sizeof(line2), "%s:2:", f->path);
    if (strncmp(f->err, line2, strlen(line2)) == 0) {
        if (strstr(f->err, "input_topik"))
            fail_msg("line 2 blamed for line 3's key: '%s'", f->err);
    } else {
        assert_err_at_line(f, 3);
        assert_contains(f->err, "input_topik");
    }
}

/* --- Overrides (sd_config_set) --------------------------------------------- */

static void test_set_passthrough_dotted_key(void **state)
{
    fixture *f = *state;
    assert_int_equal(sd_config_set(f->config, "kafka.bootstrap.servers", "k9:9092", "-o", f->err,
                                   sizeof(f->err)),
                     0);
    assert_int_equal(f->config->kafka.count, 1);
    /* Only the first dot separates the section: the key keeps its own dots. */
    assert_string_equal(f->config->kafka.keys[0], "bootstrap.servers");
    assert_string_equal(sd_kv_get(&f->config->kafka, "bootstrap.servers"), "k9:9092");
}

static void test_set_overrides_file_value(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_text(f, "[kafka]\nbootstrap.servers = file:9092\n"), 0);
    assert_int_equal(sd_config_set(f->config, "kafka.bootstrap.servers", "cli:9092", "-o", f->err,
                                   sizeof(f->err)),
                     0);
    assert_int_equal(f->config->kafka.count, 1);
    assert_string_equal(sd_kv_get(&f->config->kafka, "bootstrap.servers"), "cli:9092");
}

static void test_set_table_int(void **state)
{
    fixture *f = *state;
    assert_int_equal(
        sd_config_set(f->config, "batch.max_wait_ms", "750", "-o", f->err, sizeof(f->err)), 0);
    assert_int_equal(f->config->batch_max_wait_ms, 750);
}

static void test_set_bad_value_names_origin_and_key(void **state)
{
    fixture *f = *state;
    assert_int_equal(sd_config_set(f->config, "batch.max_wait_ms", "-1", "-o batch.max_wait_ms",
                                   f->err, sizeof(f->err)),
                     -1);
    assert_contains(f->err, "-o batch.max_wait_ms: ");
    assert_contains(f->err, "batch.max_wait_ms");
    assert_contains(f->err, "outside");
    assert_int_equal(f->config->batch_max_wait_ms, 200);
}

static void test_set_unknown_key(void **state)
{
    fixture *f = *state;
    assert_int_equal(sd_config_set(f->config, "batch.max_evnts", "5", "-o", f->err, sizeof(f->err)),
                     -1);
    assert_contains(f->err, "max_evnts");
    assert_contains(f->err, "[batch]");
}

static void test_set_malformed_dotted_key(void **state)
{
    fixture *f = *state;
    assert_int_equal(sd_config_set(f->config, "nodot", "1", "-o", f->err, sizeof(f->err)), -1);
    assert_contains(f->err, "'nodot'");
    assert_contains(f->err, "section.key");

    assert_int_equal(sd_config_set(f->config, ".max_events", "1", "-o", f->err, sizeof(f->err)),
                     -1);
    assert_contains(f->err, "'.max_events'");
    assert_contains(f->err, "section.key");
}

static void test_set_empty_passthrough_key(void **state)
{
    fixture *f = *state;
    assert_int_equal(sd_config_set(f->config, "kafka.", "1", "-o", f->err, sizeof(f->err)), -1);
    assert_contains(f->err, "empty key");
    assert_int_equal(f->config->kafka.count, 0);
}

static void test_set_too_long_section(void **state)
{
    fixture *f = *state;
    char key[128];
    memset(key, 's', 100);
    strcpy(key + 100, ".x");
    assert_int_equal(sd_config_set(f->config, key, "1", "-o", f->err, sizeof(f->err)), -1);
    assert_contains(f->err, "too long");
}

/* --- Validation ------------------------------------------------------------ */

static void test_validate_accepts_minimal_config(void **state)
{
    fixture *f = *state;
    set_bootstrap(f);
    assert_int_equal(sd_config_validate(f->config, true, f->err, sizeof(f->err)), 0);
}

static void test_validate_requires_bootstrap_servers(void **state)
{
    fixture *f = *state;
    assert_int_equal(sd_config_validate(f->config, true, f->err, sizeof(f->err)), -1);
    assert_contains(f->err, "kafka.bootstrap.servers");
    assert_contains(f->err, "required");
}

static void test_validate_forbids_group_id(void **state)
{
    fixture *f = *state;
    set_bootstrap(f);
    assert_int_equal(sd_config_set(f->config, "kafka.group.id", "g", "-o", f->err, sizeof(f->err)),
                     0);
    assert_int_equal(sd_config_validate(f->config, true, f->err, sizeof(f->err)), -1);
    assert_contains(f->err, "kafka.group.id may not be set");
    assert_contains(f->err, "storyd.consumer_group");
}

static void test_validate_forbids_enable_auto_commit(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_text(f, "[kafka]\n"
                                  "bootstrap.servers = k1:9092\n"
                                  "enable.auto.commit = false\n"),
                     0);
    assert_int_equal(sd_config_validate(f->config, true, f->err, sizeof(f->err)), -1);
    assert_contains(f->err, "kafka.enable.auto.commit may not be set");
    assert_contains(f->err, "PostgreSQL");
}

static void test_validate_forbids_offset_store_and_partition_eof(void **state)
{
    fixture *f = *state;
    set_bootstrap(f);
    assert_int_equal(sd_config_set(f->config, "kafka.enable.auto.offset.store", "false", "-o",
                                   f->err, sizeof(f->err)),
                     0);
    assert_int_equal(sd_config_validate(f->config, true, f->err, sizeof(f->err)), -1);
    assert_contains(f->err, "kafka.enable.auto.offset.store");

    sd_config_free(f->config);
    f->config = sd_config_new();
    assert_non_null(f->config);
    set_bootstrap(f);
    assert_int_equal(sd_config_set(f->config, "kafka.enable.partition.eof", "true", "-o", f->err,
                                   sizeof(f->err)),
                     0);
    assert_int_equal(sd_config_validate(f->config, true, f->err, sizeof(f->err)), -1);
    assert_contains(f->err, "kafka.enable.partition.eof");
}

static void test_validate_requires_input_topic(void **state)
{
    fixture *f = *state;
    set_bootstrap(f);
    assert_int_equal(
        sd_config_set(f->config, "storyd.input_topic", "", "-o", f->err, sizeof(f->err)), 0);
    assert_int_equal(sd_config_validate(f->config, true, f->err, sizeof(f->err)), -1);
    assert_contains(f->err, "storyd.input_topic is required");
}

static void test_validate_rejects_bad_crash_point(void **state)
{
    fixture *f = *state;
    set_bootstrap(f);
    assert_int_equal(
        sd_config_set(f->config, "test.crash_point", "sometimes", "-o", f->err, sizeof(f->err)), 0);
    assert_int_equal(sd_config_validate(f->config, true, f->err, sizeof(f->err)), -1);
    assert_contains(f->err, "test.crash_point");
    assert_contains(f->err, "'sometimes'");
}

static void test_validate_accepts_each_crash_point(void **state)
{
    fixture *f = *state;
    set_bootstrap(f);
    static const char *const points[] = {"before_commit", "after_commit_sent", "after_commit"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(
            sd_config_set(f->config, "test.crash_point", points[i], "-o", f->err, sizeof(f->err)),
            0);
        assert_int_equal(sd_config_validate(f->config, true, f->err, sizeof(f->err)), 0);
    }
}

/* --- Lifetime ---------------------------------------------------------------- */

static void test_free_null_is_safe(void **state)
{
    (void)state;
    sd_config_free(NULL);
    sd_config *config = sd_config_new();
    assert_non_null(config);
    sd_config_free(config);
}

static void test_print_help_lists_keys(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    sd_config_print_help(out);
    assert_int_equal(fclose(out), 0);
    assert_contains(text, "batch.max_events (integer, default 500, reloadable)");
    assert_contains(text, "dedup.min_similarity (number, default 0.5, reloadable)");
    assert_contains(text, "dedup.bands (integer, default 16)");
    assert_contains(text, "kafka.* (passed through to librdkafka as is");
    assert_contains(text, "postgres.* (passed through to libpq as is");
    /* Fault injection is for storyd's own tests, not for operators. */
    assert_null(strstr(text, "test.crash_point"));
    free(text);
}

typedef struct change_log {
    char text[2048];
    size_t used;
} change_log;

static void record_change(void *user, const char *key, const char *running, const char *fresh,
                          bool applied)
{
    change_log *log = user;
    log->used +=
        (size_t)snprintf(log->text + log->used, sizeof(log->text) - log->used, "%s %s->%s %s;", key,
                         running, fresh, applied ? "applied" : "restart");
}

static void test_reload_applies_reloadable_keys_only(void **state)
{
    fixture *f = *state;
    set_bootstrap(f);
    sd_config *fresh = sd_config_new();
    assert_non_null(fresh);
    char err[256];
    assert_int_equal(
        sd_config_set(fresh, "kafka.bootstrap.servers", "k2:9092", "t", err, sizeof(err)), 0);
    assert_int_equal(sd_config_set(fresh, "batch.max_events", "77", "t", err, sizeof(err)), 0);
    assert_int_equal(sd_config_set(fresh, "dedup.min_similarity", "0.8", "t", err, sizeof(err)), 0);
    assert_int_equal(sd_config_set(fresh, "storyd.log_level", "debug", "t", err, sizeof(err)), 0);
    assert_int_equal(sd_config_set(fresh, "storyd.input_topic", "other", "t", err, sizeof(err)), 0);
    assert_int_equal(sd_config_set(fresh, "dedup.bands", "8", "t", err, sizeof(err)), 0);
    change_log log = {0};
    assert_int_equal(sd_config_reload(f->config, fresh, record_change, &log), 3);
    assert_int_equal(f->config->batch_max_events, 77);
    assert_true(f->config->dedup_min_similarity == 0.8);
    assert_int_equal(f->config->log_level, SD_LOG_DEBUG);
    assert_string_equal(f->config->input_topic, "storyd.pages");
    assert_int_equal(f->config->dedup_bands, 16);
    assert_string_equal(sd_kv_get(&f->config->kafka, "bootstrap.servers"), "k1:9092");
    assert_contains(log.text, "batch.max_events 500->77 applied;");
    assert_contains(log.text, "dedup.min_similarity 0.5->0.8 applied;");
    assert_contains(log.text, "storyd.input_topic storyd.pages->other restart;");
    assert_contains(log.text, "dedup.bands 16->8 restart;");
    assert_contains(log.text, "kafka.* (running)->(changed) restart;");
    /* Nothing differs any more except what needs a restart. */
    change_log again = {0};
    assert_int_equal(sd_config_reload(f->config, fresh, record_change, &again), 0);
    sd_config_free(fresh);
}

static void test_key_file_reads_a_secret_and_marks_it(void **state)
{
    fixture *f = *state;
    char secret_path[96];
    snprintf(secret_path, sizeof(secret_path), "%s.secret", f->path);
    FILE *file = fopen(secret_path, "w");
    assert_non_null(file);
    fputs("p4ss\n", file);
    fclose(file);
    char text[256];
    snprintf(text, sizeof(text), "[postgres]\npassword_file = %s\nhost = h\n", secret_path);
    assert_int_equal(load_text(f, text), 0);
    assert_string_equal(sd_kv_get(&f->config->postgres, "password"), "p4ss");
    assert_null(sd_kv_get(&f->config->postgres, "password_file"));
    assert_true(sd_config_is_secret(&f->config->postgres, 0));
    assert_false(sd_config_is_secret(&f->config->postgres, 1));
    unlink(secret_path);
    snprintf(text, sizeof(text), "[kafka]\n\nsasl.password_file = %s\n", secret_path);
    assert_int_not_equal(load_text(f, text), 0);
    assert_err_at_line(f, 3);
    assert_contains(f->err, "kafka.sasl.password_file:");
    assert_contains(f->err, "No such file");
}

static void test_secrets_are_recognised_by_name(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_text(f, "[kafka]\nsasl.password = a\nssl.key.pem = b\n"
                                  "sasl.oauthbearer.client.secret = c\nclient.id = d\n"
                                  "[postgres]\ndbname = postgresql://u:pw@h/db\nuser = u\n"),
                     0);
    assert_true(sd_config_is_secret(&f->config->kafka, 0));
    assert_true(sd_config_is_secret(&f->config->kafka, 1));
    assert_true(sd_config_is_secret(&f->config->kafka, 2));
    assert_false(sd_config_is_secret(&f->config->kafka, 3));
    assert_true(sd_config_is_secret(&f->config->postgres, 0));
    assert_false(sd_config_is_secret(&f->config->postgres, 1));
}

/* Replaces the contents of the file the config was loaded from. */
static void rewrite_loaded_file(const fixture *f, const char *text)
{
    FILE *file = fopen(f->config->path, "w");
    assert_non_null(file);
    fputs(text, file);
    assert_int_equal(fclose(file), 0);
}

static void test_reread_applies_the_overrides_again(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_text(f, "[kafka]\nbootstrap.servers = k:1\n[batch]\nmax_events = 5\n"),
                     0);
    assert_int_equal(
        sd_config_override(f->config, "batch.max_wait_ms", "9", f->err, sizeof(f->err)), 0);
    rewrite_loaded_file(f, "[kafka]\nbootstrap.servers = k:1\n[batch]\nmax_events = 6\n");
    sd_config *fresh = sd_config_reread(f->config, f->err, sizeof(f->err));
    assert_non_null(fresh);
    assert_int_equal(fresh->batch_max_events, 6);
    assert_int_equal(fresh->batch_max_wait_ms, 9);
    sd_config_free(fresh);
    rewrite_loaded_file(f, "[kafka]\nbootstrap.servers = k:1\nenable.auto.commit = true\n");
    assert_null(sd_config_reread(f->config, f->err, sizeof(f->err)));
    assert_err_at_line(f, 3);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_defaults_present),
        T(test_defaults_leave_optional_keys_unset),
        T(test_key_table_describes_every_default),
        T(test_file_sets_keys),
        T(test_file_int_bounds_are_inclusive),
        T(test_log_level_is_case_insensitive),
        T(test_passthrough_keys_keep_file_order),
        T(test_passthrough_duplicate_replaces_in_place),
        T(test_passthrough_sections_are_separate),
        T(test_unknown_key_names_file_line_key_section),
        T(test_unknown_section_is_an_error),
        T(test_first_error_wins),
        T(test_out_of_range_int_names_key),
        T(test_too_large_int_names_key),
        T(test_non_integer_names_key),
        T(test_empty_and_overflowing_ints_rejected),
        T(test_bad_log_level),
        T(test_key_outside_section),
        T(test_syntax_error_names_line),
        T(test_missing_file_names_path),
        T(test_indented_lines_are_keys_not_continuations),
        T(test_long_value_is_kept_whole),
        T(test_syntax_error_is_reported_at_its_line),
        T(test_set_passthrough_dotted_key),
        T(test_set_overrides_file_value),
        T(test_set_table_int),
        T(test_set_bad_value_names_origin_and_key),
        T(test_set_unknown_key),
        T(test_set_malformed_dotted_key),
        T(test_set_empty_passthrough_key),
        T(test_set_too_long_section),
        T(test_validate_accepts_minimal_config),
        T(test_validate_requires_bootstrap_servers),
        T(test_validate_forbids_group_id),
        T(test_validate_forbids_enable_auto_commit),
        T(test_validate_forbids_offset_store_and_partition_eof),
        T(test_validate_requires_input_topic),
        T(test_validate_rejects_bad_crash_point),
        T(test_validate_accepts_each_crash_point),
        T(test_free_null_is_safe),
        T(test_print_help_lists_keys),
        T(test_reload_applies_reloadable_keys_only),
        T(test_key_file_reads_a_secret_and_marks_it),
        T(test_secrets_are_recognised_by_name),
        T(test_reread_applies_the_overrides_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
