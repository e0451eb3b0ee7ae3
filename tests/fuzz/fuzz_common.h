/*
 * fuzz_common.h - shared by the libFuzzer harnesses over the C core (the fuzz_*.c files here).
 *
 * What lives here:
 *   - a reference decoder written independently of csrc/ (bitwise CRC32, a
 *     code-point UTF-8 check, a straightforward frame and header walk) whose
 *     results the core's must equal, field for field;
 *   - a C mirror of eventstream.Decoder's buffering loop (eventstream/_decoder.py)
 *     over es_decode_batch, fed in chunks the fuzzer chooses, whose results must
 *     equal a one-shot decode of the whole input;
 *   - the CRC repair used to get past the checksums.
 *
 * Every disagreement calls FUZZ_CHECK, which prints what differed and aborts, so
 * libFuzzer records the input as a crash.  Buffers handed to the core are exact-size
 * heap copies, so AddressSanitizer sees any read past them.
 *
 * Input layout (all harnesses): the stream, then one control byte (the last byte).
 */
#ifndef ES_FUZZ_COMMON_H
#define ES_FUZZ_COMMON_H

#include "eventstream.h"
#include "../c/es_reference.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond, ...) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "fuzz check failed at %s:%d: %s\n  ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__); \
            fprintf(stderr, "\n"); \
            abort(); \
        } \
    } while (0)

/* ------------------------------------------------------------ limits */

typedef es_limits fz_limits;

/* The package defaults (eventstream/limits.py). */
static const fz_limits FZ_DEFAULT_LIMITS = {24u * 1024u * 1024u, 128u * 1024u, 0x7fffu, 1024u};
/* Small enough that short fuzz inputs reach every limit fault. */
static const fz_limits FZ_SMALL_LIMITS = {40u, 48u, 6u, 5u};

/* ------------------------------------------------------------ small helpers */

static uint32_t fz_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void fz_put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void *fz_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        abort();
    }
    return p;
}

/* An exact-size heap copy: ASan flags any read at or past copy + n. */
static uint8_t *fz_copy(const uint8_t *data, size_t n) {
    uint8_t *p = fz_xmalloc(n);
    if (n) {
        memcpy(p, data, n);
    }
    return p;
}

/*
 * A fuzzer input as the harnesses read it: its last byte is a control byte (the
 * chunking, limits and arrays to use), the rest a stream, returned as a heap copy
 * so ASan sees any read past it.  NULL (nothing to do) for an empty input.
 */
static uint8_t *fz_split_input(const uint8_t *data, size_t size, uint8_t *ctrl, size_t *n) {
    if (size == 0) {
        return NULL;
    }
    *ctrl = data[size - 1];
    *n = size - 1;
    return fz_copy(data, *n);
}

/* ------------------------------------------------------------ decode results */

/* One decoded message, offsets relative to the start of the stream. */
typedef struct {
    int64_t block, payload, payload_end;
    size_t first_header, n_headers; /* into the result's header array */
} fz_frame;

typedef struct {
    fz_frame *frames;
    size_t n_frames, frames_cap;
    int64_t *headers; /* ES_HEADER_FIELDS slots each, offsets relative to the block */
    size_t n_headers, headers_cap;
    int has_fault;
    int64_t fault[ES_FAULT_FIELDS]; /* stream offsets */
    size_t consumed;                /* bytes of whole messages before the stop */
} fz_result;

static void fz_result_init(fz_result *r) {
    memset(r, 0, sizeof *r);
}

static void fz_result_free(fz_result *r) {
    free(r->frames);
    free(r->headers);
    memset(r, 0, sizeof *r);
}

static fz_frame *fz_push_frame(fz_result *r) {
    if (r->n_frames == r->frames_cap) {
        size_t cap = r->frames_cap ? 2 * r->frames_cap : 16;
        fz_frame *f = realloc(r->frames, cap * sizeof *f);
        if (f == NULL) {
            abort();
        }
        r->frames = f;
        r->frames_cap = cap;
    }
    return &r->frames[r->n_frames++];
}

