/*
 * `storyd topics [--create]`: describes the topics the configuration names
 * and checks them as the daemon does at start (daemon/topics.h); --create
 * first creates the missing ones with storyd's documented settings.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "common/log.h"
#include "daemon/topics.h"

int sd_cmd_topics(const sd_config *config, bool create)
{
    char err[512];
    rd_kafka_conf_t *conf = sd_kafka_client_conf(config, err, sizeof(err));
    if (!conf) {
        sd_log_error("topics", "%s", err);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk) {
        sd_log_error("topics", "creating a Kafka client: %s", err);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    int code = tp_run_cli(config, rk, create, stdout);
    rd_kafka_destroy(rk);
    return code;
}
