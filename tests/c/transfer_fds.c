/* Transfers waiting for room hold no descriptor: admission (a slot of the client's memory budget)
 * comes before a download or a GetObject to a file opens its directories, takes its lock or
 * connects. OSS_TEST_MANY transfers (downloads, some resumable with a checkpoint directory, and
 * every tenth a GetObject to a file) are started at once on one client, under a soft limit of
 * OSS_TEST_FD_LIMIT descriptors set here, while OSS_TEST_BLOCKING threads make blocking downloads
 * and GetObjects to a file on the same client and a watcher thread of the application opens and
 * writes a file of its own in a loop. Every transfer and every blocking call must succeed with the
 * right bytes, no open() of the application may fail, and the process must never hold more than
 *
 *   bound = base + OSS_TEST_ADMITTED * 8 + 2
 *
 * descriptors, counted in /proc/self/fd by the watcher (continuously) and by every completion
 * and progress callback: `base` is what the process holds once its client exists, before any
 * transfer; OSS_TEST_ADMITTED is how many calls the budget admits at once (the harness computes
 * it: MemoryBudget::capacity(admission_cost())); each admitted call holds at most 8: its
 * destination directory, its checkpoint directory, its lock file, its temp file (twice: buffered
 * and O_DIRECT), the checkpoint file while it is written, its connection, and one idle
 * connection of the pool per slot; 2 are the application's own (the /proc/self/fd directory being
 * read, its file). Before admission came first, each queued transfer held 3 or more, and
 * thousands of them ran the process out of descriptors ("Too many open files").
 *
 * Environment: OSS_TEST_ENDPOINT, OSS_TEST_BUCKET, OSS_TEST_KEY (the object, of OSS_TEST_SIZE
 * bytes, whose reference copy is OSS_TEST_DIR/ref.bin), OSS_TEST_AK, OSS_TEST_SK, OSS_TEST_DIR,
 * OSS_TEST_MANY, OSS_TEST_BLOCKING, OSS_TEST_FD_LIMIT, OSS_TEST_BUDGET, OSS_TEST_ADMITTED.
 * Prints the highest count seen and "transfer_fds: all checks passed". */
#define _DEFAULT_SOURCE 1 /* dirfd under -std=c11 */
#include "check.h"
#include "oss_ffi.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *dir, *bucket, *key;
static const oss_client_t *client;
static unsigned char *ref;
static size_t ref_len;

static atomic_int highest = 0;       /* the most descriptors seen at once */
static atomic_int app_failures = 0;  /* open() calls of the application that failed */
static atomic_int samples = 0;
static atomic_int stop_watcher = 0;
static atomic_int completions = 0;

static void ok(const char *what, oss_error_t *err) {
    CHECK(err == NULL, "%s: %s: %s", what, err ? oss_error_code(err) : "",
          err ? oss_error_message(err) : "");
    oss_error_free(err);
}

/* Descriptors open now (the directory stream's own not counted); -1 when /proc/self/fd cannot be
 * opened (counted as a failure of the application). */
static int count_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;
    if (!d) {
        atomic_fetch_add(&app_failures, 1);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') n++;
    }
    closedir(d);
    return n - 1;
}

static void sample(void) {
    int n = count_fds(), h;
    atomic_fetch_add(&samples, 1);
    h = atomic_load(&highest);
    while (n > h && !atomic_compare_exchange_weak(&highest, &h, n)) {
    }
}

/* The application's own work meanwhile: count, and open, write and close a file of its own. */
static void *watcher(void *arg) {
    char path[4096];
    (void)arg;
    snprintf(path, sizeof path, "%s/app.log", dir);
    while (!atomic_load(&stop_watcher)) {
        int fd;
        sample();
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0) {
            fprintf(stderr, "the application's open failed: %s\n", strerror(errno));
            atomic_fetch_add(&app_failures, 1);
            continue;
        }
        if (write(fd, "x", 1) != 1) atomic_fetch_add(&app_failures, 1);
        close(fd);
        nanosleep(&(struct timespec){0, 1000000L}, NULL); /* leave the CPU to the transfers */
    }
    return NULL;
}

