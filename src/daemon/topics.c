#include "daemon/topics.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/*
 * The one table of what storyd's topics look like when storyd (or its scripts) creates them.
 * Partition counts: three lets two or three daemons share the input and keeps a story's
 * events in order within one partition of the story topic; dead letters are rare and read
 * in order by a person, so one. Retention: a week of pages and stories to replay from, a
 * month of dead letters to look at. Sizes: the largest page the crawler may publish (32 MiB,
 * as the bundled broker allows), a story event carries one item's text (8 MiB is ample), and
 * a dead letter is an input event plus headers.
 */
static const tp_spec specs[TP_ROLES] = {
    [TP_INPUT] = {"storyd.input_topic", 3, "delete", "604800000", "33554432"},
    [TP_STORIES] = {"storyd.story_topic", 3, "delete", "604800000", "8388608"},
    [TP_DEAD_LETTERS] = {"storyd.dead_letter_topic", 1, "delete", "2592000000", "33619968"},
};

const tp_spec *tp_spec_of(tp_role role)
{
    return role >= 0 && role < TP_ROLES ? &specs[role] : NULL;
}

const char *tp_topic_name(const sd_config *config, tp_role role)
{
    const char *name = role == TP_INPUT     ? config->input_topic
                       : role == TP_STORIES ? config->story_topic
                                            : config->dead_letter_topic;
    return name && name[0] ? name : NULL;
}

/* True when a cleanup.policy value ("delete", "compact", "compact,delete") deletes by time. */
static bool deletes(const char *policy)
{
    return policy && strstr(policy, "delete") != NULL;
}

int tp_verify(const tp_described described[TP_ROLES], bool *warning, char *err, size_t errlen)
{
    *warning = false;
    err[0] = '\0';
    for (int role = TP_STORIES; role <= TP_DEAD_LETTERS; role++) {
        const tp_described *t = &described[role];
        if (!t->name)
            continue;
        if (t->missing) {
            snprintf(err, errlen,
                     "%s '%s' does not exist; create it with `storyd topics --create` (or "
                     "scripts/kafka.sh topics-create, docs/operations.md)",
                     specs[role].role, t->name);
            return -1;
        }
        if (!deletes(t->cleanup_policy)) {
            snprintf(err, errlen,
                     "%s '%s' has cleanup.policy=%s: compaction keeps only a key's latest "
                     "message and would drop %s; storyd needs cleanup.policy=delete",
                     specs[role].role, t->name, t->cleanup_policy ? t->cleanup_policy : "(none)",
                     role == TP_STORIES ? "a story's earlier events" : "dead letters");
            return -1;
        }
    }
    const tp_described *input = &described[TP_INPUT];
    const tp_described *dead = &described[TP_DEAD_LETTERS];
    if (!input->missing && input->max_message_bytes > 0 && dead->name &&
        dead->max_message_bytes < input->max_message_bytes + TP_DEAD_LETTER_HEADROOM) {
        snprintf(err, errlen,
                 "%s '%s' has max.message.bytes=%lld, less than the input topic '%s' takes "
                 "(%lld) plus %d bytes of headers: a dead letter of its largest event would be "
                 "refused; set max.message.bytes to at least %lld",
                 specs[TP_DEAD_LETTERS].role, dead->name, dead->max_message_bytes, input->name,
                 input->max_message_bytes, TP_DEAD_LETTER_HEADROOM,
                 input->max_message_bytes + TP_DEAD_LETTER_HEADROOM);
        return -1;
    }
    if (input->missing) {
        *warning = true;
        snprintf(err, errlen,
                 "%s '%s' does not exist yet; the consumer waits for it (storyd topics --create "
                 "makes it)",
                 specs[TP_INPUT].role, input->name);
    }
    return 0;
}

/* The described settings of one topic, copied out of the librdkafka event. */
typedef struct tp_copy {
    char name[256];
    char cleanup_policy[64];
    bool has_policy;
    bool missing;
    long long max_message_bytes, retention_ms;
} tp_copy;

