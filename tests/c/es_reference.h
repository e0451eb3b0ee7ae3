/*
 * Reference implementations that the C unit tests (test_main.c) and the fuzzers
 * (tests/fuzz/) check the core against: written to be obviously right, not fast
 * (a bitwise CRC, UTF-8 decoded code point by code point).
 */
#ifndef ES_REFERENCE_H
#define ES_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

/* Bitwise CRC-32/ISO-HDLC (zlib.crc32), continuing from crc. */
static uint32_t ref_crc32(uint32_t crc, const uint8_t *p, size_t n) {
    size_t i;
    int k;
    crc = ~crc;
    for (i = 0; i < n; i++) {
        crc ^= p[i];
        for (k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

/* Strict UTF-8 by decoding code points: rejects overlongs, surrogates, > U+10FFFF. */
static int ref_utf8(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t len, k;
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2;
            cp = c & 0x1fu;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3;
            cp = c & 0x0fu;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4;
            cp = c & 0x07u;
        } else {
            return 0;
        }
        if (n - i < len) {
            return 0;
        }
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) {
            return 0;
        }
        if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
            return 0;
        }
        i += len;
    }
    return 1;
}

#endif /* ES_REFERENCE_H */
