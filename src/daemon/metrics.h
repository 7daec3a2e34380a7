/*
 * Prometheus text format (version 0.0.4) for /metrics: counters, gauges with labels and
 * histograms with cumulative buckets, written into an sd_buf. Names follow the conventions
 * (base units, _total on counters, _seconds and _bytes suffixes).
 */
#ifndef SD_DAEMON_METRICS_H
#define SD_DAEMON_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define MX_MAX_BUCKETS 16

/* A histogram over fixed upper bounds (ascending; +Inf is implied). */
typedef struct mx_histogram {
    const double *bounds; /* borrowed, static */
    size_t n_bounds;      /* at most MX_MAX_BUCKETS */
    uint64_t counts[MX_MAX_BUCKETS + 1];
    uint64_t count;
    double sum;
} mx_histogram;

/* Sets up h over n bounds (a static array, borrowed). */
void mx_histogram_init(mx_histogram *h, const double *bounds, size_t n);
void mx_observe(mx_histogram *h, double value);

/* HELP and TYPE lines of a metric family; write them once before its samples. */
void mx_family(sd_buf *out, const char *name, const char *type, const char *help);
/* One sample; labels is "" or a label list without braces, as mx_label builds it. */
void mx_sample(sd_buf *out, const char *name, const char *labels, double value);
/* A family of one unlabelled sample. */
void mx_single(sd_buf *out, const char *name, const char *type, const char *help, double value);
/* A histogram family: _bucket{le=...} (cumulative), _sum and _count. */
void mx_write_histogram(sd_buf *out, const char *name, const char *help, const mx_histogram *h);

/* Appends name="value" (value escaped) to a label list of size bytes, with a comma if needed. */
void mx_label(char *labels, size_t size, const char *name, const char *value);

#endif
