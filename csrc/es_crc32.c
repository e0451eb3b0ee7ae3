/* es_crc32.c - portable slice-by-8 CRC32 and the runtime dispatcher. */
#include "es_internal.h"

#define ES_CRC32_WANT_TABLES
#include "es_crc32_tables.h"

#define T s_crc32_table

uint32_t es_crc32_reg_portable(uint32_t reg, const uint8_t *p, size_t n) {
    while (n >= 8) {
        uint32_t lo = es_load_le32(p) ^ reg;
        uint32_t hi = es_load_le32(p + 4);
        reg = T[7][lo & 0xffu] ^ T[6][(lo >> 8) & 0xffu] ^ T[5][(lo >> 16) & 0xffu] ^ T[4][lo >> 24] ^
              T[3][hi & 0xffu] ^ T[2][(hi >> 8) & 0xffu] ^ T[1][(hi >> 16) & 0xffu] ^ T[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n > 0) {
        reg = T[0][(reg ^ *p) & 0xffu] ^ (reg >> 8);
        p++;
        n--;
    }
    return reg;
}

uint32_t es_crc32_portable(uint32_t crc, const uint8_t *data, size_t len) {
    return ~es_crc32_reg_portable(~crc, data, len);
}

/* Bit 30 marks "probed": the cached mask is never 0 afterwards.  Threads that race
 * here compute and store the same value. */
#define ES_PROBED 0x40000000
static volatile int s_paths = 0;

int es_crc32_paths(void) {
    int paths = s_paths;
    if (paths == 0) {
        paths = ES_CRC32_PORTABLE | es_crc32_probe_x86() | es_crc32_probe_arm() | ES_PROBED;
        s_paths = paths;
    }
    return paths & ~ES_PROBED;
}

int es_crc32_active_path(void) {
    int paths = es_crc32_paths();
    int bit;
    for (bit = ES_CRC32_ARMV8; bit > ES_CRC32_PORTABLE; bit >>= 1) {
        if (paths & bit) {
            return bit;
        }
    }
    return ES_CRC32_PORTABLE;
}

static uint32_t s_crc32_reg_with(int path, uint32_t reg, const uint8_t *p, size_t n) {
    switch (path) {
#ifdef ES_HAVE_X86_64
        case ES_CRC32_PCLMUL:
            return es_crc32_reg_pclmul(reg, p, n);
        case ES_CRC32_VPCLMUL_AVX2:
            return es_crc32_reg_vpclmul_avx2(reg, p, n);
        case ES_CRC32_VPCLMUL_AVX512:
            return es_crc32_reg_vpclmul_avx512(reg, p, n);
#endif
#ifdef ES_HAVE_AARCH64
        case ES_CRC32_ARMV8:
            return es_crc32_reg_armv8(reg, p, n);
#endif
        default:
            return es_crc32_reg_portable(reg, p, n);
    }
}

uint32_t es_crc32_with(int path, uint32_t crc, const uint8_t *data, size_t len) {
    if ((es_crc32_paths() & path) == 0) {
        path = ES_CRC32_PORTABLE;
    }
    return ~s_crc32_reg_with(path, ~crc, data, len);
}

uint32_t es_crc32(uint32_t crc, const uint8_t *data, size_t len) {
    int paths = s_paths;
    if (paths == 0) {
        paths = es_crc32_paths();
    }
#ifdef ES_HAVE_X86_64
    if (len >= 64) {
        if (len >= 1024 && (paths & ES_CRC32_VPCLMUL_AVX512)) {
            return ~es_crc32_reg_vpclmul_avx512(~crc, data, len);
        }
        if (len >= 256 && (paths & ES_CRC32_VPCLMUL_AVX2)) {
            return ~es_crc32_reg_vpclmul_avx2(~crc, data, len);
        }
        if (paths & ES_CRC32_PCLMUL) {
            return ~es_crc32_reg_pclmul(~crc, data, len);
        }
    }
#endif
#ifdef ES_HAVE_AARCH64
    if (paths & ES_CRC32_ARMV8) {
        return ~es_crc32_reg_armv8(~crc, data, len);
    }
#endif
    (void)paths;
    return ~es_crc32_reg_portable(~crc, data, len);
}
