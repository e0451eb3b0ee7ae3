/* es_internal.h - helpers shared by the C sources; not part of the contract. */
#ifndef ES_INTERNAL_H
#define ES_INTERNAL_H

#include "eventstream.h"

#include <stddef.h>
#include <stdint.h>

#define ES_PRELUDE_LEN   12u
#define ES_MIN_FRAME_LEN 16u

/* "if !(cond) return status": named for what it requires. */
#define ES_REQUIRE(cond, status) \
    do { \
        if (!(cond)) { \
            return (status); \
        } \
    } while (0)

/* The most descriptors a walk of a block of len bytes can write under limits: a
 * header takes 3 bytes or more (length byte, a name byte, type byte) before its
 * descriptor is written, and the walk stops at max_headers (reporting the next). */
static inline size_t es_max_header_count(size_t len, const es_limits *limits) {
    size_t most = len / 3;
    return most < limits->max_headers ? most : (size_t)limits->max_headers;
}

static inline uint32_t es_load_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline uint16_t es_load_be16(const uint8_t *p) {
    return (uint16_t)(((unsigned)p[0] << 8) | (unsigned)p[1]);
}

static inline uint64_t es_load_be64(const uint8_t *p) {
    return ((uint64_t)es_load_be32(p) << 32) | (uint64_t)es_load_be32(p + 4);
}

static inline uint32_t es_load_le32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t es_load_le64(const uint8_t *p) {
    return (uint64_t)es_load_le32(p) | ((uint64_t)es_load_le32(p + 4) << 32);
}

static inline void es_store_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/*
 * CRC kernels on the raw register: no inversion before or after, so
 * crc32(c, data) == ~kernel(~c, data).  The SIMD kernels fall back to smaller ones
 * for short inputs.  Each is defined only where its path is compiled in.
 */
uint32_t es_crc32_reg_portable(uint32_t reg, const uint8_t *p, size_t n);
uint32_t es_crc32_reg_pclmul(uint32_t reg, const uint8_t *p, size_t n);
uint32_t es_crc32_reg_vpclmul_avx2(uint32_t reg, const uint8_t *p, size_t n);
uint32_t es_crc32_reg_vpclmul_avx512(uint32_t reg, const uint8_t *p, size_t n);
uint32_t es_crc32_reg_armv8(uint32_t reg, const uint8_t *p, size_t n);

/* Bitmask of the paths compiled in for this target and supported by this CPU. */
int es_crc32_probe_x86(void);
int es_crc32_probe_arm(void);

#if defined(__x86_64__) || defined(_M_X64)
#define ES_HAVE_X86_64 1
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
#define ES_HAVE_AARCH64 1
#endif

#endif /* ES_INTERNAL_H */
