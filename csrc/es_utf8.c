/* es_utf8.c - strict UTF-8 validation, the same verdict as Python's "utf-8" codec. */
#include "es_internal.h"

/*
 * Well-formed sequences (Unicode Table 3-7):
 *   00..7F
 *   C2..DF 80..BF
 *   E0 A0..BF 80..BF | E1..EC 80..BF 80..BF | ED 80..9F 80..BF | EE..EF 80..BF 80..BF
 *   F0 90..BF 80..BF 80..BF | F1..F3 80..BF 80..BF 80..BF | F4 80..8F 80..BF 80..BF
 * Anything else (overlongs C0, C1, E0 80..9F, F0 80..8F; surrogates ED A0..BF; above
 * U+10FFFF; F5..FF; lone continuation bytes; truncated sequences) is invalid.
 */
int es_utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80u) {
            /* ASCII runs, 8 bytes at a time. */
            while (n - i >= 8 && (es_load_le64(s + i) & 0x8080808080808080ull) == 0) {
                i += 8;
            }
            while (i < n && s[i] < 0x80u) {
                i++;
            }
            continue;
        }
        if (c < 0xc2u) {
            return 0;
        }
        if (c < 0xe0u) {
            if (n - i < 2 || (s[i + 1] & 0xc0u) != 0x80u) {
                return 0;
            }
            i += 2;
            continue;
        }
        if (c < 0xf0u) {
            unsigned lo = c == 0xe0u ? 0xa0u : 0x80u;
            unsigned hi = c == 0xedu ? 0x9fu : 0xbfu;
            if (n - i < 3 || s[i + 1] < lo || s[i + 1] > hi || (s[i + 2] & 0xc0u) != 0x80u) {
                return 0;
            }
            i += 3;
            continue;
        }
        if (c < 0xf5u) {
            unsigned lo = c == 0xf0u ? 0x90u : 0x80u;
            unsigned hi = c == 0xf4u ? 0x8fu : 0xbfu;
            if (n - i < 4 || s[i + 1] < lo || s[i + 1] > hi || (s[i + 2] & 0xc0u) != 0x80u ||
                (s[i + 3] & 0xc0u) != 0x80u) {
                return 0;
            }
            i += 4;
            continue;
        }
        return 0;
    }
    return 1;
}
