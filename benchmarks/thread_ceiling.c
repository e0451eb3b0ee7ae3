/* What two threads can reach on this machine for the C work of a 16 MiB decode,
 * with no GIL at all: the ceiling for issue 10's "2 threads vs 1" row.
 * Built and run by thread_ceiling.py; links csrc's es_crc32. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eventstream.h"

#define MESSAGE_BYTES (16u << 20)
#define SMALL_BYTES   (16u << 10) /* fits in L1/L2: no memory traffic */

typedef enum ceiling_mode {
    CEILING_CRC_SMALL,  /* CRC of a small buffer: do 2 threads get 2 cores? */
    CEILING_CRC,        /* CRC of the 16 MiB message: decode's check */
    CEILING_COPY_FRESH, /* copy into fresh memory, freed at once: the payload, dropped */
    CEILING_COPY_KEPT,  /* the same, each copy freed after the next: the payload, kept */
    CEILING_DECODE,     /* CRC, then copy into fresh memory: a whole decode, dropped */
    CEILING_MODE_COUNT
} ceiling_mode;

static const char *const ceiling_names[CEILING_MODE_COUNT] = {
    "crc32 of 16 KiB (compute only)", "crc32 of 16 MiB", "copy 16 MiB, dropped", "copy 16 MiB, kept",
    "crc32 + copy 16 MiB, dropped"};

typedef struct ceiling_job {
    ceiling_mode mode;
    int calls;
    uint8_t *input;
    uint32_t sink; /* keeps the work observable */
} ceiling_job;

static double ceiling_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint8_t *ceiling_copy(const uint8_t *input) {
    uint8_t *out = malloc(MESSAGE_BYTES);
    if (out == NULL) {
        perror("malloc");
        exit(2);
    }
    memcpy(out, input, MESSAGE_BYTES);
    return out;
}

static void *ceiling_work(void *arg) {
    ceiling_job *job = arg;
    uint8_t *kept = NULL;
    /* A local, stored once at the end: the two jobs' sink fields share a cache
     * line, and writing them per CRC would make the threads contend for it. */
    uint32_t sink = 0;
    for (int i = 0; i < job->calls; i++) {
        switch (job->mode) {
            case CEILING_CRC_SMALL:
                for (unsigned j = 0; j < MESSAGE_BYTES / SMALL_BYTES; j++) {
                    sink ^= es_crc32(sink, job->input, SMALL_BYTES);
                }
                break;
            case CEILING_CRC:
                sink ^= es_crc32(0, job->input, MESSAGE_BYTES);
                break;
            case CEILING_DECODE:
                sink ^= es_crc32(0, job->input, MESSAGE_BYTES);
                /* fall through */
            case CEILING_COPY_FRESH: {
                uint8_t *out = ceiling_copy(job->input);
                sink ^= out[MESSAGE_BYTES / 2];
                free(out);
                break;
            }
            case CEILING_COPY_KEPT: {
                uint8_t *out = ceiling_copy(job->input);
                sink ^= out[MESSAGE_BYTES / 2];
                free(kept);
                kept = out;
                break;
            }
            default:
                break;
        }
    }
    free(kept);
    job->sink = sink;
    return NULL;
}

/* Messages per second of `threads` threads, each with its own input. */
static double ceiling_rate(ceiling_mode mode, int threads, int calls) {
    pthread_t ids[2];
    ceiling_job jobs[2];
    for (int t = 0; t < threads; t++) {
        jobs[t] = (ceiling_job){mode, calls, malloc(MESSAGE_BYTES), 0};
        if (jobs[t].input == NULL) {
            perror("malloc");
            exit(2);
        }
        memset(jobs[t].input, 0x5a + t, MESSAGE_BYTES);
    }
    double start = ceiling_now();
    for (int t = 0; t < threads; t++) {
        pthread_create(&ids[t], NULL, ceiling_work, &jobs[t]);
    }
    for (int t = 0; t < threads; t++) {
        pthread_join(ids[t], NULL);
    }
    double wall = ceiling_now() - start;
    for (int t = 0; t < threads; t++) {
        free(jobs[t].input);
    }
    return threads * calls / wall;
}

int main(int argc, char **argv) {
    int calls = argc > 1 ? atoi(argv[1]) : 20;
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    printf("| C work per 16 MiB message | 1 thread (ms) | 2 threads (ms per message) | 2 vs 1 |\n");
    printf("|---|---|---|---|\n");
    for (int mode = 0; mode < CEILING_MODE_COUNT; mode++) {
        double one = 0, two = 0;
        for (int r = 0; r < reps; r++) { /* best of reps: the least disturbed */
            double rate = ceiling_rate((ceiling_mode)mode, 1, calls);
            one = rate > one ? rate : one;
            rate = ceiling_rate((ceiling_mode)mode, 2, calls);
            two = rate > two ? rate : two;
        }
        printf("| %s | %.3f | %.3f | %.2fx |\n", ceiling_names[mode], 1e3 / one, 1e3 / two, two / one);
    }
    return 0;
}
