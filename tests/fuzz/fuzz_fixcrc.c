/*
 * fuzz_fixcrc.c - libFuzzer harness: like fuzz_decode, but the prelude CRC of every
 * message (and, with bit 7, the message CRC of every complete one) is rewritten to the
 * right value first, so mutations get past the checksums into the length checks, the
 * limits and the header walk.
 *
 * Input: stream bytes, then a control byte:
 *   bits 0-5  chunk size fed to the Decoder mirror (0: the whole stream at once)
 *   bit 6     small limits instead of the defaults
 *   bit 7     repair the message CRCs too
 * Odd stream lengths use one-frame, two-header output arrays; even ones large arrays.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t ctrl = 0;
    size_t n = 0;
    uint8_t *stream = fz_split_input(data, size, &ctrl, &n);
    if (stream == NULL) {
        return 0;
    }
    fz_repair_crcs(stream, n, ctrl & 0x80);
    fz_check_stream(
        stream, n, ctrl & 0x3f, (ctrl & 0x40) ? &FZ_SMALL_LIMITS : &FZ_DEFAULT_LIMITS,
        (n & 1) ? &FZ_SMALL_ARRAYS : &FZ_BIG_ARRAYS);
    free(stream);
    return 0;
}