static int64_t *fz_push_header(fz_result *r) {
    if (r->n_headers == r->headers_cap) {
        size_t cap = r->headers_cap ? 2 * r->headers_cap : 64;
        int64_t *h = realloc(r->headers, cap * ES_HEADER_FIELDS * sizeof *h);
        if (h == NULL) {
            abort();
        }
        r->headers = h;
        r->headers_cap = cap;
    }
    return &r->headers[ES_HEADER_FIELDS * r->n_headers++];
}

static void fz_set_fault(fz_result *r, int64_t code, size_t off, size_t frame, int64_t a, int64_t b) {
    int i;
    r->has_fault = 1;
    r->fault[0] = code;
    r->fault[1] = (int64_t)off;
    r->fault[2] = (int64_t)frame;
    r->fault[3] = a;
    r->fault[4] = b;
    for (i = 5; i < ES_FAULT_FIELDS; i++) {
        r->fault[i] = -1;
    }
}

static int64_t fz_signed(uint64_t v, int bits) {
    if (bits == 64) {
        return (int64_t)v;
    }
    if (v & (1ull << (bits - 1))) {
        return (int64_t)(v | ~((1ull << bits) - 1));
    }
    return (int64_t)v;
}

/* ------------------------------------------------------------ reference decoder */

/* Header walk of block[0:len]; block[0] is at stream offset base.  0 or a fault code. */
static int fz_ref_walk(
    fz_result *r, const uint8_t *block, size_t len, size_t base, size_t frame, const fz_limits *lim) {
    const uint32_t max_value = lim->max_header_value;
    size_t p = 0, count = 0;
    while (p < len) {
        size_t name_len = block[p], name_end, v, left, size = 0;
        unsigned type;
        int64_t *d;
        if (count == lim->max_headers) {
            fz_set_fault(r, ES_ERR_HEADER_COUNT_LIMIT, base + p, frame, (int64_t)count + 1, lim->max_headers);
            return ES_ERR_HEADER_COUNT_LIMIT;
        }
        count++;
        if (name_len == 0) {
            fz_set_fault(r, ES_ERR_HEADER_NAME_EMPTY, base + p, frame, 0, 0);
            return ES_ERR_HEADER_NAME_EMPTY;
        }
        if (p + 1 + name_len > len) {
            fz_set_fault(
                r, ES_ERR_HEADER_NAME_OVERRUN, base + p, frame, (int64_t)name_len,
                (int64_t)(len - p - 1));
            return ES_ERR_HEADER_NAME_OVERRUN;
        }
        name_end = p + 1 + name_len;
        if (!ref_utf8(block + p + 1, name_len)) {
            fz_set_fault(r, ES_ERR_HEADER_NAME_UTF8, base + p + 1, frame, 0, 0);
            return ES_ERR_HEADER_NAME_UTF8;
        }
        if (name_end == len) {
            fz_set_fault(r, ES_ERR_HEADER_TYPE_MISSING, base + name_end, frame, 0, 0);
            return ES_ERR_HEADER_TYPE_MISSING;
        }
        type = block[name_end];
        if (type > 9) {
            fz_set_fault(r, ES_ERR_HEADER_TYPE_UNKNOWN, base + name_end, frame, type, 0);
            return ES_ERR_HEADER_TYPE_UNKNOWN;
        }
        v = name_end + 1;
        left = len - v;
        d = fz_push_header(r);
        d[0] = (int64_t)(p + 1);
        d[1] = (int64_t)name_end;
        d[2] = type;
        d[3] = 0;
        d[4] = 0;
        if (type == 6 || type == 7) {
            if (left < 2) {
                fz_set_fault(r, ES_ERR_HEADER_VALUE_OVERRUN, base + v, frame, 2, (int64_t)left);
                return ES_ERR_HEADER_VALUE_OVERRUN;
            }
            size = ((size_t)block[v] << 8) | block[v + 1];
            if (size > max_value) {
                fz_set_fault(r, ES_ERR_HEADER_VALUE_LIMIT, base + v, frame, (int64_t)size, max_value);
                return ES_ERR_HEADER_VALUE_LIMIT;
            }
            if (2 + size > left) {
                fz_set_fault(
                    r, ES_ERR_HEADER_VALUE_OVERRUN, base + v, frame, (int64_t)(2 + size),
                    (int64_t)left);
                return ES_ERR_HEADER_VALUE_OVERRUN;
            }
            if (type == 7 && !ref_utf8(block + v + 2, size)) {
                fz_set_fault(r, ES_ERR_HEADER_VALUE_UTF8, base + v + 2, frame, 0, 0);
                return ES_ERR_HEADER_VALUE_UTF8;
            }
            d[3] = (int64_t)(v + 2);
            d[4] = (int64_t)(v + 2 + size);
            p = v + 2 + size;
            continue;
        }
        switch (type) {
            case 2: size = 1; break;
            case 3: size = 2; break;
            case 4: size = 4; break;
            case 5: case 8: size = 8; break;
            case 9: size = 16; break;
            default: size = 0; break;
        }
        if (size > left) {
            fz_set_fault(r, ES_ERR_HEADER_VALUE_OVERRUN, base + v, frame, (int64_t)size, (int64_t)left);
            return ES_ERR_HEADER_VALUE_OVERRUN;
        }
        if (type == 9) {
            d[3] = (int64_t)v;
            d[4] = (int64_t)(v + 16);
        } else if (size) {
            uint64_t x = 0;
            size_t k;
            for (k = 0; k < size; k++) {
                x = (x << 8) | block[v + k];
            }
            d[3] = fz_signed(x, (int)(8 * size));
        }
        p = v + size;
    }
    return 0;
}

