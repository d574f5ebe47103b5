#ifndef GATEWAY_CPCRE2_SHIM_H
#define GATEWAY_CPCRE2_SHIM_H
/* PCRE2 needs the code unit width before its header; we scan UTF-8. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* Cast-expression macros Swift cannot import. */
static const PCRE2_SIZE CPCRE2_ZERO_TERMINATED = PCRE2_ZERO_TERMINATED;
static const PCRE2_SIZE CPCRE2_UNSET = PCRE2_UNSET;
#endif

/* ---- GatewayRules fast scanning helpers (used by GatewayRules' engine) ---- */
#ifndef GATEWAY_GW_SCAN_H
#define GATEWAY_GW_SCAN_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

/* True when any byte of t[0..<n) is one of the `count` bytes in `set` (count <= 4); memchr-speed for 1 byte. */
static inline int gw_contains_any(const uint8_t *t, size_t n, const uint8_t *set, size_t count) {
    for (size_t j = 0; j < count; j++) {
        if (n && memchr(t, set[j], n)) return 1;
    }
    return 0;
}
#endif

/* ---- Digit runs (appended; used by GatewayRules' CandidateWindows) ----
 * gw_digit_runs: from `i`, finds runs of ASCII digits in which up to `max_gap` consecutive non-alphanumeric bytes
 * may separate digits; an ASCII letter ends a run. Reports each run that has at least `min_digits` digits or whose
 * first digit follows two upper-case ASCII letters and is followed by a digit (`iban` = 1; IBAN check digits).
 * start/end: first digit and one past the last digit. Writes up to `cap` runs, returns how many, and sets *next
 * to where to continue (n when done). AVX2 skips digit-free stretches 32 bytes at a time. */
#ifndef GATEWAY_GW_DIGIT_RUNS_H
#define GATEWAY_GW_DIGIT_RUNS_H
typedef struct gw_digit_run {
    uint32_t start;
    uint32_t end;
    uint32_t digits;
    uint32_t iban;
} gw_digit_run;

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2")))
static inline size_t gw_next_digit_avx2(const uint8_t *t, size_t n, size_t i) {
    const __m256i zero_char = _mm256_set1_epi8('0');
    const __m256i nine = _mm256_set1_epi8(9);
    while (i + 32 <= n) {
        __m256i v = _mm256_sub_epi8(_mm256_loadu_si256((const __m256i *)(t + i)), zero_char);
        uint32_t mask = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(v, nine), v));
        if (mask) return i + (size_t)__builtin_ctz(mask);
        i += 32;
    }
    while (i < n && (uint8_t)(t[i] - '0') >= 10) i++;
    return i;
}
#endif

static inline size_t gw_next_digit(const uint8_t *t, size_t n, size_t i) {
#if defined(__x86_64__) || defined(__i386__)
    static int level = -1;
    if (level < 0) {
        __builtin_cpu_init();
        level = __builtin_cpu_supports("avx2") ? 2 : 0;
    }
    if (level == 2) return gw_next_digit_avx2(t, n, i);
#endif
    while (i < n && (uint8_t)(t[i] - '0') >= 10) i++;
    return i;
}

static inline size_t gw_digit_runs(const uint8_t *t, size_t n, size_t i, size_t max_gap, size_t min_digits,
                                   gw_digit_run *out, size_t cap, size_t *next) {
    size_t k = 0;
    while (i < n) {
        i = gw_next_digit(t, n, i);
        if (i >= n) break;
        if (k == cap) { *next = i; return k; }
        size_t run_start = i, run_end = i, digits = 0, gap = 0;
        while (i < n) {
            uint8_t c = t[i];
            if ((uint8_t)(c - '0') < 10) {
                digits++;
                gap = 0;
                run_end = i + 1;
            } else {
                if ((uint8_t)((c | 0x20) - 'a') < 26) break;
                if (++gap > max_gap) break;
            }
            i++;
        }
        i = run_end;
        int iban = run_start >= 2 && run_start + 1 < n && (uint8_t)(t[run_start + 1] - '0') < 10
            && (uint8_t)(t[run_start - 1] - 'A') < 26 && (uint8_t)(t[run_start - 2] - 'A') < 26;
        if (digits >= min_digits || iban) {
            out[k].start = (uint32_t)run_start;
            out[k].end = (uint32_t)run_end;
            out[k].digits = (uint32_t)digits;
            out[k].iban = (uint32_t)iban;
            k++;
        }
    }
    *next = n;
    return k;
}
#endif

