/*
 * bench_crc.c - CRC32 throughput of each compiled path, measured in C (no call
 * overhead from Python).  make -C tests/c bench
 *
 * GB/s = bytes / (best of 7 timed loops, CPU time of this process).
 */
#define _POSIX_C_SOURCE 199309L
#include "eventstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(void) {
    static const size_t sizes[] = {64, 4096, 1u << 20, 16u << 20};
    static const char *names[] = {"64 B", "4 KiB", "1 MiB", "16 MiB"};
    static const int paths[] = {ES_CRC32_PORTABLE, ES_CRC32_PCLMUL, ES_CRC32_VPCLMUL_AVX2,
                                ES_CRC32_VPCLMUL_AVX512, ES_CRC32_ARMV8};
    static const char *pnames[] = {"portable", "pclmul", "vpclmul-avx2", "vpclmul-avx512", "armv8"};
    size_t max = 16u << 20, i, s;
    unsigned p;
    uint8_t *buf = malloc(max);
    volatile uint32_t sink = 0;
    if (buf == NULL) {
        return 1;
    }
    for (i = 0; i < max; i++) {
        buf[i] = (uint8_t)(i * 2654435761u >> 13);
    }
    printf("%-16s", "GB/s");
    for (s = 0; s < 4; s++) {
        printf("%10s", names[s]);
    }
    printf("\n");
    for (p = 0; p < sizeof paths / sizeof paths[0]; p++) {
        if (!(es_crc32_paths() & paths[p])) {
            continue;
        }
        printf("%-16s", pnames[p]);
        for (s = 0; s < 4; s++) {
            size_t n = sizes[s], reps = (256u << 20) / n, r;
            double best = 1e9;
            int k;
            if (paths[p] == ES_CRC32_PORTABLE) {
                reps /= 16;
            }
            for (k = 0; k < 7; k++) {
                double t0 = now();
                uint32_t c = 0;
                for (r = 0; r < reps; r++) {
                    c = es_crc32_with(paths[p], c, buf, n);
                }
                sink ^= c;
                t0 = now() - t0;
                if (t0 < best) {
                    best = t0;
                }
            }
            printf("%10.2f", (double)n * (double)reps / best / 1e9);
        }
        printf("\n");
    }
    free(buf);
    return (int)(sink & 0);
}
