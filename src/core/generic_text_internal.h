/*
 * Shared between the two halves of the generic text-rendering extractor: the
 * line classifiers (generic_lines.c: dates, bylines, datelines, captions,
 * end markers, how prose-like a line is) and the scan that uses them
 * (generic_text.c). Not part of the public API.
 */
#ifndef SD_CORE_GENERIC_TEXT_INTERNAL_H
#define SD_CORE_GENERIC_TEXT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/blocks.h"
#include "core/generic.h"
#include "core/generic_internal.h" /* sbuf and gx__sb_put, shared with the HTML path */

/*
 * What a line is made of, to tell prose from menus, tag clouds, tables and contact blocks that
 * are just as long: prose has punctuation every sentence or clause, is mostly letters, and its
 * words are not separated by "|", "·" or "»".
 */
typedef struct shape {
    size_t nonspace, letters, punct, seps, words, numbers, phones;
    bool email;
} shape;

bool gxt_starts(const char *s, const char *prefix);
bool gxt_ends(const char *s, size_t len, const char *suffix);
size_t gxt_chars_of(const char *s);
size_t gxt_units_of(const char *s);
bool gxt_sentence_end(const char *s, size_t len);
bool gxt_is_end_line(const char *s, size_t chars);
bool gxt_is_noise_line(const char *s, size_t chars);
bool gxt_is_digit(char c);
bool gxt_is_cookie_line(const char *s);
bool gxt_is_legal_line(const char *s);
bool gxt_is_summary_header(const char *s, size_t chars);
const char *gxt_date_in(const char *s);
const char *gxt_english_date(const char *s, char *iso, size_t isolen);
bool gxt_is_date_line(const char *s, size_t chars);
bool gxt_is_caption(const char *s, size_t len);
const char *gxt_dateline(const char *s, char **byline);
const char *gxt_posted_by(const char *s);
char *gxt_author_of(const char *byline);
char *gxt_byline_of(const char *line);
char *gxt_byline_before_date(const char *s);
bool gxt_is_byline(const char *s, size_t chars);
size_t gxt_list_marker(const char *s);
bool gxt_is_item(const bl_line *line, const char *s);
shape gxt_shape_of(const char *s);
bool gxt_not_prose(const shape *sh);
int gxt_end_marker(const char *s, size_t chars);
bool gxt_is_author_note(const char *s, size_t chars);

enum { END_NONE, END_BLOCK, END_THREAD };

#endif
