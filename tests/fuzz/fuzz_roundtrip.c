/*
 * fuzz_roundtrip.c - libFuzzer harness: decode, re-encode, compare bytes; and encode
 * fuzzer-chosen headers, decode them back, compare values.
 *
 * Input: stream bytes, then a control byte:
 *   bit 6     small limits instead of the defaults
 *   bit 7     also read the stream as a recipe of es_encode_header calls (below)
 *
 * Decode direction: both CRCs of every message are repaired first (fuzz_common.h),
 * then every message es_decode_batch accepts is rebuilt from its header descriptors
 * with es_encode_header and es_encode_frame; the result must be the original bytes,
 * es_frame_crcs must give the stored CRCs, and one byte less room must give
 * ES_ERR_NO_ROOM.
 *
 * Encode direction (bit 7): each header takes name length (1 byte), type (1 byte, as
 * a signed char), an int64 value (8 bytes), a value length (2 bytes), a room adjustment
 * (1 byte), then the name and value bytes from what follows.  es_encode_header's
 * verdict must match the rules; what it writes must walk back to the same fields; the
 * accepted headers are framed with the rest as payload and must decode back.
 */
#include "fuzz_common.h"

static const uint8_t s_zeros[0x10001];

static void s_rebuild_frames(const uint8_t *buf, size_t n, const fz_limits *lim) {
    fz_result r;
    size_t i, k;
    fz_result_init(&r);
    r.consumed = fz_core_decode(&r, buf, n, 0, lim, &FZ_BIG_ARRAYS);
    for (i = 0; i < r.n_frames; i++) {
        const fz_frame *f = &r.frames[i];
        const uint8_t *block = buf + f->block;
        size_t block_len = (size_t)(f->payload - f->block);
        size_t payload_len = (size_t)(f->payload_end - f->payload);
        size_t total = block_len + payload_len + 16;
        uint8_t *rebuilt = fz_xmalloc(block_len);
        uint8_t *out = fz_xmalloc(total);
        uint8_t *small = fz_xmalloc(total - 1);
        size_t w = 0;
        int64_t got;
        uint64_t crcs;
        for (k = 0; k < f->n_headers; k++) {
            const int64_t *d = r.headers + (f->first_header + k) * ES_HEADER_FIELDS;
            int type = (int)d[2];
            const uint8_t *value = NULL;
            size_t value_len = 0;
            if (type == 6 || type == 7 || type == 9) {
                value = block + d[3];
                value_len = (size_t)(d[4] - d[3]);
            }
            got = es_encode_header(
                rebuilt + w, block_len - w, block + d[0], (size_t)(d[1] - d[0]), type, d[3], value,
                value_len);
            FUZZ_CHECK(got > 0, "re-encoding header %zu of frame %zu: %lld", k, i, (long long)got);
            w += (size_t)got;
        }
        FUZZ_CHECK(w == block_len, "frame %zu: rebuilt block of %zu bytes, was %zu", i, w, block_len);
        FUZZ_CHECK(memcmp(rebuilt, block, block_len) == 0, "frame %zu: rebuilt block differs", i);
        got = es_encode_frame(out, total, rebuilt, block_len, buf + f->payload, payload_len);
        FUZZ_CHECK(got == (int64_t)total, "frame %zu: es_encode_frame gave %lld", i, (long long)got);
        FUZZ_CHECK(memcmp(out, buf + f->block - 12, total) == 0, "frame %zu: re-encoded bytes differ", i);
        got = es_encode_frame(small, total - 1, rebuilt, block_len, buf + f->payload, payload_len);
        FUZZ_CHECK(got == ES_ERR_NO_ROOM, "frame %zu: one byte short gave %lld", i, (long long)got);
        crcs = es_frame_crcs(rebuilt, block_len, buf + f->payload, payload_len);
        FUZZ_CHECK(
            (uint32_t)(crcs >> 32) == fz_be32(buf + f->block - 4) &&
                (uint32_t)crcs == fz_be32(buf + f->payload_end),
            "frame %zu: es_frame_crcs", i);
        free(rebuilt);
        free(out);
        free(small);
    }
    fz_result_free(&r);
}

static int s_in_range(int type, int64_t v) {
    switch (type) {
        case 2: return v >= -128 && v <= 127;
        case 3: return v >= -32768 && v <= 32767;
        case 4: return v >= INT32_MIN && v <= INT32_MAX;
        default: return 1;
    }
}

static size_t s_value_size(int type, size_t value_len) {
    static const size_t fixed[10] = {0, 0, 1, 2, 4, 8, 0, 0, 8, 16};
    return (type == 6 || type == 7) ? 2 + value_len : fixed[type];
}

