/* es_decode.c - frame validation and the header-block walk. */
#include "es_internal.h"

#include <assert.h>
#include <string.h>

static int64_t s_fault(int64_t *fault, int code, size_t offset, size_t frame, int64_t a, int64_t b) {
    if (fault == NULL) {
        return code;
    }
    fault[ES_FAULT_CODE] = code;
    fault[ES_FAULT_OFFSET] = (int64_t)offset;
    fault[ES_FAULT_FRAME] = (int64_t)frame;
    fault[ES_FAULT_A] = a;
    fault[ES_FAULT_B] = b;
    return code;
}

/* Value sizes of the fixed-width types, by type code (booleans have none; bytes and
 * strings have a length prefix instead). */
static const uint8_t s_fixed_size[ES_TYPE_COUNT] = {
    [ES_TYPE_BYTE] = 1,  [ES_TYPE_INT16] = 2,     [ES_TYPE_INT32] = 4,
    [ES_TYPE_INT64] = 8, [ES_TYPE_TIMESTAMP] = 8, [ES_TYPE_UUID] = 16,
};

/* The walk of block[p:len], p a header boundary with count valid headers before it:
 * descriptors for the headers from p, written from headers[0]; returns how many. */
static int64_t s_walk(
    const uint8_t *block,
    size_t len,
    size_t p,
    size_t count,
    size_t base,
    size_t frame_off,
    const es_limits *limits,
    int64_t *headers,
    size_t cap,
    int64_t *fault) {
    const uint32_t max_header_value = limits->max_header_value;
    const size_t max_headers = limits->max_headers;
    const size_t first = count;
    while (p < len) {
        size_t name_len = block[p];
        size_t t, v, left, size;
        unsigned code;
        int64_t *d;
        if (count >= max_headers) {
            return s_fault(
                fault, ES_ERR_HEADER_COUNT_LIMIT, base + p, frame_off, (int64_t)count + 1,
                (int64_t)max_headers);
        }
        if (name_len == 0) {
            return s_fault(fault, ES_ERR_HEADER_NAME_EMPTY, base + p, frame_off, 0, 0);
        }
        if (name_len > len - p - 1) {
            return s_fault(
                fault, ES_ERR_HEADER_NAME_OVERRUN, base + p, frame_off, (int64_t)name_len,
                (int64_t)(len - p - 1));
        }
        t = p + 1 + name_len;
        if (!es_utf8_valid(block + p + 1, name_len)) {
            return s_fault(fault, ES_ERR_HEADER_NAME_UTF8, base + p + 1, frame_off, 0, 0);
        }
        if (t >= len) {
            return s_fault(fault, ES_ERR_HEADER_TYPE_MISSING, base + t, frame_off, 0, 0);
        }
        code = block[t];
        v = t + 1;
        if (code >= ES_TYPE_COUNT) {
            return s_fault(fault, ES_ERR_HEADER_TYPE_UNKNOWN, base + t, frame_off, (int64_t)code, 0);
        }
        ES_REQUIRE(count - first < cap, ES_ERR_NO_ROOM);
        d = headers + (count - first) * ES_HEADER_FIELDS;
        d[ES_HEADER_NAME] = (int64_t)(p + 1);
        d[ES_HEADER_NAME_END] = (int64_t)t;
        d[ES_HEADER_TYPE] = (int64_t)code;
        d[ES_HEADER_VALUE] = 0;
        d[ES_HEADER_VALUE_END] = 0;
        left = len - v;
        if (code == ES_TYPE_BOOL_TRUE || code == ES_TYPE_BOOL_FALSE) {
            p = v;
        } else if (code == ES_TYPE_BYTES || code == ES_TYPE_STRING) {
            if (left < 2) {
                return s_fault(fault, ES_ERR_HEADER_VALUE_OVERRUN, base + v, frame_off, 2, (int64_t)left);
            }
            size = es_load_be16(block + v);
            if (size > max_header_value) {
                return s_fault(
                    fault, ES_ERR_HEADER_VALUE_LIMIT, base + v, frame_off, (int64_t)size,
                    (int64_t)max_header_value);
            }
            if (size + 2 > left) {
                return s_fault(
                    fault, ES_ERR_HEADER_VALUE_OVERRUN, base + v, frame_off, (int64_t)(size + 2),
                    (int64_t)left);
            }
            if (code == ES_TYPE_STRING && !es_utf8_valid(block + v + 2, size)) {
                return s_fault(fault, ES_ERR_HEADER_VALUE_UTF8, base + v + 2, frame_off, 0, 0);
            }
            d[ES_HEADER_VALUE] = (int64_t)(v + 2);
            d[ES_HEADER_VALUE_END] = (int64_t)(v + 2 + size);
            p = v + 2 + size;
        } else {
            size = s_fixed_size[code];
            if (size > left) {
                return s_fault(
                    fault, ES_ERR_HEADER_VALUE_OVERRUN, base + v, frame_off, (int64_t)size, (int64_t)left);
            }
            switch (code) {
                case ES_TYPE_BYTE:
                    d[ES_HEADER_VALUE] = (int8_t)block[v];
                    break;
                case ES_TYPE_INT16:
                    d[ES_HEADER_VALUE] = (int16_t)es_load_be16(block + v);
                    break;
                case ES_TYPE_INT32:
                    d[ES_HEADER_VALUE] = (int32_t)es_load_be32(block + v);
                    break;
                case ES_TYPE_UUID:
                    d[ES_HEADER_VALUE] = (int64_t)v;
                    d[ES_HEADER_VALUE_END] = (int64_t)(v + 16);
                    break;
                default: /* ES_TYPE_INT64, ES_TYPE_TIMESTAMP */
                    d[ES_HEADER_VALUE] = (int64_t)es_load_be64(block + v);
                    break;
            }
            p = v + size;
        }
        assert(p > t); /* each header consumes its length byte, name and type at least */
        count++;
    }
    return (int64_t)(count - first);
}

