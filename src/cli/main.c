/*
 * storyd's command line: one binary, one subcommand per job.
 */
#include <getopt.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/config.h"
#include "common/log.h"
#include "daemon/daemon.h"
#include "db/migrate.h"

/* Parses common options; returns the index of the first operand or -1 on error. */
static int parse_options(int argc, char **argv, sd_config *config, sd_cli_options *cli,
                         bool needs_kafka)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"option", required_argument, NULL, 'o'},
        {"topic", required_argument, NULL, 't'},
        {"wait", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {"create", no_argument, NULL, 'C'},
        {"format", required_argument, NULL, 'F'},
        {"schema-id", required_argument, NULL, 'S'},
        {"content-type", required_argument, NULL, 'T'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL;
    /* Overrides apply after the file, whatever their order on the command line. */
    char **overrides = calloc((size_t)argc, sizeof(char *));
    int noverrides = 0;
    char err[1024];
    int opt;
    int rc = -1;
    if (!overrides)
        return -1;
    optind = 2;
    while ((opt = getopt_long(argc, argv, "c:o:t:w:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config_path = optarg;
            break;
        case 'o':
            overrides[noverrides++] = optarg;
            break;
        case 't':
            cli->topic = optarg;
            break;
        case 'w':
            cli->wait_seconds = atof(optarg);
            break;
        case 'C':
            cli->create = true;
            break;
        case 'F':
            cli->format = optarg;
            break;
        case 'S':
            cli->schema_id = optarg;
            break;
        case 'T':
            cli->content_type = optarg;
            break;
        case 'h':
            if (sd_cli_command_help(stdout, argv[1]) != 0)
                sd_cli_usage(stdout);
            exit(0);
        default:
            goto done;
        }
    }
    if (config_path && sd_config_load_file(config, config_path, err, sizeof(err)) != 0) {
        sd_log_error("config", "%s", err);
        goto done;
    }
    for (int i = 0; i < noverrides; i++) {
        char *eq = strchr(overrides[i], '=');
        if (!eq) {
            sd_log_error("config", "-o %s: expected section.key=value", overrides[i]);
            goto done;
        }
        *eq = '\0';
        int set = sd_config_override(config, overrides[i], eq + 1, err, sizeof(err));
        *eq = '=';
        if (set != 0) {
            sd_log_error("config", "%s", err);
            goto done;
        }
    }
    if (sd_config_validate(config, needs_kafka, err, sizeof(err)) != 0) {
        /* Errors about a key that was set name its file and line already. */
        bool located = config_path && strncmp(err, config_path, strlen(config_path)) == 0;
        sd_log_error("config", "%s%s%s", config_path && !located ? config_path : "",
                     config_path && !located ? ": " : "", err);
        goto done;
    }
    sd_log_set_level(config->log_level);
    sd_log_set_json(strcmp(config->log_format, "json") == 0);
    rc = optind;
done:
    free(overrides);
    return rc;
}

/* Grants the daemon's role the rows of storyd's tables (schemas/0006_daemon_role.sql). */
static int grant_daemon_role(PGconn *conn, const char *role)
{
    const char *params[1] = {role};
    PGresult *res =
        PQexecParams(conn, "SELECT storyd_grant_daemon($1)", 1, NULL, params, NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        sd_log_error("migrate", "storyd.daemon_role %s: %s", role, PQresultErrorMessage(res));
        rc = 1;
    } else {
        printf("granted role %s the rows of %s tables and sequences of storyd\n", role,
               PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return rc;
}

static int cmd_migrate(const sd_config *config)
{
    PGconn *conn = sd_cli_pg_connect(config);
    if (!conn) {
        sd_log_error("migrate", "out of memory");
        return 1;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        sd_log_error("migrate", "connecting to PostgreSQL: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return 1;
    }
    /* Keep the server's NOTICEs ("relation already exists, skipping") out of the output. */
    PQclear(PQexec(conn, "SET client_min_messages = warning"));
    int applied = 0;
    char err[1024];
    int rc = sd_migrate_apply(conn, &applied, err, sizeof(err));
    if (rc != 0) {
        PQfinish(conn);
        sd_log_error("migrate", "%s", err);
        return 1;
    }
    printf("schema at version %d (%d migration%s applied)\n", sd_migrate_latest_version(), applied,
           applied == 1 ? "" : "s");
    rc = config->daemon_role && config->daemon_role[0]
             ? grant_daemon_role(conn, config->daemon_role)
             : 0;
    PQfinish(conn);
    return rc;
}

/*
 * Checks the passthrough sections the way the libraries will read them, so a
 * misspelt librdkafka property or libpq keyword fails here and not at start.
 */
static int cmd_check_config(const sd_config *config)
{
    int rc = 0;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[512];
    for (size_t i = 0; i < config->kafka.count; i++) {
        if (rd_kafka_conf_set(conf, config->kafka.keys[i], config->kafka.values[i], err,
                              sizeof(err)) != RD_KAFKA_CONF_OK) {
            sd_log_error("config", "kafka.%s: %s", config->kafka.keys[i], err);
            rc = 2;
        }
    }
    rd_kafka_conf_destroy(conf);
    PQconninfoOption *known = PQconndefaults();
    for (size_t i = 0; i < config->postgres.count; i++) {
        bool found = false;
        for (PQconninfoOption *o = known; o && o->keyword; o++)
            found = found || strcmp(o->keyword, config->postgres.keys[i]) == 0;
        if (!found) {
            sd_log_error("config", "postgres.%s: not a libpq connection keyword",
                         config->postgres.keys[i]);
            rc = 2;
        }
    }
    PQconninfoFree(known);
    if (rc == 0) {
        printf("configuration OK\n");
        sd_config_print_effective(config, stdout);
    }
    return rc;
}

int main(int argc, char **argv)
{
    sd_log_init();
    if (argc < 2) {
        sd_cli_usage(stderr);
        return 2;
    }
    const char *command = argv[1];
    if (strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0) {
        sd_cli_usage(stdout);
        return 0;
    }
    if (strcmp(command, "help") == 0)
        return sd_cmd_help(argc - 1, argv + 1);
    if (strcmp(command, "version") == 0 || strcmp(command, "--version") == 0) {
        printf("storyd %s\nlibrdkafka %s\nlibpq %d\nschema version %d\n", STORYD_VERSION,
               rd_kafka_version_str(), PQlibVersion(), sd_migrate_latest_version());
        return 0;
    }
    sd_config *config = sd_config_new();
    if (!config) {
        sd_log_error("storyd", "out of memory");
        return 1;
    }
    sd_cli_options cli = {0};
    bool offline = strcmp(command, "process") == 0 || strcmp(command, "migrate") == 0;
    int first = parse_options(argc, argv, config, &cli, !offline);
    int code = 2;
    if (first < 0) {
        code = 2;
    } else if (strcmp(command, "run") == 0) {
        code = sd_daemon_run(config);
    } else if (strcmp(command, "migrate") == 0) {
        code = cmd_migrate(config);
    } else if (strcmp(command, "produce") == 0) {
        if (first >= argc) {
            sd_log_error("produce", "no input files (use - for standard input)");
        } else {
            code = sd_cmd_produce(config, &cli, argv + first, argc - first);
        }
    } else if (strcmp(command, "process") == 0) {
        code = sd_cmd_process(config, first < argc ? argv[first] : "-", argc - first > 1);
    } else if (strcmp(command, "topics") == 0) {
        code = sd_cmd_topics(config, cli.create);
    } else if (strcmp(command, "lag") == 0) {
        code = sd_cmd_lag(config, cli.wait_seconds);
    } else if (strcmp(command, "check-config") == 0) {
        code = cmd_check_config(config);
    } else {
        sd_log_error("storyd", "unknown command '%s' (see storyd help)", command);
    }
    sd_config_free(config);
    return code;
}
