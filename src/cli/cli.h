/* storyd's subcommands, each a function taking the loaded configuration. */
#ifndef SD_CLI_CLI_H
#define SD_CLI_CLI_H

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdio.h>

#include "common/config.h"

/* The command-line options beyond -c and -o; every string is borrowed from argv, NULL when absent.
 */
typedef struct sd_cli_options {
    const char *topic;        /* produce: the topic (default storyd.input_topic) */
    double wait_seconds;      /* lag --wait */
    bool create;              /* topics --create */
    const char *format;       /* produce --format: protobuf, confluent or json */
    const char *schema_id;    /* produce --schema-id, for confluent */
    const char *content_type; /* produce --content-type: a header to add to every event */
} sd_cli_options;

/*
 * `storyd produce`: loads JSON Lines page events into a topic, in the wire format the options
 * name (docs/wire-formats.md). Returns the exit code.
 */
int sd_cmd_produce(const sd_config *config, const sd_cli_options *options, char **files,
                   int nfiles);

/*
 * `storyd process`: reads page events as JSON Lines from path ("-": stdin)
 * and writes one JSON object per story item to stdout. extra_operands
 * reports a usage error. Returns the exit code (1 when a line was skipped).
 */
int sd_cmd_process(const sd_config *config, const char *path, bool extra_operands);

/* `storyd lag`: per-partition high watermark against the stored offset. Returns the exit code. */
int sd_cmd_lag(const sd_config *config, double wait_seconds);

/*
 * `storyd topics`: describes and checks the configured topics; create makes the missing ones
 * first. Returns the exit code.
 */
int sd_cmd_topics(const sd_config *config, bool create);

/* Help generated from the command table (help.c) and the configuration key table. */
void sd_cli_usage(FILE *out);
/* Prints one command's help; -1 when there is no such command. */
int sd_cli_command_help(FILE *out, const char *name);
void sd_cli_print_man(FILE *out);
/* `storyd help [COMMAND | --man | --sample-config]`; argv[0] is "help". Returns the exit code. */
int sd_cmd_help(int argc, char **argv);

/*
 * Builds a librdkafka configuration for a producer or a one-off client from
 * the [kafka] section, leaving out the consumer-group keys those clients do
 * not take. Returns NULL with err filled on failure; the caller owns the result.
 */
rd_kafka_conf_t *sd_kafka_client_conf(const sd_config *config, char *err, size_t errlen);

/*
 * Connects to PostgreSQL with the [postgres] keys, blocking (for CLI commands,
 * never the daemon loop). Returns NULL when out of memory; otherwise check
 * PQstatus and free with PQfinish.
 */
PGconn *sd_cli_pg_connect(const sd_config *config);

#endif
