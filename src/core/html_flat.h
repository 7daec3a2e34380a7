/*
 * A light DOM for the generic extractor, built from libxml2's HTML parser in SAX mode: the same
 * elements, text and parent/child links as the tree libxml2 would build (xmlSAX2*'s rules are
 * followed: adjacent text merges, an element opened when no element is open hangs under the
 * document's first child, comments count as nodes), but kept in three arrays — nodes, one text
 * arena, one string arena — instead of a malloc per node, attribute and text. Pure.
 */
#ifndef SD_CORE_HTML_FLAT_H
#define SD_CORE_HTML_FLAT_H

#include <stddef.h>
#include <stdint.h>

enum {
    HF_ELEMENT = 1,
    HF_TEXT = 2,  /* character data (text nodes) */
    HF_CDATA = 3, /* raw text of script and style (libxml2's CDATA nodes) */
    HF_OTHER = 4, /* comments and processing instructions: counted as nodes, never read */
};

/* One node; links are indices into hf_doc.nodes, -1 for none. */
typedef struct hf_node {
    int32_t parent, children, last, next;
    uint32_t off;     /* element: its name in strs; text: its bytes in text */
    uint32_t len;     /* text: its length in bytes; element: its first attribute in attrs */
    uint32_t n_attrs; /* element: how many attributes it has */
    uint8_t type;     /* HF_* */
    int16_t user;     /* free for the reader; -1 after parsing */
} hf_node;

/* An attribute: its name and value in strs (a bare attribute's value is ""). */
typedef struct hf_attr {
    uint32_t name, value;
} hf_attr;

/*
 * The document. nodes[first] is the first top-level node (-1 for an empty page); top-level
 * nodes are linked by next. Names, values and text are not NUL-terminated in text (text
 * nodes carry a length) but are in strs. All arrays are owned by the document (hf_free).
 */
typedef struct hf_doc {
    hf_node *nodes;
    size_t n, cap;
    hf_attr *attrs;
    size_t n_attrs, attrs_cap;
    char *text;
    size_t text_len, text_cap;
    char *strs;
    size_t strs_len, strs_cap;
    int32_t first, last;
    size_t n_nodes_seen; /* nodes the page had, kept or not (the limit stops keeping them) */
} hf_doc;

enum { HF_OK = 0, HF_ERR_PARSE = -1, HF_ERR_NOMEM = -2 };

/*
 * Parses len bytes of UTF-8 HTML (sd_html_parse's settings) into *doc, keeping at most
 * max_nodes nodes: the parse stops at the first node beyond them. Returns HF_OK, or
 * HF_ERR_PARSE when libxml2 could not start, HF_ERR_NOMEM when memory ran out; *doc is empty
 * then. On success free *doc with hf_free. Safe to call from several threads.
 */
int hf_parse(const char *html, size_t len, size_t max_nodes, hf_doc *doc);

void hf_free(hf_doc *doc);

static inline const char *hf_name(const hf_doc *d, int32_t i)
{
    return d->strs + d->nodes[i].off;
}

static inline const char *hf_text(const hf_doc *d, int32_t i)
{
    return d->text + d->nodes[i].off;
}

/* The value of an element's attribute (case-insensitive name; "" for a bare one), or NULL. */
const char *hf_attr_value(const hf_doc *d, int32_t i, const char *name);

/*
 * What xmlNodeGetContent gives for an element: the text of every text and CDATA node below
 * it, in document order, as a new NUL-terminated string (free it), or NULL when memory ran out.
 */
char *hf_content(const hf_doc *d, int32_t i);

#endif