/* Every complete message of buf[0:n] until a fault or an incomplete one. */
static void fz_ref_decode(fz_result *r, const uint8_t *buf, size_t n, const fz_limits *lim) {
    size_t pos = 0;
    while (n - pos >= 12) {
        const uint8_t *m = buf + pos;
        uint32_t total = fz_be32(m), hlen = fz_be32(m + 4), pcrc = fz_be32(m + 8), crc, stored;
        uint64_t payload_len;
        size_t first;
        fz_frame *f;
        crc = ref_crc32(0, m, 8);
        if (crc != pcrc) {
            fz_set_fault(r, ES_ERR_PRELUDE_CRC, pos + 8, pos, pcrc, crc);
            break;
        }
        if (total < 16) {
            fz_set_fault(r, ES_ERR_MESSAGE_TOO_SHORT, pos, pos, total, 0);
            break;
        }
        if ((uint64_t)hlen + 16 > total) {
            fz_set_fault(r, ES_ERR_HEADERS_LENGTH, pos + 4, pos, hlen, total);
            break;
        }
        if (hlen > lim->max_header_block) {
            fz_set_fault(r, ES_ERR_HEADERS_LIMIT, pos + 4, pos, hlen, lim->max_header_block);
            break;
        }
        payload_len = (uint64_t)total - 16 - hlen;
        if (payload_len > lim->max_payload) {
            fz_set_fault(r, ES_ERR_PAYLOAD_LIMIT, pos, pos, (int64_t)payload_len, lim->max_payload);
            break;
        }
        if (n - pos < total) {
            break;
        }
        stored = fz_be32(m + total - 4);
        crc = ref_crc32(0, m, total - 4);
        if (crc != stored) {
            fz_set_fault(r, ES_ERR_MESSAGE_CRC, pos + total - 4, pos, stored, crc);
            break;
        }
        first = r->n_headers;
        if (fz_ref_walk(r, m + 12, hlen, pos + 12, pos, lim) != 0) {
            r->fault[5] = (int64_t)(pos + 12);
            r->fault[6] = (int64_t)(pos + 12 + hlen);
            r->fault[7] = (int64_t)(pos + total - 4);
            r->n_headers = first;
            break;
        }
        f = fz_push_frame(r);
        f->block = (int64_t)(pos + 12);
        f->payload = (int64_t)(pos + 12 + hlen);
        f->payload_end = (int64_t)(pos + total - 4);
        f->first_header = first;
        f->n_headers = r->n_headers - first;
        pos += total;
    }
    r->consumed = pos;
}

