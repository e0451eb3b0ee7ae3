/*
 * test_main.c - unit tests of the C core, no Python needed.
 *
 *   test_main [VECTORS_DIR]     (default: tests/vectors)
 *
 * Replays the conformance vectors (decode, walk, re-encode byte for byte; the
 * expected fault for the negative ones), checks every CRC32 path the CPU supports
 * against a bitwise reference, the UTF-8 validator against a reference decoder over
 * every 1- to 3-byte sequence, and the edge cases of each fault.  Ends with the line
 * "N passed, N failed".
 */
#include "eventstream.h"
#include "es_reference.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_passed, s_failed;

#define CHECK(cond) \
    do { \
        if (cond) { \
            s_passed++; \
        } else { \
            s_failed++; \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
        } \
    } while (0)

#define CHECK_EQ(a, b) \
    do { \
        long long a_ = (long long)(a), b_ = (long long)(b); \
        if (a_ == b_) { \
            s_passed++; \
        } else { \
            s_failed++; \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a, a_, #b, b_); \
        } \
    } while (0)

/* ------------------------------------------------------------ helpers */

static uint64_t s_rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void) {
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (uint32_t)(s_rng >> 11);
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* A frame around block and payload with correct CRCs (or the given overrides). */
static size_t make_frame(uint8_t *out, const uint8_t *block, size_t blen, const uint8_t *payload, size_t plen) {
    int64_t n = es_encode_frame(out, 1u << 20, block, blen, payload, plen);
    return n < 0 ? 0 : (size_t)n;
}

static void fix_crcs(uint8_t *frame) {
    uint32_t total = get_be32(frame);
    put_be32(frame + 8, ref_crc32(0, frame, 8));
    put_be32(frame + total - 4, ref_crc32(0, frame, total - 4));
}

static const es_limits s_default_limits = {24u * 1024u * 1024u, 128u * 1024u, 0x7fffu, 1024u};

/* ------------------------------------------------------------ CRC32 */

static void test_crc32(void) {
    static const int paths[] = {
        ES_CRC32_PORTABLE, ES_CRC32_PCLMUL, ES_CRC32_VPCLMUL_AVX2, ES_CRC32_VPCLMUL_AVX512, ES_CRC32_ARMV8};
    size_t big = (1u << 20) + 77;
    uint8_t *buf = malloc(big + 64);
    size_t i, n, off;
    unsigned p;
    int supported = es_crc32_paths();
    CHECK(buf != NULL);
    if (buf == NULL) {
        return;
    }
    for (i = 0; i < big + 64; i++) {
        buf[i] = (uint8_t)rnd();
    }
    printf("crc32 paths: 0x%x, active %d\n", supported, es_crc32_active_path());
    CHECK(supported & ES_CRC32_PORTABLE);
    CHECK(es_crc32_paths() & es_crc32_active_path());
    CHECK_EQ(es_crc32(0, (const uint8_t *)"123456789", 9), 0xcbf43926u); /* the check value */
    CHECK_EQ(es_crc32(0, NULL, 0), 0);
    for (p = 0; p < sizeof paths / sizeof paths[0]; p++) {
        int path = paths[p];
        int bad = 0;
        if (!(supported & path)) {
            printf("crc32 path %d: not supported here, skipped\n", path);
            continue;
        }
        for (n = 0; n <= 2100; n++) {
            for (off = 0; off < 4; off++) {
                uint32_t init = rnd();
                if (es_crc32_with(path, init, buf + off, n) != ref_crc32(init, buf + off, n)) {
                    bad++;
                }
            }
        }
        for (n = 4096; n <= big; n = n * 3 + 13) {
            uint32_t init = rnd();
            if (es_crc32_with(path, init, buf + 3, n) != es_crc32_portable(init, buf + 3, n)) {
                bad++;
            }
        }
        if (es_crc32_with(path, 0, buf, big) != ref_crc32(0, buf, big)) {
            bad++;
        }
        printf("crc32 path %d: %d mismatches\n", path, bad);
        CHECK_EQ(bad, 0);
    }
    /* Chaining: crc(a + b) == crc(crc(a), b), across every split of a buffer. */
    {
        uint32_t whole = es_crc32(0, buf, 3000);
        int bad = 0;
        for (i = 0; i <= 3000; i += 7) {
            if (es_crc32(es_crc32(0, buf, i), buf + i, 3000 - i) != whole) {
                bad++;
            }
        }
        CHECK_EQ(bad, 0);
    }
    free(buf);
}

/* ------------------------------------------------------------ UTF-8 */

static void test_utf8(void) {
    uint8_t s[16];
    uint32_t a, b, c;
    int bad = 0;
    long k;
    CHECK(es_utf8_valid((const uint8_t *)"", 0));
    CHECK(es_utf8_valid((const uint8_t *)":content-type", 13));
    CHECK(es_utf8_valid((const uint8_t *)"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9));
    CHECK(!es_utf8_valid((const uint8_t *)"\xc0\x80", 2));         /* overlong NUL */
    CHECK(!es_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3));     /* U+D800 */
    CHECK(!es_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4)); /* U+110000 */
    CHECK(!es_utf8_valid((const uint8_t *)"\xe2\x82", 2));         /* truncated */
    CHECK(!es_utf8_valid((const uint8_t *)"abcdefgh\x80", 9));     /* after an ASCII run */
    CHECK(es_utf8_valid((const uint8_t *)"a\0b", 3));              /* NUL is valid */
    for (a = 0; a < 256; a++) {
        s[0] = (uint8_t)a;
        bad += es_utf8_valid(s, 1) != ref_utf8(s, 1);
        for (b = 0; b < 256; b++) {
            s[1] = (uint8_t)b;
            bad += es_utf8_valid(s, 2) != ref_utf8(s, 2);
            for (c = 0; c < 256; c++) {
                s[2] = (uint8_t)c;
                bad += es_utf8_valid(s, 3) != ref_utf8(s, 3);
            }
        }
    }
    /* Random 4-byte and longer mixes, biased toward the lead bytes that matter. */
    for (k = 0; k < 2000000; k++) {
        size_t n = 1 + rnd() % 12, i;
        static const uint8_t picks[] = {0x41, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf,
                                        0xe0, 0xed, 0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xff};
        for (i = 0; i < n; i++) {
            s[i] = (rnd() & 1) ? picks[rnd() % sizeof picks] : (uint8_t)rnd();
        }
        bad += es_utf8_valid(s, n) != ref_utf8(s, n);
    }
    CHECK_EQ(bad, 0);
}

/* ------------------------------------------------------------ vectors */

static uint8_t *read_file(const char *dir, const char *name, size_t *len) {
    char path[1024];
    FILE *f;
    uint8_t *data;
    long size;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc((size_t)size + 1);
    if (data == NULL || fread(data, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        free(data);
        return NULL;
    }
    fclose(f);
    *len = (size_t)size;
    return data;
}

/* Decode the whole message, walk its headers, re-encode them and the frame: same bytes. */
static void roundtrip(const uint8_t *data, size_t len) {
    int64_t desc[64 * ES_HEADER_FIELDS], fault[ES_FAULT_FIELDS];
    uint8_t block[4096], frame[8192];
    uint64_t r = es_check_frame(data, 0, len, &s_default_limits, fault);
    size_t total = (size_t)(r >> 32), hlen = (size_t)(r & 0xffffffffu), used = 0, i;
    int64_t count;
    CHECK_EQ(total, len);
    if (total != len) {
        return;
    }
    /* decode()'s fast path: exactly one valid message, and nothing less */
    CHECK_EQ(es_check_one(data, len, s_default_limits.max_payload, s_default_limits.max_header_block, NULL, 0), 12 + (int64_t)hlen);
    CHECK_EQ(es_check_one(data, len - 1, s_default_limits.max_payload, s_default_limits.max_header_block, NULL, 0), 0);
    count = es_walk_headers(data + 12, hlen, 12, 0, &s_default_limits, desc, 64, fault);
    CHECK(count >= 0);
    for (i = 0; count > 0 && i < (size_t)count; i++) {
        const int64_t *d = desc + i * ES_HEADER_FIELDS;
        const uint8_t *b = data + 12;
        int type = (int)d[2];
        int64_t w;
        if (type == 6 || type == 7 || type == 9) {
            w = es_encode_header(
                block + used, sizeof block - used, b + d[0], (size_t)(d[1] - d[0]), type, 0, b + d[3],
                (size_t)(d[4] - d[3]));
        } else {
            w = es_encode_header(block + used, sizeof block - used, b + d[0], (size_t)(d[1] - d[0]), type, d[3], NULL, 0);
        }
        CHECK(w > 0);
        if (w > 0) {
            used += (size_t)w;
        }
    }
    CHECK_EQ(used, hlen);
    CHECK_EQ(es_encode_frame(frame, sizeof frame, block, used, data + 12 + hlen, total - 16 - hlen), (int64_t)len);
    CHECK(memcmp(frame, data, len) == 0);
    CHECK_EQ(es_frame_crcs(block, used, data + 12 + hlen, total - 16 - hlen),
             ((uint64_t)get_be32(data + 8) << 32) | get_be32(data + len - 4));
}

static void test_vectors(const char *dir) {
    static const char *positive[] = {
        "encoded/positive/all_headers",
        "encoded/positive/empty_message",
        "encoded/positive/int32_header",
        "encoded/positive/payload_no_headers",
        "encoded/positive/payload_one_str_header",
        "smithy-rs/encoded/positive/valid_empty_payload",
        "smithy-rs/encoded/positive/valid_no_headers",
        "smithy-rs/encoded/positive/valid_with_all_headers_and_payload",
    };
    /* The fault of a CRC-first decoder that checks the prelude before waiting. */
    static const struct {
        const char *name;
        int code;
    } negative[] = {
        {"encoded/negative/corrupted_header_len", ES_ERR_PRELUDE_CRC},
        {"encoded/negative/corrupted_headers", ES_ERR_MESSAGE_CRC},
        {"encoded/negative/corrupted_length", ES_ERR_PRELUDE_CRC},
        {"encoded/negative/corrupted_payload", ES_ERR_MESSAGE_CRC},
        {"smithy-rs/encoded/negative/invalid_header_name_length", ES_ERR_MESSAGE_CRC},
        {"smithy-rs/encoded/negative/invalid_header_name_length_too_long", ES_ERR_MESSAGE_CRC},
        {"smithy-rs/encoded/negative/invalid_header_string_length_cut_off", ES_ERR_MESSAGE_CRC},
        {"smithy-rs/encoded/negative/invalid_header_string_value_length", ES_ERR_MESSAGE_CRC},
        {"smithy-rs/encoded/negative/invalid_header_value_type", ES_ERR_MESSAGE_CRC},
        {"smithy-rs/encoded/negative/invalid_headers_length", ES_ERR_HEADERS_LENGTH},
        {"smithy-rs/encoded/negative/invalid_message_checksum", ES_ERR_MESSAGE_CRC},
        {"smithy-rs/encoded/negative/invalid_prelude_checksum", ES_ERR_PRELUDE_CRC},
    };
    size_t i, len;
    int64_t fault[ES_FAULT_FIELDS];
    for (i = 0; i < sizeof positive / sizeof positive[0]; i++) {
        uint8_t *data = read_file(dir, positive[i], &len);
        CHECK(data != NULL);
        if (data != NULL) {
            roundtrip(data, len);
            free(data);
        }
    }
    for (i = 0; i < sizeof negative / sizeof negative[0]; i++) {
        uint8_t *data = read_file(dir, negative[i].name, &len);
        CHECK(data != NULL);
        if (data != NULL) {
            uint64_t r = es_check_frame(data, 0, len, &s_default_limits, fault);
            if (r != (uint64_t)-negative[i].code) {
                fprintf(stderr, "vector %s: got %llu\n", negative[i].name, (unsigned long long)r);
            }
            CHECK_EQ(r, -negative[i].code);
            CHECK_EQ(fault[0], negative[i].code);
            free(data);
        }
    }
}

/* ------------------------------------------------------------ faults, one by one */

/* es_walk_block gives what es_walk_headers gave for the block at f[12:12 + hlen]
 * (count, descriptors), and its fault with offsets into the block. */
static void check_walk_block(const uint8_t *f, size_t hlen, const es_limits *lim, int64_t count,
                             const int64_t *desc, const int64_t *fault) {
    static int64_t desc2[1024 * ES_HEADER_FIELDS];
    int64_t fault2[ES_FAULT_FIELDS];
    es_walk walk;
    int64_t count2;
    walk.limits = *lim;
    walk.cap = 1024;
    walk.headers = desc2;
    walk.fault = fault2;
    count2 = es_walk_block(f + 12, hlen, 0, 0, &walk);
    CHECK_EQ(count2, count);
    if (count2 == count && count > 0) {
        int64_t k;
        CHECK(memcmp(desc, desc2, (size_t)count * ES_HEADER_FIELDS * sizeof desc[0]) == 0);
        /* from each header boundary (k valid headers before it): the rest of the records */
        for (k = 0; k <= count; k++) {
            size_t start = k < count ? (size_t)desc[k * ES_HEADER_FIELDS + ES_HEADER_NAME] - 1 : hlen;
            CHECK_EQ(es_walk_block(f + 12, hlen, start, (size_t)k, &walk), count - k);
            CHECK(memcmp(desc + k * ES_HEADER_FIELDS, desc2,
                         (size_t)(count - k) * ES_HEADER_FIELDS * sizeof desc[0]) == 0);
        }
        if (lim->max_headers > 0) {
            /* the count limit counts from the headers before start: up to it passes */
            CHECK_EQ(es_walk_block(f + 12, hlen, 0, lim->max_headers - (size_t)count, &walk), count);
            CHECK_EQ(es_walk_block(f + 12, hlen, 0, lim->max_headers - (size_t)count + 1, &walk),
                     ES_ERR_HEADER_COUNT_LIMIT);
        }
    }
    CHECK_EQ(es_walk_block(f + 12, hlen, hlen + 1, 0, &walk), ES_ERR_BAD_ARGUMENT);
    if (count2 == count && count < 0) {
        CHECK_EQ(fault2[ES_FAULT_CODE], fault[ES_FAULT_CODE]);
        CHECK_EQ(fault2[ES_FAULT_OFFSET] + 12, fault[ES_FAULT_OFFSET]);
        CHECK_EQ(fault2[ES_FAULT_FRAME], 0);
        CHECK_EQ(fault2[ES_FAULT_A], fault[ES_FAULT_A]);
        CHECK_EQ(fault2[ES_FAULT_B], fault[ES_FAULT_B]);
    }
}

/* The fault of es_check_frame + es_walk_headers on one frame, as decode does it. */
static int decode_one(const uint8_t *f, size_t len, const es_limits *lim, int64_t *fault) {
    static int64_t desc[1024 * ES_HEADER_FIELDS];
    uint64_t r = es_check_frame(f, 0, len, lim, fault);
    int64_t count;
    if (r == 0) {
        return 1; /* incomplete */
    }
    if (r <= 64) {
        return -(int)r;
    }
    count = es_walk_headers(f + 12, r & 0xffffffffu, 12, 0, lim, desc, 1024, fault);
    check_walk_block(f, r & 0xffffffffu, lim, count, desc, fault);
    if (count < 0) {
        return (int)fault[0];
    }
    return 0;
}

static void expect_fault(const uint8_t *block, size_t blen, int code, int64_t offset, int64_t a, int64_t b) {
    static uint8_t f[1 << 16];
    int64_t fault[ES_FAULT_FIELDS];
    size_t n = make_frame(f, block, blen, (const uint8_t *)"xy", 2);
    int got = decode_one(f, n, &s_default_limits, fault);
    CHECK_EQ(got, code);
    if (got == code && code < 0) {
        CHECK_EQ(fault[1], offset);
        CHECK_EQ(fault[2], 0);
        CHECK_EQ(fault[3], a);
        CHECK_EQ(fault[4], b);
    }
}

static void test_header_faults(void) {
    uint8_t big[70000];
    /* name length 0 */
    expect_fault((const uint8_t *)"\x00", 1, ES_ERR_HEADER_NAME_EMPTY, 12, 0, 0);
    /* name of 5 bytes, 2 left after the length byte */
    expect_fault((const uint8_t *)"\x05" "ab", 3, ES_ERR_HEADER_NAME_OVERRUN, 12, 5, 2);
    /* name not UTF-8: offset of the name's first byte */
    expect_fault((const uint8_t *)"\x02\xc0\x80\x00", 4, ES_ERR_HEADER_NAME_UTF8, 13, 0, 0);
    /* block ends right after the name */
    expect_fault((const uint8_t *)"\x02" "ab", 3, ES_ERR_HEADER_TYPE_MISSING, 15, 0, 0);
    /* type 10 */
    expect_fault((const uint8_t *)"\x01" "a\x0a", 3, ES_ERR_HEADER_TYPE_UNKNOWN, 14, 10, 0);
    expect_fault((const uint8_t *)"\x01" "a\xff", 3, ES_ERR_HEADER_TYPE_UNKNOWN, 14, 255, 0);
    /* int32 with 3 bytes */
    expect_fault((const uint8_t *)"\x01" "a\x04" "abc", 6, ES_ERR_HEADER_VALUE_OVERRUN, 15, 4, 3);
    /* uuid with 15 bytes */
    expect_fault((const uint8_t *)"\x01" "a\x09" "0123456789abcde", 18, ES_ERR_HEADER_VALUE_OVERRUN, 15, 16, 15);
    /* string: 1 byte of the length prefix */
    expect_fault((const uint8_t *)"\x01" "a\x07\x00", 4, ES_ERR_HEADER_VALUE_OVERRUN, 15, 2, 1);
    /* string: length 5, 3 bytes after the prefix */
    expect_fault((const uint8_t *)"\x01" "a\x07\x00\x05" "abc", 8, ES_ERR_HEADER_VALUE_OVERRUN, 15, 7, 5);
    /* string of 32768 bytes: over the 32767 limit before the overrun check */
    expect_fault((const uint8_t *)"\x01" "a\x07\x80\x00" "abc", 8, ES_ERR_HEADER_VALUE_LIMIT, 15, 32768, 0x7fff);
    /* string not UTF-8: offset of the value's first byte */
    expect_fault((const uint8_t *)"\x01" "a\x07\x00\x02\xed\xa0", 7, ES_ERR_HEADER_VALUE_UTF8, 17, 0, 0);
    /* bytes values are not UTF-8 checked */
    expect_fault((const uint8_t *)"\x01" "a\x06\x00\x02\xed\xa0", 7, ES_OK, 0, 0, 0);
    /* second header faulty: offsets count from the block */
    expect_fault((const uint8_t *)"\x01" "a\x00\x00", 4, ES_ERR_HEADER_NAME_EMPTY, 15, 0, 0);
    /* 255-byte name, 32767-byte value: both fine */
    memset(big, 'n', sizeof big);
    big[0] = 255;
    big[256] = 7;
    big[257] = 0x7f;
    big[258] = 0xff;
    expect_fault(big, 259 + 0x7fff, ES_OK, 0, 0, 0);
    /* 1,024 headers (the default max_headers) are fine; the 1,025th is a fault at its
     * first byte, before its own checks (its name length is 0 here) */
    {
        size_t k;
        for (k = 0; k < 1025; k++) {
            memcpy(big + 3 * k, "\x01" "a\x00", 3);
        }
        expect_fault(big, 3 * 1024, ES_OK, 0, 0, 0);
        expect_fault(big, 3 * 1025, ES_ERR_HEADER_COUNT_LIMIT, 12 + 3 * 1024, 1025, 1024);
        big[3 * 1024] = 0;
        expect_fault(big, 3 * 1025, ES_ERR_HEADER_COUNT_LIMIT, 12 + 3 * 1024, 1025, 1024);
    }
}

static void test_frame_faults(void) {
    uint8_t f[256];
    int64_t fault[ES_FAULT_FIELDS];
    es_limits small = {3, 4, 1, 1024};
    size_t n = make_frame(f, (const uint8_t *)"\x01" "a\x02\x05", 4, (const uint8_t *)"abcd", 4);
    CHECK_EQ(n, 24);
    CHECK_EQ(decode_one(f, n, &s_default_limits, fault), 0);
    /* exactly one message: yes; with a trailing byte or under small limits: no */
    CHECK_EQ(es_check_one(f, n, s_default_limits.max_payload, s_default_limits.max_header_block, NULL, 0), 12 + 4);
    f[n] = 0;
    CHECK_EQ(es_check_one(f, n + 1, s_default_limits.max_payload, s_default_limits.max_header_block, NULL, 0), 0);
    CHECK_EQ(es_check_one(f, n, small.max_payload, small.max_header_block, NULL, 0), 0);
    /* the caller's last block (headers_length field, then the block): matched, negated */
    {
        uint8_t same[4] = {0x01, 'a', 0x02, 0x05};
        CHECK_EQ(es_check_one(f, n, s_default_limits.max_payload, s_default_limits.max_header_block, same, 4), -(12 + 4));
        CHECK_EQ(es_check_one(f, n, s_default_limits.max_payload, s_default_limits.max_header_block, same, 3), 12 + 4);
        same[3] = 0x06; /* another block of the same length */
        CHECK_EQ(es_check_one(f, n, s_default_limits.max_payload, s_default_limits.max_header_block, same, 4), 12 + 4);
        same[3] = 0x05; /* a failing check still fails */
        CHECK_EQ(es_check_one(f, n + 1, s_default_limits.max_payload, s_default_limits.max_header_block, same, 4), 0);
    }
    /* every prefix is incomplete (the prelude is valid) */
    {
        size_t k;
        int bad = 0;
        for (k = 0; k < n; k++) {
            bad += decode_one(f, k, &s_default_limits, fault) != 1;
        }
        CHECK_EQ(bad, 0);
    }
    /* limits: header block 4 > 3? no: 4 > max_header_block 4 is fine, payload 4 > 3 */
    CHECK_EQ(decode_one(f, n, &small, fault), ES_ERR_PAYLOAD_LIMIT);
    CHECK_EQ(fault[1], 0);
    CHECK_EQ(fault[3], 4);
    CHECK_EQ(fault[4], 3);
    small.max_header_block = 3;
    CHECK_EQ(decode_one(f, n, &small, fault), ES_ERR_HEADERS_LIMIT);
    CHECK_EQ(fault[1], 4);
    CHECK_EQ(fault[3], 4);
    CHECK_EQ(fault[4], 3);
    /* the limits are checked on the prelude alone, before the message is complete */
    CHECK_EQ(decode_one(f, 12, &small, fault), ES_ERR_HEADERS_LIMIT);
    /* prelude CRC first: a wrong prelude CRC hides everything else */
    f[8] ^= 1;
    CHECK_EQ(decode_one(f, n, &s_default_limits, fault), ES_ERR_PRELUDE_CRC);
    CHECK_EQ(fault[1], 8);
    CHECK_EQ(fault[3], get_be32(f + 8));
    CHECK_EQ(fault[4], ref_crc32(0, f, 8));
    f[8] ^= 1;
    /* message CRC */
    f[n - 1] ^= 1;
    CHECK_EQ(decode_one(f, n, &s_default_limits, fault), ES_ERR_MESSAGE_CRC);
    CHECK_EQ(fault[1], n - 4);
    CHECK_EQ(fault[3], get_be32(f + n - 4));
    CHECK_EQ(fault[4], ref_crc32(0, f, n - 4));
    f[n - 1] ^= 1;
    /* total_length below 16 (CRC fixed so the prelude check passes) */
    put_be32(f, 15);
    put_be32(f + 4, 0);
    put_be32(f + 8, ref_crc32(0, f, 8));
    CHECK_EQ(decode_one(f, n, &s_default_limits, fault), ES_ERR_MESSAGE_TOO_SHORT);
    CHECK_EQ(fault[1], 0);
    CHECK_EQ(fault[3], 15);
    put_be32(f, 0);
    put_be32(f + 8, ref_crc32(0, f, 8));
    CHECK_EQ(decode_one(f, n, &s_default_limits, fault), ES_ERR_MESSAGE_TOO_SHORT);
    /* headers_length > total - 16 */
    put_be32(f, 24);
    put_be32(f + 4, 9);
    put_be32(f + 8, ref_crc32(0, f, 8));
    CHECK_EQ(decode_one(f, n, &s_default_limits, fault), ES_ERR_HEADERS_LENGTH);
    CHECK_EQ(fault[1], 4);
    CHECK_EQ(fault[3], 9);
    CHECK_EQ(fault[4], 24);
    /* headers_length = 0xFFFFFFFF: no wrap-around */
    put_be32(f + 4, 0xffffffffu);
    put_be32(f + 8, ref_crc32(0, f, 8));
    CHECK_EQ(decode_one(f, n, &s_default_limits, fault), ES_ERR_HEADERS_LENGTH);
    /* total_length 0xFFFFFFFF with a 24-byte buffer: incomplete, not an overflow */
    put_be32(f, 0xffffffffu);
    put_be32(f + 4, 0);
    put_be32(f + 8, ref_crc32(0, f, 8));
    {
        es_limits huge = {0xffffffffu, 0xffffffffu, 0xffffu, 0x55555555u};
        CHECK_EQ(decode_one(f, n, &huge, fault), 1);
    }
    /* the fault record is optional */
    CHECK_EQ(es_check_frame(f, 0, n, &s_default_limits, NULL), -ES_ERR_PAYLOAD_LIMIT);
    CHECK_EQ(es_check_one(f, n, s_default_limits.max_payload, s_default_limits.max_header_block, NULL, 0), 0);
    /* a header fault in a frame whose CRCs are right */
    n = make_frame(f, (const uint8_t *)"\x01" "a\x0b", 3, NULL, 0);
    fix_crcs(f);
    CHECK_EQ(decode_one(f, n, &s_default_limits, fault), ES_ERR_HEADER_TYPE_UNKNOWN);
}

/* es_check_next: one complete message, then at most the incomplete start of the next. */
static void test_check_next(void) {
    uint8_t f[256];
    const uint32_t mp = s_default_limits.max_payload, mb = s_default_limits.max_header_block;
    size_t n = make_frame(f, (const uint8_t *)"\x01" "a\x02\x05", 4, (const uint8_t *)"abcd", 4);
    size_t k;
    CHECK_EQ(n, 24);
    CHECK_EQ(make_frame(f + n, NULL, 0, (const uint8_t *)"0123456789", 10), 26);
    /* nothing or fewer than 12 bytes after it: the payload start, next_total 0 */
    for (k = 0; k < 12; k++) {
        CHECK_EQ(es_check_next(f, n, n + k, mp, mb), 12 + 4);
    }
    /* the next prelude is here and passes, its message incomplete: its length too */
    for (k = 12; k < 26; k++) {
        CHECK_EQ(es_check_next(f, n, n + k, mp, mb), ((uint64_t)26 << 32) | (12 + 4));
    }
    /* the next message complete, or fewer bytes than total: 0 (the caller scans) */
    CHECK_EQ(es_check_next(f, n, n + 26, mp, mb), 0);
    CHECK_EQ(es_check_next(f, n, n - 1, mp, mb), 0);
    /* a wrong total, a fault in the message, or a next prelude that fails: 0 */
    CHECK_EQ(es_check_next(f, n - 1, n + 12, mp, mb), 0);
    CHECK_EQ(es_check_next(f, n, n + 12, 3, mb), 0);
    CHECK_EQ(es_check_next(f, n, n + 12, 10, mb), ((uint64_t)26 << 32) | (12 + 4));
    CHECK_EQ(es_check_next(f, n, n + 12, 10, 3), 0);
    f[n - 1] ^= 1;
    CHECK_EQ(es_check_next(f, n, n + 12, mp, mb), 0);
    f[n - 1] ^= 1;
    f[n + 8] ^= 1; /* the next prelude's CRC */
    CHECK_EQ(es_check_next(f, n, n + 12, mp, mb), 0);
    CHECK_EQ(es_check_next(f, n, n + 11, mp, mb), 12 + 4);
    f[n + 8] ^= 1;
    CHECK_EQ(es_check_next(f, n, n + 12, 9, mb), 0); /* the next payload (10) over the limit */
}

/* ------------------------------------------------------------ batches */

static void test_batch(void) {
    static uint8_t stream[1 << 16];
    int64_t frames[8 * ES_FRAME_FIELDS], headers[8 * ES_HEADER_FIELDS], fault[ES_FAULT_FIELDS];
    es_batch b;
    size_t len = 0, i;
    int64_t r;
    const uint8_t *blk1 = (const uint8_t *)"\x01" "a\x00\x01" "b\x01";
    const uint8_t *blk2 = (const uint8_t *)"\x02" "cd\x03\x01\x02";
    b.limits = s_default_limits;
    b.frame_cap = 8;
    b.header_cap = 8;
    b.frames = frames;
    b.headers = headers;
    b.fault = fault;
    /* frames: blk1, blk1, (none), blk2, blk2, blk1 */
    len += make_frame(stream + len, blk1, 6, (const uint8_t *)"p0", 2);
    len += make_frame(stream + len, blk1, 6, (const uint8_t *)"p1", 2);
    len += make_frame(stream + len, NULL, 0, (const uint8_t *)"p2", 2);
    len += make_frame(stream + len, blk2, 6, (const uint8_t *)"p3", 2);
    len += make_frame(stream + len, blk2, 6, NULL, 0);
    len += make_frame(stream + len, blk1, 6, (const uint8_t *)"p5", 2);
    r = es_decode_batch(stream, 0, len, -1, &b);
    CHECK_EQ(r, 6);
    CHECK_EQ(b.stop, ES_STOP_DONE);
    CHECK_EQ(frames[0], 12);
    CHECK_EQ(frames[1], 18);
    CHECK_EQ(frames[2], 20);
    CHECK_EQ(frames[3], 2);               /* two headers walked */
    CHECK_EQ(frames[7], ES_HEADERS_SAME); /* same block as frame 0 */
    CHECK_EQ(frames[11], 0);              /* no headers */
    CHECK_EQ(frames[15], 1);              /* blk2: one int16 header */
    CHECK_EQ(frames[19], ES_HEADERS_SAME);
    CHECK_EQ(frames[23], 2); /* blk1 again, walked again (not the previous block) */
    CHECK_EQ(frames[22], (int64_t)len - 4);
    /* descriptors: blk1's two bools, blk2's int16 258, then blk1 again */
    CHECK_EQ(headers[0], 1);
    CHECK_EQ(headers[1], 2);
    CHECK_EQ(headers[2], 0);
    CHECK_EQ(headers[5 + 2], 1);
    CHECK_EQ(headers[10 + 0], 1);
    CHECK_EQ(headers[10 + 1], 3);
    CHECK_EQ(headers[10 + 2], 3);
    CHECK_EQ(headers[10 + 3], 258);
    CHECK_EQ(headers[15 + 2], 0);
    /* max_frames */
    r = es_decode_batch(stream, 0, len, 2, &b);
    CHECK_EQ(r, 2);
    CHECK_EQ(b.stop, ES_STOP_DONE);
    r = es_decode_batch(stream, 0, len, 0, &b);
    CHECK_EQ(r, 0);
    /* frame_cap reached: FULL */
    b.frame_cap = 4;
    r = es_decode_batch(stream, 0, len, -1, &b);
    CHECK_EQ(r, 4);
    CHECK_EQ(b.stop, ES_STOP_FULL);
    b.frame_cap = 8;
    /* header_cap 3: blk1 (6 bytes: room for 2 needed) fits; blk2 (6 bytes, could hold 2)
     * might not fit in the 1 left, so it is not walked: FULL before it, never a walk
     * that runs out of room and is repeated */
    b.header_cap = 3;
    r = es_decode_batch(stream, 0, len, -1, &b);
    CHECK_EQ(r, 3);
    CHECK_EQ(b.stop, ES_STOP_FULL);
    /* header_cap 4: blk1 and blk2 fit (2 + 2), blk1 again does not: FULL before it */
    b.header_cap = 4;
    r = es_decode_batch(stream, 0, len, -1, &b);
    CHECK_EQ(r, 5);
    CHECK_EQ(b.stop, ES_STOP_FULL);
    /* header_cap 1: the first block does not fit: left to the caller */
    b.header_cap = 1;
    r = es_decode_batch(stream, 0, len, 1, &b);
    CHECK_EQ(r, 1);
    CHECK_EQ(b.stop, ES_STOP_DONE);
    CHECK_EQ(frames[3], ES_HEADERS_NOT_WALKED);
    /* header_cap 0: nothing walked */
    b.header_cap = 0;
    r = es_decode_batch(stream, 0, len, -1, &b);
    CHECK_EQ(r, 6);
    CHECK_EQ(b.stop, ES_STOP_DONE);
    CHECK_EQ(frames[3], ES_HEADERS_NOT_WALKED);
    CHECK_EQ(frames[7], ES_HEADERS_SAME);
    b.header_cap = 8;
    /* incomplete last frame: DONE with the complete ones */
    r = es_decode_batch(stream, 0, len - 1, -1, &b);
    CHECK_EQ(r, 5);
    CHECK_EQ(b.stop, ES_STOP_DONE);
    /* a fault in frame 3 (message CRC): a byte of its payload flipped */
    i = (size_t)frames[13];
    stream[i] ^= 0x10;
    r = es_decode_batch(stream, 0, len, -1, &b);
    CHECK_EQ(r, 3);
    CHECK_EQ(b.stop, ES_STOP_FAULT);
    CHECK_EQ(fault[ES_FAULT_CODE], ES_ERR_MESSAGE_CRC);
    CHECK_EQ(fault[0], ES_ERR_MESSAGE_CRC);
    CHECK_EQ(fault[2], frames[12] - 12);
    CHECK_EQ(fault[5], -1);
    stream[i] ^= 0x10;
    /* a header fault with right CRCs: the record locates the block and payload */
    len = make_frame(stream, blk1, 6, NULL, 0);
    i = len;
    len += make_frame(stream + len, (const uint8_t *)"\x01" "a\x0c", 3, (const uint8_t *)"zz", 2);
    r = es_decode_batch(stream, 0, len, -1, &b);
    CHECK_EQ(r, 1);
    CHECK_EQ(b.stop, ES_STOP_FAULT);
    CHECK_EQ(fault[ES_FAULT_CODE], ES_ERR_HEADER_TYPE_UNKNOWN);
    CHECK_EQ(fault[1], (int64_t)i + 14);
    CHECK_EQ(fault[2], (int64_t)i);
    CHECK_EQ(fault[3], 12);
    CHECK_EQ(fault[5], (int64_t)i + 12);
    CHECK_EQ(fault[6], (int64_t)i + 15);
    CHECK_EQ(fault[7], (int64_t)len - 4);
    /* start in the middle: offsets stay absolute */
    r = es_decode_batch(stream, i, len, -1, &b);
    CHECK_EQ(r, 0);
    CHECK_EQ(b.stop, ES_STOP_FAULT);
    CHECK_EQ(fault[ES_FAULT_CODE], ES_ERR_HEADER_TYPE_UNKNOWN);
    CHECK_EQ(fault[1], (int64_t)i + 14);
    /* header_cap 0 walks no block, not even one too short to hold a header (the
     * Python binding's setting: it walks the blocks its cache lacks itself) */
    b.header_cap = 0;
    len = make_frame(stream, (const uint8_t *)"\x00", 1, NULL, 0);
    r = es_decode_batch(stream, 0, len, -1, &b);
    CHECK_EQ(r, 1);
    CHECK_EQ(b.stop, ES_STOP_DONE);
    CHECK_EQ(frames[3], ES_HEADERS_NOT_WALKED);
}

static void test_encode(void) {
    uint8_t out[64], uuid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    CHECK_EQ(es_encode_header(out, sizeof out, (const uint8_t *)"a", 1, 2, -128, NULL, 0), 4);
    CHECK_EQ(out[3], 0x80);
    CHECK_EQ(es_encode_header(out, sizeof out, (const uint8_t *)"a", 1, 2, 128, NULL, 0), ES_ERR_TOO_LARGE);
    CHECK_EQ(es_encode_header(out, sizeof out, (const uint8_t *)"a", 1, 3, -32769, NULL, 0), ES_ERR_TOO_LARGE);
    CHECK_EQ(es_encode_header(out, sizeof out, (const uint8_t *)"a", 1, 4, 2147483648ll, NULL, 0), ES_ERR_TOO_LARGE);
    CHECK_EQ(es_encode_header(out, sizeof out, (const uint8_t *)"a", 1, 5, INT64_MIN, NULL, 0), 11);
    CHECK_EQ(out[3], 0x80);
    CHECK_EQ(out[10], 0);
    CHECK_EQ(es_encode_header(out, sizeof out, (const uint8_t *)"a", 1, 10, 0, NULL, 0), ES_ERR_TOO_LARGE);
    CHECK_EQ(es_encode_header(out, sizeof out, (const uint8_t *)"a", 0, 0, 0, NULL, 0), ES_ERR_TOO_LARGE);
    CHECK_EQ(es_encode_header(out, sizeof out, (const uint8_t *)"a", 1, 9, 0, uuid, 15), ES_ERR_TOO_LARGE);
    CHECK_EQ(es_encode_header(out, sizeof out, (const uint8_t *)"a", 1, 9, 0, uuid, 16), 19);
    CHECK_EQ(es_encode_header(out, 18, (const uint8_t *)"a", 1, 9, 0, uuid, 16), ES_ERR_NO_ROOM);
    CHECK_EQ(es_encode_header(out, 1, (const uint8_t *)"a", 1, 0, 0, NULL, 0), ES_ERR_NO_ROOM);
    CHECK_EQ(es_encode_frame(out, 15, NULL, 0, NULL, 0), ES_ERR_NO_ROOM);
    CHECK_EQ(es_encode_frame(out, 16, NULL, 0, NULL, 0), 16);
    CHECK_EQ(get_be32(out + 12), ref_crc32(0, out, 12));
    CHECK_EQ(es_encode_frame(out, 64, NULL, 0, NULL, (size_t)0xfffffff0u), ES_ERR_TOO_LARGE);
}

int main(int argc, char **argv) {
    const char *vectors = argc > 1 ? argv[1] : "tests/vectors";
    test_crc32();
    test_utf8();
    test_vectors(vectors);
    test_header_faults();
    test_frame_faults();
    test_check_next();
    test_batch();
    test_encode();
    printf("%d passed, %d failed\n", s_passed, s_failed);
    return s_failed != 0;
}