static void request(rd_kafka_t *rk, const sd_config *config, rd_kafka_queue_t *queue)
{
    rd_kafka_ConfigResource_t *resources[TP_ROLES];
    size_t n = 0;
    for (int role = 0; role < TP_ROLES; role++) {
        const char *name = tp_topic_name(config, (tp_role)role);
        if (name)
            resources[n++] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name);
    }
    rd_kafka_AdminOptions_t *options =
        rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    char ignored[128];
    rd_kafka_AdminOptions_set_request_timeout(options, 10000, ignored, sizeof(ignored));
    rd_kafka_DescribeConfigs(rk, resources, n, options, queue);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_ConfigResource_destroy_array(resources, n);
}

/*
 * Reads a DescribeConfigs result into copies (one per role). Returns 0, or -1 with err holding
 * why the request as a whole failed (the broker did not answer, for one).
 */
static int read_result(rd_kafka_event_t *event, const sd_config *config, tp_copy copies[TP_ROLES],
                       char *err, size_t errlen)
{
    if (rd_kafka_event_error(event)) {
        snprintf(err, errlen, "%s", rd_kafka_event_error_string(event));
        return -1;
    }
    const rd_kafka_DescribeConfigs_result_t *result = rd_kafka_event_DescribeConfigs_result(event);
    if (!result) {
        snprintf(err, errlen, "unexpected %s event", rd_kafka_event_name(event));
        return -1;
    }
    memset(copies, 0, sizeof(tp_copy) * TP_ROLES);
    size_t n = 0;
    const rd_kafka_ConfigResource_t **resources =
        rd_kafka_DescribeConfigs_result_resources(result, &n);
    for (size_t r = 0; r < n; r++) {
        const char *name = rd_kafka_ConfigResource_name(resources[r]);
        rd_kafka_resp_err_t resource_err = rd_kafka_ConfigResource_error(resources[r]);
        if (resource_err && resource_err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
            snprintf(err, errlen, "topic '%s': %s", name,
                     rd_kafka_ConfigResource_error_string(resources[r])
                         ? rd_kafka_ConfigResource_error_string(resources[r])
                         : rd_kafka_err2str(resource_err));
            return -1;
        }
        size_t n_entries = 0;
        const rd_kafka_ConfigEntry_t **entries =
            rd_kafka_ConfigResource_configs(resources[r], &n_entries);
        /* Two roles may name one topic; each gets the description. */
        for (int role = 0; role < TP_ROLES; role++) {
            const char *wanted = tp_topic_name(config, (tp_role)role);
            if (!wanted || strcmp(wanted, name) != 0)
                continue;
            tp_copy *c = &copies[role];
            snprintf(c->name, sizeof(c->name), "%s", name);
            c->missing = resource_err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
            for (size_t e = 0; e < n_entries; e++) {
                const char *key = rd_kafka_ConfigEntry_name(entries[e]);
                const char *value = rd_kafka_ConfigEntry_value(entries[e]);
                if (!value)
                    continue;
                if (strcmp(key, "cleanup.policy") == 0) {
                    snprintf(c->cleanup_policy, sizeof(c->cleanup_policy), "%s", value);
                    c->has_policy = true;
                } else if (strcmp(key, "max.message.bytes") == 0) {
                    c->max_message_bytes = strtoll(value, NULL, 10);
                } else if (strcmp(key, "retention.ms") == 0) {
                    c->retention_ms = strtoll(value, NULL, 10);
                }
            }
        }
    }
    return 0;
}

/* Points described at the copies, for tp_verify. */
static void describe(const sd_config *config, const tp_copy copies[TP_ROLES],
                     tp_described described[TP_ROLES])
{
    for (int role = 0; role < TP_ROLES; role++) {
        const tp_copy *c = &copies[role];
        const char *name = tp_topic_name(config, (tp_role)role);
        described[role] = (tp_described){
            .name = name,
            /* A topic the answer left out is as good as missing. */
            .missing = name && (c->missing || !c->name[0]),
            .cleanup_policy = c->has_policy ? c->cleanup_policy : NULL,
            .max_message_bytes = c->max_message_bytes,
            .retention_ms = c->retention_ms,
        };
    }
}

struct tp_check {
    uv_loop_t *loop;
    rd_kafka_t *rk; /* borrowed */
    const sd_config *config;
    rd_kafka_queue_t *queue;
    uv_timer_t timer;
    void (*done)(void *user, int status, const char *error);
    void *user;
    uint64_t asked_at;
    bool finished;
};

/* How often the answer is looked for, and how long to wait before asking a silent broker again. */
#define TP_POLL_MS  20
#define TP_RETRY_MS 3000