/* ------------------------------------------------------------ the core, batch by batch */

typedef struct {
    size_t frame_cap;  /* frame records per es_decode_batch call */
    size_t header_cap; /* header descriptors per call; 0 = pass NULL (never walk) */
} fz_arrays;

static const fz_arrays FZ_BIG_ARRAYS = {64, 4096};
static const fz_arrays FZ_SMALL_ARRAYS = {1, 2};

/*
 * Decode buf[0:n] (stream offset base) with es_decode_batch, calling it again after
 * ES_STOP_FULL, walking ES_HEADERS_NOT_WALKED blocks with es_walk_headers as the
 * Python binding does and resolving ES_HEADERS_SAME to the previous frame's headers.
 * Appends to r (stream offsets); returns the bytes consumed, sets r->has_fault.
 */
static size_t fz_core_decode(
    fz_result *r,
    const uint8_t *buf,
    size_t n,
    size_t base,
    const fz_limits *lim,
    const fz_arrays *arr) {
    size_t pos = 0;
    int64_t *frames = fz_xmalloc(arr->frame_cap * ES_FRAME_FIELDS * sizeof(int64_t));
    int64_t *headers = arr->header_cap ? fz_xmalloc(arr->header_cap * ES_HEADER_FIELDS * sizeof(int64_t)) : NULL;
    int64_t fault[ES_FAULT_FIELDS];
    size_t prev_first = 0, prev_count = 0;
    int have_prev = 0;
    es_batch batch;
    batch.limits = *lim;
    batch.frame_cap = (uint32_t)arr->frame_cap;
    batch.header_cap = (uint32_t)arr->header_cap;
    batch.frames = frames;
    batch.headers = headers;
    batch.fault = fault;
    /* The batch's own header blocks only: SAME never refers across calls. */
    for (;;) {
        int64_t ret, stop, got, i;
        size_t used = 0;
        int64_t batch_prev_block = -1;
        size_t batch_prev_len = 0;
        memset(fault, 0x5a, sizeof fault);
        batch.stop = -1;
        ret = es_decode_batch(buf, pos, n, -1, &batch);
        FUZZ_CHECK(ret >= 0, "es_decode_batch returned %lld", (long long)ret);
        stop = batch.stop;
        got = ret;
        FUZZ_CHECK(
            (size_t)got <= arr->frame_cap, "%lld frames reported, room for %zu", (long long)got,
            arr->frame_cap);
        FUZZ_CHECK(
            stop == ES_STOP_DONE || stop == ES_STOP_FULL ||
                (stop == ES_STOP_FAULT &&
                 ((fault[0] >= -14 && fault[0] <= -1) || fault[0] == ES_ERR_HEADER_COUNT_LIMIT)),
            "stop %lld", (long long)stop);
        for (i = 0; i < got; i++) {
            const int64_t *rec = frames + i * ES_FRAME_FIELDS;
            int64_t block = rec[0], payload = rec[1], payload_end = rec[2], info = rec[3];
            size_t first = r->n_headers, count = 0;
            fz_frame *f;
            FUZZ_CHECK(
                block == (int64_t)pos + 12 && payload >= block && payload_end >= payload &&
                    (uint64_t)payload_end + 4 <= n,
                "frame %lld record %lld %lld %lld at pos %zu of %zu", (long long)i, (long long)block,
                (long long)payload, (long long)payload_end, pos, n);
            FUZZ_CHECK(payload_end + 4 - (int64_t)pos >= 16, "frame shorter than 16 bytes");
            if (payload == block) {
                FUZZ_CHECK(info == 0, "empty block with header info %lld", (long long)info);
            } else if (info == ES_HEADERS_SAME) {
                FUZZ_CHECK(batch_prev_block >= 0, "ES_HEADERS_SAME on the first block of a call");
                FUZZ_CHECK(have_prev, "ES_HEADERS_SAME with no previous headers");
                FUZZ_CHECK(
                    batch_prev_len == (size_t)(payload - block) &&
                        memcmp(buf + batch_prev_block, buf + block, batch_prev_len) == 0,
                    "ES_HEADERS_SAME but the block differs from the previous one");
                for (count = 0; count < prev_count; count++) {
                    int64_t *d = fz_push_header(r);
                    memcpy(d, r->headers + (prev_first + count) * ES_HEADER_FIELDS,
                           ES_HEADER_FIELDS * sizeof(int64_t));
                }
            } else if (info == ES_HEADERS_NOT_WALKED) {
                int64_t w;
                size_t len = (size_t)(payload - block);
                size_t cap = len / 3 + 1;
                int64_t *tmp = fz_xmalloc(cap * ES_HEADER_FIELDS * sizeof(int64_t));
                int64_t wf[ES_FAULT_FIELDS];
                uint8_t *copy = fz_copy(buf + block, len);
                w = es_walk_headers(
                    copy, len, base + (size_t)block, base + pos, lim, tmp, cap, wf);
                free(copy);
                if (w < 0) {
                    /* The walk failed: the message is a header fault, as the binding reports. */
                    FUZZ_CHECK(
                        (w >= -14 && w <= -7) || w == ES_ERR_HEADER_COUNT_LIMIT, "walk returned %lld",
                        (long long)w);
                    r->has_fault = 1;
                    memcpy(r->fault, wf, 5 * sizeof(int64_t));
                    r->fault[5] = (int64_t)base + block;
                    r->fault[6] = (int64_t)base + payload;
                    r->fault[7] = (int64_t)base + payload_end;
                    free(tmp);
                    free(frames);
                    free(headers);
                    r->n_headers = first;
                    return pos;
                }
                for (count = 0; count < (size_t)w; count++) {
                    memcpy(fz_push_header(r), tmp + count * ES_HEADER_FIELDS,
                           ES_HEADER_FIELDS * sizeof(int64_t));
                }
                free(tmp);
            } else {
                FUZZ_CHECK(
                    info >= 0 && used + (size_t)info <= arr->header_cap, "header info %lld, used %zu",
                    (long long)info, used);
                for (count = 0; count < (size_t)info; count++) {
                    memcpy(fz_push_header(r), headers + (used + count) * ES_HEADER_FIELDS,
                           ES_HEADER_FIELDS * sizeof(int64_t));
                }
                used += (size_t)info;
            }
            if (payload != block) {
                batch_prev_block = block;
                batch_prev_len = (size_t)(payload - block);
                prev_first = first;
                prev_count = count;
                have_prev = 1;
            }
            f = fz_push_frame(r);
            f->block = (int64_t)base + block;
            f->payload = (int64_t)base + payload;
            f->payload_end = (int64_t)base + payload_end;
            f->first_header = first;
            f->n_headers = count;
            pos = (size_t)payload_end + 4;
        }
        if (stop == ES_STOP_FULL) {
            FUZZ_CHECK(got > 0 || used == 0, "ES_STOP_FULL without progress");
            /* With the whole header array free, a call must make progress. */
            FUZZ_CHECK(got > 0, "ES_STOP_FULL with no frame decoded");
            continue;
        }
        if (stop == ES_STOP_FAULT) {
            FUZZ_CHECK(fault[2] == (int64_t)pos, "fault in message %lld, expected %zu", (long long)fault[2], pos);
            r->has_fault = 1;
            for (i = 0; i < ES_FAULT_FIELDS; i++) {
                r->fault[i] = fault[i];
            }
            r->fault[1] += (int64_t)base;
            r->fault[2] += (int64_t)base;
            for (i = 5; i < ES_FAULT_FIELDS; i++) {
                if (r->fault[i] != -1) {
                    r->fault[i] += (int64_t)base;
                }
            }
        }
        break;
    }
    free(frames);
    free(headers);
    return pos;
}

