/*
 * MinHash signatures over syllable n-grams, and LSH band keys. Pure.
 *
 * Input is a match key (normalize.h: NFKC, case-folded, without spaces and
 * punctuation), so "the same text" differing only in quote styles, spacing
 * or a brand tag has the same shingles. A Hangul syllable is one code point,
 * so code-point n-grams are syllable n-grams.
 */
#ifndef SD_DEDUP_MINHASH_H
#define SD_DEDUP_MINHASH_H

#include <stddef.h>
#include <stdint.h>

#define MH_HASHES 64 /* signature length: standard error of the Jaccard estimate ~0.06 */

typedef struct mh_signature {
    uint32_t v[MH_HASHES];
} mh_signature;

/*
 * Computes the signature of key (len bytes, valid UTF-8) over n-grams of
 * `gram` code points. Returns the number of distinct-position shingles seen
 * (0 when the key is shorter than one shingle; the signature is then unset).
 */
size_t mh_sign(const char *key, size_t len, int gram, mh_signature *out);

/* The fraction of equal positions: an estimate of the Jaccard similarity. */
double mh_similarity(const mh_signature *a, const mh_signature *b);

/*
 * What a story keeps of a signature: the low 8 bits of each value (b-bit
 * MinHash, Li and König), 64 bytes instead of 256. Two different values
 * agree in their low byte with probability 1/256, which the estimate below
 * corrects for; its error stays close to the full signature's.
 */
typedef struct mh_compact {
    uint8_t v[MH_HASHES];
} mh_compact;

void mh_compact_of(const mh_signature *sig, mh_compact *out);

/* The Jaccard estimate between a full signature and a kept one, corrected for 8-bit chance. */
double mh_similarity_compact(const mh_signature *a, const mh_compact *b);

/* Band i's key (bands x rows = MH_HASHES at most). */
uint64_t mh_band(const mh_signature *sig, int band, int rows);

#endif
