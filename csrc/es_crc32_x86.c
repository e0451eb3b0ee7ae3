/*
 * es_crc32_x86.c - CRC32 by carry-less multiplication on x86-64.
 *
 * The technique is the folding of Intel's "Fast CRC Computation for Generic
 * Polynomials Using PCLMULQDQ Instruction" (2009), in its bit-reflected form:
 * a 128-bit lane A = H:L (H = the first 8 bytes) stands D bits before the data it
 * is folded onto, and A * x^D == H * x^(D+64) + L * x^D is replaced by the
 * carry-less products H * (x^(D+31) mod P) and L * (x^(D-33) mod P), whose
 * reflected 96-bit results land in the target lane (the extra x^33 comes from the
 * reflected product).  Constants: es_crc32_tables.h.  The last 128-bit remainder
 * and the bytes after it go through the table code, which reduces them exactly.
 *
 * Each kernel is compiled for its instruction set with a target attribute (GCC,
 * Clang) and only called after es_crc32_probe_x86() has seen the CPU and OS
 * support it.  MSVC needs no attribute for intrinsics.
 */
#include "es_internal.h"

#include "es_crc32_tables.h"

#ifdef ES_HAVE_X86_64

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#include <immintrin.h>
#define ES_TARGET(x)
#define ES_HAVE_VPCLMUL (_MSC_VER >= 1920)
#elif defined(_MSC_VER) && defined(__clang__)
/* clang-cl: its immintrin.h declares only the intrinsics of the features enabled for
 * the whole file, which the per-function targets here do not do; portable only. */
#define ES_NO_X86_KERNELS 1
#elif defined(__GNUC__) || defined(__clang__)
#include <cpuid.h>
#include <immintrin.h>
#define ES_TARGET(x) __attribute__((target(x)))
/* target("vpclmulqdq") needs GCC 8 or Clang 6. */
#if defined(__clang__)
#define ES_HAVE_VPCLMUL (__clang_major__ >= 6)
#else
#define ES_HAVE_VPCLMUL (__GNUC__ >= 8)
#endif
#else
#define ES_NO_X86_KERNELS 1
#endif

#ifndef ES_NO_X86_KERNELS

#define ES_T_PCLMUL ES_TARGET("pclmul,sse2")
#define ES_T_AVX2   ES_TARGET("pclmul,avx2,vpclmulqdq")
#define ES_T_AVX512 ES_TARGET("pclmul,avx2,avx512f,vpclmulqdq")

/* The 128-bit remainder's 16 bytes, then the tail, through the tables. */
ES_T_PCLMUL static uint32_t s_finish128(__m128i x, const uint8_t *p, size_t n) {
    uint8_t tmp[16];
    _mm_storeu_si128((__m128i *)(void *)tmp, x);
    return es_crc32_reg_portable(es_crc32_reg_portable(0, tmp, 16), p, n);
}

/* k holds the constant for the low 64 bits in its low half, for the high 64 in its high half. */
ES_T_PCLMUL static inline __m128i s_fold128(__m128i a, __m128i k) {
    return _mm_xor_si128(_mm_clmulepi64_si128(a, k, 0x00), _mm_clmulepi64_si128(a, k, 0x11));
}

#define ES_K128(d) _mm_set_epi64x((long long)ES_FOLD_##d##_LO, (long long)ES_FOLD_##d##_HI)

/* Fold one lane at a time over 16-byte blocks, then finish. */
ES_T_PCLMUL static uint32_t s_tail128(__m128i x, const uint8_t *p, size_t n) {
    const __m128i k = ES_K128(128);
    while (n >= 16) {
        x = _mm_xor_si128(s_fold128(x, k), _mm_loadu_si128((const __m128i *)(const void *)p));
        p += 16;
        n -= 16;
    }
    return s_finish128(x, p, n);
}

ES_T_PCLMUL uint32_t es_crc32_reg_pclmul(uint32_t reg, const uint8_t *p, size_t n) {
    __m128i x0, x1, x2, x3, k;
    if (n < 64) {
        return es_crc32_reg_portable(reg, p, n);
    }
    x0 = _mm_loadu_si128((const __m128i *)(const void *)p);
    x1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
    x2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
    x3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
    x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128((int)reg));
    p += 64;
    n -= 64;
    k = ES_K128(512);
    while (n >= 64) {
        x0 = _mm_xor_si128(s_fold128(x0, k), _mm_loadu_si128((const __m128i *)(const void *)p));
        x1 = _mm_xor_si128(s_fold128(x1, k), _mm_loadu_si128((const __m128i *)(const void *)(p + 16)));
        x2 = _mm_xor_si128(s_fold128(x2, k), _mm_loadu_si128((const __m128i *)(const void *)(p + 32)));
        x3 = _mm_xor_si128(s_fold128(x3, k), _mm_loadu_si128((const __m128i *)(const void *)(p + 48)));
        p += 64;
        n -= 64;
    }
    k = ES_K128(128);
    x1 = _mm_xor_si128(s_fold128(x0, k), x1);
    x2 = _mm_xor_si128(s_fold128(x1, k), x2);
    x3 = _mm_xor_si128(s_fold128(x2, k), x3);
    return s_tail128(x3, p, n);
}

