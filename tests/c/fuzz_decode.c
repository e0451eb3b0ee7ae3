/*
 * fuzz_decode.c - libFuzzer harness for the decoder (make -C tests/c fuzz).
 *
 * The last input byte picks small output capacities and a chunk size; the rest is
 * the stream.  Checks, beyond the sanitizers' own:
 *  - a batch decode and a message-by-message es_check_frame + es_walk_headers decode
 *    agree on every message and on the first fault (code, offset, details);
 *  - decoding the stream as it grows chunk by chunk (the Python Decoder's loop) gives
 *    the same messages;
 *  - every decoded message re-encodes (es_encode_header, es_encode_frame) to its bytes.
 */
#include "eventstream.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "fuzz_decode.c:%d: CHECK(%s) failed\n", __LINE__, #cond); \
            abort(); \
        } \
    } while (0)

static const es_limits s_limits = {1u << 16, 1u << 12, 300, 1u << 12};

/* Walk the header block of the message at data[pos:] (CRCs already checked); if it
 * is valid, re-encode the message and compare.  Returns the walk's result. */
static int64_t reencode(const uint8_t *data, size_t pos, size_t total, size_t hlen) {
    static int64_t desc[(1u << 12) / 3 * ES_HEADER_FIELDS + ES_HEADER_FIELDS];
    static uint8_t block[1u << 12], frame[(1u << 16) + (1u << 12) + 16];
    int64_t fault[ES_FAULT_FIELDS], count, k;
    const uint8_t *b = data + pos + 12;
    size_t used = 0;
    count = es_walk_headers(b, hlen, pos + 12, pos, &s_limits, desc, hlen / 3 + 1, fault);
    if (count < 0) {
        return count;
    }
    for (k = 0; k < count; k++) {
        const int64_t *d = desc + k * ES_HEADER_FIELDS;
        int type = (int)d[2];
        int64_t w;
        if (type == 6 || type == 7 || type == 9) {
            w = es_encode_header(block + used, sizeof block - used, b + d[0], (size_t)(d[1] - d[0]), type, 0,
                                 b + d[3], (size_t)(d[4] - d[3]));
        } else {
            w = es_encode_header(block + used, sizeof block - used, b + d[0], (size_t)(d[1] - d[0]), type, d[3],
                                 NULL, 0);
        }
        CHECK(w > 0);
        used += (size_t)w;
    }
    CHECK(used == hlen);
    CHECK(es_encode_frame(frame, sizeof frame, block, used, b + hlen, total - 16 - hlen) == (int64_t)total);
    CHECK(memcmp(frame, data + pos, total) == 0);
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size) {
    static int64_t frames[8 * ES_FRAME_FIELDS], headers[16 * ES_HEADER_FIELDS];
    int64_t fault[ES_FAULT_FIELDS], fault1[ES_FAULT_FIELDS];
    size_t len, pos = 0, chunk, fed, gpos = 0, n_batch = 0, n_grow = 0;
    uint8_t knob;
    es_batch b;
    int64_t last_code = 0;
    if (size == 0) {
        return 0;
    }
    knob = input[size - 1];
    len = size - 1;
    b.limits = s_limits;
    b.frame_cap = 1u + (knob & 7u);
    b.header_cap = (knob >> 3) & 15u;
    b.frames = frames;
    b.headers = headers;
    b.fault = fault;

    /* Batch decode, call after call, next to a message-by-message decode. */
    for (;;) {
        int64_t n = es_decode_batch(input, pos, len, -1, &b), i;
        int stop = b.stop;
        for (i = 0; i < n; i++) {
            const int64_t *rec = frames + i * ES_FRAME_FIELDS;
            uint64_t one = es_check_frame(input, pos, len, &s_limits, fault1);
            size_t total = (size_t)(one >> 32), hlen = (size_t)(one & 0xffffffffu);
            CHECK(one > 0xffffffffu);
            CHECK((size_t)rec[0] == pos + 12 && (size_t)rec[1] == pos + 12 + hlen);
            CHECK((size_t)rec[2] == pos + total - 4);
            /* A block the batch walked (or found equal to one it walked) is valid;
             * one it left to the caller may not be, and then the stream stops. */
            if (reencode(input, pos, total, hlen) < 0) {
                CHECK(rec[3] == ES_HEADERS_NOT_WALKED);
                stop = -1;
                last_code = ES_ERR_HEADER_NAME_EMPTY; /* some header fault */
                break;
            }
            pos += total;
            n_batch++;
        }
        if (stop == -1) {
            break;
        }
        if (stop == ES_STOP_FULL) {
            CHECK(n > 0); /* progress */
            continue;
        }
        if (stop == ES_STOP_FAULT) {
            /* The same fault, found alone. */
            uint64_t one = es_check_frame(input, pos, len, &s_limits, fault1);
            if (one > 0xffffffffu) {
                int64_t d[ES_HEADER_FIELDS * 64];
                size_t hlen = (size_t)(one & 0xffffffffu);
                int64_t c = es_walk_headers(input + pos + 12, hlen, pos + 12, pos, &s_limits, d,
                                            64, fault1);
                CHECK(c == ES_ERR_NO_ROOM || (c < 0 && c == fault[0]));
                if (c != ES_ERR_NO_ROOM) {
                    CHECK(memcmp(fault, fault1, 5 * sizeof(int64_t)) == 0);
                }
            } else {
                CHECK(one == (uint64_t)-fault[ES_FAULT_CODE]);
                CHECK(memcmp(fault, fault1, 5 * sizeof(int64_t)) == 0);
            }
            last_code = fault[0];
        }
        break;
    }

    /* The input arriving in chunks: decode whatever is complete after each one. */
    chunk = 1u + (size_t)(knob % 61u);
    for (fed = 0; fed < len;) {
        fed = fed + chunk < len ? fed + chunk : len;
        for (;;) {
            uint64_t one = es_check_frame(input, gpos, fed, &s_limits, NULL);
            if (one <= 0xffffffffu) {
                if (one != 0) {
                    CHECK(-(int64_t)one == last_code || last_code < ES_ERR_MESSAGE_CRC);
                    fed = len; /* the stream stops at its first fault */
                }
                break;
            }
            gpos += (size_t)(one >> 32);
            n_grow++;
        }
    }
    /* Header faults are found by the walk, which the growing loop skips. */
    CHECK(n_grow >= n_batch);
    return 0;
}
