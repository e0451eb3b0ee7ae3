/*
 * eventstream.h - the C core of the eventstream codec (AWS event-stream,
 * application/vnd.amazon.eventstream).
 *
 * Plain C99.  No allocation, no global mutable state apart from the CRC32
 * dispatcher's cached CPU probe (a benign race: every thread computes and
 * stores the same value).  Every function is reentrant; nothing keeps a
 * pointer after it returns.  All memory (input, output, descriptor arrays) is
 * the caller's.
 *
 * Wire format (big endian):
 *   u32 total_length | u32 headers_length | u32 prelude_crc (CRC of bytes 0-7)
 *   header block (headers_length bytes) | payload | u32 message_crc
 *   header = u8 name_len, name (UTF-8), u8 type, value
 *
 * The region between the cffi markers below is also the cdef of the Python
 * binding (csrc/build_ffi.py extracts it), so it holds only what cffi's
 * parser accepts: plain integer #defines, fully declared structs, prototypes
 * with fixed-width types.  Offsets and lengths are size_t; results that Python
 * reads in bulk are int64_t arrays.
 */
#ifndef EVENTSTREAM_H
#define EVENTSTREAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* cffi:begin */

/* ------------------------------------------------------------ status codes
 * ES_OK and the faults.  The fault numbers are the FAULT_* numbers of
 * eventstream/errors.py; the comments say what the fault's a/b details hold.
 * Functions return int64_t (a count, a length or an es_status), so the values are
 * named here and the type is documentation.
 */
typedef enum es_status {
    ES_OK = 0,
    ES_ERR_PRELUDE_CRC = -1,       /* a = stored CRC, b = computed CRC */
    ES_ERR_MESSAGE_TOO_SHORT = -2, /* a = total_length */
    ES_ERR_HEADERS_LENGTH = -3,    /* a = headers_length, b = total_length */
    ES_ERR_HEADERS_LIMIT = -4,     /* a = headers_length, b = limit */
    ES_ERR_PAYLOAD_LIMIT = -5,     /* a = payload length, b = limit */
    ES_ERR_MESSAGE_CRC = -6,       /* a = stored CRC, b = computed CRC */
    ES_ERR_HEADER_NAME_EMPTY = -7,
    ES_ERR_HEADER_NAME_OVERRUN = -8, /* a = name length, b = bytes left after the length byte */
    ES_ERR_HEADER_NAME_UTF8 = -9,
    ES_ERR_HEADER_TYPE_MISSING = -10,
    ES_ERR_HEADER_TYPE_UNKNOWN = -11,  /* a = type byte */
    ES_ERR_HEADER_VALUE_OVERRUN = -12, /* a = bytes the value needs, b = bytes left */
    ES_ERR_HEADER_VALUE_LIMIT = -13,   /* a = value length, b = limit */
    ES_ERR_HEADER_VALUE_UTF8 = -14,
    ES_ERR_TRUNCATED = -15,          /* reported by the Python layer only */
    ES_ERR_TRAILING = -16,           /* reported by the Python layer only */
    ES_ERR_HEADER_COUNT_LIMIT = -17, /* a = headers so far including this one, b = limit */
    /* Usage errors (never a fault of the input bytes). */
    ES_ERR_NO_ROOM = -64,     /* an output array or buffer is too small */
    ES_ERR_TOO_LARGE = -65,   /* a message would exceed 4 GiB - 1 */
    ES_ERR_BAD_ARGUMENT = -66 /* an argument outside what the function accepts */
} es_status;

/* The ten header value types, by their wire code. */
typedef enum es_type {
    ES_TYPE_BOOL_TRUE = 0,
    ES_TYPE_BOOL_FALSE = 1,
    ES_TYPE_BYTE = 2,
    ES_TYPE_INT16 = 3,
    ES_TYPE_INT32 = 4,
    ES_TYPE_INT64 = 5,
    ES_TYPE_BYTES = 6,
    ES_TYPE_STRING = 7,
    ES_TYPE_TIMESTAMP = 8,
    ES_TYPE_UUID = 9,
    ES_TYPE_COUNT = 10
} es_type;

