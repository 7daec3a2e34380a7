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

/* Band i's key (bands x rows = MH_HASHES at most). */
uint64_t mh_band(const mh_signature *sig, int band, int rows);

#endif
