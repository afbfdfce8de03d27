/* Shared by the C test programs: a non-fatal CHECK that counts failures, required environment
 * variables, and the CRC64 of a file through the library's own oss_crc64. */
#ifndef OSS_FFI_TEST_CHECK_H
#define OSS_FFI_TEST_CHECK_H

#include "oss_ffi.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int failures = 0;

#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);      \
            fprintf(stderr, __VA_ARGS__);                                        \
            fprintf(stderr, "\n");                                               \
            failures++;                                                          \
        }                                                                        \
    } while (0)

/* The value of a required environment variable; exits with 2 when it is missing. */
static inline const char *env(const char *name) {
    const char *v = getenv(name);
    if (!v) {
        fprintf(stderr, "missing environment variable %s\n", name);
        exit(2);
    }
    return v;
}

/* CRC64 of a file's bytes and its size (-1 when it cannot be opened). */
static inline uint64_t file_crc(const char *path, int64_t *size_out) {
    FILE *f = fopen(path, "rb");
    uint64_t crc = 0;
    int64_t size = 0;
    unsigned char buf[65536];
    size_t n;
    *size_out = -1;
    if (!f) return 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        crc = oss_crc64(crc, buf, n);
        size += (int64_t)n;
    }
    fclose(f);
    *size_out = size;
    return crc;
}

#endif
