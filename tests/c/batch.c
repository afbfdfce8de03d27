/* The batch download through the C ABI, run by tests/c_api.rs against the local OSS server (also
 * under ASan/UBSan and valgrind): a blocking batch of a prefix with its report and callbacks, a
 * re-run that fetches nothing, a dry run, filters, a key list with a missing key, an asynchronous
 * batch paused into a token and resumed through oss_client_start_resume_batch with the callbacks
 * of other settings to completion (the keys
 * it had finished are written to OSS_TEST_DIR/paused-done.txt: the harness checks in the server's
 * log that none was fetched again), a tampered token refused, and a cancel.
 *
 * Environment: OSS_TEST_ENDPOINT, OSS_TEST_BUCKET, OSS_TEST_AK, OSS_TEST_SK, OSS_TEST_DIR,
 * OSS_TEST_PREFIX (a prefix ending in '/' holding OSS_TEST_COUNT objects, one of them in a
 * subdirectory "sub/", the rest at its top, named f<NN>.bin), OSS_TEST_ASYNC_PREFIX (as many
 * small objects, for the pause), OSS_TEST_MISSING (a key that does not exist).
 * Prints "batch: all checks passed". */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "oss_ffi.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void expect_ok(const char *what, oss_error_t *err) {
    CHECK(err == NULL, "%s: %s: %s", what, err ? oss_error_code(err) : "", err ? oss_error_message(err) : "");
    oss_error_free(err);
}

/* What the callbacks saw. Calls are serialised by the library; the counters are read after the
 * batch ended (or under the semaphores below). */
struct seen {
    long progress_calls, objects, downloaded, unchanged, filtered, would, failed, markers;
    int last_listing_done;
    uint64_t last_bytes_done;
    long frees;
    /* pause/cancel: the object callback blocks at object number `hold_at` until `go` */
    long hold_at;
    sem_t reached, go;
    FILE *done_list; /* keys downloaded, one a line */
};

static void on_progress(const oss_batch_progress_t *p, void *ud) {
    struct seen *s = (struct seen *)ud;
    s->progress_calls++;
    CHECK(p->bytes_done >= s->last_bytes_done, "bytes_done went back: %llu < %llu",
          (unsigned long long)p->bytes_done, (unsigned long long)s->last_bytes_done);
    s->last_bytes_done = p->bytes_done;
    s->last_listing_done = p->listing_done;
}

static void on_object(const oss_batch_object_t *o, void *ud) {
    struct seen *s = (struct seen *)ud;
    s->objects++;
    CHECK(o->key && *o->key && o->path && o->etag, "object strings");
    switch (o->outcome) {
    case OSS_BATCH_OUTCOME_DOWNLOADED:
        s->downloaded++;
        if (s->done_list) fprintf(s->done_list, "%s\n", o->key);
        break;
    case OSS_BATCH_OUTCOME_SKIPPED_UNCHANGED: s->unchanged++; break;
    case OSS_BATCH_OUTCOME_SKIPPED_FILTERED: s->filtered++; break;
    case OSS_BATCH_OUTCOME_SKIPPED_DIRECTORY_MARKER: s->markers++; break;
    case OSS_BATCH_OUTCOME_WOULD_DOWNLOAD: s->would++; break;
    case OSS_BATCH_OUTCOME_FAILED:
        s->failed++;
        CHECK(o->error != NULL, "a failed object without its error");
        break;
    default: break;
    }
    if (o->outcome != OSS_BATCH_OUTCOME_FAILED) CHECK(o->error == NULL, "an error on a good object");
    if (s->hold_at && s->downloaded == s->hold_at) {
        if (s->done_list) fflush(s->done_list);
        sem_post(&s->reached);
        while (sem_wait(&s->go) != 0 && errno == EINTR) {
        }
    }
}

static void on_free(void *ud) {
    ((struct seen *)ud)->frees++;
}

static void seen_init(struct seen *s) {
    memset(s, 0, sizeof *s);
    sem_init(&s->reached, 0, 0);
    sem_init(&s->go, 0, 0);
}