#if ES_HAVE_VPCLMUL

#define ES_K256(d) \
    _mm256_set_epi64x( \
        (long long)ES_FOLD_##d##_LO, (long long)ES_FOLD_##d##_HI, (long long)ES_FOLD_##d##_LO, \
        (long long)ES_FOLD_##d##_HI)

ES_T_AVX2 static inline __m256i s_fold256(__m256i a, __m256i k) {
    return _mm256_xor_si256(_mm256_clmulepi64_epi128(a, k, 0x00), _mm256_clmulepi64_epi128(a, k, 0x11));
}

ES_T_AVX2 static inline __m256i s_load256(const uint8_t *p) {
    return _mm256_loadu_si256((const __m256i *)(const void *)p);
}

/* Fold 32-byte blocks onto y, then its two lanes into one, then the 16-byte tail. */
ES_T_AVX2 static uint32_t s_tail256(__m256i y, const uint8_t *p, size_t n) {
    const __m256i k = ES_K256(256);
    __m128i x;
    while (n >= 32) {
        y = _mm256_xor_si256(s_fold256(y, k), s_load256(p));
        p += 32;
        n -= 32;
    }
    x = _mm_xor_si128(s_fold128(_mm256_castsi256_si128(y), ES_K128(128)), _mm256_extracti128_si256(y, 1));
    return s_tail128(x, p, n);
}

/* Eight 256-bit accumulators: 256 bytes a round, enough to cover the multiply latency. */
ES_T_AVX2 uint32_t es_crc32_reg_vpclmul_avx2(uint32_t reg, const uint8_t *p, size_t n) {
    __m256i y0, y1, y2, y3, y4, y5, y6, y7, k;
    if (n < 256) {
        return es_crc32_reg_pclmul(reg, p, n);
    }
    y0 = _mm256_xor_si256(s_load256(p), _mm256_set_epi32(0, 0, 0, 0, 0, 0, 0, (int)reg));
    y1 = s_load256(p + 32);
    y2 = s_load256(p + 64);
    y3 = s_load256(p + 96);
    y4 = s_load256(p + 128);
    y5 = s_load256(p + 160);
    y6 = s_load256(p + 192);
    y7 = s_load256(p + 224);
    p += 256;
    n -= 256;
    k = ES_K256(2048);
    while (n >= 256) {
        y0 = _mm256_xor_si256(s_fold256(y0, k), s_load256(p));
        y1 = _mm256_xor_si256(s_fold256(y1, k), s_load256(p + 32));
        y2 = _mm256_xor_si256(s_fold256(y2, k), s_load256(p + 64));
        y3 = _mm256_xor_si256(s_fold256(y3, k), s_load256(p + 96));
        y4 = _mm256_xor_si256(s_fold256(y4, k), s_load256(p + 128));
        y5 = _mm256_xor_si256(s_fold256(y5, k), s_load256(p + 160));
        y6 = _mm256_xor_si256(s_fold256(y6, k), s_load256(p + 192));
        y7 = _mm256_xor_si256(s_fold256(y7, k), s_load256(p + 224));
        p += 256;
        n -= 256;
    }
    /* Four accumulators onto the other four (1024 bits apart), then pairwise. */
    k = ES_K256(1024);
    y4 = _mm256_xor_si256(s_fold256(y0, k), y4);
    y5 = _mm256_xor_si256(s_fold256(y1, k), y5);
    y6 = _mm256_xor_si256(s_fold256(y2, k), y6);
    y7 = _mm256_xor_si256(s_fold256(y3, k), y7);
    k = ES_K256(512);
    y6 = _mm256_xor_si256(s_fold256(y4, k), y6);
    y7 = _mm256_xor_si256(s_fold256(y5, k), y7);
    y7 = _mm256_xor_si256(s_fold256(y6, ES_K256(256)), y7);
    return s_tail256(y7, p, n);
}

#define ES_K512(d) \
    _mm512_set_epi64( \
        (long long)ES_FOLD_##d##_LO, (long long)ES_FOLD_##d##_HI, (long long)ES_FOLD_##d##_LO, \
        (long long)ES_FOLD_##d##_HI, (long long)ES_FOLD_##d##_LO, (long long)ES_FOLD_##d##_HI, \
        (long long)ES_FOLD_##d##_LO, (long long)ES_FOLD_##d##_HI)

/* a * k (both halves) xor b, with one three-way XOR. */
ES_T_AVX512 static inline __m512i s_fold512(__m512i a, __m512i k, __m512i b) {
    return _mm512_ternarylogic_epi64(
        _mm512_clmulepi64_epi128(a, k, 0x00), _mm512_clmulepi64_epi128(a, k, 0x11), b, 0x96);
}

ES_T_AVX512 static inline __m512i s_load512(const uint8_t *p) {
    return _mm512_loadu_si512((const void *)p);
}

/* Four 512-bit accumulators, 256 bytes a round. */
ES_T_AVX512 uint32_t es_crc32_reg_vpclmul_avx512(uint32_t reg, const uint8_t *p, size_t n) {
    __m512i z0, z1, z2, z3, k;
    __m256i y;
    if (n < 512) {
        return es_crc32_reg_vpclmul_avx2(reg, p, n);
    }
    z0 = _mm512_xor_si512(
        s_load512(p), _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (int)reg));
    z1 = s_load512(p + 64);
    z2 = s_load512(p + 128);
    z3 = s_load512(p + 192);
    p += 256;
    n -= 256;
    k = ES_K512(2048);
    while (n >= 256) {
        z0 = s_fold512(z0, k, s_load512(p));
        z1 = s_fold512(z1, k, s_load512(p + 64));
        z2 = s_fold512(z2, k, s_load512(p + 128));
        z3 = s_fold512(z3, k, s_load512(p + 192));
        p += 256;
        n -= 256;
    }
    k = ES_K512(512);
    z1 = s_fold512(z0, k, z1);
    z2 = s_fold512(z1, k, z2);
    z3 = s_fold512(z2, k, z3);
    y = _mm256_xor_si256(
        s_fold256(_mm512_castsi512_si256(z3), ES_K256(256)), _mm512_extracti64x4_epi64(z3, 1));
    return s_tail256(y, p, n);
}

#else /* no VPCLMULQDQ support in this compiler */

uint32_t es_crc32_reg_vpclmul_avx2(uint32_t reg, const uint8_t *p, size_t n) {
    return es_crc32_reg_pclmul(reg, p, n);
}

uint32_t es_crc32_reg_vpclmul_avx512(uint32_t reg, const uint8_t *p, size_t n) {
    return es_crc32_reg_pclmul(reg, p, n);
}

#endif /* ES_HAVE_VPCLMUL */

/* ------------------------------------------------------------ CPU probe */

static void s_cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
#if defined(_MSC_VER) && !defined(__clang__)
    int x[4];
    __cpuidex(x, (int)leaf, (int)sub);
    r[0] = (unsigned)x[0];
    r[1] = (unsigned)x[1];
    r[2] = (unsigned)x[2];
    r[3] = (unsigned)x[3];
#else
    r[0] = r[1] = r[2] = r[3] = 0;
    __get_cpuid_count(leaf, sub, &r[0], &r[1], &r[2], &r[3]);
#endif
}