/* ---- Trigram keyword filter (appended; used by GatewayRules' keyword prefilter) ----
 * gw_tri_scan: finds every position i (start <= i, i + 2 < n) where the ASCII-case-folded bytes t[i..i+2] may be
 * one of a set of anchor trigrams. Filter 1 (SIMD, Teddy-style, 16 buckets in two sets of 8): trigram (a, b, c) of
 * bucket set S is a candidate when S.lo0[a & 15] & S.hi0[a >> 4] & S.lo1[b & 15] & S.hi1[b >> 4] & S.lo2[c & 15]
 * & S.hi2[c >> 4] != 0 (callers put both cases of letters in the tables). Filter 2 (scalar, only on filter 1's
 * candidates): the bit gw_tri_hash(folded trigram) of `bits` (65536 bits) is set. Both are supersets of the set;
 * callers verify every reported position exactly. Same contract for `out`, `cap` (at least 64) and *next as
 * gw_bigram_scan. */
#ifndef GATEWAY_GW_TRI_H
#define GATEWAY_GW_TRI_H
typedef struct gw_tri_tables {
    uint8_t a[6][16]; /* buckets 0-7: lo0, hi0, lo1, hi1, lo2, hi2 */
    uint8_t b[6][16]; /* buckets 8-15 */
} gw_tri_tables;

static inline uint32_t gw_fold(uint8_t c) { return (uint8_t)(c - 65) < 26 ? (uint32_t)(c | 0x20) : (uint32_t)c; }

static inline uint32_t gw_tri_hash(uint32_t folded) { return (folded * 2654435761u) >> 16; }

static inline int gw_tri_bit(const uint64_t *bits, const uint8_t *t, size_t p) {
    uint32_t h = gw_tri_hash(gw_fold(t[p]) | (gw_fold(t[p + 1]) << 8) | (gw_fold(t[p + 2]) << 16));
    return (int)((bits[h >> 6] >> (h & 63)) & 1u);
}