int64_t es_walk_headers(
    const uint8_t *block,
    size_t len,
    size_t base,
    size_t frame_off,
    const es_limits *limits,
    int64_t *headers,
    size_t cap,
    int64_t *fault) {
    return s_walk(block, len, 0, 0, base, frame_off, limits, headers, cap, fault);
}

int64_t es_walk_block(const uint8_t *block, size_t len, size_t start, size_t count, const es_walk *walk) {
    if (start > len) {
        return ES_ERR_BAD_ARGUMENT;
    }
    return s_walk(block, len, start, count, 0, 0, &walk->limits, walk->headers, walk->cap, walk->fault);
}

/*
 * One message at buf[pos:end]: ES_OK with *total and *headers_len when it is complete
 * and both CRCs match, 1 when it is incomplete (the prelude checks passed if 12 bytes
 * are there), or a fault (recorded unless fault is NULL).
 */
static int s_check_frame(
    const uint8_t *buf,
    size_t pos,
    size_t end,
    const es_limits *limits,
    int64_t *fault,
    size_t *total_out,
    size_t *headers_len_out) {
    const uint8_t *m = buf + pos;
    uint32_t total, headers_len, prelude_crc, actual, stored;
    size_t payload_len;
    if (pos > end || end - pos < ES_PRELUDE_LEN) {
        return 1;
    }
    total = es_load_be32(m);
    headers_len = es_load_be32(m + 4);
    prelude_crc = es_load_be32(m + 8);
    actual = es_crc32(0, m, 8);
    if (actual != prelude_crc) {
        return (int)s_fault(fault, ES_ERR_PRELUDE_CRC, pos + 8, pos, prelude_crc, actual);
    }
    if (total < ES_MIN_FRAME_LEN) {
        return (int)s_fault(fault, ES_ERR_MESSAGE_TOO_SHORT, pos, pos, total, 0);
    }
    if (headers_len > total - ES_MIN_FRAME_LEN) {
        return (int)s_fault(fault, ES_ERR_HEADERS_LENGTH, pos + 4, pos, headers_len, total);
    }
    if (headers_len > limits->max_header_block) {
        return (int)s_fault(fault, ES_ERR_HEADERS_LIMIT, pos + 4, pos, headers_len, limits->max_header_block);
    }
    payload_len = (size_t)total - ES_MIN_FRAME_LEN - headers_len;
    if (payload_len > limits->max_payload) {
        return (int)s_fault(fault, ES_ERR_PAYLOAD_LIMIT, pos, pos, (int64_t)payload_len, limits->max_payload);
    }
    if (end - pos < total) {
        return 1;
    }
    stored = es_load_be32(m + total - 4);
    actual = es_crc32(prelude_crc, m + 8, (size_t)total - 12);
    if (actual != stored) {
        return (int)s_fault(fault, ES_ERR_MESSAGE_CRC, pos + total - 4, pos, stored, actual);
    }
    *total_out = total;
    *headers_len_out = headers_len;
    return ES_OK;
}

uint64_t es_check_frame(const uint8_t *buf, size_t pos, size_t end, const es_limits *limits, int64_t *fault) {
    size_t total = 0, headers_len = 0;
    int st = s_check_frame(buf, pos, end, limits, fault, &total, &headers_len);
    if (st == 1) {
        return 0;
    }
    if (st < 0) {
        return (uint64_t)-st;
    }
    return ((uint64_t)total << 32) | (uint64_t)headers_len;
}

