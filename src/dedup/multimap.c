#include "dedup/multimap.h"

#include <stdlib.h>
#include <string.h>

void mm_init(mm_map *map)
{
    memset(map, 0, sizeof(*map));
}

void mm_release(mm_map *map)
{
    free(map->buckets);
    free(map->entries);
    mm_init(map);
}

/* Fibonacci hashing spreads keys that differ only in low bits (they are hashes already). */
static size_t bucket_of(const mm_map *map, uint64_t key)
{
    return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 32) & (map->n_buckets - 1);
}

static int grow_buckets(mm_map *map)
{
    size_t n = map->n_buckets ? map->n_buckets * 2 : 1024;
    uint32_t *buckets = calloc(n, sizeof(*buckets));
    if (!buckets)
        return -1;
    /* Re-thread every live entry; free entries stay on the free list. */
    for (size_t b = 0; b < map->n_buckets; b++) {
        uint32_t at = map->buckets[b];
        while (at) {
            struct mm_entry *e = &map->entries[at - 1];
            uint32_t next = e->next;
            size_t nb = (size_t)((e->key * 0x9e3779b97f4a7c15ULL) >> 32) & (n - 1);
            e->next = buckets[nb];
            buckets[nb] = at;
            at = next;
        }
    }
    free(map->buckets);
    map->buckets = buckets;
    map->n_buckets = n;
    return 0;
}

int mm_add(mm_map *map, uint64_t key, uint32_t value)
{
    if (map->count + 1 > map->n_buckets && grow_buckets(map) != 0)
        return -1;
    uint32_t at = map->free_head;
    if (at) {
        map->free_head = map->entries[at - 1].next;
    } else {
        if (map->n_entries == map->cap_entries) {
            size_t cap = map->cap_entries ? map->cap_entries * 2 : 1024;
            struct mm_entry *grown = realloc(map->entries, cap * sizeof(*grown));
            if (!grown)
                return -1;
            map->entries = grown;
            map->cap_entries = cap;
        }
        at = (uint32_t)++map->n_entries;
    }
    size_t b = bucket_of(map, key);
    map->entries[at - 1] = (struct mm_entry){.key = key, .value = value, .next = map->buckets[b]};
    map->buckets[b] = at;
    map->count++;
    return 0;
}

bool mm_remove(mm_map *map, uint64_t key, uint32_t value)
{
    if (!map->n_buckets)
        return false;
    size_t b = bucket_of(map, key);
    uint32_t *link = &map->buckets[b];
    while (*link) {
        struct mm_entry *e = &map->entries[*link - 1];
        if (e->key == key && e->value == value) {
            uint32_t at = *link;
            *link = e->next;
            e->next = map->free_head;
            map->free_head = at;
            map->count--;
            return true;
        }
        link = &e->next;
    }
    return false;
}

bool mm_next(const mm_map *map, uint64_t key, uint32_t *cursor, uint32_t *value)
{
    if (!map->n_buckets)
        return false;
    uint32_t at = *cursor ? map->entries[*cursor - 1].next : map->buckets[bucket_of(map, key)];
    while (at) {
        const struct mm_entry *e = &map->entries[at - 1];
        if (e->key == key) {
            *cursor = at;
            *value = e->value;
            return true;
        }
        at = e->next;
    }
    return false;
}

size_t mm_bytes(const mm_map *map)
{
    return map->n_buckets * sizeof(uint32_t) + map->cap_entries * sizeof(struct mm_entry);
}
