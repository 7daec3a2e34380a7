/*
 * `storyd run`: one libuv loop that wires the Kafka consumer, the PostgreSQL
 * connection and signals around the batch logic. The loop thread owns every
 * piece of state; librdkafka's threads only write to the wake-up pipe.
 */
#ifndef SD_DAEMON_DAEMON_H
#define SD_DAEMON_DAEMON_H

#include "common/config.h"

/* Runs until SIGTERM/SIGINT or a fatal error. Returns the process exit code. config is borrowed;
 * SIGHUP applies its reloadable keys in place. */
int sd_daemon_run(sd_config *config);

#endif
