/*
 * A hash multimap from 64-bit keys to 32-bit values (story slots), with
 * removal of single (key, value) pairs. Chained through one entry pool, so
 * memory per entry is 16 bytes plus the bucket array. Pure.
 */
#ifndef SD_DEDUP_MULTIMAP_H
#define SD_DEDUP_MULTIMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mm_map {
    uint32_t *buckets; /* head entry index + 1, 0 when empty; owned */
    size_t n_buckets;  /* a power of two */
    struct mm_entry {
        uint64_t key;
        uint32_t value;
        uint32_t next; /* next entry index + 1 in the chain (or the free list), 0 at the end */
    } * entries;       /* owned */
    size_t n_entries, cap_entries;
    uint32_t free_head; /* first free entry index + 1 */
    size_t count;       /* live pairs */
} mm_map;

void mm_init(mm_map *map);
void mm_release(mm_map *map);
/* Adds the pair (duplicates allowed). Returns 0 or -1 when out of memory. */
int mm_add(mm_map *map, uint64_t key, uint32_t value) __attribute__((warn_unused_result));
/* Removes one occurrence of the pair; returns true when it was there. */
bool mm_remove(mm_map *map, uint64_t key, uint32_t value);
/* Iterates over the values of key: start with *cursor = 0; returns false when done. */
bool mm_next(const mm_map *map, uint64_t key, uint32_t *cursor, uint32_t *value);
/* Bytes held by the map. */
size_t mm_bytes(const mm_map *map);

#endif