static void on_check_timer(uv_timer_t *timer)
{
    tp_check *check = timer->data;
    if (check->finished)
        return;
    rd_kafka_event_t *event = rd_kafka_queue_poll(check->queue, 0);
    if (!event) {
        return;
    }
    tp_copy copies[TP_ROLES];
    char err[1024];
    int read = read_result(event, check->config, copies, err, sizeof(err));
    rd_kafka_event_destroy(event);
    if (read != 0) {
        sd_log_warning("topics", "describing the topics failed: %s; asking again in %d s", err,
                       TP_RETRY_MS / 1000);
        uv_timer_stop(timer);
        uv_timer_start(timer, on_check_timer, TP_RETRY_MS, TP_POLL_MS);
        request(check->rk, check->config, check->queue);
        return;
    }
    tp_described described[TP_ROLES];
    describe(check->config, copies, described);
    bool warning;
    int status = tp_verify(described, &warning, err, sizeof(err));
    if (status == 0) {
        if (warning)
            sd_log_warning("topics", "%s", err);
        for (int role = TP_STORIES; role <= TP_DEAD_LETTERS; role++) {
            if (described[role].name)
                sd_log_info("topics",
                            "%s %s: cleanup.policy=%s, retention.ms=%lld, "
                            "max.message.bytes=%lld",
                            specs[role].role, described[role].name, described[role].cleanup_policy,
                            described[role].retention_ms, described[role].max_message_bytes);
        }
    }
    check->finished = true;
    uv_timer_stop(timer);
    check->done(check->user, status, status == 0 ? NULL : err);
}

