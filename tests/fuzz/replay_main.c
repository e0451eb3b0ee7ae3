/*
 * replay_main.c - run inputs through one harness without libFuzzer, for gcc, valgrind
 * or a plain ASan build:
 *
 *   make -C tests/fuzz replay            # builds replay_decode, replay_fixcrc, replay_roundtrip
 *   tests/fuzz/build/replay_decode FILE_OR_DIR...
 *
 * Each input is copied into a heap block of exactly its size, so a read past the end
 * is a heap overflow that ASan or valgrind reports.  Exit status 0 when every input
 * ran; a failed check aborts (as under libFuzzer).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int s_run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    long len;
    uint8_t *buf;
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        perror(path);
        if (f) {
            fclose(f);
        }
        return 1;
    }
    buf = malloc(len ? (size_t)len : 1);
    if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        perror(path);
        fclose(f);
        free(buf);
        return 1;
    }
    fclose(f);
    if (len == 0) {
        free(buf);
        buf = NULL; /* libFuzzer passes a non-dereferenceable pointer for empty inputs */
    }
    LLVMFuzzerTestOneInput(buf, (size_t)len);
    free(buf);
    return 0;
}

static int s_run_path(const char *path, long *count) {
    struct stat st;
    DIR *dir;
    struct dirent *e;
    int failed = 0;
    if (stat(path, &st) != 0) {
        perror(path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        ++*count;
        return s_run_file(path);
    }
    dir = opendir(path);
    if (dir == NULL) {
        perror(path);
        return 1;
    }
    while ((e = readdir(dir)) != NULL) {
        char *child;
        size_t n;
        if (e->d_name[0] == '.') {
            continue;
        }
        n = strlen(path) + strlen(e->d_name) + 2;
        child = malloc(n);
        if (child == NULL) {
            abort();
        }
        snprintf(child, n, "%s/%s", path, e->d_name);
        failed |= s_run_path(child, count);
        free(child);
    }
    closedir(dir);
    return failed;
}

int main(int argc, char **argv) {
    int i, failed = 0;
    long count = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
        return 2;
    }
    for (i = 1; i < argc; i++) {
        failed |= s_run_path(argv[i], &count);
    }
    printf("%s: %ld inputs replayed\n", argv[0], count);
    return failed;
}