static inline size_t gw_tri_scan_scalar(const uint64_t *bits, const uint8_t *t, size_t n, size_t i, uint32_t *out,
                                        size_t cap, size_t *next) {
    size_t k = 0;
    for (; i + 2 < n; i++) {
        if (gw_tri_bit(bits, t, i)) {
            if (k == cap) { *next = i; return k; }
            out[k++] = (uint32_t)i;
        }
    }
    *next = n;
    return k;
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2")))
static inline size_t gw_tri_scan_avx2(const gw_tri_tables *m, const uint64_t *bits, const uint8_t *t, size_t n,
                                      size_t i, uint32_t *out, size_t cap, size_t *next) {
#define GW_LD(x) _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(x)))
    const __m256i al0 = GW_LD(m->a[0]), ah0 = GW_LD(m->a[1]), al1 = GW_LD(m->a[2]), ah1 = GW_LD(m->a[3]);
    const __m256i al2 = GW_LD(m->a[4]), ah2 = GW_LD(m->a[5]);
    const __m256i bl0 = GW_LD(m->b[0]), bh0 = GW_LD(m->b[1]), bl1 = GW_LD(m->b[2]), bh1 = GW_LD(m->b[3]);
    const __m256i bl2 = GW_LD(m->b[4]), bh2 = GW_LD(m->b[5]);
#undef GW_LD
    const __m256i nib = _mm256_set1_epi8(0x0f);
    const __m256i zero = _mm256_setzero_si256();
    size_t k = 0;
    while (i + 34 <= n) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(t + i));
        __m256i y = _mm256_loadu_si256((const __m256i *)(t + i + 1));
        __m256i z = _mm256_loadu_si256((const __m256i *)(t + i + 2));
        __m256i xl = _mm256_and_si256(x, nib), xh = _mm256_and_si256(_mm256_srli_epi16(x, 4), nib);
        __m256i yl = _mm256_and_si256(y, nib), yh = _mm256_and_si256(_mm256_srli_epi16(y, 4), nib);
        __m256i zl = _mm256_and_si256(z, nib), zh = _mm256_and_si256(_mm256_srli_epi16(z, 4), nib);
        __m256i ra = _mm256_and_si256(
            _mm256_and_si256(_mm256_and_si256(_mm256_shuffle_epi8(al0, xl), _mm256_shuffle_epi8(ah0, xh)),
                             _mm256_and_si256(_mm256_shuffle_epi8(al1, yl), _mm256_shuffle_epi8(ah1, yh))),
            _mm256_and_si256(_mm256_shuffle_epi8(al2, zl), _mm256_shuffle_epi8(ah2, zh)));
        __m256i rb = _mm256_and_si256(
            _mm256_and_si256(_mm256_and_si256(_mm256_shuffle_epi8(bl0, xl), _mm256_shuffle_epi8(bh0, xh)),
                             _mm256_and_si256(_mm256_shuffle_epi8(bl1, yl), _mm256_shuffle_epi8(bh1, yh))),
            _mm256_and_si256(_mm256_shuffle_epi8(bl2, zl), _mm256_shuffle_epi8(bh2, zh)));
        __m256i r = _mm256_or_si256(ra, rb);
        uint32_t mask = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(r, zero));
        if (mask) {
            if (k + 32 > cap) { *next = i; return k; }
            while (mask) {
                size_t p = i + (size_t)__builtin_ctz(mask);
                out[k] = (uint32_t)p;
                k += (size_t)gw_tri_bit(bits, t, p);
                mask &= mask - 1;
            }
        }
        i += 32;
    }
    return k + gw_tri_scan_scalar(bits, t, n, i, out + k, cap - k, next);
}
#endif

static inline size_t gw_tri_scan(const gw_tri_tables *m, const uint64_t *bits, const uint8_t *t, size_t n,
                                 size_t start, uint32_t *out, size_t cap, size_t *next) {
#if defined(__x86_64__) || defined(__i386__)
    static int level = -1;
    if (level < 0) {
        __builtin_cpu_init();
        level = __builtin_cpu_supports("avx2") ? 2 : 0;
    }
    if (level == 2) return gw_tri_scan_avx2(m, bits, t, n, start, out, cap, next);
#endif
    (void)m;
    return gw_tri_scan_scalar(bits, t, n, start, out, cap, next);
}
#endif

/* ---- ASCII check (appended; used by GatewayRules' TextNormalizer) ----
 * gw_is_ascii: 1 when every byte of t[0..<n) is below 0x80. AVX2 when available (64 bytes a step), else 8 bytes. */
#ifndef GATEWAY_GW_ASCII_H
#define GATEWAY_GW_ASCII_H
static inline int gw_is_ascii_scalar(const uint8_t *t, size_t n, size_t i) {
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, t + i, 8);
        if (w & 0x8080808080808080ull) return 0;
    }
    for (; i < n; i++) if (t[i] & 0x80) return 0;
    return 1;
}
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2")))
static inline int gw_is_ascii_avx2(const uint8_t *t, size_t n) {
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m256i v = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(t + i)),
                                    _mm256_loadu_si256((const __m256i *)(t + i + 32)));
        if (_mm256_movemask_epi8(v)) return 0;
    }
    return gw_is_ascii_scalar(t, n, i);
}
#endif
static inline int gw_is_ascii(const uint8_t *t, size_t n) {
#if defined(__x86_64__) || defined(__i386__)
    static int level = -1;
    if (level < 0) {
        __builtin_cpu_init();
        level = __builtin_cpu_supports("avx2") ? 2 : 0;
    }
    if (level == 2) return gw_is_ascii_avx2(t, n);
#endif
    return gw_is_ascii_scalar(t, n, 0);
}
#endif

