#include "daemon/metrics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void mx_histogram_init(mx_histogram *h, const double *bounds, size_t n)
{
    memset(h, 0, sizeof(*h));
    h->bounds = bounds;
    h->n_bounds = n < MX_MAX_BUCKETS ? n : MX_MAX_BUCKETS;
}

void mx_observe(mx_histogram *h, double value)
{
    size_t bucket = 0;
    while (bucket < h->n_bounds && value > h->bounds[bucket])
        bucket++;
    h->counts[bucket]++;
    h->count++;
    h->sum += value;
}

void mx_family(sd_buf *out, const char *name, const char *type, const char *help)
{
    sd_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Prometheus spells the special values +Inf, -Inf and NaN. */
static void append_value(sd_buf *out, double value)
{
    if (isnan(value))
        sd_buf_append_str(out, "NaN");
    else if (isinf(value))
        sd_buf_append_str(out, value > 0 ? "+Inf" : "-Inf");
    else if (value == floor(value) && fabs(value) < 9e15)
        sd_buf_printf(out, "%.0f", value);
    else
        sd_buf_printf(out, "%.17g", value);
}

void mx_sample(sd_buf *out, const char *name, const char *labels, double value)
{
    sd_buf_append_str(out, name);
    if (labels && labels[0])
        sd_buf_printf(out, "{%s}", labels);
    sd_buf_append_char(out, ' ');
    append_value(out, value);
    sd_buf_append_char(out, '\n');
}

void mx_single(sd_buf *out, const char *name, const char *type, const char *help, double value)
{
    mx_family(out, name, type, help);
    mx_sample(out, name, "", value);
}

void mx_write_histogram(sd_buf *out, const char *name, const char *help, const mx_histogram *h)
{
    mx_family(out, name, "histogram", help);
    uint64_t cumulative = 0;
    char sample[128];
    snprintf(sample, sizeof(sample), "%s_bucket", name);
    for (size_t i = 0; i <= h->n_bounds; i++) {
        cumulative += h->counts[i];
        char le[48], labels[64] = "";
        if (i < h->n_bounds)
            snprintf(le, sizeof(le), "%.17g", h->bounds[i]);
        else
            snprintf(le, sizeof(le), "+Inf");
        mx_label(labels, sizeof(labels), "le", le);
        mx_sample(out, sample, labels, (double)cumulative);
    }
    snprintf(sample, sizeof(sample), "%s_sum", name);
    mx_sample(out, sample, "", h->sum);
    snprintf(sample, sizeof(sample), "%s_count", name);
    mx_sample(out, sample, "", (double)h->count);
}

void mx_label(char *labels, size_t size, const char *name, const char *value)
{
    size_t used = strlen(labels);
    int n = snprintf(labels + used, size - used, "%s%s=\"", used ? "," : "", name);
    if (n < 0 || (size_t)n >= size - used)
        return;
    used += (size_t)n;
    /* The text format escapes backslash, double quote and newline in label values. */
    for (const char *p = value; *p && used + 3 < size; p++) {
        if (*p == '\\' || *p == '"') {
            labels[used++] = '\\';
            labels[used++] = *p;
        } else if (*p == '\n') {
            labels[used++] = '\\';
            labels[used++] = 'n';
        } else {
            labels[used++] = *p;
        }
    }
    if (used + 1 < size)
        labels[used++] = '"';
    labels[used] = '\0';
}
