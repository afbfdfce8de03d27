/* The checkers' canary: proves that the valgrind and AddressSanitizer passes of scripts/test.sh
 * still report real faults after tests/valgrind.supp has silenced what memcheck cannot follow
 * (ring's AES-GCM assembly).
 *
 * Every mode first does real work through the library over TLS (a resumable download from a
 * TLS server, so ring's record encryption and decryption run in both directions and the
 * suppressions are in play), shuts the SDK down, and then, in the test program itself:
 *   clean     nothing: must pass under every checker (the harness does not fail everything)
 *   uninit    branches on uninitialised heap memory (valgrind: "Conditional jump or move depends
 *             on uninitialised value(s)"; ASan has no such check)
 *   leak      loses the only pointer to a heap block (valgrind: "definitely lost"; ASan: LeakSanitizer)
 *   overflow  reads one byte past a heap block (valgrind: "Invalid read"; ASan: heap-buffer-overflow)
 * Without a checker the planted faults are harmless and the program exits 0; tests/c_api.rs
 * (checkers_catch_planted_faults) asserts that each checker fails the run with its own report.
 *
 * Environment: OSS_TEST_TLS_ENDPOINT, OSS_TEST_TLS_CA, OSS_TEST_BUCKET, OSS_TEST_KEY, OSS_TEST_AK,
 * OSS_TEST_SK, OSS_TEST_DIR (a scratch directory), OSS_TEST_SIZE and OSS_TEST_CRC (the object's). */
#include "check.h"

#include <string.h>

static void download_over_tls(void) {
    oss_error_t *e = oss_initialize_sdk();
    oss_config_t *cfg = oss_config_new();
    oss_credentials_provider_t *creds = NULL;
    const oss_client_t *client = NULL;
    oss_download_request_t *req = NULL;
    oss_object_meta_t *meta = NULL;
    char path[4096];
    int64_t size = -1;
    uint64_t crc;

    snprintf(path, sizeof path, "%s/canary.bin", env("OSS_TEST_DIR"));
    if (!e) e = oss_config_set_ca_file(cfg, env("OSS_TEST_TLS_CA"));
    if (!e) e = oss_credentials_provider_new_static(env("OSS_TEST_AK"), env("OSS_TEST_SK"), NULL, &creds);
    if (!e) e = oss_client_new(env("OSS_TEST_TLS_ENDPOINT"), creds, cfg, &client);
    if (!e) e = oss_download_request_new(env("OSS_TEST_BUCKET"), env("OSS_TEST_KEY"), path, &req);
    if (!e) e = oss_download_request_set_thread_num(req, 3);
    if (!e) e = oss_download_request_set_part_size(req, 100 * 1024);
    if (!e) e = oss_client_resumable_download_object(client, req, &meta);
    CHECK(e == NULL, "download over TLS: %s: %s", e ? oss_error_code(e) : "",
          e ? oss_error_message(e) : "");
    crc = file_crc(path, &size);
    CHECK(size == strtoll(env("OSS_TEST_SIZE"), NULL, 10), "size %lld", (long long)size);
    CHECK(crc == strtoull(env("OSS_TEST_CRC"), NULL, 10), "crc %llu", (unsigned long long)crc);
    oss_error_free(e);
    oss_object_meta_free(meta);
    oss_download_request_free(req);
    oss_client_free(client);
    oss_credentials_provider_free(creds);
    oss_config_free(cfg);
    oss_shutdown_sdk();
}

/* The planted faults, not inlined so that the reports name them. `volatile` keeps the compiler
 * from proving anything about the values, so each faulty access really happens at -O1 (and
 * UBSan's compile-time object-size check does not see the overflow first: ASan must). */
static volatile size_t block_size = 13;

__attribute__((noinline)) static int plant_uninit(volatile int seed) {
    int *p = malloc(8 * sizeof *p);
    int hit = 0;
    if (!p) return 0;
    p[0] = seed;
    if (p[seed & 1 ? 0 : 5] == 42) { /* p[5] was never written; the call forces a real branch */
        fputs("canary: uninitialised value was 42\n", stderr);
        hit = 1;
    }
    free(p);
    return hit;
}

static void *lost;
__attribute__((noinline)) static int plant_leak(volatile int seed) {
    char *p = malloc(4096);
    if (!p) return 0;
    memset(p, seed, 4096);
    lost = p;
    lost = NULL; /* the only pointer is gone: definitely lost */
    return 0;
}

__attribute__((noinline)) static int plant_overflow(volatile int seed) {
    size_t n = block_size;
    char *p = malloc(n);
    int v;
    if (!p) return 0;
    memset(p, seed, n);
    v = ((volatile char *)p)[n]; /* one past the end of the block */
    free(p);
    return v == 0x7f;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "clean";
    int planted = 0;
    download_over_tls();
    if (strcmp(mode, "uninit") == 0) {
        planted = plant_uninit(2);
    } else if (strcmp(mode, "leak") == 0) {
        planted = plant_leak(2);
    } else if (strcmp(mode, "overflow") == 0) {
        planted = plant_overflow(2);
    } else if (strcmp(mode, "clean") != 0) {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    if (failures) {
        fprintf(stderr, "canary: %d check(s) failed\n", failures);
        return 1;
    }
    printf("canary %s: done (%d)\n", mode, planted);
    fflush(stdout); /* LeakSanitizer's report at exit ends the process without flushing stdio */
    return 0;
}
