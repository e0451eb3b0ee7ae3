/* es_encode.c - writing messages and headers into caller buffers. */
#include "es_internal.h"

#include <assert.h>
#include <string.h>

static void s_prelude(uint8_t *out, uint32_t total, uint32_t block_len) {
    es_store_be32(out, total);
    es_store_be32(out + 4, block_len);
    es_store_be32(out + 8, es_crc32(0, out, 8));
}

uint64_t es_frame_crcs(const uint8_t *block, size_t block_len, const uint8_t *payload, size_t payload_len) {
    uint8_t prelude[12];
    uint32_t crc;
    s_prelude(prelude, (uint32_t)(ES_MIN_FRAME_LEN + block_len + payload_len), (uint32_t)block_len);
    crc = es_crc32(es_load_be32(prelude + 8), prelude + 8, 4);
    crc = es_crc32(crc, block, block_len);
    crc = es_crc32(crc, payload, payload_len);
    return ((uint64_t)es_load_be32(prelude + 8) << 32) | crc;
}

int64_t es_encode_frame(
    uint8_t *out,
    size_t cap,
    const uint8_t *block,
    size_t block_len,
    const uint8_t *payload,
    size_t payload_len) {
    size_t total;
    uint32_t crc;
    ES_REQUIRE(block_len <= 0xffffffffu - ES_MIN_FRAME_LEN, ES_ERR_TOO_LARGE);
    ES_REQUIRE(payload_len <= 0xffffffffu - ES_MIN_FRAME_LEN - block_len, ES_ERR_TOO_LARGE);
    total = ES_MIN_FRAME_LEN + block_len + payload_len;
    ES_REQUIRE(total <= cap, ES_ERR_NO_ROOM);
    s_prelude(out, (uint32_t)total, (uint32_t)block_len);
    if (block_len) {
        memcpy(out + ES_PRELUDE_LEN, block, block_len);
    }
    if (payload_len) {
        memcpy(out + ES_PRELUDE_LEN + block_len, payload, payload_len);
    }
    /* One pass over prelude CRC, block and payload, continuing from the prelude CRC. */
    crc = es_crc32(es_load_be32(out + 8), out + 8, total - 12);
    es_store_be32(out + total - 4, crc);
    assert(es_load_be32(out) == total);
    return (int64_t)total;
}

int64_t es_encode_header(
    uint8_t *out,
    size_t cap,
    const uint8_t *name,
    size_t name_len,
    int type,
    int64_t ivalue,
    const uint8_t *value,
    size_t value_len) {
    size_t need, i;
    uint8_t *v;
    ES_REQUIRE(name_len >= 1 && name_len <= 255, ES_ERR_TOO_LARGE);
    ES_REQUIRE(type >= 0 && type < ES_TYPE_COUNT, ES_ERR_TOO_LARGE);
    switch (type) {
        case ES_TYPE_BOOL_TRUE:
        case ES_TYPE_BOOL_FALSE:
            need = 0;
            break;
        case ES_TYPE_BYTE:
            ES_REQUIRE(ivalue >= -128 && ivalue <= 127, ES_ERR_TOO_LARGE);
            need = 1;
            break;
        case ES_TYPE_INT16:
            ES_REQUIRE(ivalue >= -32768 && ivalue <= 32767, ES_ERR_TOO_LARGE);
            need = 2;
            break;
        case ES_TYPE_INT32:
            ES_REQUIRE(ivalue >= INT32_MIN && ivalue <= INT32_MAX, ES_ERR_TOO_LARGE);
            need = 4;
            break;
        case ES_TYPE_BYTES:
        case ES_TYPE_STRING:
            ES_REQUIRE(value_len <= 0xffffu, ES_ERR_TOO_LARGE);
            need = 2 + value_len;
            break;
        case ES_TYPE_UUID:
            ES_REQUIRE(value_len == 16, ES_ERR_TOO_LARGE);
            need = 16;
            break;
        default: /* ES_TYPE_INT64, ES_TYPE_TIMESTAMP */
            need = 8;
            break;
    }
    ES_REQUIRE(cap >= 2 + name_len && need <= cap - 2 - name_len, ES_ERR_NO_ROOM);
    out[0] = (uint8_t)name_len;
    memcpy(out + 1, name, name_len);
    out[1 + name_len] = (uint8_t)type;
    v = out + 2 + name_len;
    switch (type) {
        case ES_TYPE_BYTES:
        case ES_TYPE_STRING:
            v[0] = (uint8_t)(value_len >> 8);
            v[1] = (uint8_t)value_len;
            if (value_len) {
                memcpy(v + 2, value, value_len);
            }
            break;
        case ES_TYPE_UUID:
            memcpy(v, value, 16);
            break;
        default: /* integers, big endian, two's complement */
            for (i = 0; i < need; i++) {
                v[i] = (uint8_t)((uint64_t)ivalue >> (8 * (need - 1 - i)));
            }
            break;
    }
    return (int64_t)(2 + name_len + need);
}