/* ---- Digit runs, whole-block bitmasks (appended; used by GatewayRules' CandidateWindows) ----
 * gw_digit_runs_blocks: the same runs, `cap`, `out` and *next contract as gw_digit_runs, found 64 bytes at a time
 * from digit and letter bitmasks: a run is a sequence of digit groups; the non-digit stretch after a group ends the
 * run when it holds a letter, when it makes more than `max_gap` consecutive non-digits, or when it reaches the end
 * of the text. Runs and digit counts come from the masks (ctz / popcount), not byte by byte, so hex hashes and
 * other texts with many short runs cost a few instructions per run. The last partial block is copied into a
 * zero-padded buffer (a zero byte is neither digit nor letter, and no run continues past the end anyway).
 * AVX2 when available; otherwise gw_digit_runs. */
#ifndef GATEWAY_GW_DIGIT_RUNS_BLOCKS_H
#define GATEWAY_GW_DIGIT_RUNS_BLOCKS_H
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"), always_inline))
static inline uint64_t gw_digit_mask64(const uint8_t *p) {
    const __m256i zero_char = _mm256_set1_epi8('0');
    const __m256i nine = _mm256_set1_epi8(9);
    __m256i dx = _mm256_sub_epi8(_mm256_loadu_si256((const __m256i *)p), zero_char);
    __m256i dy = _mm256_sub_epi8(_mm256_loadu_si256((const __m256i *)(p + 32)), zero_char);
    uint32_t d0 = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(dx, nine), dx));
    uint32_t d1 = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(dy, nine), dy));
    return (uint64_t)d0 | ((uint64_t)d1 << 32);
}

/* Letters (ASCII, either case) and upper-case letters of p[0..<64), bit b = byte b. */
__attribute__((target("avx2"), always_inline))
static inline void gw_letter_masks64(const uint8_t *p, uint64_t *letters, uint64_t *upper) {
    const __m256i lower_a = _mm256_set1_epi8('a');
    const __m256i upper_a = _mm256_set1_epi8('A');
    const __m256i twenty_five = _mm256_set1_epi8(25);
    const __m256i case_bit = _mm256_set1_epi8(0x20);
    __m256i x = _mm256_loadu_si256((const __m256i *)p);
    __m256i y = _mm256_loadu_si256((const __m256i *)(p + 32));
    __m256i lx = _mm256_sub_epi8(_mm256_or_si256(x, case_bit), lower_a);
    __m256i ly = _mm256_sub_epi8(_mm256_or_si256(y, case_bit), lower_a);
    uint32_t l0 = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(lx, twenty_five), lx));
    uint32_t l1 = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(ly, twenty_five), ly));
    __m256i ux = _mm256_sub_epi8(x, upper_a), uy = _mm256_sub_epi8(y, upper_a);
    uint32_t u0 = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(ux, twenty_five), ux));
    uint32_t u1 = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(uy, twenty_five), uy));
    *letters = (uint64_t)l0 | ((uint64_t)l1 << 32);
    *upper = (uint64_t)u0 | ((uint64_t)u1 << 32);
}

/* x >> s with ones shifted in at the top (1 <= s <= 4): "beyond the block, anything may be". */
__attribute__((always_inline))
static inline uint64_t gw_shr_ones(uint64_t x, unsigned s) { return (x >> s) | (~0ull << (64 - s)); }