/* ------------------------------------------------------------ the Decoder mirror */

/*
 * eventstream.Decoder.feed over the C core: an empty buffer decodes straight from the
 * chunk and keeps its tail; otherwise the chunk is appended and the buffer decoded and
 * its consumed prefix dropped.  chunk == 0 feeds the whole input at once.  The buffer
 * is reallocated to its exact size every time so ASan catches reads past it.
 */
static void fz_stream_decode(
    fz_result *r,
    const uint8_t *data,
    size_t n,
    size_t chunk,
    const fz_limits *lim,
    const fz_arrays *arr) {
    uint8_t *buffer = NULL;
    size_t held = 0, offset = 0, at = 0;
    if (chunk == 0) {
        chunk = n ? n : 1;
    }
    while (at < n && !r->has_fault) {
        size_t take = n - at < chunk ? n - at : chunk;
        size_t pos;
        if (held == 0) {
            uint8_t *piece = fz_copy(data + at, take);
            pos = fz_core_decode(r, piece, take, offset, lim, arr);
            FUZZ_CHECK(pos <= take, "consumed %zu of %zu", pos, take);
            held = take - pos;
            free(buffer);
            buffer = fz_copy(piece + pos, held);
            free(piece);
        } else {
            uint8_t *grown = fz_xmalloc(held + take);
            memcpy(grown, buffer, held);
            memcpy(grown + held, data + at, take);
            free(buffer);
            buffer = grown;
            held += take;
            pos = fz_core_decode(r, buffer, held, offset, lim, arr);
            FUZZ_CHECK(pos <= held, "consumed %zu of %zu", pos, held);
            {
                uint8_t *rest = fz_copy(buffer + pos, held - pos);
                free(buffer);
                buffer = rest;
                held -= pos;
            }
        }
        offset += pos;
        at += take;
        /* Progress invariant: what the decoder holds is less than one message, or the
         * faulty message; it never holds a complete valid message. */
    }
    r->consumed = offset;
    free(buffer);
}