/* Waits until the object callback holds at `hold_at`; 0 when the transfer ended first. */
static int wait_reached(struct seen *s, const oss_transfer_t *t) {
    for (;;) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (sem_timedwait(&s->reached, &ts) == 0) return 1;
        if (oss_transfer_poll(t) != OSS_TRANSFER_STATE_RUNNING) return 0;
    }
}

static void seen_destroy(struct seen *s) {
    sem_destroy(&s->reached);
    sem_destroy(&s->go);
}

static oss_batch_request_t *prefix_request(const char *bucket, const char *prefix, const char *dest, struct seen *s) {
    oss_batch_request_t *r = NULL;
    expect_ok("new prefix", oss_batch_request_new_prefix(bucket, prefix, dest, &r));
    if (!r) exit(1);
    expect_ok("progress cb", oss_batch_request_set_progress_callback(r, on_progress, s, on_free));
    expect_ok("object cb", oss_batch_request_set_object_callback(r, on_object, s, NULL));
    expect_ok("part size", oss_batch_request_set_part_size(r, 100 * 1024));
    return r;
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static void blocking(const oss_client_t *client, const char *bucket, const char *prefix, long n) {
    struct seen s;
    oss_batch_report_t *rep = NULL;
    oss_batch_progress_t p;
    oss_batch_request_t *r;
    seen_init(&s);
    r = prefix_request(bucket, prefix, "blocking", &s);
    expect_ok("blocking batch", oss_client_download_objects(client, r, &rep));
    CHECK(rep != NULL, "no report");
    expect_ok("report progress", oss_batch_report_progress(rep, &p));
    CHECK((long)p.objects_listed == n, "listed %llu, want %ld", (unsigned long long)p.objects_listed, n);
    CHECK((long)p.objects_done == n, "done %llu, want %ld", (unsigned long long)p.objects_done, n);
    CHECK(p.objects_failed == 0 && oss_batch_report_failure_count(rep) == 0, "failures");
    CHECK(p.listing_done, "listing_done in the report");
    CHECK(p.bytes_done == p.bytes_total && p.bytes_done > 0, "bytes %llu of %llu",
          (unsigned long long)p.bytes_done, (unsigned long long)p.bytes_total);
    CHECK(oss_batch_report_stopped(rep) == NULL, "stopped");
    CHECK(*oss_batch_report_journal_path(rep), "no journal path");
    expect_ok("report result", oss_batch_report_result(rep));
    CHECK(s.downloaded == n && s.objects == n, "object callbacks: %ld downloaded of %ld", s.downloaded, s.objects);
    CHECK(s.progress_calls >= 1 && s.last_listing_done && s.last_bytes_done == p.bytes_done,
          "the last progress call is the final one");
    CHECK(exists("blocking/f00.bin") && exists("blocking/sub/g.bin"), "files where the prefix says");
    oss_batch_report_free(rep);
    rep = NULL;

    /* The same again: everything is in the journal, nothing fetched. */
    memset(&s, 0, offsetof(struct seen, hold_at));
    expect_ok("re-run", oss_client_download_objects(client, r, &rep));
    expect_ok("report progress", oss_batch_report_progress(rep, &p));
    CHECK(p.objects_done == 0 && (long)p.objects_skipped == n, "re-run: %llu done, %llu skipped",
          (unsigned long long)p.objects_done, (unsigned long long)p.objects_skipped);
    CHECK(s.unchanged == n, "re-run: %ld unchanged", s.unchanged);
    oss_batch_report_free(rep);
    oss_batch_request_free(r);
    CHECK(s.frees == 1, "progress user data freed %ld times", s.frees);
    seen_destroy(&s);
}

static void dry_run_and_filters(const oss_client_t *client, const char *bucket, const char *prefix, long n) {
    struct seen s;
    oss_batch_report_t *rep = NULL;
    oss_batch_progress_t p;
    oss_batch_request_t *r;
    const char *inc[1] = {"/*.bin"};
    const char *exc[1] = {"f0*"};
    seen_init(&s);
    r = prefix_request(bucket, prefix, "dry", &s);
    expect_ok("dry run", oss_batch_request_set_dry_run(r, true));
    expect_ok("dry batch", oss_client_download_objects(client, r, &rep));
    expect_ok("report progress", oss_batch_report_progress(rep, &p));
    CHECK(s.would == n && p.objects_done == (uint64_t)n, "dry run: %ld would", s.would);
    CHECK(!exists("dry/f00.bin") && !exists("dry/sub"), "a dry run wrote files");
    oss_batch_report_free(rep);
    oss_batch_request_free(r);

    /* Only top-level *.bin (anchored by the leading '/'; `*` does not cross '/'), minus f0*. */
    memset(&s, 0, offsetof(struct seen, hold_at));
    r = prefix_request(bucket, prefix, "filtered", &s);
    expect_ok("include", oss_batch_request_set_include(r, inc, 1));
    expect_ok("exclude", oss_batch_request_set_exclude(r, exc, 1));
    expect_ok("filtered batch", oss_client_download_objects(client, r, &rep));
    CHECK(s.downloaded == n - 1 - 10 && s.filtered == 11, "filtered: %ld downloaded, %ld filtered", s.downloaded,
          s.filtered);
    CHECK(!exists("filtered/f00.bin") && exists("filtered/f10.bin") && !exists("filtered/sub/g.bin"), "filter files");
    oss_batch_report_free(rep);
    oss_batch_request_free(r);
    seen_destroy(&s);
}

static void key_list(const oss_client_t *client, const char *bucket, const char *prefix, const char *missing) {
    struct seen s;
    oss_batch_report_t *rep = NULL;
    oss_batch_request_t *r = NULL;
    oss_error_t *err;
    char k0[512], k1[512];
    const char *keys[3];
    snprintf(k0, sizeof k0, "%sf01.bin", prefix);
    snprintf(k1, sizeof k1, "%ssub/g.bin", prefix);
    keys[0] = k0;
    keys[1] = missing;
    keys[2] = k1;
    seen_init(&s);
    expect_ok("new keys", oss_batch_request_new_keys(bucket, keys, 3, "keys", &r));
    expect_ok("object cb", oss_batch_request_set_object_callback(r, on_object, &s, NULL));
    err = oss_client_download_objects(client, r, &rep);
    CHECK(err != NULL, "a batch with a missing key succeeded");
    CHECK(rep != NULL, "no report with the failure");
    if (rep) {
        const oss_error_t *e = oss_batch_report_failure_error(rep, 0);
        CHECK(oss_batch_report_failure_count(rep) == 1, "%zu failures", oss_batch_report_failure_count(rep));
        CHECK(!strcmp(oss_batch_report_failure_key(rep, 0), missing), "failure key '%s'",
              oss_batch_report_failure_key(rep, 0));
        CHECK(e && !strcmp(oss_error_code(e), "NoSuchKey"), "failure code '%s'", e ? oss_error_code(e) : "");
        {
            oss_batch_progress_t kp;
            expect_ok("report progress", oss_batch_report_progress(rep, &kp));
            CHECK(kp.objects_done == 2, "the other keys are downloaded (continue)");
        }
    }
    CHECK(s.downloaded == 2 && s.failed == 1, "key list callbacks: %ld downloaded, %ld failed", s.downloaded, s.failed);
    {
        char path[1024];
        snprintf(path, sizeof path, "keys/%s", k1);
        CHECK(exists(path), "a key list keeps the whole key as the path (%s)", path);
    }
    oss_error_free(err);
    oss_batch_report_free(rep);
    oss_batch_request_free(r);
    seen_destroy(&s);
}

static long done_calls = 0;
static void on_done(const oss_transfer_t *t, const oss_error_t *err, void *ud) {
    (void)t;
    (void)err;
    (void)ud;
    __atomic_fetch_add(&done_calls, 1, __ATOMIC_SEQ_CST);
}

static void pause_and_resume(const oss_client_t *client, const char *bucket, const char *prefix, long n) {
    struct seen s, resumed;
    oss_batch_request_t *r, *settings;
    const oss_transfer_t *t = NULL, *t2 = NULL;
    oss_batch_report_t *rep = NULL;
    oss_batch_progress_t p;
    oss_transfer_status_t st;
    uint8_t *tok = NULL;
    size_t len = 0;
    long before;
    seen_init(&s);
    r = prefix_request(bucket, prefix, "async", &s);
    expect_ok("one at a time", oss_batch_request_set_max_objects_in_flight(r, 1));
    /* Even under ALWAYS, the resumed batch does not fetch what the paused one finished. */
    expect_ok("always", oss_batch_request_set_overwrite(r, OSS_BATCH_OVERWRITE_ALWAYS));
    s.hold_at = 3;
    s.done_list = fopen("paused-done.txt", "w");
    CHECK(s.done_list != NULL, "paused-done.txt");
    expect_ok("start batch", oss_client_start_download_objects(client, r, on_done, NULL, NULL, &t));
    oss_batch_request_free(r); /* the transfer has its copy */
    if (!wait_reached(&s, t)) {
        CHECK(0, "the batch ended before its third object");
        oss_transfer_free(t);
        return;
    }
    CHECK(oss_transfer_poll(t) == OSS_TRANSFER_STATE_RUNNING, "running at the third object");
    expect_ok("batch progress while running", oss_transfer_batch_progress(t, &p));
    CHECK(oss_transfer_pause(t), "pause a batch");
    sem_post(&s.go);
    CHECK(oss_transfer_wait(t, -1) == OSS_TRANSFER_STATE_PAUSED, "state %d", (int)oss_transfer_poll(t));
    CHECK(done_calls == 1, "completion calls: %ld", done_calls);
    before = s.downloaded;
    fclose(s.done_list);
    s.done_list = NULL;
    CHECK(before >= 3 && before < n, "downloaded before the pause: %ld", before);
    expect_ok("report of the paused batch", oss_transfer_batch_report(t, &rep));
    CHECK(oss_batch_report_stopped(rep) && oss_error_kind(oss_batch_report_stopped(rep)) == OSS_ERROR_KIND_CANCELLED,
          "a paused batch's report says it stopped");
    oss_batch_report_free(rep);
    rep = NULL;
    expect_ok("take token", oss_transfer_take_resume_token(t, &tok, &len));
    oss_transfer_free(t);
    t = NULL;

    /* A tampered token is refused at once. */
    if (tok && len > 40) {
        tok[len / 2] ^= 0x20;
        {
            oss_error_t *e = oss_client_start_resume(client, tok, len, NULL, on_done, NULL, NULL, &t2);
            CHECK(e && oss_error_kind(e) == OSS_ERROR_KIND_INVALID_ARGUMENT, "a tampered batch token was accepted");
            CHECK(e && strstr(oss_error_message(e), "refused"), "message: %s", e ? oss_error_message(e) : "");
            oss_error_free(e);
        }
        tok[len / 2] ^= 0x20;
    }
    /* The resumed batch reports through the callbacks of the settings given with its token; the
     * settings' own prefix and destination are not used (the token's are). */
    seen_init(&resumed);
    settings = prefix_request(bucket, "not-the-prefix/", "not-the-destination", &resumed);
    expect_ok("resume batch", oss_client_start_resume_batch(client, tok, len, settings, on_done, NULL, NULL, &t2));
    oss_batch_request_free(settings); /* the transfer has its copy */
    CHECK(oss_transfer_wait(t2, -1) == OSS_TRANSFER_STATE_SUCCEEDED, "resumed state %d", (int)oss_transfer_poll(t2));
    CHECK(resumed.objects == n, "the resumed batch reported %ld objects through the settings, want %ld",
          resumed.objects, n);
    CHECK(resumed.downloaded + resumed.unchanged == n && resumed.unchanged >= before,
          "resumed: %ld downloaded, %ld unchanged, %ld finished before the pause", resumed.downloaded,
          resumed.unchanged, before);
    CHECK(resumed.progress_calls > 0 && resumed.last_listing_done, "the resumed batch's progress: %ld calls",
          resumed.progress_calls);
    CHECK(!exists("not-the-destination"), "the settings' destination was used");
    expect_ok("resumed result", oss_transfer_result(t2, NULL));
    expect_ok("resumed status", oss_transfer_status(t2, &st));
    expect_ok("resumed report", oss_transfer_batch_report(t2, &rep));
    expect_ok("report progress", oss_batch_report_progress(rep, &p));
    CHECK((long)p.objects_skipped >= before, "the resumed batch skipped %llu, %ld were finished",
          (unsigned long long)p.objects_skipped, before);
    CHECK((long)(p.objects_done + p.objects_skipped) == n && p.objects_failed == 0, "resumed: %llu done + %llu skipped",
          (unsigned long long)p.objects_done, (unsigned long long)p.objects_skipped);
    CHECK(st.transferred == st.total, "status %lld of %lld", (long long)st.transferred, (long long)st.total);
    CHECK(done_calls == 2, "completion calls: %ld", done_calls);
    oss_batch_report_free(rep);
    oss_transfer_free(t2);
    oss_bytes_free(tok, len);
    CHECK(s.frees == 1, "progress user data freed %ld times", s.frees);
    CHECK(resumed.frees == 1, "the settings' progress user data freed %ld times", resumed.frees);
    seen_destroy(&s);
    seen_destroy(&resumed);
}

static void cancel(const oss_client_t *client, const char *bucket, const char *prefix) {
    struct seen s;
    oss_batch_request_t *r;
    const oss_transfer_t *t = NULL;
    oss_batch_report_t *rep = NULL;
    oss_error_t *e = NULL;
    seen_init(&s);
    r = prefix_request(bucket, prefix, "cancelled", &s);
    expect_ok("one at a time", oss_batch_request_set_max_objects_in_flight(r, 1));
    s.hold_at = 1;
    expect_ok("start batch", oss_client_start_download_objects(client, r, NULL, NULL, NULL, &t));
    if (!wait_reached(&s, t)) {
        CHECK(0, "the batch ended before its first object");
        oss_transfer_free(t);
        oss_batch_request_free(r);
        return;
    }
    oss_transfer_cancel(t);
    sem_post(&s.go);
    CHECK(oss_transfer_wait(t, -1) == OSS_TRANSFER_STATE_CANCELLED, "state %d", (int)oss_transfer_poll(t));
    e = oss_transfer_result(t, NULL);
    CHECK(e && oss_error_kind(e) == OSS_ERROR_KIND_CANCELLED, "cancelled result");
    oss_error_free(e);
    e = oss_transfer_take_resume_token(t, NULL, NULL);
    CHECK(e != NULL, "a cancelled batch has no token");
    oss_error_free(e);
    expect_ok("report of the cancelled batch", oss_transfer_batch_report(t, &rep));
    CHECK(oss_batch_report_stopped(rep) != NULL, "a cancelled batch's report says it stopped");
    oss_batch_report_free(rep);
    oss_transfer_free(t);
    oss_batch_request_free(r);
    seen_destroy(&s);
}

int main(void) {
    const char *bucket = env("OSS_TEST_BUCKET");
    const char *prefix = env("OSS_TEST_PREFIX");
    const char *async_prefix = env("OSS_TEST_ASYNC_PREFIX");
    long n = atol(env("OSS_TEST_COUNT"));
    oss_credentials_provider_t *creds = NULL;
    const oss_client_t *client = NULL;
    oss_config_t *cfg;
    CHECK(chdir(env("OSS_TEST_DIR")) == 0, "chdir");
    expect_ok("init", oss_initialize_sdk());
    cfg = oss_config_new();
    expect_ok("creds", oss_credentials_provider_new_static(env("OSS_TEST_AK"), env("OSS_TEST_SK"), NULL, &creds));
    expect_ok("client", oss_client_new(env("OSS_TEST_ENDPOINT"), creds, cfg, &client));
    oss_credentials_provider_free(creds);
    oss_config_free(cfg);
    if (!client) return 1;

    blocking(client, bucket, prefix, n);
    dry_run_and_filters(client, bucket, prefix, n);
    key_list(client, bucket, prefix, env("OSS_TEST_MISSING"));
    pause_and_resume(client, bucket, async_prefix, n);
    cancel(client, bucket, prefix);

    oss_client_free(client);
    oss_shutdown_sdk();
    if (failures) {
        fprintf(stderr, "batch: %d failures\n", failures);
        return 1;
    }
    printf("batch: all checks passed\n");
    return 0;
}