/* A superset test for one 64-byte block (bit b = byte b): the bits of digits that may start a reported run. A run
 * of at least k digits starting at p has digits p = d1 < ... < dk, each next one within max_gap + 1 bytes and no
 * letter between, so "chain_k" holds at p, where chain_1 = digits and chain_k = digits & (chain_{k-1} one byte on,
 * or two on through a non-letter, ... up to max_gap + 1 on). Bytes past the block count as digits and non-letters,
 * so a run that may go on into the next block is kept. k = min(min_digits, 6): more is still a necessary condition.
 * Plus the IBAN starts: a digit right after two upper-case letters (`prev_upper`: bits 62, 63 are the two bytes
 * before the block).
 * Every reported run starting in this block starts at a set bit; a run that starts at an unset bit is not reported
 * and ends inside the block. Needs max_gap <= 3. */
__attribute__((always_inline))
static inline uint64_t gw_digit_run_candidates(uint64_t dm, uint64_t lm, uint64_t um, uint64_t prev_upper,
                                               size_t max_gap, size_t min_digits) {
    uint64_t nl = ~lm;
    uint64_t n1 = gw_shr_ones(nl, 1);
    uint64_t n2 = n1 & gw_shr_ones(nl, 2);
    uint64_t n3 = n2 & gw_shr_ones(nl, 3);
    size_t k = min_digits < 6 ? min_digits : 6;
    uint64_t chain = dm;
    for (size_t step = 1; step < k; step++) {
        uint64_t next = gw_shr_ones(chain, 1);
        if (max_gap >= 1) next |= n1 & gw_shr_ones(chain, 2);
        if (max_gap >= 2) next |= n2 & gw_shr_ones(chain, 3);
        if (max_gap >= 3) next |= n3 & gw_shr_ones(chain, 4);
        chain = dm & next;
    }
    uint64_t iban = dm & ((um << 1) | (prev_upper >> 63)) & ((um << 2) | (prev_upper >> 62));
    return chain | iban;
}

/* Appends the run (start, end, digits) when it is reported (enough digits, or IBAN check digits). Returns 0 when
 * `out` is full (nothing written). */
static inline int gw_digit_run_emit(const uint8_t *t, size_t n, size_t min_digits, size_t start, size_t end,
                                    size_t digits, gw_digit_run *out, size_t *k, size_t cap) {
    int iban = start >= 2 && (uint8_t)(t[start - 1] - 'A') < 26 && (uint8_t)(t[start - 2] - 'A') < 26
        && start + 1 < n && (uint8_t)(t[start + 1] - '0') < 10;
    if (digits < min_digits && !iban) return 1;
    if (*k == cap) return 0;
    out[*k].start = (uint32_t)start;
    out[*k].end = (uint32_t)end;
    out[*k].digits = (uint32_t)digits;
    out[*k].iban = (uint32_t)iban;
    *k += 1;
    return 1;
}

