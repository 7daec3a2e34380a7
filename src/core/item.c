#include "core/item.h"

#include <stdlib.h>
#include <string.h>

static void item_clear(ex_item *item)
{
    free(item->title);
    free(item->text);
    free(item->brand);
    free(item->section);
    free(item->url);
    free(item->title_key);
    free(item->text_key);
}

ex_item *ex_page_add_item(ex_page *page, ex_kind kind)
{
    if (page->n_items == page->cap_items) {
        size_t cap = page->cap_items ? page->cap_items * 2 : 16;
        ex_item *grown = realloc(page->items, cap * sizeof(*grown));
        if (!grown)
            return NULL;
        page->items = grown;
        page->cap_items = cap;
    }
    ex_item *item = &page->items[page->n_items];
    memset(item, 0, sizeof(*item));
    item->kind = kind;
    item->position = (int)page->n_items;
    page->n_items++;
    return item;
}

void ex_page_drop_last(ex_page *page)
{
    if (page->n_items == 0)
        return;
    item_clear(&page->items[--page->n_items]);
}

void ex_page_free(ex_page *page)
{
    if (!page)
        return;
    for (size_t i = 0; i < page->n_items; i++)
        item_clear(&page->items[i]);
    free(page->items);
    free(page->canonical_url);
    free(page->footer_brand);
    free(page);
}

const char *ex_kind_name(ex_kind kind)
{
    switch (kind) {
    case EX_ARTICLE:
        return "article";
    case EX_TEASER:
        return "teaser";
    case EX_HEADLINE:
        return "headline";
    }
    return "unknown";
}

const char *ex_cut_name(ex_cut cut)
{
    switch (cut) {
    case EX_CUT_NONE:
        return "none";
    case EX_CUT_SITE:
        return "site";
    case EX_CUT_PAGE_END:
        return "page_end";
    }
    return "none";
}

const char *ex_precision_name(ex_precision precision)
{
    switch (precision) {
    case EX_TIME_DAY:
        return "day";
    case EX_TIME_MINUTE:
        return "minute";
    case EX_TIME_NONE:
        break;
    }
    return NULL;
}
