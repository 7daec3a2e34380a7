/*
 * The outbox relay: sends the rows of storyd_outbox (story events and dead
 * letters, written in the batch transactions) to Kafka with an idempotent
 * producer, and marks a row sent only once its delivery report says the
 * broker has it. A round reads up to storyd.relay_batch unsent rows in id
 * order, produces them, waits for every report, marks the delivered ones in
 * one UPDATE, and starts the next round while rows remain. Rows whose
 * delivery failed stay unsent and are tried again in a later round.
 *
 * Everything runs on the loop: delivery reports and librdkafka's logs are
 * served by rd_kafka_poll from a timer, never on librdkafka's threads.
 * Delivery is at least once: after a crash between the send and the mark,
 * rows are sent again, with the same event ids.
 */
#ifndef SD_DAEMON_OUTBOX_H
#define SD_DAEMON_OUTBOX_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/config.h"
#include "daemon/pg_conn.h"

typedef struct ob_relay ob_relay;

/*
 * Creates the relay and its producer ([kafka] keys a producer takes, plus
 * enable.idempotence). config and conn are borrowed for the relay's life.
 * on_idle(user) runs whenever a round ends with no other asked for (a
 * stopping daemon waits for it). Returns NULL with err filled.
 */
ob_relay *ob_new(uv_loop_t *loop, const sd_config *config, pgc_conn *conn,
                 void (*on_idle)(void *user), void *user, char *err, size_t errlen);

/* Asks for a round: now when idle, else right after the round in progress. */
void ob_kick(ob_relay *relay);

/* True while a round is in progress or one was asked for, unless ob_stop's grace has run out. */
bool ob_busy(const ob_relay *relay);

/*
 * The daemon is stopping and waits for nothing else: rounds that are asked for still run, failed
 * rows are no longer retried, and after grace_ms ob_busy says false (on_idle is called) whatever
 * is in flight. Unsent rows are safe in the outbox and go out at the next start. Only the first
 * call counts.
 */
void ob_stop(ob_relay *relay, uint64_t grace_ms);

/* Rows marked sent since start. */
/* The relay's producer (borrowed), for admin requests such as the topic check. */
rd_kafka_t *ob_kafka(ob_relay *relay);

uint64_t ob_sent(const ob_relay *relay);

/* Unsent outbox rows at the last count (every 5 s), or -1 before the first count. */
int64_t ob_backlog(const ob_relay *relay);

/*
 * Flushes what was produced (bounded, blocking: only at shutdown), destroys
 * the producer and frees the relay; handles are released on a later loop turn.
 */
void ob_free(ob_relay *relay);

#endif
