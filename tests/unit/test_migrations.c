/*
 * Unit tests of the embedded schema migrations (src/db/migrate.h): the table
 * generated from schemas/NNNN_name.sql by cmake/embed_migrations.cmake.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "db/migrate.h"

static void test_at_least_one_migration(void **state)
{
    (void)state;
    assert_true(sd_migrations_count >= 1);
}

static void test_versions_increase_strictly_from_one(void **state)
{
    (void)state;
    assert_int_equal(sd_migrations[0].version, 1);
    for (size_t i = 1; i < sd_migrations_count; i++) {
        if (sd_migrations[i].version <= sd_migrations[i - 1].version)
            fail_msg("migration %s (version %d) follows %s (version %d)", sd_migrations[i].name,
                     sd_migrations[i].version, sd_migrations[i - 1].name,
                     sd_migrations[i - 1].version);
    }
}

static void test_versions_have_no_gaps(void **state)
{
    (void)state;
    for (size_t i = 0; i < sd_migrations_count; i++)
        assert_int_equal(sd_migrations[i].version, (int)i + 1);
}

static void test_names_are_numbered(void **state)
{
    (void)state;
    for (size_t i = 0; i < sd_migrations_count; i++) {
        const char *name = sd_migrations[i].name;
        assert_non_null(name);
        assert_true(strlen(name) > 5);
        for (size_t d = 0; d < 4; d++) {
            if (name[d] < '0' || name[d] > '9')
                fail_msg("migration name '%s' does not start with four digits", name);
        }
        assert_int_equal(name[4], '_');
        /* The number in the name is the version. */
        int number =
            (name[0] - '0') * 1000 + (name[1] - '0') * 100 + (name[2] - '0') * 10 + (name[3] - '0');
        assert_int_equal(number, sd_migrations[i].version);
        assert_null(strstr(name, ".sql"));
    }
}

static void test_latest_version_is_last(void **state)
{
    (void)state;
    assert_int_equal(sd_migrate_latest_version(), sd_migrations[sd_migrations_count - 1].version);
}

static void test_sql_is_non_empty_text(void **state)
{
    (void)state;
    for (size_t i = 0; i < sd_migrations_count; i++) {
        const sd_migration *m = &sd_migrations[i];
        assert_non_null(m->sql);
        assert_true(m->sql_len > 0);
        /* Embedded as text: NUL-terminated right at sql_len, no NUL inside. */
        assert_int_equal(m->sql[m->sql_len], '\0');
        assert_int_equal(strlen(m->sql), m->sql_len);
    }
}

static void test_first_migration_creates_the_tables(void **state)
{
    (void)state;
    const char *sql = sd_migrations[0].sql;
    assert_non_null(strstr(sql, "CREATE TABLE storyd_page_event"));
    assert_non_null(strstr(sql, "CREATE TABLE storyd_rejected_event"));
    assert_non_null(strstr(sql, "CREATE TABLE storyd_consumer_offset"));
    assert_non_null(strstr(sql, "storyd_advance_offset"));
}

static void test_version_sql_reads_the_migration_table(void **state)
{
    (void)state;
    assert_non_null(strstr(sd_migrate_version_sql, "storyd_schema_migration"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_at_least_one_migration),
        cmocka_unit_test(test_versions_increase_strictly_from_one),
        cmocka_unit_test(test_versions_have_no_gaps),
        cmocka_unit_test(test_names_are_numbered),
        cmocka_unit_test(test_latest_version_is_last),
        cmocka_unit_test(test_sql_is_non_empty_text),
        cmocka_unit_test(test_first_migration_creates_the_tables),
        cmocka_unit_test(test_version_sql_reads_the_migration_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