static void s_recipe(const uint8_t *in, size_t n) {
    size_t at = 0, block_len = 0, block_cap = 1 << 16, headers = 0;
    uint8_t *block = fz_xmalloc(block_cap);
    int64_t *expect = fz_xmalloc(256 * ES_HEADER_FIELDS * sizeof(int64_t));
    while (n - at >= 13 && headers < 256) {
        size_t name_len = in[at];
        int type = (int)(int8_t)in[at + 1];
        int64_t ivalue = (int64_t)(((uint64_t)fz_be32(in + at + 2) << 32) | fz_be32(in + at + 6));
        size_t value_len = ((size_t)in[at + 10] << 8) | in[at + 11];
        uint8_t adjust = in[at + 12];
        const uint8_t *name, *value;
        size_t need = 0, cap;
        int valid;
        int64_t got;
        uint8_t *out;
        at += 13;
        if (name_len > n - at) {
            break;
        }
        name = in + at;
        at += name_len;
        if (type == 9) {
            value_len = (adjust & 0x40) ? value_len % 32 : 16; /* mostly right, sometimes not */
        }
        if ((adjust & 0x80) && (type == 6 || type == 7)) {
            value = s_zeros; /* past the u16 length field: must be refused */
            value_len = 0x10000;
        } else {
            if (value_len > n - at) {
                value_len = n - at;
            }
            value = in + at;
            at += value_len;
        }
        valid = name_len >= 1 && type >= 0 && type <= 9 && s_in_range(type, ivalue) &&
                !((type == 6 || type == 7) && value_len > 0xffff) && !(type == 9 && value_len != 16);
        if (valid) {
            need = 2 + name_len + s_value_size(type, value_len);
        }
        /* Room: exact, or short by adjust & 0x1f when that bit pattern asks for it. */
        cap = need;
        if (valid && (adjust & 0x20)) {
            size_t short_by = (size_t)(adjust & 0x1f) + 1;
            cap = short_by > need ? 0 : need - short_by;
        }
        out = fz_xmalloc(cap);
        got = es_encode_header(out, cap, name, name_len, type, ivalue, value, value_len);
        if (!valid) {
            FUZZ_CHECK(
                got == ES_ERR_TOO_LARGE, "invalid header (name %zu, type %d, value %lld, len %zu) gave %lld",
                name_len, type, (long long)ivalue, value_len, (long long)got);
        } else if (cap < need) {
            FUZZ_CHECK(got == ES_ERR_NO_ROOM, "room %zu for %zu bytes gave %lld", cap, need, (long long)got);
        } else {
            int64_t d[ES_HEADER_FIELDS], fault[ES_FAULT_FIELDS], walked;
            FUZZ_CHECK(got == (int64_t)need, "header of %zu bytes, returned %lld", need, (long long)got);
            static const es_limits wire = {0xffffffffu, 0xffffffffu, 0xffffu, 0x55555555u};
            walked = es_walk_headers(out, need, 0, 0, &wire, d, 1, fault);
            if (!ref_utf8(name, name_len)) {
                FUZZ_CHECK(walked == ES_ERR_HEADER_NAME_UTF8, "non-UTF-8 name walked as %lld", (long long)walked);
            } else if (type == 7 && !ref_utf8(value, value_len)) {
                FUZZ_CHECK(walked == ES_ERR_HEADER_VALUE_UTF8, "non-UTF-8 string walked as %lld", (long long)walked);
            } else {
                FUZZ_CHECK(walked == 1, "encoded header walked as %lld", (long long)walked);
                FUZZ_CHECK(d[0] == 1 && d[1] == (int64_t)(1 + name_len) && d[2] == type, "walked name/type");
                FUZZ_CHECK(memcmp(out + 1, name, name_len) == 0, "name bytes");
                if (type == 6 || type == 7 || type == 9) {
                    FUZZ_CHECK(d[4] - d[3] == (int64_t)value_len, "value length");
                    FUZZ_CHECK(memcmp(out + d[3], value, value_len) == 0, "value bytes");
                } else if (type >= 2) {
                    FUZZ_CHECK(d[3] == ivalue, "int value %lld walked as %lld", (long long)ivalue, (long long)d[3]);
                }
                if (block_cap - block_len >= need) {
                    memcpy(block + block_len, out, need);
                    memcpy(expect + headers * ES_HEADER_FIELDS, d, sizeof d);
                    expect[headers * ES_HEADER_FIELDS + 0] += (int64_t)block_len;
                    expect[headers * ES_HEADER_FIELDS + 1] += (int64_t)block_len;
                    if (type == 6 || type == 7 || type == 9) {
                        expect[headers * ES_HEADER_FIELDS + 3] += (int64_t)block_len;
                        expect[headers * ES_HEADER_FIELDS + 4] += (int64_t)block_len;
                    }
                    block_len += need;
                    headers++;
                }
            }
        }
        free(out);
    }
    {
        /* Frame the accepted headers with the rest of the input as payload; decode back. */
        size_t payload_len = n - at, total = 16 + block_len + payload_len, k;
        uint8_t *frame = fz_xmalloc(total);
        static const fz_limits wide = {0xffffffffu, 0xffffffffu, 0xffffu, 0x55555555u};
        fz_result r;
        int64_t got = es_encode_frame(frame, total, block, block_len, in + at, payload_len);
        FUZZ_CHECK(got == (int64_t)total, "es_encode_frame gave %lld for %zu", (long long)got, total);
        fz_result_init(&r);
        r.consumed = fz_core_decode(&r, frame, total, 0, &wide, &FZ_BIG_ARRAYS);
        FUZZ_CHECK(!r.has_fault && r.n_frames == 1, "built frame: fault %d, %zu frames", r.has_fault, r.n_frames);
        FUZZ_CHECK(r.frames[0].n_headers == headers, "built frame: %zu headers, wrote %zu", r.frames[0].n_headers, headers);
        for (k = 0; k < headers * ES_HEADER_FIELDS; k++) {
            FUZZ_CHECK(r.headers[k] == expect[k], "built frame: header field %zu", k);
        }
        FUZZ_CHECK(memcmp(frame + 12 + block_len, in + at, payload_len) == 0, "payload bytes");
        fz_result_free(&r);
        free(frame);
    }
    free(block);
    free(expect);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t ctrl = 0;
    size_t n = 0;
    uint8_t *stream = fz_split_input(data, size, &ctrl, &n);
    if (stream == NULL) {
        return 0;
    }
    fz_repair_crcs(stream, n, 1);
    s_rebuild_frames(stream, n, (ctrl & 0x40) ? &FZ_SMALL_LIMITS : &FZ_DEFAULT_LIMITS);
    if (ctrl & 0x80) {
        free(stream);
        stream = fz_copy(data, n);
        s_recipe(stream, n);
    }
    free(stream);
    return 0;
}