/* ------------------------------------------------------------ comparing results */

static void fz_compare(const char *what, const fz_result *a, const fz_result *b) {
    size_t i, k;
    FUZZ_CHECK(
        a->n_frames == b->n_frames, "%s: %zu frames vs %zu", what, a->n_frames, b->n_frames);
    for (i = 0; i < a->n_frames; i++) {
        const fz_frame *x = &a->frames[i], *y = &b->frames[i];
        FUZZ_CHECK(
            x->block == y->block && x->payload == y->payload && x->payload_end == y->payload_end,
            "%s: frame %zu at %lld/%lld/%lld vs %lld/%lld/%lld", what, i, (long long)x->block,
            (long long)x->payload, (long long)x->payload_end, (long long)y->block,
            (long long)y->payload, (long long)y->payload_end);
        FUZZ_CHECK(
            x->n_headers == y->n_headers, "%s: frame %zu has %zu headers vs %zu", what, i,
            x->n_headers, y->n_headers);
        for (k = 0; k < x->n_headers * ES_HEADER_FIELDS; k++) {
            int64_t u = a->headers[x->first_header * ES_HEADER_FIELDS + k];
            int64_t v = b->headers[y->first_header * ES_HEADER_FIELDS + k];
            FUZZ_CHECK(
                u == v, "%s: frame %zu header %zu field %zu: %lld vs %lld", what, i,
                k / ES_HEADER_FIELDS, k % ES_HEADER_FIELDS, (long long)u, (long long)v);
        }
    }
    FUZZ_CHECK(a->has_fault == b->has_fault, "%s: fault %d vs %d", what, a->has_fault, b->has_fault);
    if (a->has_fault) {
        for (k = 0; k < ES_FAULT_FIELDS; k++) {
            FUZZ_CHECK(
                a->fault[k] == b->fault[k],
                "%s: fault field %zu: %lld vs %lld (codes %lld, %lld; offsets %lld, %lld)", what, k,
                (long long)a->fault[k], (long long)b->fault[k], (long long)a->fault[0],
                (long long)b->fault[0], (long long)a->fault[1], (long long)b->fault[1]);
        }
    }
    FUZZ_CHECK(a->consumed == b->consumed, "%s: consumed %zu vs %zu", what, a->consumed, b->consumed);
}