/* XCR0: which register states the OS saves.  Only called when OSXSAVE is set. */
ES_TARGET("xsave") static uint64_t s_xcr0(void) {
    return (uint64_t)_xgetbv(0);
}

int es_crc32_probe_x86(void) {
    unsigned r1[4], r7[4], r0[4];
    uint64_t xcr0 = 0;
    int paths = 0;
    int ymm_os, zmm_os;
    s_cpuid(0, 0, r0);
    s_cpuid(1, 0, r1);
    if (r0[0] >= 7) {
        s_cpuid(7, 0, r7);
    } else {
        r7[0] = r7[1] = r7[2] = r7[3] = 0;
    }
    if (r1[2] & (1u << 1)) { /* PCLMULQDQ (SSE2 is baseline on x86-64) */
        paths |= ES_CRC32_PCLMUL;
    }
    if (r1[2] & (1u << 27)) { /* OSXSAVE */
        xcr0 = s_xcr0();
    }
    ymm_os = (xcr0 & 0x6u) == 0x6u;
    zmm_os = (xcr0 & 0xe6u) == 0xe6u;
#if ES_HAVE_VPCLMUL
    if ((paths & ES_CRC32_PCLMUL) && ymm_os && (r1[2] & (1u << 28)) /* AVX */
        && (r7[1] & (1u << 5)) /* AVX2 */ && (r7[2] & (1u << 10)) /* VPCLMULQDQ */) {
        paths |= ES_CRC32_VPCLMUL_AVX2;
        if (zmm_os && (r7[1] & (1u << 16))) { /* AVX512F */
            paths |= ES_CRC32_VPCLMUL_AVX512;
        }
    }
#else
    (void)ymm_os;
    (void)zmm_os;
#endif
    return paths;
}

#else /* ES_NO_X86_KERNELS: an x86-64 compiler we do not know; portable only */

uint32_t es_crc32_reg_pclmul(uint32_t reg, const uint8_t *p, size_t n) {
    return es_crc32_reg_portable(reg, p, n);
}
uint32_t es_crc32_reg_vpclmul_avx2(uint32_t reg, const uint8_t *p, size_t n) {
    return es_crc32_reg_portable(reg, p, n);
}
uint32_t es_crc32_reg_vpclmul_avx512(uint32_t reg, const uint8_t *p, size_t n) {
    return es_crc32_reg_portable(reg, p, n);
}
int es_crc32_probe_x86(void) {
    return 0;
}

#endif /* ES_NO_X86_KERNELS */

#else /* not x86-64 */

int es_crc32_probe_x86(void) {
    return 0;
}

#endif /* ES_HAVE_X86_64 */