tp_check *tp_check_start(uv_loop_t *loop, rd_kafka_t *rk, const sd_config *config,
                         void (*done)(void *user, int status, const char *error), void *user,
                         char *err, size_t errlen)
{
    tp_check *check = calloc(1, sizeof(*check));
    if (!check) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    check->queue = rd_kafka_queue_new(rk);
    if (!check->queue) {
        free(check);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    check->loop = loop;
    check->rk = rk;
    check->config = config;
    check->done = done;
    check->user = user;
    uv_timer_init(loop, &check->timer);
    check->timer.data = check;
    request(rk, config, check->queue);
    uv_timer_start(&check->timer, on_check_timer, TP_POLL_MS, TP_POLL_MS);
    return check;
}

static void on_check_closed(uv_handle_t *handle)
{
    tp_check *check = handle->data;
    free(check);
}

void tp_check_free(tp_check *check)
{
    if (!check)
        return;
    check->finished = true;
    uv_timer_stop(&check->timer);
    /* An answer still on its way is dropped with the queue. */
    rd_kafka_queue_destroy(check->queue);
    uv_close((uv_handle_t *)&check->timer, on_check_closed);
}

/* Creates the missing topics of copies from their specs; returns 0 or -1 (printed to out). */
static int create_missing(rd_kafka_t *rk, const sd_config *config, const tp_copy copies[TP_ROLES],
                          FILE *out)
{
    rd_kafka_NewTopic_t *topics[TP_ROLES];
    size_t n = 0;
    char err[512];
    for (int role = 0; role < TP_ROLES; role++) {
        const char *name = tp_topic_name(config, (tp_role)role);
        bool seen_before = false;
        for (int earlier = 0; earlier < role; earlier++) {
            const char *other = tp_topic_name(config, (tp_role)earlier);
            seen_before |= other && name && strcmp(other, name) == 0;
        }
        if (!name || seen_before || (!copies[role].missing && copies[role].name[0]))
            continue;
        const tp_spec *spec = &specs[role];
        /* -1: the broker's default.replication.factor. */
        rd_kafka_NewTopic_t *topic =
            rd_kafka_NewTopic_new(name, spec->partitions, -1, err, sizeof(err));
        if (!topic) {
            fprintf(out, "topics: %s '%s': %s\n", spec->role, name, err);
            rd_kafka_NewTopic_destroy_array(topics, n);
            return -1;
        }
        rd_kafka_NewTopic_set_config(topic, "cleanup.policy", spec->cleanup_policy);
        rd_kafka_NewTopic_set_config(topic, "retention.ms", spec->retention_ms);
        rd_kafka_NewTopic_set_config(topic, "max.message.bytes", spec->max_message_bytes);
        topics[n++] = topic;
    }
    if (n == 0)
        return 0;
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *options =
        rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(options, 30000, err, sizeof(err));
    /* The controller answers once the topics exist everywhere, not just in its own log. */
    rd_kafka_AdminOptions_set_operation_timeout(options, 20000, err, sizeof(err));
    rd_kafka_CreateTopics(rk, topics, n, options, queue);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_NewTopic_destroy_array(topics, n);
    rd_kafka_event_t *event = rd_kafka_queue_poll(queue, 40000);
    int rc = 0;
    if (!event || rd_kafka_event_error(event)) {
        fprintf(out, "topics: creating topics failed: %s\n",
                event ? rd_kafka_event_error_string(event) : "no answer within 40 s");
        rc = -1;
    } else {
        size_t count = 0;
        const rd_kafka_topic_result_t **results =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
        for (size_t i = 0; i < count; i++) {
            rd_kafka_resp_err_t topic_err = rd_kafka_topic_result_error(results[i]);
            if (topic_err && topic_err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                fprintf(out, "topics: creating '%s' failed: %s\n",
                        rd_kafka_topic_result_name(results[i]),
                        rd_kafka_topic_result_error_string(results[i]));
                rc = -1;
            } else {
                fprintf(out, "topics: created %s\n", rd_kafka_topic_result_name(results[i]));
            }
        }
    }
    if (event)
        rd_kafka_event_destroy(event);
    rd_kafka_queue_destroy(queue);
    return rc;
}

/* Describes the topics, blocking; returns 0 or -1 (printed to out). */
static int describe_blocking(rd_kafka_t *rk, const sd_config *config, tp_copy copies[TP_ROLES],
                             FILE *out)
{
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
    request(rk, config, queue);
    rd_kafka_event_t *event = rd_kafka_queue_poll(queue, 15000);
    char err[1024];
    int rc = 0;
    if (!event) {
        fprintf(out, "topics: describing the topics: no answer within 15 s\n");
        rc = -1;
    } else if (read_result(event, config, copies, err, sizeof(err)) != 0) {
        fprintf(out, "topics: describing the topics failed: %s\n", err);
        rc = -1;
    }
    if (event)
        rd_kafka_event_destroy(event);
    rd_kafka_queue_destroy(queue);
    return rc;
}

/* How long `storyd topics --create` waits for created topics to be described: 50 x 200 ms. */
#define CREATED_WAIT_ATTEMPTS 50
#define CREATED_WAIT_STEP_MS  200

int tp_run_cli(const sd_config *config, rd_kafka_t *rk, bool create, FILE *out)
{
    tp_copy copies[TP_ROLES];
    if (describe_blocking(rk, config, copies, out) != 0)
        return 1;
    if (create) {
        if (create_missing(rk, config, copies, out) != 0)
            return 1;
        /* A broker may still answer from metadata older than the creation: ask again for a
         * while before calling a just-created topic missing. */
        for (int attempt = 0;; attempt++) {
            if (describe_blocking(rk, config, copies, out) != 0)
                return 1;
            bool missing = false;
            for (int role = 0; role < TP_ROLES; role++)
                missing |= tp_topic_name(config, (tp_role)role) &&
                           (copies[role].missing || !copies[role].name[0]);
            if (!missing || attempt == CREATED_WAIT_ATTEMPTS)
                break;
            uv_sleep(CREATED_WAIT_STEP_MS);
        }
    }
    tp_described described[TP_ROLES];
    describe(config, copies, described);
    for (int role = 0; role < TP_ROLES; role++) {
        const tp_described *t = &described[role];
        if (!t->name)
            fprintf(out, "%-26s (off)\n", specs[role].role);
        else if (t->missing)
            fprintf(out, "%-26s %s: missing\n", specs[role].role, t->name);
        else
            fprintf(out, "%-26s %s: cleanup.policy=%s retention.ms=%lld max.message.bytes=%lld\n",
                    specs[role].role, t->name, t->cleanup_policy ? t->cleanup_policy : "?",
                    t->retention_ms, t->max_message_bytes);
    }
    bool warning;
    char err[1024];
    if (tp_verify(described, &warning, err, sizeof(err)) != 0) {
        fprintf(out, "topics: %s\n", err);
        return 1;
    }
    if (warning)
        fprintf(out, "topics: warning: %s\n", err);
    fprintf(out, "topics: ok\n");
    return 0;
}
