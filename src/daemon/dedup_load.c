#include "daemon/dedup_load.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct dl_load {
    pgc_conn *conn;    /* borrowed */
    dd_engine *engine; /* borrowed */
    size_t page_rows;
    dl_done_cb done;
    void *user;
    dl_stats stats;
    size_t page_count; /* rows of the page just read */
    bool failed;       /* out of memory in the engine */
    char after[24], limit[24];
    const char *params[2];
    pgc_step step;
} dl_load;

static const char load_sql[] =
    "SELECT s.seq, s.story_id_at_sighting, s.item_url, s.title, s.title_key, t.text_key,"
    " s.title_cut, s.seen_ms"
    " FROM storyd_sighting s LEFT JOIN storyd_text t ON t.text_hash = s.text_hash"
    " WHERE s.seq > $1::bigint ORDER BY s.seq LIMIT $2::bigint";

static const char *value_or_null(const PGresult *result, int row, int column)
{
    return PQgetisnull(result, row, column) ? NULL : PQgetvalue(result, row, column);
}

static void on_rows(void *user, const PGresult *result)
{
    dl_load *load = user;
    int rows = PQntuples(result);
    for (int row = 0; row < rows && !load->failed; row++) {
        int64_t seq = strtoll(PQgetvalue(result, row, 0), NULL, 10);
        uint64_t stored = (uint64_t)strtoll(PQgetvalue(result, row, 1), NULL, 10);
        dd_item item = {
            .url = value_or_null(result, row, 2),
            .title = value_or_null(result, row, 3),
            .title_key = value_or_null(result, row, 4),
            .text_key = value_or_null(result, row, 5),
            .title_cut = PQgetvalue(result, row, 6)[0] == 't',
            .seen_ms = strtoll(PQgetvalue(result, row, 7), NULL, 10),
        };
        dd_result answer;
        if (dd_add(load->engine, &item, &answer) != 0) {
            load->failed = true;
            break;
        }
        if (answer.story != stored)
            load->stats.mismatches++;
        if (load->stats.items > 0 && seq != load->stats.next_seq)
            load->stats.gaps++;
        load->stats.items++;
        load->stats.next_seq = seq + 1;
    }
    load->page_count += (size_t)rows;
}

static int next_page(dl_load *load);

static void on_page_done(void *user, int status, const char *error)
{
    dl_load *load = user;
    if (status != 0 || load->failed) {
        char what[1200];
        snprintf(what, sizeof(what), "rebuilding the dedup state from storyd_sighting: %s",
                 status != 0 ? error : "out of memory in the dedup engine");
        load->done(load->user, -1, what, &load->stats);
        free(load);
        return;
    }
    if (load->page_count < load->page_rows) {
        load->done(load->user, 0, NULL, &load->stats);
        free(load);
        return;
    }
    if (next_page(load) != 0) {
        load->done(load->user, -1, "rebuilding the dedup state: the connection is not usable",
                   &load->stats);
        free(load);
    }
}

static int next_page(dl_load *load)
{
    /* seq starts at 1, so "after 0" reads from the beginning. */
    snprintf(load->after, sizeof(load->after), "%" PRId64,
             load->stats.items ? load->stats.next_seq - 1 : INT64_C(0));
    load->page_count = 0;
    load->step = (pgc_step){
        .kind = PGC_STEP_QUERY,
        .sql = load_sql,
        .nparams = 2,
        .params = load->params,
        .on_result = on_rows,
        .user = load,
    };
    return pgc_run(load->conn, &load->step, 1, on_page_done, load);
}

int dl_start(pgc_conn *conn, dd_engine *engine, size_t page_rows, dl_done_cb done, void *user)
{
    dl_load *load = calloc(1, sizeof(*load));
    if (!load)
        return -1;
    load->conn = conn;
    load->engine = engine;
    load->page_rows = page_rows ? page_rows : 10000;
    load->done = done;
    load->user = user;
    load->stats.next_seq = 1;
    snprintf(load->limit, sizeof(load->limit), "%zu", load->page_rows);
    load->params[0] = load->after;
    load->params[1] = load->limit;
    if (next_page(load) != 0) {
        free(load);
        return -1;
    }
    return 0;
}

void dl_config_from(const sd_config *config, dd_config *out)
{
    *out = (dd_config){
        .gram = (int)config->dedup_gram,
        .bands = (int)config->dedup_bands,
        .rows = (int)config->dedup_rows,
        .min_similarity = config->dedup_min_similarity,
        .min_minhash_chars = (size_t)config->dedup_min_minhash_chars,
        .anchor_chars = (size_t)config->dedup_anchor_chars,
        .min_prefix_chars = (size_t)config->dedup_min_prefix_chars,
        .min_title_chars = (size_t)config->dedup_min_title_chars,
        .min_text_chars = (size_t)config->dedup_min_text_chars,
        .keep_key_bytes = (size_t)config->dedup_keep_key_bytes,
        .max_texts = (size_t)config->dedup_max_texts,
        .max_variants = (size_t)config->dedup_max_variants,
    };
}
