/*
 * fuzz_decode.c - libFuzzer harness: frame validation and the header walk on raw bytes,
 * with the fuzzer choosing how the stream is cut into chunks.
 *
 * Input: stream bytes, then a control byte:
 *   bits 0-5  chunk size fed to the Decoder mirror (0: the whole stream at once)
 *   bit 6     small limits (payload 40, header block 48, header value 6) instead of the defaults
 *   bit 7     one-frame, two-header output arrays (exercises ES_STOP_FULL and
 *             ES_HEADERS_NOT_WALKED) instead of large ones
 * The stream is also run through every CRC32 path and the UTF-8 validator against
 * the harness's own reference implementations.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t ctrl = 0;
    size_t n = 0;
    uint8_t *stream = fz_split_input(data, size, &ctrl, &n);
    if (stream == NULL) {
        return 0;
    }
    fz_check_stream(
        stream, n, ctrl & 0x3f, (ctrl & 0x40) ? &FZ_SMALL_LIMITS : &FZ_DEFAULT_LIMITS,
        (ctrl & 0x80) ? &FZ_SMALL_ARRAYS : &FZ_BIG_ARRAYS);
    fz_check_crc_paths(stream, n, n >= 4 ? fz_be32(stream) : ctrl);
    free(stream);
    return 0;
}
