#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"

static void client_log_cb(const rd_kafka_t *rk, int level, const char *facility, const char *line)
{
    (void)rk;
    int ours = level <= 3 ? SD_LOG_ERROR : level > SD_LOG_DEBUG ? SD_LOG_DEBUG : level;
    sd_log(ours, "rdkafka", "%s: %s", facility, line);
}

rd_kafka_conf_t *sd_kafka_client_conf(const sd_config *config, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char inner[512];
    if (rd_kafka_conf_set(conf, "client.id", "storyd-cli", inner, sizeof(inner)) !=
        RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "client.id: %s", inner);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    for (size_t i = 0; i < config->kafka.count; i++) {
        if (sd_config_kafka_consumer_only(config->kafka.keys[i]))
            continue;
        if (rd_kafka_conf_set(conf, config->kafka.keys[i], config->kafka.values[i], inner,
                              sizeof(inner)) != RD_KAFKA_CONF_OK) {
            snprintf(err, errlen, "kafka.%s: %s", config->kafka.keys[i], inner);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    rd_kafka_conf_set_log_cb(conf, client_log_cb);
    return conf;
}

PGconn *sd_cli_pg_connect(const sd_config *config)
{
    const sd_kv_list *list = &config->postgres;
    const char **keys = calloc(list->count + 2, sizeof(char *));
    const char **values = calloc(list->count + 2, sizeof(char *));
    if (!keys || !values) {
        free(keys);
        free(values);
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < list->count; i++, n++) {
        keys[n] = list->keys[i];
        values[n] = list->values[i];
    }
    if (!sd_kv_get(list, "application_name")) {
        keys[n] = "application_name";
        values[n] = "storyd-cli";
    }
    PGconn *conn = PQconnectdbParams(keys, values, 0);
    free(keys);
    free(values);
    return conn;
}
