/*
 * Rebuilds the dedup engine from PostgreSQL at start: the sightings hold the
 * engine's input of every item in the order it was given (seq), so feeding
 * them again, in that order, to a fresh engine gives exactly the state an
 * uninterrupted daemon would have. Each answer is checked against the one
 * stored with the sighting (story_id_at_sighting); a difference means the
 * engine or its configuration changed since, and is reported.
 *
 * The rows are read in pages (keyset on seq) through the connection's job
 * queue, so the loop keeps serving signals while a large history loads.
 */
#ifndef SD_DAEMON_DEDUP_LOAD_H
#define SD_DAEMON_DEDUP_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "daemon/pg_conn.h"
#include "dedup/engine.h"

typedef struct dl_stats {
    size_t items;      /* sightings replayed */
    size_t mismatches; /* answers that differ from the stored ones */
    size_t gaps;       /* places where seq did not follow on */
    int64_t next_seq;  /* the seq the next item gets */
} dl_stats;

/* The engine's parameters from storyd's [dedup] keys (out is filled whole). */
void dl_config_from(const sd_config *config, dd_config *out);

/* status 0: loaded; otherwise error says why (borrowed for the call). */
typedef void (*dl_done_cb)(void *user, int status, const char *error, const dl_stats *stats);

/*
 * Starts loading into engine (borrowed, fresh) over conn (borrowed). done is
 * called exactly once when this returns 0; -1: the job could not be queued.
 * page_rows is how many sightings one query reads.
 */
int dl_start(pgc_conn *conn, dd_engine *engine, size_t page_rows, dl_done_cb done, void *user)
    __attribute__((warn_unused_result));

#endif