/* ------------------------------------------------------------ CRC repair */

/*
 * Rewrite the prelude CRC of every message in buf[0:n] (following total_length from
 * message to message) and, with message_crc set, the message CRC of each complete one,
 * so the fuzzer's mutations reach the length checks, the limits and the header walk.
 */
static void fz_repair_crcs(uint8_t *buf, size_t n, int message_crc) {
    size_t pos = 0;
    while (n - pos >= 12) {
        uint32_t total = fz_be32(buf + pos);
        fz_put_be32(buf + pos + 8, ref_crc32(0, buf + pos, 8));
        if (total < 16 || total > n - pos) {
            break;
        }
        if (message_crc) {
            fz_put_be32(buf + pos + total - 4, ref_crc32(0, buf + pos, total - 4));
        }
        pos += total;
    }
}

/* ------------------------------------------------------------ the CRC kernels */

/*
 * Every compiled-in CRC path agrees with the reference, from any starting value, on
 * the input and on it shifted by a few bytes (other alignments and tail lengths); the
 * UTF-8 validator agrees with the reference on the whole input and on every window of
 * 1 to 4 bytes (so one bad sequence anywhere is enough to show a wrong verdict).
 */
static void fz_check_crc_paths(const uint8_t *data, size_t n, uint32_t start) {
    static const size_t shifts[] = {0, 1, 3, 7};
    size_t s, i, k;
    int paths = es_crc32_paths(), bit;
    for (s = 0; s < sizeof shifts / sizeof shifts[0] && shifts[s] <= n; s++) {
        const uint8_t *p = data + shifts[s];
        size_t len = n - shifts[s];
        uint32_t want = ref_crc32(start, p, len);
        FUZZ_CHECK(es_crc32(start, p, len) == want, "es_crc32 over %zu bytes", len);
        FUZZ_CHECK(es_crc32_portable(start, p, len) == want, "es_crc32_portable over %zu bytes", len);
        for (bit = 1; bit <= 0x40; bit <<= 1) {
            if (paths & bit) {
                FUZZ_CHECK(es_crc32_with(bit, start, p, len) == want, "CRC path %d over %zu bytes", bit, len);
            }
        }
    }
    FUZZ_CHECK(es_utf8_valid(data, n) == ref_utf8(data, n), "es_utf8_valid over %zu bytes", n);
    for (i = 0; i < n; i++) {
        for (k = 1; k <= 4 && k <= n - i; k++) {
            uint8_t *w = fz_copy(data + i, k);
            FUZZ_CHECK(
                es_utf8_valid(w, k) == ref_utf8(w, k), "es_utf8_valid on %zu bytes at %zu", k, i);
            free(w);
        }
    }
}

/* ------------------------------------------------------------ the single-message path */

/*
 * es_check_frame at every message the reference decoded and at the stop: the packed
 * lengths for a complete message whose CRCs are right (header faults included, as
 * it does not walk), 0 for an incomplete one, -code and the fault record for the
 * faults it checks (-1 to -6).  Called with and without a fault record.
 */
