/*
 * many: a list of objects downloaded concurrently through one client, with the asynchronous C API
 * from one thread, or with the blocking C API from a pool of threads (the "concurrent" mode of
 * bench/run.py).
 *
 *   many --endpoint URL --bucket B --list FILE --mode async|blocking [--pool N] [--threads N]
 *
 * FILE has one download per line: KEY, a tab, the output path.
 *   async     the calling thread starts every transfer (oss_client_start_resumable_download)
 *             and then waits for each (oss_transfer_wait); the library's runtime does the rest,
 *             its memory budget deciding how many run at once. No thread of ours per download.
 *   blocking  --pool N threads (default 16) each take the next line and call
 *             oss_client_resumable_download_object until the list is done.
 * --threads: parts in flight per download (default: the library's 4). The client's
 * max_connections is --pool (async: 16 unless --pool is given), like the official SDK's
 * maxConnections for its pool. Credentials: OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET; HTTPS
 * trust from SSL_CERT_FILE.
 *
 * Prints one JSON line on stdout: {"seconds": <from the first start to the last end>, "objects":
 * N, "bytes": <sum of the content lengths>}. Exit status 0 = all downloaded, 1 = a download
 * failed (its code and message on stderr), 2 = usage.
 */
#define _POSIX_C_SOURCE 200809L
#include <oss_ffi.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct job {
    char *key, *out;
};

static struct job *jobs;
static size_t njobs;
static const oss_client_t *client;
static const char *bucket;
static uint32_t threads;
static size_t next_job;
static int64_t total_bytes;
static int failed;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int usage(const char *msg) {
    fprintf(stderr, "many: %s\nusage: many --endpoint URL --bucket B --list FILE --mode async|blocking"
                    " [--pool N] [--threads N]\n", msg);
    return 2;
}

static void report(const char *key, const oss_error_t *err) {
    pthread_mutex_lock(&lock);
    failed = 1;
    fprintf(stderr, "many: %s: %s: %s\n", key, oss_error_code(err), oss_error_message(err));
    pthread_mutex_unlock(&lock);
}

static oss_error_t *request_for(const struct job *j, oss_download_request_t **out) {
    oss_error_t *err = oss_download_request_new(bucket, j->key, j->out, out);
    if (!err && threads) err = oss_download_request_set_thread_num(*out, threads);
    return err;
}

static void count(const oss_object_meta_t *meta) {
    pthread_mutex_lock(&lock);
    total_bytes += oss_object_meta_content_length(meta);
    pthread_mutex_unlock(&lock);
}

static void *worker(void *arg) {
    (void)arg;
    for (;;) {
        size_t i;
        oss_download_request_t *req = NULL;
        oss_object_meta_t *meta = NULL;
        oss_error_t *err;
        pthread_mutex_lock(&lock);
        i = next_job++;
        pthread_mutex_unlock(&lock);
        if (i >= njobs) return NULL;
        err = request_for(&jobs[i], &req);
        if (!err) err = oss_client_resumable_download_object(client, req, &meta);
        if (err) report(jobs[i].key, err);
        else count(meta);
        oss_error_free(err);
        oss_object_meta_free(meta);
        oss_download_request_free(req);
    }
}

static int run_async(void) {
    const oss_transfer_t **t = calloc(njobs, sizeof *t);
    size_t i;
    if (!t) return usage("out of memory");
    for (i = 0; i < njobs; i++) {
        oss_download_request_t *req = NULL;
        oss_error_t *err = request_for(&jobs[i], &req);
        /* No completion callback: this thread waits for each transfer below. */
        if (!err) err = oss_client_start_resumable_download(client, req, NULL, NULL, NULL, &t[i]);
        if (err) report(jobs[i].key, err);
        oss_error_free(err);
        oss_download_request_free(req); /* the start call copied it */
    }
    for (i = 0; i < njobs; i++) {
        oss_object_meta_t *meta = NULL;
        oss_error_t *err;
        if (!t[i]) continue;
        oss_transfer_wait(t[i], -1);
        err = oss_transfer_result(t[i], &meta);
        if (err) report(jobs[i].key, err);
        else count(meta);
        oss_error_free(err);
        oss_object_meta_free(meta);
        oss_transfer_free(t[i]);
    }
    free(t);
    return 0;
}

static int read_list(const char *path) {
    FILE *f = fopen(path, "r");
    char line[8192];
    size_t cap = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t'), *nl;
        if (!tab) continue;
        *tab = '\0';
        if ((nl = strchr(tab + 1, '\n'))) *nl = '\0';
        if (njobs == cap) {
            struct job *more = realloc(jobs, (cap = cap ? 2 * cap : 256) * sizeof *jobs);
            if (!more) break;
            jobs = more;
        }
        jobs[njobs].key = strdup(line);
        jobs[njobs].out = strdup(tab + 1);
        njobs++;
    }
    fclose(f);
    return njobs > 0;
}

int main(int argc, char **argv) {
    const char *endpoint = NULL, *list = NULL, *mode = NULL;
    unsigned long pool = 0;
    oss_credentials_provider_t *creds = NULL;
    oss_config_t *cfg;
    oss_error_t *err;
    double start, seconds;
    int i, rc = 0;
    for (i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--endpoint")) endpoint = argv[i + 1];
        else if (!strcmp(argv[i], "--bucket")) bucket = argv[i + 1];
        else if (!strcmp(argv[i], "--list")) list = argv[i + 1];
        else if (!strcmp(argv[i], "--mode")) mode = argv[i + 1];
        else if (!strcmp(argv[i], "--pool")) pool = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--threads")) threads = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        else return usage("unknown option");
    }
    if (i != argc || !endpoint || !bucket || !list || !mode) return usage("missing arguments");
    if (strcmp(mode, "async") && strcmp(mode, "blocking")) return usage("--mode is async or blocking");
    if (!read_list(list)) return usage("cannot read the list");
    if (!pool) pool = 16;
    if (pool > 1024) return usage("--pool is at most 1024");

    err = oss_initialize_sdk();
    cfg = oss_config_new();
    if (!err) err = oss_credentials_provider_new_env(&creds);
    if (!err) err = oss_config_set_max_connections(cfg, (uint32_t)pool);
    if (!err) err = oss_client_new(endpoint, creds, cfg, &client);
    oss_config_free(cfg);
    oss_credentials_provider_free(creds);
    if (err) {
        fprintf(stderr, "many: %s: %s\n", oss_error_code(err), oss_error_message(err));
        oss_error_free(err);
        return 1;
    }

    start = now();
    if (!strcmp(mode, "async")) {
        rc = run_async();
    } else {
        pthread_t *tids = calloc(pool, sizeof *tids);
        unsigned long n;
        if (!tids) return usage("out of memory");
        for (n = 0; n < pool; n++)
            if (pthread_create(&tids[n], NULL, worker, NULL)) break;
        while (n > 0) pthread_join(tids[--n], NULL);
        free(tids);
    }
    seconds = now() - start;
    printf("{\"seconds\": %.6f, \"objects\": %zu, \"bytes\": %lld}\n", seconds, njobs, (long long)total_bytes);
    oss_client_free(client);
    oss_shutdown_sdk();
    for (size_t j = 0; j < njobs; j++) {
        free(jobs[j].key);
        free(jobs[j].out);
    }
    free(jobs);
    return rc ? rc : failed;
}