int64_t es_check_one(
    const uint8_t *buf,
    size_t len,
    uint32_t max_payload,
    uint32_t max_header_block,
    const uint8_t *same,
    size_t same_len) {
    size_t total = 0, headers_len = 0;
    es_limits limits = {max_payload, max_header_block, 0, 0};
    if (s_check_frame(buf, 0, len, &limits, NULL, &total, &headers_len) != 0 || total != len) {
        return 0;
    }
    if (headers_len != 0 && same_len == headers_len && memcmp(buf + ES_PRELUDE_LEN, same, same_len) == 0) {
        return -(int64_t)(ES_PRELUDE_LEN + headers_len);
    }
    return (int64_t)(ES_PRELUDE_LEN + headers_len);
}

uint64_t
es_check_next(const uint8_t *buf, size_t total, size_t end, uint32_t max_payload, uint32_t max_header_block) {
    size_t length = 0, headers_len = 0;
    int64_t payload_start;
    uint32_t next;
    es_limits limits = {max_payload, max_header_block, 0, 0};
    if (total > end) {
        return 0;
    }
    payload_start = es_check_one(buf, total, max_payload, max_header_block, NULL, 0);
    if (payload_start == 0 || end - total < ES_PRELUDE_LEN) {
        return (uint64_t)payload_start;
    }
    next = es_load_be32(buf + total);
    if (next <= end - total) {
        return 0; /* a second complete message (or a fault): the caller scans */
    }
    /* 1: the next message's prelude passed (and it is incomplete, as checked). */
    if (s_check_frame(buf, total, end, &limits, NULL, &length, &headers_len) != 1) {
        return 0;
    }
    return ((uint64_t)next << 32) | (uint64_t)payload_start;
}

/* Record why the call stops; returns the frames decoded. */
static int64_t s_stop(es_batch *batch, size_t frames, es_stop stop) {
    batch->stop = (int32_t)stop;
    return (int64_t)frames;
}

int64_t es_decode_batch(const uint8_t *buf, size_t pos, size_t end, int64_t max_frames, es_batch *batch) {
    int64_t *fault = batch->fault;
    size_t n = 0;
    size_t used = 0; /* header descriptors written */
    const uint8_t *prev_block = NULL;
    size_t prev_len = 0;
    for (;;) {
        size_t total = 0, headers_len = 0, block_at;
        int64_t info, *rec;
        int st;
        if (max_frames >= 0 && (int64_t)n >= max_frames) {
            return s_stop(batch, n, ES_STOP_DONE);
        }
        if (n == batch->frame_cap) {
            return s_stop(batch, n, ES_STOP_FULL);
        }
        st = s_check_frame(buf, pos, end, &batch->limits, fault, &total, &headers_len);
        if (st == 1) {
            return s_stop(batch, n, ES_STOP_DONE);
        }
        if (st < 0) {
            fault[ES_FAULT_BLOCK] = fault[ES_FAULT_PAYLOAD] = fault[ES_FAULT_PAYLOAD_END] = -1;
            return s_stop(batch, n, ES_STOP_FAULT);
        }
        block_at = pos + ES_PRELUDE_LEN;
        if (headers_len == 0) {
            info = 0;
        } else if (
            prev_block != NULL && prev_len == headers_len &&
            memcmp(prev_block, buf + block_at, headers_len) == 0) {
            info = ES_HEADERS_SAME;
        } else if (batch->header_cap == 0) {
            info = ES_HEADERS_NOT_WALKED; /* the caller walks every block */
        } else if (es_max_header_count(headers_len, &batch->limits) > batch->header_cap - used) {
            /* It might not fit: never walk a block twice. */
            if (used > 0) {
                return s_stop(batch, n, ES_STOP_FULL); /* again, with the whole array free */
            }
            info = ES_HEADERS_NOT_WALKED;
        } else {
            info = es_walk_headers(
                buf + block_at, headers_len, block_at, pos, &batch->limits,
                batch->headers + used * ES_HEADER_FIELDS, batch->header_cap - used, fault);
            assert(info != ES_ERR_NO_ROOM);
            if (info < 0) {
                fault[ES_FAULT_BLOCK] = (int64_t)block_at;
                fault[ES_FAULT_PAYLOAD] = (int64_t)(block_at + headers_len);
                fault[ES_FAULT_PAYLOAD_END] = (int64_t)(pos + total - 4);
                return s_stop(batch, n, ES_STOP_FAULT);
            } else {
                used += (size_t)info;
            }
        }
        /* Progress: every decoded message moves pos on by at least 16 bytes. */
        assert(total >= ES_MIN_FRAME_LEN && total <= end - pos);
        rec = batch->frames + n * ES_FRAME_FIELDS;
        rec[ES_FRAME_BLOCK] = (int64_t)block_at;
        rec[ES_FRAME_PAYLOAD] = (int64_t)(block_at + headers_len);
        rec[ES_FRAME_PAYLOAD_END] = (int64_t)(pos + total - 4);
        rec[ES_FRAME_HEADERS] = info;
        if (headers_len != 0) {
            prev_block = buf + block_at;
            prev_len = headers_len;
        }
        n++;
        pos += total;
    }
}