static int same_as_ref(const char *path) {
    unsigned char *buf = malloc(ref_len + 1);
    FILE *f = fopen(path, "rb");
    size_t n = 0;
    int same;
    if (!f) {
        atomic_fetch_add(&app_failures, errno == EMFILE);
        free(buf);
        return 0;
    }
    n = fread(buf, 1, ref_len + 1, f);
    fclose(f);
    same = n == ref_len && memcmp(buf, ref, ref_len) == 0;
    free(buf);
    return same;
}

static void done(const oss_transfer_t *t, const oss_error_t *err, void *ud) {
    (void)t;
    (void)ud;
    if (err) {
        fprintf(stderr, "transfer failed: %s: %s\n", oss_error_code(err), oss_error_message(err));
    }
    sample();
    atomic_fetch_add(&completions, 1);
}

static void progress(size_t inc, int64_t transferred, int64_t total, void *ud) {
    (void)inc;
    (void)transferred;
    (void)total;
    (void)ud;
    sample();
}

/* A download request to `dest`, resumable (checkpoint directory) when `ckpt`. */
static oss_download_request_t *download_request(const char *dest, int ckpt) {
    char ckpt_dir[4096];
    oss_download_request_t *req = NULL;
    ok("download request", oss_download_request_new(bucket, key, dest, &req));
    ok("threads", oss_download_request_set_thread_num(req, 2));
    ok("progress", oss_download_request_set_progress(req, progress, NULL, NULL));
    if (ckpt) {
        snprintf(ckpt_dir, sizeof ckpt_dir, "%s/ckpt", dir);
        ok("checkpoint dir", oss_download_request_set_checkpoint_dir(req, ckpt_dir));
    }
    return req;
}

typedef struct {
    int idx, calls, succeeded;
} blocking_t;

/* Blocking calls from many threads on the same client: admitted through the same budget. */
static void *blocking_thread(void *arg) {
    blocking_t *b = arg;
    char dest[4096];
    int i;
    for (i = 0; i < b->calls; i++) {
        oss_error_t *err;
        snprintf(dest, sizeof dest, "%s/blocking/%d-%d.bin", dir, b->idx, i);
        if (i % 2) {
            oss_get_object_request_t *greq = NULL;
            ok("get request", oss_get_object_request_new(bucket, key, &greq));
            err = oss_client_get_object_to_file(client, greq, dest, NULL);
            oss_get_object_request_free(greq);
        } else {
            oss_download_request_t *req = download_request(dest, i % 4 == 2);
            err = oss_client_resumable_download_object(client, req, NULL);
            oss_download_request_free(req);
        }
        if (err) {
            fprintf(stderr, "blocking call failed: %s: %s\n", oss_error_code(err),
                    oss_error_message(err));
            oss_error_free(err);
            continue;
        }
        sample();
        b->succeeded += same_as_ref(dest);
    }
    return NULL;
}