/* ------------------------------------------------------------ CRC32
 * CRC-32/ISO-HDLC as zlib.crc32: es_crc32(crc32(a), b, len(b)) == crc32(a + b),
 * starting from 0.  Pure functions.
 */
#define ES_CRC32_PORTABLE       1  /* slice-by-8 tables, any CPU */
#define ES_CRC32_PCLMUL         2  /* x86-64 PCLMULQDQ, 4 x 128-bit folding */
#define ES_CRC32_VPCLMUL_AVX2   4  /* x86-64 VPCLMULQDQ on 256-bit registers */
#define ES_CRC32_VPCLMUL_AVX512 8  /* x86-64 VPCLMULQDQ + AVX-512F on 512-bit registers */
#define ES_CRC32_ARMV8          16 /* AArch64 CRC32 instructions */

/* The CRC with the fastest path this CPU supports (probed once, then cached). */
uint32_t es_crc32(uint32_t crc, const uint8_t *data, size_t len);
/* The portable table implementation, whatever the CPU. */
uint32_t es_crc32_portable(uint32_t crc, const uint8_t *data, size_t len);
/* The CRC computed with one path (an ES_CRC32_* value).  A path that was
 * not compiled in or that this CPU lacks falls back to the portable one, so
 * callers check es_crc32_paths() first. */
uint32_t es_crc32_with(int path, uint32_t crc, const uint8_t *data, size_t len);
/* Bitmask of the ES_CRC32_* paths compiled in and supported by this CPU. */
int es_crc32_paths(void);
/* The path es_crc32() uses for large inputs (the highest bit of es_crc32_paths()). */
int es_crc32_active_path(void);

/* ------------------------------------------------------------ UTF-8
 * 1 if data[0:len] is valid UTF-8 exactly as Python's strict "utf-8" codec
 * decides (no overlongs, no surrogates U+D800-DFFF, nothing above U+10FFFF,
 * no truncated sequence), else 0.
 */
int es_utf8_valid(const uint8_t *data, size_t len);

/* ------------------------------------------------------------ decoding
 * Record layouts, in int64_t slots (so Python reads a whole array at once); each
 * slot has a name.
 */
typedef enum es_frame_slot {
    ES_FRAME_BLOCK = 0,       /* header block start */
    ES_FRAME_PAYLOAD = 1,     /* payload start (= header block end) */
    ES_FRAME_PAYLOAD_END = 2, /* payload end: the message CRC follows, the next message
                                 starts 4 bytes later */
    ES_FRAME_HEADERS = 3,     /* n >= 0: n descriptors were written for this frame (after
                                 those of the call's earlier frames), or ES_HEADERS_SAME or
                                 ES_HEADERS_NOT_WALKED */
    ES_FRAME_FIELDS = 4
} es_frame_slot;

typedef enum es_headers_info {
    /* The block's bytes equal those of the call's last non-empty block: not walked again. */
    ES_HEADERS_SAME = -1,
    /* Not walked (no descriptor array, or it might not fit): the caller walks it. */
    ES_HEADERS_NOT_WALKED = -2
} es_headers_info;

/* Header descriptor; offsets relative to the start of the header block. */
typedef enum es_header_slot {
    ES_HEADER_NAME = 0,      /* name start */
    ES_HEADER_NAME_END = 1,  /* name end (the type byte) */
    ES_HEADER_TYPE = 2,      /* an es_type */
    ES_HEADER_VALUE = 3,     /* integers (types 2-5, 8): the signed value; bytes, string and
                                UUID: the value's start; booleans: 0 */
    ES_HEADER_VALUE_END = 4, /* bytes, string and UUID: the value's end; else 0 */
    ES_HEADER_FIELDS = 5
} es_header_slot;

