/*
 * `storyd lag`: for each partition of the input topic, the high watermark in
 * Kafka against the next offset stored in PostgreSQL by storyd's consumer
 * group. With --wait it polls until the lag is zero (exit 0) or the time is
 * up (exit 1). This is how scripts know the daemon has drained a topic.
 */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/log.h"

typedef struct lag_row {
    int32_t partition;
    int64_t high;
    int64_t stored; /* -1: none */
} lag_row;

/* Fills rows (one per partition) from Kafka. Returns the count or -1. */
static int read_watermarks(rd_kafka_t *rk, const char *topic, lag_row **rows)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t rc = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    rd_kafka_topic_destroy(rkt);
    if (rc) {
        sd_log_error("lag", "metadata for %s: %s", topic, rd_kafka_err2str(rc));
        return -1;
    }
    if (md->topic_cnt != 1 || md->topics[0].err) {
        sd_log_error("lag", "topic %s: %s", topic,
                     md->topic_cnt ? rd_kafka_err2str(md->topics[0].err) : "not found");
        rd_kafka_metadata_destroy(md);
        return -1;
    }
    int count = md->topics[0].partition_cnt;
    *rows = calloc((size_t)(count ? count : 1), sizeof(lag_row));
    if (!*rows) {
        rd_kafka_metadata_destroy(md);
        return -1;
    }
    for (int i = 0; i < count; i++) {
        int64_t low, high;
        int32_t partition = md->topics[0].partitions[i].id;
        rc = rd_kafka_query_watermark_offsets(rk, topic, partition, &low, &high, 10000);
        if (rc) {
            sd_log_error("lag", "%s[%d]: watermarks: %s", topic, (int)partition,
                         rd_kafka_err2str(rc));
            rd_kafka_metadata_destroy(md);
            free(*rows);
            return -1;
        }
        (*rows)[i] = (lag_row){.partition = partition, .high = high, .stored = -1};
    }
    rd_kafka_metadata_destroy(md);
    return count;
}

static int read_stored(PGconn *pg, const sd_config *config, lag_row *rows, int count)
{
    const char *params[2] = {config->consumer_group, config->input_topic};
    PGresult *res = PQexecParams(pg,
                                 "SELECT kafka_partition, next_offset FROM storyd_consumer_offset"
                                 " WHERE consumer_group = $1 AND kafka_topic = $2",
                                 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        sd_log_error("lag", "reading stored offsets: %s", PQresultErrorMessage(res));
        PQclear(res);
        return -1;
    }
    for (int row = 0; row < PQntuples(res); row++) {
        int32_t partition = (int32_t)atoi(PQgetvalue(res, row, 0));
        for (int i = 0; i < count; i++) {
            if (rows[i].partition == partition)
                rows[i].stored = strtoll(PQgetvalue(res, row, 1), NULL, 10);
        }
    }
    PQclear(res);
    return 0;
}

/* The messages not yet consumed; a partition never written to has no lag. */
static int64_t partition_lag(const lag_row *row)
{
    int64_t start = row->stored >= 0 ? row->stored : 0;
    return row->high > start ? row->high - start : 0;
}

int sd_cmd_lag(const sd_config *config, double wait_seconds)
{
    char err[512];
    rd_kafka_conf_t *conf = sd_kafka_client_conf(config, err, sizeof(err));
    if (!conf) {
        sd_log_error("lag", "%s", err);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk) {
        sd_log_error("lag", "creating a Kafka client: %s", err);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    PGconn *pg = sd_cli_pg_connect(config);
    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        sd_log_error("lag", "connecting to PostgreSQL: %s", pg ? PQerrorMessage(pg) : "no memory");
        PQfinish(pg);
        rd_kafka_destroy(rk);
        return 1;
    }
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    bool tty = isatty(STDERR_FILENO);
    int code = 1;
    for (;;) {
        lag_row *rows = NULL;
        int count = read_watermarks(rk, config->input_topic, &rows);
        if (count < 0)
            break;
        if (read_stored(pg, config, rows, count) != 0) {
            free(rows);
            break;
        }
        int64_t total = 0;
        for (int i = 0; i < count; i++)
            total += partition_lag(&rows[i]);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double elapsed =
            (double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9;
        bool done = total == 0 || wait_seconds <= 0 || elapsed >= wait_seconds;
        if (done) {
            if (tty && wait_seconds > 0)
                fprintf(stderr, "\r\033[K");
            printf("%-24s %9s %14s %14s %10s\n", "topic", "partition", "high_watermark",
                   "stored_offset", "lag");
            for (int i = 0; i < count; i++) {
                char stored[24] = "-";
                if (rows[i].stored >= 0)
                    snprintf(stored, sizeof(stored), "%" PRId64, rows[i].stored);
                printf("%-24s %9d %14" PRId64 " %14s %10" PRId64 "\n", config->input_topic,
                       (int)rows[i].partition, rows[i].high, stored, partition_lag(&rows[i]));
            }
            printf("total lag %" PRId64 " (group %s)\n", total, config->consumer_group);
            if (total != 0 && wait_seconds > 0)
                sd_log_error("lag", "still %" PRId64 " behind after %.0f s", total, elapsed);
            code = total == 0 || wait_seconds <= 0 ? 0 : 1;
            free(rows);
            break;
        }
        if (tty)
            fprintf(stderr, "\rlag: %" PRId64 " events to go (%.0f s)", total, elapsed);
        free(rows);
        usleep(200 * 1000);
    }
    PQfinish(pg);
    rd_kafka_destroy(rk);
    return code;
}
