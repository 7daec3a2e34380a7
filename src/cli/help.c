/*
 * storyd's help, from two tables: the commands below and the configuration key table. The
 * usage text, `storyd COMMAND --help`, the man page and the sample configuration are all
 * generated from them, so they cannot disagree.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/config.h"

typedef struct command_help {
    const char *name;
    const char *synopsis; /* what follows "storyd NAME" */
    const char *summary;  /* one line */
    const char *details;  /* paragraphs separated by "\n" */
} command_help;

static const command_help commands[] = {
    {"run", "[-c FILE] [-o section.key=value ...]",
     "consume page events and write stories to PostgreSQL and Kafka",
     "The daemon. It connects to PostgreSQL and checks the schema version, rebuilds the dedup "
     "state, checks the topics it writes, then consumes storyd.input_topic as "
     "storyd.consumer_group. Each batch is one transaction holding its rows, story events "
     "(the outbox) and the offsets it consumed, so a restart at any moment loses and doubles "
     "nothing.\n"
     "Signals: SIGTERM or SIGINT finish the batch in flight and stop; SIGHUP reloads the site "
     "profiles and the reloadable keys between batches, and logs the keys that need a restart. "
     "Under systemd it speaks the notify protocol (READY, STATUS, RELOADING, STOPPING, "
     "WATCHDOG). GET /healthz, /readyz and /metrics are served on storyd.http_listen.\n"
     "Exit status: 0 after a clean stop, 1 on a fatal error (a restart resumes from the "
     "offsets stored in PostgreSQL), 2 on a usage or configuration error."},
    {"migrate", "[-c FILE] [-o section.key=value ...]",
     "apply the schema migrations the database lacks",
     "Applies the numbered migrations in order, each in its own transaction, and prints the "
     "schema version. Safe to run again."},
    {"check-config", "[-c FILE] [-o section.key=value ...]",
     "validate the configuration and print it as it takes effect",
     "Loads the file and the overrides, checks every key and the [kafka] and [postgres] keys "
     "the way librdkafka and libpq will read them, and prints the effective configuration, "
     "each key with the file and line (or default) it came from. Secrets are redacted. An "
     "error names the file, the line and the key; the exit status is then 2."},
    {"topics", "[--create] [-c FILE] [-o section.key=value ...]",
     "check the topics storyd reads and writes",
     "Describes the input, story and dead-letter topics and checks their settings (cleanup "
     "policy, message sizes). With --create the missing ones are made first, with the "
     "documented partitions and retention."},
    {"produce",
     "[--topic T] [--format protobuf|confluent|json] [--schema-id N] [--content-type C] "
     "FILE.jsonl...",
     "publish JSON Lines page events",
     "Publishes each line of the files (- for standard input) as one page event to T "
     "(default storyd.input_topic), encoded as protobuf (default), Confluent-framed protobuf "
     "with schema id N (default 1), or JSON; C adds a content-type header to every event."},
    {"lag", "[--wait SECONDS] [-c FILE] [-o section.key=value ...]",
     "high watermarks against the offsets stored in PostgreSQL",
     "Prints, per partition of the input topic, the high watermark, the stored offset and the "
     "difference. With --wait it polls until the lag is zero (exit 0) or the time is up "
     "(exit 1)."},
    {"process", "[FILE|-] [-c FILE] [-o section.key=value ...]",
     "extract and dedup the stories of JSON Lines page events, offline",
     "Runs the same extraction, normalization and dedup as the daemon on page events read as "
     "JSON Lines, without Kafka or PostgreSQL, and writes one JSON object per story item to "
     "standard output. Exit status 1 when a line was skipped."},
    {"help", "[COMMAND | --man | --sample-config]", "show help",
     "Shows the usage, one command's help, the man page (roff) or a sample configuration file "
     "generated from the key table."},
    {"version", "", "print the versions of storyd and its libraries", ""},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const command_help *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

void sd_cli_usage(FILE *out)
{
    fprintf(out,
            "storyd %s: streaming ETL for news pages (Kafka -> stories -> PostgreSQL)\n\n"
            "usage: storyd COMMAND [options]; storyd help COMMAND for one command\n\n"
            "commands:\n",
            STORYD_VERSION);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\ncommon options:\n"
                 "  -c, --config FILE         the configuration file (INI)\n"
                 "  -o, --option S.KEY=VALUE  override one key (after the file, in order)\n"
                 "  -h, --help                this help, or the command's\n\n");
    sd_config_print_help(out);
}

/* Writes a paragraph list, each "\n"-separated paragraph indented and wrapped at 78 columns. */
static void print_paragraphs(FILE *out, const char *text)
{
    const char *p = text;
    while (*p) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        size_t column = 0;
        fprintf(out, "\n ");
        for (size_t i = 0; i < len;) {
            size_t word = 0;
            while (i + word < len && p[i + word] != ' ')
                word++;
            if (column + word + 1 > 76) {
                fprintf(out, "\n ");
                column = 0;
            }
            fprintf(out, " %.*s", (int)word, p + i);
            column += word + 1;
            i += word;
            while (i < len && p[i] == ' ')
                i++;
        }
        fprintf(out, "\n");
        p += len;
        if (*p == '\n')
            p++;
    }
}