static void fz_check_single_frames(const fz_result *ref, const uint8_t *buf, size_t n, const fz_limits *lim) {
    size_t i, k;
    for (i = 0; i <= ref->n_frames; i++) {
        size_t pos = i < ref->n_frames ? (size_t)ref->frames[i].block - 12 : ref->consumed;
        int64_t fault[ES_FAULT_FIELDS];
        int64_t got, again, want;
        memset(fault, 0x5a, sizeof fault);
        got = (int64_t)es_check_frame(buf, pos, n, lim, fault);
        again = (int64_t)es_check_frame(buf, pos, n, lim, NULL);
        FUZZ_CHECK(got == again, "es_check_frame at %zu: %lld with a fault record, %lld without", pos,
                   (long long)got, (long long)again);
        {
            /* es_check_one (decode()'s fast path) on the rest of the input: 12 + headers_length
             * exactly when es_check_frame finds a complete message that ends the input. */
            int64_t one = es_check_one(buf + pos, n - pos, lim->max_payload, lim->max_header_block, NULL, 0);
            int64_t expect = ((uint64_t)got > 0xffffffffu && ((uint64_t)got >> 32) == n - pos)
                                 ? (int64_t)((uint64_t)got & 0xffffffffu) + 12
                                 : 0;
            FUZZ_CHECK(one == expect, "es_check_one at %zu: %lld, want %lld", pos, (long long)one,
                       (long long)expect);
            if (expect > 12) {
                /* the same block given as the caller's last one: the payload start, negated */
                size_t hl = (size_t)expect - 12;
                uint8_t *same = (uint8_t *)malloc(hl);
                FUZZ_CHECK(same != NULL, "out of memory");
                memcpy(same, buf + pos + 12, hl);
                one = es_check_one(buf + pos, n - pos, lim->max_payload, lim->max_header_block, same, hl);
                FUZZ_CHECK(one == -expect, "es_check_one (same block) at %zu: %lld, want %lld", pos,
                           (long long)one, (long long)-expect);
                same[hl - 1] ^= 1;
                one = es_check_one(buf + pos, n - pos, lim->max_payload, lim->max_header_block, same, hl);
                FUZZ_CHECK(one == expect, "es_check_one (other block) at %zu: %lld, want %lld", pos,
                           (long long)one, (long long)expect);
                free(same);
            }
        }
        if (i < ref->n_frames ||
            (ref->has_fault && (ref->fault[0] <= ES_ERR_HEADER_NAME_EMPTY && ref->fault[0] >= ES_ERR_HEADER_VALUE_UTF8)) ||
            (ref->has_fault && ref->fault[0] == ES_ERR_HEADER_COUNT_LIMIT)) {
            size_t total = i < ref->n_frames ? (size_t)(ref->frames[i].payload_end + 4) - pos
                                             : (size_t)(ref->fault[7] + 4) - pos;
            size_t hlen = fz_be32(buf + pos + 4);
            want = (int64_t)(((uint64_t)total << 32) | hlen);
            FUZZ_CHECK(got == want, "es_check_frame at %zu: %lld, want %lld", pos, (long long)got, (long long)want);
        } else if (ref->has_fault) {
            FUZZ_CHECK(got == -ref->fault[0], "es_check_frame at %zu: %lld, fault %lld", pos, (long long)got,
                       (long long)ref->fault[0]);
            for (k = 0; k < 5; k++) {
                FUZZ_CHECK(fault[k] == ref->fault[k], "es_check_frame at %zu: fault field %zu: %lld vs %lld",
                           pos, k, (long long)fault[k], (long long)ref->fault[k]);
            }
        } else {
            FUZZ_CHECK(got == 0, "es_check_frame at %zu (incomplete message): %lld", pos, (long long)got);
        }
    }
}

/* ------------------------------------------------------------ the checks of one stream */

/*
 * Decode stream[0:n] three ways and require identical results: the reference decoder,
 * one es_decode_batch pass over the whole input, and the Decoder mirror fed in chunks
 * of `chunk` bytes (0: all at once) with the given output arrays.
 */
static void fz_check_stream(
    const uint8_t *stream, size_t n, size_t chunk, const fz_limits *lim, const fz_arrays *arr) {
    fz_result ref, one, fed;
    uint8_t *copy = fz_copy(stream, n);
    fz_result_init(&ref);
    fz_result_init(&one);
    fz_result_init(&fed);
    fz_ref_decode(&ref, copy, n, lim);
    one.consumed = fz_core_decode(&one, copy, n, 0, lim, &FZ_BIG_ARRAYS);
    fz_compare("reference vs one-shot", &ref, &one);
    fz_check_single_frames(&ref, copy, n, lim);
    fz_stream_decode(&fed, copy, n, chunk, lim, arr);
    fz_compare("reference vs chunked", &ref, &fed);
    fz_result_free(&ref);
    fz_result_free(&one);
    fz_result_free(&fed);
    free(copy);
}

#endif /* ES_FUZZ_COMMON_H */
