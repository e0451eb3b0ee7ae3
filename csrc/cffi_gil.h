/*
 * When the binding lets other Python threads run: compiled only into the cffi module
 * (build_ffi.py puts it in the module's preamble, after Python.h and eventstream.h);
 * the core (csrc/es_*.c) never includes it and stays free of Python.
 *
 * cffi releases the GIL around every C call.  For the small inputs of most calls
 * (a message of a few KiB) that costs more than the C work itself: releasing and
 * taking the GIL back are mutex and condition-variable operations, about 470
 * instructions and 70 ns of a ~790 ns decode() (benchmarks/instructions.py; the
 * time is more than the instructions say, as they are atomic operations).  So:
 *
 * - Each entry point that reads a caller-sized input is wrapped here (not
 *   es_encode_frame, whose work the binding's 64 KiB scratch bounds, nor
 *   es_encode_header; tests/test_c_backend.py checks the list): below
 *   ES_GIL_FREE_FROM bytes it runs with the GIL held; from that size on it
 *   releases the GIL around the C work, as before, so big CRCs and copies in
 *   several threads still run at once.  The macros at the end rename the entry
 *   points to these wrappers in the code cffi generates.
 * - The generated wrappers' own GIL release and errno save/restore become no-ops
 *   (the core never sets errno, and the package never reads ffi.errno; an entry
 *   point that reports through errno would need cffi's bookkeeping back).
 *
 * Only cffi's CPython entry points (lib.es_* on CPython) hold the GIL when they
 * call: the renaming macros pass the wrappers es_gil_held, which is 1 only inside
 * those entry points (a local that the redefined Py_BEGIN_ALLOW_THREADS declares,
 * shadowing the file-scope 0).  Everything else, PyPy's direct calls and calls
 * through ffi.addressof, passes 0 and never touches the GIL.  (A build with
 * -Wshadow -Werror rejects that shadowing; the project's strict flags do not use it.)
 */
#ifndef ES_CFFI_GIL_H
#define ES_CFFI_GIL_H

/* Inputs from this size release the GIL: at least ~2 us of CRC on the fastest
 * path, a few times the cost of the release.  Below it a call holds the GIL for
 * at most ~90 us (a walk of 21,845 one-byte headers; portable CRC ~35 us), far
 * under the interpreter's 5 ms switch interval. */
#define ES_GIL_FREE_FROM 65536u

/* How many calls released the GIL (for tests: counted with the GIL held, so
 * exact; on a free-threaded build, where nothing serialises it, approximate). */
static unsigned long es_gil_free_count = 0;

static unsigned long es_gil_free_calls(void) {
    return es_gil_free_count;
}

/* 0 outside cffi's CPython entry points, which declare a local 1 (see the end). */
static const int es_gil_held = 0;

#define ES_GIL_CALL(size, call) \
    do { \
        if (!held || (size) < ES_GIL_FREE_FROM) { \
            call; \
        } else { \
            es_gil_free_count++; \
            PyThreadState *es_gil_saved_ = PyEval_SaveThread(); \
            call; \
            PyEval_RestoreThread(es_gil_saved_); \
        } \
    } while (0)

static uint32_t es_gil_crc32(int held, uint32_t crc, const uint8_t *data, size_t len) {
    uint32_t r;
    ES_GIL_CALL(len, r = es_crc32(crc, data, len));
    return r;
}

static uint32_t es_gil_crc32_portable(int held, uint32_t crc, const uint8_t *data, size_t len) {
    uint32_t r;
    ES_GIL_CALL(len, r = es_crc32_portable(crc, data, len));
    return r;
}

static uint32_t es_gil_crc32_with(int held, int path, uint32_t crc, const uint8_t *data, size_t len) {
    uint32_t r;
    ES_GIL_CALL(len, r = es_crc32_with(path, crc, data, len));
    return r;
}

static int es_gil_utf8_valid(int held, const uint8_t *data, size_t len) {
    int r;
    ES_GIL_CALL(len, r = es_utf8_valid(data, len));
    return r;
}