/* Fault record. */
typedef enum es_fault_slot {
    ES_FAULT_CODE = 0,   /* an ES_ERR_* status */
    ES_FAULT_OFFSET = 1, /* offset of the faulty field */
    ES_FAULT_FRAME = 2,  /* offset of the message */
    ES_FAULT_A = 3,      /* details: see the status codes */
    ES_FAULT_B = 4,
    /* Header faults (the message was complete and its CRCs right): where its header
     * block, payload and payload end are; -1 for other faults. */
    ES_FAULT_BLOCK = 5,
    ES_FAULT_PAYLOAD = 6,
    ES_FAULT_PAYLOAD_END = 7,
    ES_FAULT_FIELDS = 8
} es_fault_slot;

/* Why es_decode_batch returned (es_batch.stop). */
typedef enum es_stop {
    ES_STOP_DONE = 0, /* the input ends, the next message is incomplete, or max_frames were
                          decoded */
    ES_STOP_FULL = 1, /* an output array filled up: call again from the new position */
    ES_STOP_FAULT = 2 /* the next message is faulty: the fault record is filled */
} es_stop;

/* Decode limits: the longest payload, header block, and string or bytes header value,
 * and the most headers in one message. */
typedef struct es_limits {
    uint32_t max_payload;
    uint32_t max_header_block;
    uint32_t max_header_value;
    uint32_t max_headers;
} es_limits;

/*
 * Check the one message at buf[pos:end] up to (not including) its header walk: prelude
 * CRC, total_length >= 16, headers_length <= total_length - 16, the two length limits
 * (all as soon as 12 bytes are there), then, once the message is complete, its CRC.
 * Returns (total_length << 32) | headers_length when the message is complete and
 * valid so far (never below 2^36, since total_length >= 16); 0 when it is incomplete;
 * or -code (1 to 6) for a fault, whose record fault[0:5] is filled unless fault is NULL.
 * The caller walks the header block (es_walk_headers) if it needs to.
 */
uint64_t es_check_frame(const uint8_t *buf, size_t pos, size_t end, const es_limits *limits, int64_t *fault);

/*
 * decode()'s fast path: the payload start (12 + headers_length) if buf[0:len] is
 * exactly one message that passes every check of es_check_frame under these two
 * limits (the header walk is the caller's), else 0: a fault, too few bytes or bytes
 * after the message.  The caller then takes the general path, which says which.
 * The payload start is returned negated when the header block is not empty and
 * equals same[0:same_len] (the caller's last block: it then needs no slice and no
 * lookup).  Plain arguments, so the binding passes them without a struct.
 */
int64_t es_check_one(
    const uint8_t *buf,
    size_t len,
    uint32_t max_payload,
    uint32_t max_header_block,
    const uint8_t *same,
    size_t same_len);

/* What es_decode_batch reads (limits, where to write) and fills (the arrays).
 * Set once and reused: a call only writes the arrays.  One es_batch per call in
 * flight (threads must not share one). */
typedef struct es_batch {
    es_limits limits;
    uint32_t frame_cap;  /* frame records that fit in frames */
    uint32_t header_cap; /* descriptors that fit in headers; 0: walk no block */
    int64_t *frames;     /* frame_cap * ES_FRAME_FIELDS */
    int64_t *headers;    /* header_cap * ES_HEADER_FIELDS (may be NULL if header_cap is 0) */
    int64_t *fault;      /* ES_FAULT_FIELDS */
    int32_t stop;        /* out: why the last call returned, an es_stop */
} es_batch;

/*
 * Decode the complete messages in buf[pos:end], with the checks and their order of
 * the Python backend: prelude CRC, total_length >= 16, headers_length <=
 * total_length - 16, header block limit, payload limit (all as soon as 12 bytes are
 * there), then wait for the whole message, then the message CRC, then the header
 * walk (in the order of es_walk_headers).  max_frames < 0: no bound.
 *
 * Returns the number of messages decoded (frame records written) and sets
 * batch->stop.  The next message starts 4 bytes after the last payload end (or at pos
 * if none was decoded).  A block the
 * descriptors may have no room left for (it could hold min(len / 3, max_headers)
 * headers) is not walked: it ends the call (ES_STOP_FULL) unless it is the call's
 * first, which is then left to the caller (ES_HEADERS_NOT_WALKED).  So every block is
 * walked once, by the batch or by the caller.
 */
