#include "dedup/minhash.h"

#include <string.h>
#include <xxhash.h>

/*
 * One 64-bit hash per shingle, then MH_HASHES cheap permutations of it
 * (multiply-xorshift with fixed odd constants). This is the usual
 * "one hash, many permutations" scheme; the constants are arbitrary but
 * fixed, so signatures are stable across runs and machines.
 */
static uint32_t permute(uint64_t h, int i)
{
    uint64_t x = h ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1));
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 31;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 29;
    return (uint32_t)(x >> 32);
}

/* Byte length of the UTF-8 sequence starting with c. */
static size_t seq_len(unsigned char c)
{
    return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

size_t mh_sign(const char *key, size_t len, int gram, mh_signature *out)
{
    /* Offsets of the last `gram` code point starts, as a ring. */
    size_t starts[16];
    if (gram < 1 || gram > 16)
        return 0;
    for (int i = 0; i < MH_HASHES; i++)
        out->v[i] = UINT32_MAX;
    size_t shingles = 0, seen = 0, at = 0;
    while (at < len) {
        starts[seen % (size_t)gram] = at;
        at += seq_len((unsigned char)key[at]);
        if (at > len)
            at = len;
        seen++;
        if (seen < (size_t)gram)
            continue;
        size_t first = starts[(seen - (size_t)gram) % (size_t)gram];
        uint64_t h = XXH3_64bits(key + first, at - first);
        for (int i = 0; i < MH_HASHES; i++) {
            uint32_t p = permute(h, i);
            if (p < out->v[i])
                out->v[i] = p;
        }
        shingles++;
    }
    return shingles;
}

double mh_similarity(const mh_signature *a, const mh_signature *b)
{
    int equal = 0;
    for (int i = 0; i < MH_HASHES; i++)
        equal += a->v[i] == b->v[i];
    return (double)equal / MH_HASHES;
}

uint64_t mh_band(const mh_signature *sig, int band, int rows)
{
    /* The band number is hashed in, so equal rows in different bands do not collide. */
    uint32_t buf[MH_HASHES + 1];
    buf[0] = (uint32_t)band;
    memcpy(buf + 1, sig->v + band * rows, (size_t)rows * sizeof(uint32_t));
    return XXH3_64bits(buf, (size_t)(rows + 1) * sizeof(uint32_t));
}

void mh_compact_of(const mh_signature *sig, mh_compact *out)
{
    for (int i = 0; i < MH_HASHES; i++)
        out->v[i] = (uint8_t)sig->v[i];
}

double mh_similarity_compact(const mh_signature *a, const mh_compact *b)
{
    int equal = 0;
    for (int i = 0; i < MH_HASHES; i++)
        equal += (uint8_t)a->v[i] == b->v[i];
    /* P(low bytes equal) = J + (1 - J) / 256, solved for J. */
    double agree = (double)equal / MH_HASHES;
    double j = (agree - 1.0 / 256) / (1 - 1.0 / 256);
    return j < 0 ? 0 : j;
}