static uint64_t es_gil_check_frame(
    int held, const uint8_t *buf, size_t pos, size_t end, const es_limits *limits, int64_t *fault) {
    uint64_t r;
    ES_GIL_CALL(pos < end ? end - pos : 0, r = es_check_frame(buf, pos, end, limits, fault));
    return r;
}

static int64_t es_gil_check_one(
    int held,
    const uint8_t *buf,
    size_t len,
    uint32_t max_payload,
    uint32_t max_header_block,
    const uint8_t *same,
    size_t same_len) {
    int64_t r;
    ES_GIL_CALL(len, r = es_check_one(buf, len, max_payload, max_header_block, same, same_len));
    return r;
}

static uint64_t es_gil_check_next(
    int held, const uint8_t *buf, size_t total, size_t end, uint32_t max_payload, uint32_t max_header_block) {
    uint64_t r;
    ES_GIL_CALL(total, r = es_check_next(buf, total, end, max_payload, max_header_block));
    return r;
}

static int64_t es_gil_decode_batch(
    int held, const uint8_t *buf, size_t pos, size_t end, int64_t max_frames, es_batch *batch) {
    int64_t r;
    ES_GIL_CALL(pos < end ? end - pos : 0, r = es_decode_batch(buf, pos, end, max_frames, batch));
    return r;
}

static int64_t es_gil_walk_headers(
    int held,
    const uint8_t *block,
    size_t len,
    size_t base,
    size_t frame_off,
    const es_limits *limits,
    int64_t *headers,
    size_t cap,
    int64_t *fault) {
    int64_t r;
    ES_GIL_CALL(len, r = es_walk_headers(block, len, base, frame_off, limits, headers, cap, fault));
    return r;
}

static int64_t es_gil_walk_block(
    int held, const uint8_t *block, size_t len, size_t start, size_t count, const es_walk *walk) {
    int64_t r;
    ES_GIL_CALL(len, r = es_walk_block(block, len, start, count, walk));
    return r;
}

static uint64_t es_gil_frame_crcs(
    int held, const uint8_t *block, size_t block_len, const uint8_t *payload, size_t payload_len) {
    uint64_t r;
    ES_GIL_CALL(block_len + payload_len, r = es_frame_crcs(block, block_len, payload, payload_len));
    return r;
}

/* The code cffi generates below calls the wrappers under the entry points' names. */
#define es_crc32(...)          es_gil_crc32(es_gil_held, __VA_ARGS__)
#define es_crc32_portable(...) es_gil_crc32_portable(es_gil_held, __VA_ARGS__)
#define es_crc32_with(...)     es_gil_crc32_with(es_gil_held, __VA_ARGS__)
#define es_utf8_valid(...)     es_gil_utf8_valid(es_gil_held, __VA_ARGS__)
#define es_check_frame(...)    es_gil_check_frame(es_gil_held, __VA_ARGS__)
#define es_check_one(...)      es_gil_check_one(es_gil_held, __VA_ARGS__)
#define es_check_next(...)     es_gil_check_next(es_gil_held, __VA_ARGS__)
#define es_decode_batch(...)   es_gil_decode_batch(es_gil_held, __VA_ARGS__)
#define es_walk_headers(...)   es_gil_walk_headers(es_gil_held, __VA_ARGS__)
#define es_walk_block(...)     es_gil_walk_block(es_gil_held, __VA_ARGS__)
#define es_frame_crcs(...)     es_gil_frame_crcs(es_gil_held, __VA_ARGS__)

/* cffi's own GIL release and errno bookkeeping around each call: none (see above). */
#undef Py_BEGIN_ALLOW_THREADS
#define Py_BEGIN_ALLOW_THREADS \
    { \
        const int es_gil_held = 1; \
        (void)es_gil_held;
#undef Py_END_ALLOW_THREADS
#define Py_END_ALLOW_THREADS }
#undef _cffi_restore_errno
#define _cffi_restore_errno() ((void)0)
#undef _cffi_save_errno
#define _cffi_save_errno() ((void)0)

#endif
