/*
 * batch: a prefix downloaded into a directory with this library's batch download through its C
 * ABI (oss_client_download_objects), the "objects" mode of bench/run.py while the example CLI
 * has no --prefix (the same call the CLI makes).
 *
 *   batch --endpoint URL --bucket B --prefix P --output-dir DIR [--connections N]
 *         [--objects-in-flight N] [--memory-budget BYTES]
 *
 * --connections: the client's max_connections (default 64: the batch keeps no more objects in
 * flight than the client has connections, and the library's default is 16); --objects-in-flight:
 * the request's max_objects_in_flight (default: the library's, 64); --memory-budget: the
 * client's budget (default: the library's, 64 MiB). Credentials: OSS_ACCESS_KEY_ID /
 * OSS_ACCESS_KEY_SECRET; HTTPS trust from SSL_CERT_FILE.
 *
 * Prints one JSON line on stdout: {"seconds": <the call>, "objects": <downloaded>, "skipped",
 * "failed", "bytes": <bytes written>}. Exit status 0 = every object downloaded, 1 = the batch
 * failed (the error and up to 5 failed keys on stderr), 2 = usage.
 */
#define _POSIX_C_SOURCE 200809L
#include <oss_ffi.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int usage(const char *msg) {
    fprintf(stderr, "batch: %s\nusage: batch --endpoint URL --bucket B --prefix P --output-dir DIR"
                    " [--connections N] [--objects-in-flight N] [--memory-budget BYTES]\n", msg);
    return 2;
}

static int fail(const char *what, oss_error_t *err) {
    fprintf(stderr, "batch: %s: %s: %s\n", what, oss_error_code(err), oss_error_message(err));
    oss_error_free(err);
    return 1;
}

int main(int argc, char **argv) {
    const char *endpoint = NULL, *bucket = NULL, *prefix = NULL, *dest = NULL;
    unsigned long connections = 64, in_flight = 0;
    unsigned long long budget = 0;
    const oss_client_t *client = NULL;
    oss_credentials_provider_t *creds = NULL;
    oss_batch_request_t *req = NULL;
    oss_batch_report_t *report = NULL;
    oss_config_t *cfg;
    oss_error_t *err;
    oss_batch_progress_t p;
    double start, seconds;
    int i, rc = 0;
    for (i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--endpoint")) endpoint = argv[i + 1];
        else if (!strcmp(argv[i], "--bucket")) bucket = argv[i + 1];
        else if (!strcmp(argv[i], "--prefix")) prefix = argv[i + 1];
        else if (!strcmp(argv[i], "--output-dir")) dest = argv[i + 1];
        else if (!strcmp(argv[i], "--connections")) connections = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--objects-in-flight")) in_flight = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--memory-budget")) budget = strtoull(argv[i + 1], NULL, 10);
        else return usage("unknown option");
    }
    if (i != argc || !endpoint || !bucket || !prefix || !dest) return usage("missing arguments");
    if (!connections || connections > 1024) return usage("--connections is 1..1024");

    err = oss_initialize_sdk();
    cfg = oss_config_new();
    if (!err) err = oss_credentials_provider_new_env(&creds);
    if (!err) err = oss_config_set_max_connections(cfg, (uint32_t)connections);
    if (!err && budget) err = oss_config_set_memory_budget(cfg, budget);
    if (!err) err = oss_client_new(endpoint, creds, cfg, &client);
    oss_config_free(cfg);
    oss_credentials_provider_free(creds);
    if (err) return fail("client", err);
    err = oss_batch_request_new_prefix(bucket, prefix, dest, &req);
    if (!err && in_flight) err = oss_batch_request_set_max_objects_in_flight(req, (uint32_t)in_flight);
    if (err) return fail("request", err);

    start = now();
    err = oss_client_download_objects(client, req, &report);
    seconds = now() - start;
    {
        oss_error_t *perr = oss_batch_report_progress(report, &p);
        if (perr) {
            oss_error_free(err);
            return fail("the batch's report", perr);
        }
    }
    if (err) {
        size_t n = oss_batch_report_failure_count(report), k;
        rc = fail("the batch", err);
        for (k = 0; k < n && k < 5; k++) {
            const oss_error_t *e = oss_batch_report_failure_error(report, k);
            fprintf(stderr, "batch:   %s: %s: %s\n", oss_batch_report_failure_key(report, k),
                    e ? oss_error_code(e) : "?", e ? oss_error_message(e) : "?");
        }
    }
    printf("{\"seconds\": %.6f, \"objects\": %llu, \"skipped\": %llu, \"failed\": %llu, \"bytes\": %llu}\n",
           seconds, (unsigned long long)p.objects_done, (unsigned long long)p.objects_skipped,
           (unsigned long long)p.objects_failed, (unsigned long long)p.bytes_done);
    oss_batch_report_free(report);
    oss_batch_request_free(req);
    oss_client_free(client);
    oss_shutdown_sdk();
    return rc;
}
