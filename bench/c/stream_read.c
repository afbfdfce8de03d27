/* Reads one object into memory through the prefetching reader (oss_reader_t) and discards it:
 * bench/stream.py's C row. Usage: stream_read ENDPOINT BUCKET KEY [MEMORY_BUDGET [MAX_WINDOW
 * [PART_SIZE [MAX_CONNECTIONS]]]] (0 = the default), credentials from OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET.
 * Prints one JSON line: bytes, seconds (open to the end, the whole-object CRC64 checked), verified. */
#define _POSIX_C_SOURCE 200809L
#include <oss_ffi.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int fail(const char *what, oss_error_t *e) {
    fprintf(stderr, "%s: %s\n", what, e ? oss_error_message(e) : "failed");
    oss_error_free(e);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: stream_read ENDPOINT BUCKET KEY [MEMORY_BUDGET [MAX_WINDOW [PART_SIZE "
                        "[MAX_CONNECTIONS]]]]\n");
        return 2;
    }
    uint64_t budget = argc > 4 ? strtoull(argv[4], NULL, 10) : 0;
    uint64_t window = argc > 5 ? strtoull(argv[5], NULL, 10) : 0;
    uint64_t part = argc > 6 ? strtoull(argv[6], NULL, 10) : 0;
    uint64_t connections = argc > 7 ? strtoull(argv[7], NULL, 10) : 0;
    oss_error_t *e;
    const oss_client_t *client = NULL;
    oss_credentials_provider_t *creds = NULL;
    oss_config_t *cfg = oss_config_new();
    oss_get_object_request_t *req = NULL;
    oss_reader_options_t *opts = NULL;
    oss_reader_t *r = NULL;
    oss_object_meta_t *meta = NULL;
    static unsigned char buf[1 << 20];
    size_t n = 0, total = 0;
    struct timespec t0, t1;

    if ((e = oss_initialize_sdk())) return fail("init", e);
    if (budget && (e = oss_config_set_memory_budget(cfg, budget))) return fail("budget", e);
    if (connections && (e = oss_config_set_max_connections(cfg, (uint32_t)connections))) return fail("connections", e);
    if ((e = oss_credentials_provider_new_env(&creds))) return fail("credentials", e);
    if ((e = oss_client_new(argv[1], creds, cfg, &client))) return fail("client", e);
    if ((e = oss_get_object_request_new(argv[2], argv[3], &req))) return fail("request", e);
    if ((e = oss_reader_options_new(&opts))) return fail("options", e);
    if (part && (e = oss_reader_options_set_part_size(opts, part))) return fail("part size", e);
    if (window && (e = oss_reader_options_set_max_window(opts, window))) return fail("window", e);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((e = oss_client_open_reader(client, req, opts, &r))) return fail("open", e);
    for (;;) {
        if ((e = oss_reader_read(r, buf, sizeof buf, &n))) return fail("read", e);
        if (n == 0) break;
        total += n;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if ((e = oss_reader_meta(r, &meta))) return fail("meta", e);
    printf("{\"bytes\": %zu, \"seconds\": %.6f, \"verified\": %s}\n", total,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
           oss_object_meta_verified(meta) ? "true" : "false");
    oss_object_meta_free(meta);
    oss_reader_free(r);
    oss_reader_options_free(opts);
    oss_get_object_request_free(req);
    oss_client_free(client);
    oss_credentials_provider_free(creds);
    oss_config_free(cfg);
    oss_shutdown_sdk();
    return 0;
}