int64_t es_decode_batch(const uint8_t *buf, size_t pos, size_t end, int64_t max_frames, es_batch *batch);

/*
 * Walk (validate and describe) the header block block[0:len] of the message at
 * offset frame_off; block[0] is at offset base in the caller's stream, which only
 * the fault offsets use.  Checks per header, in order: more than limits->max_headers
 * headers; name length 0; name past the block; name UTF-8; type byte missing; type > 9;
 * value (or its u16 length) past the block; string/bytes length >
 * limits->max_header_value; value past the block; string UTF-8.  Returns the number
 * of headers (descriptors written), a fault code (fault record [0:5] filled), or
 * ES_ERR_NO_ROOM if more than cap headers (min(len / 3, max_headers) always
 * suffices).
 */
int64_t es_walk_headers(
    const uint8_t *block,
    size_t len,
    size_t base,
    size_t frame_off,
    const es_limits *limits,
    int64_t *headers,
    size_t cap,
    int64_t *fault);

/* Where es_walk_block writes, and under which limits: set once and reused; one per
 * call in flight (threads must not share one). */
typedef struct es_walk {
    es_limits limits;
    uint32_t cap;     /* descriptors that fit in headers */
    int64_t *headers; /* cap * ES_HEADER_FIELDS */
    int64_t *fault;   /* ES_FAULT_FIELDS */
} es_walk;

/*
 * es_walk_headers(block, len, 0, 0, &walk->limits, walk->headers, walk->cap,
 * walk->fault): the same walk, results and fault record, so a fault's offset is an
 * offset into block and its frame slot is 0 (the caller adds where they are); but
 * from block[start], a header boundary with count valid headers before it (0, 0:
 * the whole block).  The descriptors are those of the headers from start (offsets
 * into block), the count limit counts from count, and the return value is the
 * number of descriptors written (ES_ERR_BAD_ARGUMENT if start > len).  The
 * binding's entry point: a cffi call of five arguments costs ~500 instructions less
 * than one of eight.
 */
int64_t es_walk_block(const uint8_t *block, size_t len, size_t start, size_t count, const es_walk *walk);

/* ------------------------------------------------------------ encoding
 * Both CRCs of the message made of header block and payload (whose total length
 * the caller has checked fits in 32 bits): (prelude_crc << 32) | message_crc.
 */
uint64_t es_frame_crcs(const uint8_t *block, size_t block_len, const uint8_t *payload, size_t payload_len);

/*
 * Write the whole message (prelude, prelude CRC, block, payload, message CRC) to
 * out[0:cap].  Returns the length written, ES_ERR_NO_ROOM or ES_ERR_TOO_LARGE.
 * out must not overlap the inputs.
 */
int64_t es_encode_frame(
    uint8_t *out,
    size_t cap,
    const uint8_t *block,
    size_t block_len,
    const uint8_t *payload,
    size_t payload_len);

/*
 * Append one header to out[0:cap]: name (1-255 bytes, not checked for UTF-8), type
 * 0-9, and the value: ivalue for types 2-5 and 8 (range-checked), value[0:value_len]
 * for 6 and 7 (at most 65535 bytes) and 9 (exactly 16 bytes).  Returns the length
 * written, ES_ERR_NO_ROOM, or ES_ERR_TOO_LARGE for a name, value or type out of range.
 * For C tests and fuzzers; the Python package encodes header blocks in Python.
 */
int64_t es_encode_header(
    uint8_t *out,
    size_t cap,
    const uint8_t *name,
    size_t name_len,
    int type,
    int64_t ivalue,
    const uint8_t *value,
    size_t value_len);

/* cffi:end */

#ifdef __cplusplus
}
#endif

#endif /* EVENTSTREAM_H */