__attribute__((target("avx2,bmi,popcnt")))
static inline size_t gw_digit_runs_blocks_avx2(const uint8_t *t, size_t n, size_t i, size_t max_gap,
                                               size_t min_digits, gw_digit_run *out, size_t cap, size_t *next) {
    size_t k = 0;
    int in_run = 0;
    size_t run_start = 0, run_end = 0, digits = 0, gap = 0;
    uint8_t tail[64];
    size_t block = i;
    size_t pos = 0; /* bit index inside the block */
    /* Outside a run, only candidate digits (gw_digit_run_candidates) may start the next reported run. */
    const int skip = max_gap <= 3;
    const int common = max_gap == 3 && min_digits >= 6;
    while (block < n) {
        const uint8_t *src = t + block;
        if (block + 64 > n) {
            memset(tail, 0, sizeof tail);
            memcpy(tail, t + block, n - block);
            src = tail;
        }
        uint64_t dm = gw_digit_mask64(src);
        if (!in_run && dm == 0) { block += 64; pos = 0; continue; }
        uint64_t lm, um;
        gw_letter_masks64(src, &lm, &um);
        /* Upper-case bits of the two bytes before the block (bits 62, 63), for IBAN starts at bits 0 and 1. */
        uint64_t prev = 0;
        if (block >= 1 && (uint8_t)(t[block - 1] - 'A') < 26) prev |= 1ull << 63;
        if (block >= 2 && (uint8_t)(t[block - 2] - 'A') < 26) prev |= 1ull << 62;
        uint64_t cand = dm;
        if (skip && dm) {
            /* The engine's case (gap 3, at least 6 digits) with constants, so the chain steps unroll. */
            cand = common ? gw_digit_run_candidates(dm, lm, um, prev, 3, 6)
                          : gw_digit_run_candidates(dm, lm, um, prev, max_gap, min_digits);
        }
        if (!in_run && cand == 0) {
            block += 64;
            pos = 0;
            continue;
        }
        while (pos < 64) {
            if (!in_run) {
                /* The next run start that may be reported: the first candidate digit. Digits before it start runs
                 * that are not reported (the start of a run holding a candidate is a candidate, and no run goes on
                 * from a block without candidates), so jumping over them changes no reported run. */
                uint64_t rest = cand >> pos;
                if (!rest) break;
                pos += (size_t)__builtin_ctzll(rest);
                if (block + pos >= n) break;
                /* Full output: stop at a run start; scanning again from there finds the same runs. */
                if (k == cap) { *next = block + pos; return k; }
                in_run = 1;
                run_start = block + pos;
                digits = 0;
                gap = 0;
            }
            /* At a digit (gap == 0) or inside a non-digit stretch carried from the previous block (gap > 0). */
            if (gap == 0) {
                uint64_t nd = ~dm >> pos;
                size_t group = nd ? (size_t)__builtin_ctzll(nd) : 64 - pos;
                digits += group;
                pos += group;
                run_end = block + pos;
                if (pos >= 64) break;
            }
            /* A non-digit stretch from pos: up to the next digit in this block, or the block's end. */
            uint64_t dr = dm >> pos;
            size_t stretch = dr ? (size_t)__builtin_ctzll(dr) : 64 - pos;
            uint64_t stretch_mask = stretch >= 64 ? ~0ull : ((1ull << stretch) - 1);
            int letter = ((lm >> pos) & stretch_mask) != 0;
            int ends_text = block + pos + stretch >= n;
            if (letter || gap + stretch > max_gap || ends_text) {
                if (!gw_digit_run_emit(t, n, min_digits, run_start, run_end, digits, out, &k, cap)) {
                    *next = run_start;
                    return k;
                }
                in_run = 0;
                gap = 0;
                pos += stretch;
                continue;
            }
            pos += stretch;
            if (dr) {
                gap = 0; /* the run goes on with the next digit group */
            } else {
                gap += stretch; /* continues into the next block */
            }
        }
        block += 64;
        pos = 0;
    }
    if (in_run) {
        if (!gw_digit_run_emit(t, n, min_digits, run_start, run_end, digits, out, &k, cap)) {
            *next = run_start;
            return k;
        }
    }
    *next = n;
    return k;
}
#endif

static inline size_t gw_digit_runs_blocks(const uint8_t *t, size_t n, size_t i, size_t max_gap, size_t min_digits,
                                          gw_digit_run *out, size_t cap, size_t *next) {
#if defined(__x86_64__) || defined(__i386__)
    static int level = -1;
    if (level < 0) {
        __builtin_cpu_init();
        level = (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("popcnt")) ? 2 : 0;
    }
    if (level == 2) return gw_digit_runs_blocks_avx2(t, n, i, max_gap, min_digits, out, cap, next);
#endif
    return gw_digit_runs(t, n, i, max_gap, min_digits, out, cap, next);
}
#endif