int main(void) {
    int many = atoi(env("OSS_TEST_MANY")), nblocking = atoi(env("OSS_TEST_BLOCKING"));
    int limit = atoi(env("OSS_TEST_FD_LIMIT")), admitted = atoi(env("OSS_TEST_ADMITTED"));
    uint64_t budget = strtoull(env("OSS_TEST_BUDGET"), NULL, 10);
    oss_credentials_provider_t *creds = NULL;
    oss_config_t *cfg = oss_config_new();
    const oss_transfer_t **ts = calloc((size_t)many, sizeof *ts);
    pthread_t watch, *threads = calloc((size_t)nblocking, sizeof *threads);
    blocking_t *bs = calloc((size_t)nblocking, sizeof *bs);
    struct rlimit rl;
    char path[4096];
    int i, base, bound, succeeded = 0, blocking_ok = 0, blocking_calls = 0;
    FILE *f;

    dir = env("OSS_TEST_DIR");
    bucket = env("OSS_TEST_BUCKET");
    key = env("OSS_TEST_KEY");
    snprintf(path, sizeof path, "%s/ref.bin", dir);
    f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "missing %s\n", path);
        return 2;
    }
    ref = malloc((size_t)atoi(env("OSS_TEST_SIZE")) + 1);
    ref_len = fread(ref, 1, (size_t)atoi(env("OSS_TEST_SIZE")) + 1, f);
    fclose(f);
    for (i = 0; i < 3; i++) {
        static const char *subs[] = {"many", "blocking", "ckpt"};
        snprintf(path, sizeof path, "%s/%s", dir, subs[i]);
        mkdir(path, 0700);
    }

    /* The limit of the report this reproduces, lowered: the soft limit only (the hard one
     * stays, as a shell's `ulimit -Sn` does). */
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit");
    rl.rlim_cur = (rlim_t)limit;
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit to %d: %s", limit, strerror(errno));

    ok("init", oss_initialize_sdk());
    ok("creds", oss_credentials_provider_new_static(env("OSS_TEST_AK"), env("OSS_TEST_SK"), NULL,
                                                    &creds));
    ok("budget", oss_config_set_memory_budget(cfg, budget));
    ok("client", oss_client_new(env("OSS_TEST_ENDPOINT"), creds, cfg, &client));
    oss_config_free(cfg);
    base = count_fds();
    bound = base + admitted * 8 + 2;
    CHECK(bound < limit, "the bound %d must be under the limit %d for this test to mean anything",
          bound, limit);
    pthread_create(&watch, NULL, watcher, NULL);

    /* Started at once: every one queues for admission before it opens anything. */
    for (i = 0; i < many; i++) {
        char dest[4096];
        snprintf(dest, sizeof dest, "%s/many/%d.bin", dir, i);
        if (i % 10 == 9) {
            oss_get_object_request_t *greq = NULL;
            ok("get request", oss_get_object_request_new(bucket, key, &greq));
            ok("start get_object_to_file",
               oss_client_start_get_object_to_file(client, greq, dest, done, NULL, NULL, &ts[i]));
            oss_get_object_request_free(greq);
        } else {
            oss_download_request_t *req = download_request(dest, i % 3 == 0);
            ok("start download",
               oss_client_start_resumable_download(client, req, done, NULL, NULL, &ts[i]));
            oss_download_request_free(req);
        }
    }
    for (i = 0; i < nblocking; i++) {
        bs[i].idx = i;
        bs[i].calls = 8;
        pthread_create(&threads[i], NULL, blocking_thread, &bs[i]);
    }
    for (i = 0; i < nblocking; i++) {
        pthread_join(threads[i], NULL);
        blocking_ok += bs[i].succeeded;
        blocking_calls += bs[i].calls;
    }
    for (i = 0; i < many; i++) {
        char dest[4096];
        oss_transfer_state_t st;
        if (!ts[i]) continue;
        st = oss_transfer_wait(ts[i], -1);
        if (st != OSS_TRANSFER_STATE_SUCCEEDED) {
            oss_error_t *err = oss_transfer_result(ts[i], NULL);
            CHECK(st == OSS_TRANSFER_STATE_SUCCEEDED, "transfer %d: state %d: %s: %s", i, (int)st,
                  err ? oss_error_code(err) : "", err ? oss_error_message(err) : "");
            oss_error_free(err);
        } else {
            snprintf(dest, sizeof dest, "%s/many/%d.bin", dir, i);
            CHECK(same_as_ref(dest), "transfer %d: %s differs from the object", i, dest);
            succeeded++;
        }
        oss_transfer_free(ts[i]);
    }
    atomic_store(&stop_watcher, 1);
    pthread_join(watch, NULL);

    CHECK(atomic_load(&completions) == many, "%d completions of %d", atomic_load(&completions),
          many);
    CHECK(succeeded == many, "%d of %d transfers succeeded", succeeded, many);
    CHECK(blocking_ok == blocking_calls, "%d of %d blocking calls succeeded", blocking_ok,
          blocking_calls);
    CHECK(atomic_load(&app_failures) == 0, "%d of the application's own opens failed",
          atomic_load(&app_failures));
    CHECK(atomic_load(&highest) <= bound,
          "the process held %d descriptors at once; the bound is %d (base %d + %d admitted x 8 + 2)",
          atomic_load(&highest), bound, base, admitted);
    printf("transfer_fds: %d transfers and %d blocking calls under a limit of %d descriptors: "
           "at most %d open at once (%d samples; base %d, bound %d = base + %d admitted x 8 + 2)\n",
           succeeded, blocking_ok, limit, atomic_load(&highest), atomic_load(&samples), base, bound,
           admitted);

    oss_client_free(client);
    oss_credentials_provider_free(creds);
    oss_shutdown_sdk();
    free(ts);
    free(threads);
    free(bs);
    free(ref);
    if (failures) {
        fprintf(stderr, "transfer_fds: %d checks failed\n", failures);
        return 1;
    }
    printf("transfer_fds: all checks passed\n");
    return 0;
}