int sd_cli_command_help(FILE *out, const char *name)
{
    const command_help *command = find_command(name);
    if (!command)
        return -1;
    fprintf(out, "usage: storyd %s %s\n\n  %s\n", command->name, command->synopsis,
            command->summary);
    print_paragraphs(out, command->details);
    fprintf(out, "\nSee storyd help for the configuration keys, man storyd for everything.\n");
    return 0;
}

/* Writes text for roff: a leading '.' or '\'' is escaped, and so are backslashes and '-'. */
static void roff_text(FILE *out, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if ((i == 0 || text[i - 1] == '\n') && (c == '.' || c == '\''))
            fputs("\\&", out);
        if (c == '\\')
            fputs("\\e", out);
        else if (c == '-')
            fputs("\\-", out);
        else
            fputc(c, out);
    }
}

static void roff_string(FILE *out, const char *text)
{
    roff_text(out, text, strlen(text));
}

void sd_cli_print_man(FILE *out)
{
    fprintf(out, ".TH STORYD 1 \"\" \"storyd %s\" \"storyd manual\"\n", STORYD_VERSION);
    fprintf(out, ".SH NAME\nstoryd \\- streaming ETL of news pages into deduplicated stories\n");
    fprintf(out, ".SH SYNOPSIS\n");
    for (size_t i = 0; i < N_COMMANDS; i++) {
        fprintf(out, ".B storyd %s\n", commands[i].name);
        roff_string(out, commands[i].synopsis);
        fprintf(out, "\n.br\n");
    }
    fprintf(out, ".SH DESCRIPTION\nstoryd consumes raw page events from Kafka, extracts and "
                 "normalizes every story on each page, deduplicates them into stable stories, "
                 "writes them to PostgreSQL and publishes story events to Kafka.\n");
    fprintf(out, ".SH COMMANDS\n");
    for (size_t i = 0; i < N_COMMANDS; i++) {
        fprintf(out, ".TP\n.B %s\n", commands[i].name);
        roff_string(out, commands[i].summary);
        fprintf(out, ".\n");
        const char *p = commands[i].details;
        while (*p) {
            const char *end = strchr(p, '\n');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            fprintf(out, "\n.IP\n");
            roff_text(out, p, len);
            fprintf(out, "\n");
            p += len;
            if (*p == '\n')
                p++;
        }
    }
    fprintf(out, ".SH OPTIONS\n"
                 ".TP\n.BI \\-c \" FILE\\fR, \" \\-\\-config \" FILE\"\nThe configuration "
                 "file (INI).\n"
                 ".TP\n.BI \\-o \" SECTION.KEY=VALUE\\fR, \" \\-\\-option \" "
                 "SECTION.KEY=VALUE\"\nOverrides one key; overrides apply after the file.\n"
                 ".TP\n.BR \\-h \", \" \\-\\-help\nThe command's help.\n");
    fprintf(out, ".SH CONFIGURATION\nAn INI file. Keys marked reloadable take effect on "
                 "SIGHUP; the others need a restart. The [kafka] and [postgres] sections are "
                 "passed to librdkafka and libpq as they are; a key named KEY_file in them "
                 "reads KEY from a file, or from $CREDENTIALS_DIRECTORY/NAME when its value is "
                 "credential:NAME, and is never printed.\n");
    size_t count;
    const sd_config_key *keys = sd_config_keys(&count);
    for (size_t i = 0; i < count; i++) {
        if (strcmp(keys[i].section, "test") == 0)
            continue;
        fprintf(out, ".TP\n.B ");
        roff_string(out, keys[i].section);
        fprintf(out, ".");
        roff_string(out, keys[i].name);
        fprintf(out, "\n(default ");
        roff_string(out, keys[i].default_value ? keys[i].default_value : "unset");
        fprintf(out, "%s)\n", keys[i].reloadable ? ", reloadable" : "");
        roff_string(out, keys[i].help);
        fprintf(out, "\n");
    }
    fprintf(out, ".SH FILES\n.TP\n.I /etc/storyd/storyd.conf\nThe configuration of the "
                 "service.\n.TP\n.I /usr/share/storyd/profiles\nThe site profiles.\n"
                 ".SH SEE ALSO\n.BR systemctl (1),\n.BR systemd.unit (5)\n");
}

int sd_cmd_help(int argc, char **argv)
{
    /* argv[0] is "help". */
    if (argc < 2) {
        sd_cli_usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--man") == 0) {
        sd_cli_print_man(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--sample-config") == 0) {
        sd_config_print_sample(stdout);
        return 0;
    }
    if (sd_cli_command_help(stdout, argv[1]) != 0) {
        fprintf(stderr, "storyd help: no command '%s' (see storyd help)\n", argv[1]);
        return 2;
    }
    return 0;
}
