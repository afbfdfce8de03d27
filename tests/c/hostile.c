/* Hostile input at the C ABI, run by tests/reliability (phase "hostile"), also under
 * AddressSanitizer+UBSan and valgrind. Every export of oss_ffi.h is called with NULL for each of
 * its pointer arguments (tests/reliability checks that every `oss_*` function of the header
 * appears here), then with invalid UTF-8, empty and 1 MiB strings, out-of-range numbers, after
 * oss_shutdown_sdk, with init/shutdown raced from 16 threads, with keys whose default destination
 * would escape the working directory, and against a TLS server (verification on by default).
 * Nothing may crash, hang, leak or panic (OSS_ERROR_KIND_PANIC is a failure); no secret may show
 * in a log line or error message.
 *
 * Environment: OSS_TEST_ENDPOINT, OSS_TEST_BUCKET, OSS_TEST_KEY (an existing object),
 * OSS_TEST_AK, OSS_TEST_SK, OSS_TEST_STS_AK, OSS_TEST_STS_SK, OSS_TEST_STS_TOKEN, OSS_TEST_DIR
 * (a scratch directory; the program works in OSS_TEST_DIR/cwd), OSS_TEST_TLS_ENDPOINT and
 * OSS_TEST_TLS_CA (a TLS server with its own CA). Prints "BAD_INPUTS <n>" and
 * "hostile: all checks passed". */
#define _POSIX_C_SOURCE 200809L /* nanosleep under -std=c11 */
#include "check.h"
#include "oss_ffi.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long bad_inputs = 0;
static const char *secrets[4];



static void scan_secrets(const char *what, const char *text) {
    int i;
    if (!text) return;
    for (i = 0; i < 4; i++) {
        if (secrets[i] && *secrets[i] && strstr(text, secrets[i])) {
            fprintf(stderr, "FAIL: a secret leaked into %s\n", what);
            failures++;
        }
    }
}

/* Checks an error that must be there (of `kind`, or any non-panic kind when kind < 0); frees it. */
static void expect_err(const char *what, oss_error_t *err, int kind) {
    bad_inputs++;
    CHECK(err != NULL, "%s: expected an error", what);
    if (!err) return;
    CHECK(oss_error_kind(err) != OSS_ERROR_KIND_PANIC, "%s: PANIC: %s", what, oss_error_message(err));
    if (kind >= 0) {
        CHECK((int)oss_error_kind(err) == kind, "%s: kind %d, want %d (%s: %s)", what,
              (int)oss_error_kind(err), kind, oss_error_code(err), oss_error_message(err));
    }
    CHECK(oss_error_code(err) && *oss_error_code(err), "%s: empty code", what);
    CHECK(oss_error_message(err) && *oss_error_message(err), "%s: empty message", what);
    scan_secrets(what, oss_error_message(err));
    oss_error_free(err);
}

/* An error or success, as long as it is not a panic; frees it. */
static void any_result(const char *what, oss_error_t *err) {
    bad_inputs++;
    if (err) {
        CHECK(oss_error_kind(err) != OSS_ERROR_KIND_PANIC, "%s: PANIC: %s", what,
              oss_error_message(err));
        scan_secrets(what, oss_error_message(err));
        oss_error_free(err);
    }
}

static void expect_ok(const char *what, oss_error_t *err) {
    CHECK(err == NULL, "%s: %s: %s", what, err ? oss_error_code(err) : "", err ? oss_error_message(err) : "");
    oss_error_free(err);
}

/* A bad value must be refused by its setter/constructor (`err`) or, failing that, by the call
 * that uses it (a HeadObject for *greq, a download for *dreq). Frees what it makes. */
static void refused(const char *what, oss_error_t *err, oss_get_object_request_t **greq,
                    const oss_client_t *client, oss_download_request_t **dreq) {
    oss_object_meta_t *meta = NULL;
    if (err) {
        expect_err(what, err, -1);
        return;
    }
    if (greq && *greq) {
        expect_err(what, oss_client_head_object(client, *greq, &meta), -1);
        oss_get_object_request_free(*greq);
        *greq = NULL;
    } else if (dreq && *dreq) {
        expect_err(what, oss_client_resumable_download_object(client, *dreq, &meta), -1);
    }
    oss_object_meta_free(meta);
}

#define NUL_ARG OSS_ERROR_KIND_NULL_ARGUMENT
#define BAD_UTF8 OSS_ERROR_KIND_INVALID_UTF8
#define INVALID OSS_ERROR_KIND_INVALID_ARGUMENT

static long log_lines = 0;
static void log_sink(oss_log_level_t level, const char *message, void *user_data) {
    (void)level;
    (void)user_data;
    log_lines++;
    scan_secrets("a log line", message);
}

static int32_t write_sink(const uint8_t *data, size_t len, void *user_data) {
    (void)data;
    (void)len;
    (void)user_data;
    return 0;
}

static void progress_cb(size_t inc, int64_t t, int64_t total, void *ud) {
    (void)inc;
    (void)t;
    (void)total;
    (void)ud;
}

static int32_t abortable_cb(size_t inc, int64_t t, int64_t total, void *ud) {
    progress_cb(inc, t, total, ud);
    return 0;
}

static long done_calls = 0, done_frees = 0;
static void done_cb(const oss_transfer_t *t, const oss_error_t *err, void *ud) {
    (void)ud;
    (void)err;
    /* Inside the completion every transfer call works on its handle; wait does not block. */
    CHECK(oss_transfer_poll(t) != OSS_TRANSFER_STATE_RUNNING, "running in its completion");
    (void)oss_transfer_wait(t, -1);
    __atomic_fetch_add(&done_calls, 1, __ATOMIC_SEQ_CST);
}
static void done_free(void *ud) {
    (void)ud;
    __atomic_fetch_add(&done_frees, 1, __ATOMIC_SEQ_CST);
}

static int32_t creds_cb(void *ud, oss_credentials_t *out) {
    const char **kv = (const char **)ud;
    oss_error_t *e;
    /* Hostile use of oss_credentials_set from inside the callback. */
    any_result("credentials_set NULL ak", oss_credentials_set(out, NULL, kv[1], NULL));
    any_result("credentials_set bad utf8", oss_credentials_set(out, "\xff\xfe", kv[1], NULL));
    e = oss_credentials_set(out, kv[0], kv[1], NULL);
    oss_error_free(e);
    return 0;
}

static uint64_t rate_answer = 0;
static long rate_frees = 0;
static uint64_t rate_cb(void *ud) {
    (void)ud;
    return rate_answer;
}
static void rate_free(void *ud) {
    (void)ud;
    rate_frees++;
}

static long metrics_frees = 0, metrics_calls = 0, metrics_bad = 0;
static void metrics_cb(const oss_request_metrics_t *m, void *ud) {
    (void)ud;
    metrics_calls++;
    /* Plain fields, strings never NULL, phases within the attempt. */
    if (!m || !m->operation || !m->bucket || !m->key || !m->error_code || !m->request_id ||
        !m->remote_addr || m->attempt < 1 || m->first_byte_us > m->total_us || m->body_us > m->total_us ||
        m->sign_us < 0 || m->write_us < 0 || m->connect_us < -1 || m->memory_wait_us < 0 ||
        m->part_number != 0)
        metrics_bad++;
}
static void metrics_free(void *ud) {
    (void)ud;
    metrics_frees++;
}

static const oss_client_t *client_with(const char *endpoint, const char *ak, const char *sk,
                                       oss_config_t *cfg) {
    oss_credentials_provider_t *creds = NULL;
    const oss_client_t *client = NULL;
    expect_ok("static credentials", oss_credentials_provider_new_static(ak, sk, NULL, &creds));
    expect_ok("client", oss_client_new(endpoint, creds, cfg, &client));
    oss_credentials_provider_free(creds);
    return client;
}

static char *big_string(size_t n, char c) {
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = 0;
    return s;
}

/* ---- the batch download: every export with NULLs, invalid UTF-8, out-of-range values ------ */

static long batch_frees = 0;
static void batch_free(void *ud) {
    (void)ud;
    __atomic_fetch_add(&batch_frees, 1, __ATOMIC_SEQ_CST);
}
static void batch_progress_cb(const oss_batch_progress_t *p, void *ud) {
    (void)ud;
    CHECK(p != NULL, "batch progress without its struct");
}
static void batch_object_cb(const oss_batch_object_t *o, void *ud) {
    (void)ud;
    CHECK(o && o->key && o->path && o->etag, "batch object callback with a NULL string");
    if (o && o->outcome == OSS_BATCH_OUTCOME_FAILED) CHECK(o->error != NULL, "a failed object without its error");
}

static void batch_inputs(const oss_client_t *client, const char *bucket, const char *dir) {
    oss_batch_request_t *r = NULL, *k = NULL;
    oss_batch_report_t *rep = NULL;
    oss_batch_progress_t pr;
    const oss_transfer_t *t = NULL;
    const char *keys[3];
    const char *pats[2];
    char *huge = big_string(1 << 20, 'k');
    long frees_before = batch_frees;
    (void)dir;
    /* constructors */
    expect_err("batch prefix bucket", oss_batch_request_new_prefix(NULL, "p/", "out", &r), NUL_ARG);
    expect_err("batch prefix prefix", oss_batch_request_new_prefix(bucket, NULL, "out", &r), NUL_ARG);
    expect_err("batch prefix dest", oss_batch_request_new_prefix(bucket, "p/", NULL, &r), NUL_ARG);
    expect_err("batch prefix out", oss_batch_request_new_prefix(bucket, "p/", "out", NULL), NUL_ARG);
    expect_err("batch prefix utf8 bucket", oss_batch_request_new_prefix("\xff", "p/", "out", &r), BAD_UTF8);
    expect_err("batch prefix utf8 prefix", oss_batch_request_new_prefix(bucket, "p\xc3(", "out", &r), BAD_UTF8);
    expect_err("batch prefix utf8 dest", oss_batch_request_new_prefix(bucket, "p/", "\xfe\xff", &r), BAD_UTF8);
    expect_err("batch prefix empty dest", oss_batch_request_new_prefix(bucket, "p/", "", &r), INVALID);
    keys[0] = "a";
    keys[1] = NULL;
    keys[2] = "\xff\xfe";
    expect_err("batch keys bucket", oss_batch_request_new_keys(NULL, keys, 1, "out", &k), NUL_ARG);
    expect_err("batch keys NULL array", oss_batch_request_new_keys(bucket, NULL, 3, "out", &k), NUL_ARG);
    expect_err("batch keys NULL key", oss_batch_request_new_keys(bucket, keys, 2, "out", &k), NUL_ARG);
    expect_err("batch keys utf8 key", oss_batch_request_new_keys(bucket, keys + 2, 1, "out", &k), BAD_UTF8);
    expect_err("batch keys SIZE_MAX", oss_batch_request_new_keys(bucket, keys, SIZE_MAX, "out", &k), INVALID);
    expect_err("batch keys dest", oss_batch_request_new_keys(bucket, keys, 1, NULL, &k), NUL_ARG);
    expect_err("batch keys out", oss_batch_request_new_keys(bucket, keys, 1, "out", NULL), NUL_ARG);
    CHECK(r == NULL && k == NULL, "a failed batch constructor wrote its out-parameter");
    oss_batch_request_free(NULL);
    oss_batch_request_cancel(NULL);
    bad_inputs += 2;
    /* setters: NULL request, then bad values on a real one */
    expect_ok("batch prefix", oss_batch_request_new_prefix(bucket, huge, "batch-out", &r));
    expect_ok("batch keys empty list", oss_batch_request_new_keys(bucket, NULL, 0, "batch-out", &k));
    expect_err("batch checkpoint NULL", oss_batch_request_set_checkpoint_dir(NULL, "x"), NUL_ARG);
    expect_err("batch checkpoint utf8", oss_batch_request_set_checkpoint_dir(r, "\xff"), BAD_UTF8);
    expect_ok("batch checkpoint clear", oss_batch_request_set_checkpoint_dir(r, NULL));
    pats[0] = "*.gz";
    pats[1] = NULL;
    expect_err("batch include NULL", oss_batch_request_set_include(NULL, pats, 1), NUL_ARG);
    expect_err("batch include NULL array", oss_batch_request_set_include(r, NULL, 2), NUL_ARG);
    expect_err("batch include NULL pattern", oss_batch_request_set_include(r, pats, 2), NUL_ARG);
    expect_err("batch include too many", oss_batch_request_set_include(r, pats, 5000), INVALID);
    expect_err("batch exclude NULL", oss_batch_request_set_exclude(NULL, pats, 1), NUL_ARG);
    expect_err("batch exclude NULL pattern", oss_batch_request_set_exclude(r, pats, 2), NUL_ARG);
    pats[1] = "\xff*";
    expect_err("batch exclude utf8", oss_batch_request_set_exclude(r, pats, 2), BAD_UTF8);
    expect_ok("batch include none", oss_batch_request_set_include(r, NULL, 0));
    expect_err("batch size NULL", oss_batch_request_set_size_range(NULL, 0, 1), NUL_ARG);
    expect_err("batch size empty", oss_batch_request_set_size_range(r, 10, 9), INVALID);
    expect_ok("batch size unbounded", oss_batch_request_set_size_range(r, 0, UINT64_MAX));
    expect_err("batch modified NULL", oss_batch_request_set_modified_range(NULL, 0, 1), NUL_ARG);
    expect_err("batch modified empty", oss_batch_request_set_modified_range(r, INT64_MAX, INT64_MIN), INVALID);
    expect_ok("batch modified unbounded", oss_batch_request_set_modified_range(r, INT64_MIN, INT64_MAX));
    expect_err("batch overwrite NULL", oss_batch_request_set_overwrite(NULL, OSS_BATCH_OVERWRITE_NEVER), NUL_ARG);
    expect_err("batch overwrite range", oss_batch_request_set_overwrite(r, 3), INVALID);
    expect_err("batch overwrite max", oss_batch_request_set_overwrite(r, UINT32_MAX), INVALID);
    expect_err("batch on_failure NULL", oss_batch_request_set_on_failure(NULL, OSS_BATCH_ON_FAILURE_STOP), NUL_ARG);
    expect_err("batch on_failure range", oss_batch_request_set_on_failure(r, 2), INVALID);
    expect_err("batch part size NULL", oss_batch_request_set_part_size(NULL, 1 << 20), NUL_ARG);
    expect_err("batch part size 0", oss_batch_request_set_part_size(r, 0), INVALID);
    expect_err("batch part size max", oss_batch_request_set_part_size(r, UINT64_MAX), INVALID);
    expect_err("batch threads NULL", oss_batch_request_set_thread_num(NULL, 4), NUL_ARG);
    expect_err("batch threads 0", oss_batch_request_set_thread_num(r, 0), INVALID);
    expect_err("batch threads max", oss_batch_request_set_thread_num(r, UINT32_MAX), INVALID);
    expect_err("batch in flight NULL", oss_batch_request_set_max_objects_in_flight(NULL, 4), NUL_ARG);
    expect_err("batch in flight 0", oss_batch_request_set_max_objects_in_flight(r, 0), INVALID);
    expect_err("batch in flight 1025", oss_batch_request_set_max_objects_in_flight(r, 1025), INVALID);
    expect_err("batch verify NULL", oss_batch_request_set_verify_on_resume(NULL, true), NUL_ARG);
    expect_err("batch direct io NULL", oss_batch_request_set_direct_io(NULL, true), NUL_ARG);
    expect_err("batch dry run NULL", oss_batch_request_set_dry_run(NULL, true), NUL_ARG);
    expect_err("batch progress NULL", oss_batch_request_set_progress_callback(NULL, batch_progress_cb, NULL, batch_free), NUL_ARG);
    expect_err("batch object NULL", oss_batch_request_set_object_callback(NULL, batch_object_cb, NULL, batch_free), NUL_ARG);
    CHECK(batch_frees - frees_before == 2, "user_data_free after failed callback setters: %ld", batch_frees - frees_before);
    expect_ok("batch progress", oss_batch_request_set_progress_callback(r, batch_progress_cb, NULL, batch_free));
    expect_ok("batch progress replaced", oss_batch_request_set_progress_callback(r, batch_progress_cb, NULL, batch_free));
    CHECK(batch_frees - frees_before == 3, "the replaced progress callback's user data was freed: %ld", batch_frees - frees_before);
    expect_ok("batch object", oss_batch_request_set_object_callback(r, batch_object_cb, NULL, batch_free));
    expect_ok("batch progress cleared", oss_batch_request_set_progress_callback(k, NULL, NULL, NULL));
    /* the blocking call */
    expect_err("batch run client", oss_client_download_objects(NULL, r, &rep), NUL_ARG);
    expect_err("batch run request", oss_client_download_objects(client, NULL, &rep), NUL_ARG);
    CHECK(rep == NULL, "a refused batch gave a report");
    /* A 1 MiB prefix: a dry run that lists nothing (or is refused), with or without a report. */
    expect_ok("batch dry run", oss_batch_request_set_dry_run(r, true));
    any_result("batch huge prefix", oss_client_download_objects(client, r, NULL));
    any_result("batch huge prefix with report", oss_client_download_objects(client, r, &rep));
    /* report getters: NULL and out of range */
    expect_err("batch report progress NULL", oss_batch_report_progress(NULL, &pr), NUL_ARG);
    CHECK(oss_batch_report_elapsed_ms(NULL) == 0, "elapsed of NULL");
    CHECK(oss_batch_report_failure_count(NULL) == 0, "failure count of NULL");
    CHECK(!strcmp(oss_batch_report_failure_key(NULL, 0), ""), "failure key of NULL");
    CHECK(oss_batch_report_failure_error(NULL, 0) == NULL, "failure error of NULL");
    CHECK(oss_batch_report_deleted_count(NULL) == 0, "deleted count of NULL");
    CHECK(!strcmp(oss_batch_report_deleted_key(NULL, 0), ""), "deleted key of NULL");
    CHECK(oss_batch_report_stopped(NULL) == NULL, "stopped of NULL");
    CHECK(!strcmp(oss_batch_report_journal_path(NULL), ""), "journal of NULL");
    expect_err("batch report result NULL", oss_batch_report_result(NULL), NUL_ARG);
    oss_batch_report_free(NULL);
    bad_inputs += 11;
    if (rep) {
        size_t n = oss_batch_report_failure_count(rep);
        CHECK(!strcmp(oss_batch_report_failure_key(rep, n), ""), "failure key out of range");
        CHECK(!strcmp(oss_batch_report_failure_key(rep, SIZE_MAX), ""), "failure key SIZE_MAX");
        CHECK(oss_batch_report_failure_error(rep, SIZE_MAX) == NULL, "failure error SIZE_MAX");
        CHECK(!strcmp(oss_batch_report_deleted_key(rep, SIZE_MAX), ""), "deleted key SIZE_MAX");
        any_result("batch report result", oss_batch_report_result(rep));
        expect_err("batch report progress out", oss_batch_report_progress(rep, NULL), NUL_ARG);
        bad_inputs += 4;
        oss_batch_report_free(rep);
        rep = NULL;
    }
    /* Unsafe keys: refused per key, nothing written outside the destination. */
    {
        const char *bad[4] = {"../escaped-by-batch", "/abs-by-batch", "a/../../escaped-by-batch", "ctl\x01key"};
        struct stat st;
        oss_batch_request_free(k);
        k = NULL;
        expect_ok("batch unsafe keys", oss_batch_request_new_keys(bucket, bad, 4, "batch-unsafe", &k));
        any_result("batch unsafe keys run", oss_client_download_objects(client, k, &rep));
        CHECK(stat("escaped-by-batch", &st) != 0 && stat("../escaped-by-batch", &st) != 0, "a batch wrote outside its directory");
        oss_batch_report_free(rep);
        rep = NULL;
    }
    /* the asynchronous start, and the transfer's batch calls */
    {
        long dfrees = done_frees;
        oss_transfer_t const *g = NULL;
        oss_get_object_request_t *greq = NULL;
        expect_err("batch start client", oss_client_start_download_objects(NULL, r, done_cb, NULL, done_free, &t), NUL_ARG);
        expect_err("batch start request", oss_client_start_download_objects(client, NULL, done_cb, NULL, done_free, &t), NUL_ARG);
        expect_err("batch start out", oss_client_start_download_objects(client, r, done_cb, NULL, done_free, NULL), NUL_ARG);
        {
            static const uint8_t junk[] = "not a token";
            expect_err("resume batch client", oss_client_start_resume_batch(NULL, junk, sizeof junk, r, done_cb, NULL, done_free, &t), NUL_ARG);
            expect_err("resume batch token", oss_client_start_resume_batch(client, NULL, 10, r, done_cb, NULL, done_free, &t), NUL_ARG);
            expect_err("resume batch empty", oss_client_start_resume_batch(client, NULL, 0, NULL, done_cb, NULL, done_free, &t), INVALID);
            expect_err("resume batch junk", oss_client_start_resume_batch(client, junk, sizeof junk, r, done_cb, NULL, done_free, &t), INVALID);
            expect_err("resume batch zero length", oss_client_start_resume_batch(client, junk, 0, r, done_cb, NULL, done_free, &t), INVALID);
            expect_err("resume batch out", oss_client_start_resume_batch(client, junk, sizeof junk, r, done_cb, NULL, done_free, NULL), NUL_ARG);
        }
        CHECK(t == NULL, "a failed batch start wrote its out-parameter");
        CHECK(done_frees - dfrees == 9, "user_data_free after failed batch starts: %ld", done_frees - dfrees);
        expect_err("batch transfer report transfer", oss_transfer_batch_report(NULL, &rep), NUL_ARG);
        expect_err("batch transfer progress transfer", oss_transfer_batch_progress(NULL, &pr), NUL_ARG);
        expect_ok("batch start", oss_client_start_download_objects(client, r, NULL, NULL, NULL, &t));
        expect_err("batch transfer report out", oss_transfer_batch_report(t, NULL), NUL_ARG);
        expect_err("batch transfer progress out", oss_transfer_batch_progress(t, NULL), NUL_ARG);
        (void)oss_transfer_wait(t, 120000);
        expect_ok("batch transfer progress", oss_transfer_batch_progress(t, &pr));
        expect_ok("batch transfer report", oss_transfer_batch_report(t, &rep));
        {
            oss_request_stats_t st;
            expect_err("transfer stats out", oss_transfer_request_stats(t, NULL), NUL_ARG);
            expect_ok("transfer stats", oss_transfer_request_stats(t, &st));
        }
        oss_batch_report_free(rep);
        rep = NULL;
        oss_transfer_free(t);
        t = NULL;
        /* A transfer that is no batch has no batch report or progress. */
        expect_ok("greq for a non-batch transfer", oss_get_object_request_new(bucket, "no-such-key-for-batch", &greq));
        expect_ok("start a non-batch transfer", oss_client_start_get_object_to_file(client, greq, "nb.bin", NULL, NULL, NULL, &g));
        (void)oss_transfer_wait(g, 120000);
        expect_err("batch report of a download", oss_transfer_batch_report(g, &rep), INVALID);
        expect_err("batch progress of a download", oss_transfer_batch_progress(g, &pr), INVALID);
        oss_transfer_free(g);
        oss_get_object_request_free(greq);
    }
    oss_batch_request_free(r);
    oss_batch_request_free(k);
    CHECK(batch_frees - frees_before == 5, "every batch callback's user data freed once: %ld", batch_frees - frees_before);
    free(huge);
}

/* The push form's body callback: counts the bytes. */
static size_t body_bytes = 0;
static int32_t count_body(const uint8_t *data, size_t len, uint64_t offset, void *user_data) {
    (void)data;
    (void)user_data;
    CHECK(offset == body_bytes, "push: bytes out of order (%llu, expected %zu)", (unsigned long long)offset, body_bytes);
    body_bytes += len;
    return 0;
}

/* ---- NULL for every pointer argument of every export ----------------------------------- */
static void null_arguments(const oss_client_t *client, const char *bucket, const char *key) {
    oss_config_t *cfg = oss_config_new();
    oss_credentials_provider_t *creds = NULL;
    oss_get_object_request_t *greq = NULL;
    oss_download_request_t *dreq = NULL;
    oss_object_meta_t *meta = NULL;
    const oss_client_t *c2 = NULL;
    const char *n = NULL, *v = NULL;
    uint64_t crc = 0;
    const char *etags[2] = {"\"a\"", NULL};

    expect_ok("get request", oss_get_object_request_new(bucket, key, &greq));
    expect_ok("download request", oss_download_request_new(bucket, key, "null-args.bin", &dreq));
    expect_ok("static creds", oss_credentials_provider_new_static("ak", "sk", NULL, &creds));

    /* client */
    expect_err("client_new endpoint", oss_client_new(NULL, creds, cfg, &c2), NUL_ARG);
    expect_err("client_new creds", oss_client_new("http://127.0.0.1:1", NULL, cfg, &c2), NUL_ARG);
    any_result("client_new config NULL (defaults)", oss_client_new("http://127.0.0.1:1", creds, NULL, &c2));
    oss_client_free(c2);
    c2 = NULL;
    expect_err("client_new out", oss_client_new("http://127.0.0.1:1", creds, cfg, NULL), NUL_ARG);
    CHECK(oss_client_clone(NULL) == NULL, "clone(NULL)");
    bad_inputs++;
    oss_client_free(NULL);
    expect_err("set_region client", oss_client_set_region(NULL, "cn-hangzhou"), NUL_ARG);
    expect_err("set_region region", oss_client_set_region(client, NULL), NUL_ARG);
    oss_client_disable_requests(NULL);
    oss_client_enable_requests(NULL);
    bad_inputs += 3;
    expect_err("head client", oss_client_head_object(NULL, greq, &meta), NUL_ARG);
    expect_err("head request", oss_client_head_object(client, NULL, &meta), NUL_ARG);
    any_result("head meta_out NULL", oss_client_head_object(client, greq, NULL));
    {
        char *url = NULL;
        expect_err("presign client", oss_client_presign_get_object(NULL, greq, 4102444800LL, &url), NUL_ARG);
        expect_err("presign request", oss_client_presign_get_object(client, NULL, 4102444800LL, &url), NUL_ARG);
        expect_err("presign out", oss_client_presign_get_object(client, greq, 4102444800LL, NULL), NUL_ARG);
        any_result("presign INT64_MIN", oss_client_presign_get_object(client, greq, INT64_MIN, &url));
        oss_string_free(url);
        url = NULL;
        any_result("presign INT64_MAX", oss_client_presign_get_object(client, greq, INT64_MAX, &url));
        oss_string_free(url);
    }
    {
        /* GetObject read piece by piece: NULLs, a 0-byte buffer, then the whole object through
         * reads of 1 and 4096 bytes (length and CRC64 against the metadata), then cancel. */
        oss_object_stream_t *st = NULL;
        oss_object_meta_t *smeta = NULL;
        unsigned char b[4096];
        size_t got = 0, total = 0;
        uint64_t scrc = 0, want_crc = 0;
        int reads = 0;
        oss_error_t *e = NULL;
        expect_err("stream_open client", oss_client_get_object_stream_open(NULL, greq, &st, &smeta), NUL_ARG);
        expect_err("stream_open request", oss_client_get_object_stream_open(client, NULL, &st, &smeta), NUL_ARG);
        expect_err("stream_open out", oss_client_get_object_stream_open(client, greq, NULL, &smeta), NUL_ARG);
        CHECK(st == NULL && smeta == NULL, "stream_open: an out parameter was written on failure");
        expect_err("stream_read stream", oss_object_stream_read(NULL, b, sizeof b, &got), NUL_ARG);
        oss_object_stream_cancel(NULL);
        oss_object_stream_free(NULL);
        bad_inputs += 2;
        any_result("stream_open meta_out NULL", oss_client_get_object_stream_open(client, greq, &st, NULL));
        oss_object_stream_free(st);
        st = NULL;
        expect_ok("stream_open", oss_client_get_object_stream_open(client, greq, &st, &smeta));
        if (st && smeta) {
            expect_err("stream_read buf", oss_object_stream_read(st, NULL, sizeof b, &got), NUL_ARG);
            expect_err("stream_read n_out", oss_object_stream_read(st, b, sizeof b, NULL), NUL_ARG);
            expect_err("stream_read capacity 0", oss_object_stream_read(st, b, 0, &got), INVALID);
            for (;;) {
                e = oss_object_stream_read(st, b, reads < 10 ? 1 : sizeof b, &got);
                if (e || got == 0) break;
                CHECK(got <= (reads < 10 ? 1 : sizeof b), "stream_read: %zu bytes into a smaller buffer", got);
                scrc = oss_crc64(scrc, b, got);
                total += got;
                reads++;
            }
            expect_ok("stream_read to the end", e);
            CHECK((int64_t)total == oss_object_meta_content_length(smeta), "stream: %zu bytes, object has %lld",
                  total, (long long)oss_object_meta_content_length(smeta));
            if (oss_object_meta_crc64(smeta, &want_crc)) CHECK(scrc == want_crc, "stream: CRC64 differs");
            expect_ok("stream_read after the end", oss_object_stream_read(st, b, sizeof b, &got));
            CHECK(got == 0, "stream_read after the end: %zu bytes", got);
            oss_object_stream_cancel(st);
            expect_err("stream_read after cancel", oss_object_stream_read(st, b, sizeof b, &got),
                       OSS_ERROR_KIND_CANCELLED);
        }
        oss_object_stream_free(st);
        oss_object_meta_free(smeta);
        /* cancelled while bytes of a piece are still held: none are handed out */
        st = NULL;
        expect_ok("stream_open again", oss_client_get_object_stream_open(client, greq, &st, NULL));
        if (st) {
            expect_ok("stream_read 1", oss_object_stream_read(st, b, 1, &got));
            oss_object_stream_cancel(st);
            expect_err("stream_read held bytes after cancel", oss_object_stream_read(st, b, sizeof b, &got),
                       OSS_ERROR_KIND_CANCELLED);
        }
        oss_object_stream_free(st);
    }
    {
        /* The prefetching reader and its push form: NULLs, out-of-range options and seeks, a
         * 0-byte buffer, then the whole object (CRC64 against the metadata), then cancel. */
        oss_reader_options_t *ro = NULL;
        oss_reader_t *rd = NULL;
        oss_reader_push_t *push = NULL;
        oss_object_meta_t *rmeta = NULL;
        unsigned char b[4096];
        size_t got = 0, total = 0;
        uint64_t pos = 0, rcrc = 0, want_crc = 0;
        oss_error_t *e = NULL;
        expect_err("reader_options_new out", oss_reader_options_new(NULL), NUL_ARG);
        expect_ok("reader_options_new", oss_reader_options_new(&ro));
        expect_err("part_size options", oss_reader_options_set_part_size(NULL, 1 << 20), NUL_ARG);
        expect_err("part_size 0", oss_reader_options_set_part_size(ro, 0), INVALID);
        expect_err("part_size max", oss_reader_options_set_part_size(ro, UINT64_MAX), INVALID);
        expect_err("max_window options", oss_reader_options_set_max_window(NULL, 1 << 20), NUL_ARG);
        expect_err("max_window 1", oss_reader_options_set_max_window(ro, 1), INVALID);
        expect_err("read_ahead options", oss_reader_options_set_read_ahead(NULL, 0), NUL_ARG);
        expect_err("read_ahead max", oss_reader_options_set_read_ahead(ro, UINT64_MAX), INVALID);
        /* a window smaller than the part size: refused when a reader is opened */
        expect_ok("part_size 1 MiB", oss_reader_options_set_part_size(ro, 1 << 20));
        expect_ok("max_window 64 KiB", oss_reader_options_set_max_window(ro, 65536));
        expect_err("open_reader window < part", oss_client_open_reader(client, greq, ro, &rd), INVALID);
        CHECK(rd == NULL, "open_reader: an out parameter was written on failure");
        expect_ok("max_window UINT64_MAX", oss_reader_options_set_max_window(ro, UINT64_MAX));
        expect_ok("read_ahead 0", oss_reader_options_set_read_ahead(ro, 0));
        expect_err("open_reader client", oss_client_open_reader(NULL, greq, ro, &rd), NUL_ARG);
        expect_err("open_reader request", oss_client_open_reader(client, NULL, ro, &rd), NUL_ARG);
        expect_err("open_reader out", oss_client_open_reader(client, greq, ro, NULL), NUL_ARG);
        expect_err("reader_read reader", oss_reader_read(NULL, b, sizeof b, &got), NUL_ARG);
        expect_err("reader_seek reader", oss_reader_seek(NULL, 0, 0, &pos), NUL_ARG);
        expect_err("reader_meta reader", oss_reader_meta(NULL, &rmeta), NUL_ARG);
        CHECK(oss_reader_tell(NULL) == -1, "tell(NULL)");
        CHECK(oss_reader_size(NULL) == -1, "size(NULL)");
        oss_reader_cancel(NULL);
        oss_reader_free(NULL);
        oss_reader_options_free(NULL);
        bad_inputs += 5;
        expect_ok("open_reader", oss_client_open_reader(client, greq, ro, &rd));
        if (rd) {
            expect_err("reader_read buf", oss_reader_read(rd, NULL, sizeof b, &got), NUL_ARG);
            expect_err("reader_read n_out", oss_reader_read(rd, b, sizeof b, NULL), NUL_ARG);
            expect_err("reader_read len 0", oss_reader_read(rd, b, 0, &got), INVALID);
            expect_err("reader_meta out", oss_reader_meta(rd, NULL), NUL_ARG);
            expect_err("reader_seek whence", oss_reader_seek(rd, 0, 7, &pos), INVALID);
            expect_err("reader_seek before the start", oss_reader_seek(rd, -1, 0, &pos), INVALID);
            expect_err("reader_seek INT64_MIN", oss_reader_seek(rd, INT64_MIN, 2, &pos), INVALID);
            expect_ok("reader_seek INT64_MAX", oss_reader_seek(rd, INT64_MAX, 1, NULL));
            expect_ok("reader_read past the end", oss_reader_read(rd, b, sizeof b, &got));
            CHECK(got == 0, "reader_read past the end: %zu bytes", got);
            expect_ok("reader_seek 0", oss_reader_seek(rd, 0, 0, &pos));
            CHECK(pos == 0 && oss_reader_tell(rd) == 0, "seek 0");
            for (;;) {
                e = oss_reader_read(rd, b, sizeof b, &got);
                if (e || got == 0) break;
                rcrc = oss_crc64(rcrc, b, got);
                total += got;
            }
            expect_ok("reader_read to the end", e);
            CHECK((int64_t)total == oss_reader_size(rd), "reader: %zu bytes of %lld", total,
                  (long long)oss_reader_size(rd));
            expect_ok("reader_meta", oss_reader_meta(rd, &rmeta));
            if (rmeta && oss_object_meta_crc64(rmeta, &want_crc)) CHECK(rcrc == want_crc, "reader: CRC64 differs");
            oss_object_meta_free(rmeta);
            rmeta = NULL;
            oss_reader_cancel(rd);
            expect_err("reader_read after cancel", oss_reader_read(rd, b, sizeof b, &got), OSS_ERROR_KIND_CANCELLED);
        }
        oss_reader_free(rd);
        /* push: NULLs (user data freed once even then), then the whole object, then free */
        expect_err("push client", oss_client_start_reader_push(NULL, greq, ro, UINT64_MAX, count_body, NULL, NULL, &push), NUL_ARG);
        expect_err("push request", oss_client_start_reader_push(client, NULL, ro, UINT64_MAX, count_body, NULL, NULL, &push), NUL_ARG);
        expect_err("push callback", oss_client_start_reader_push(client, greq, ro, UINT64_MAX, NULL, NULL, NULL, &push), NUL_ARG);
        expect_err("push out", oss_client_start_reader_push(client, greq, ro, UINT64_MAX, count_body, NULL, NULL, NULL), NUL_ARG);
        expect_err("push_wait push", oss_reader_push_wait(NULL, &rmeta), NUL_ARG);
        CHECK(oss_reader_push_is_done(NULL), "push_is_done(NULL)");
        oss_reader_push_increment_window(NULL, 1);
        oss_reader_push_cancel(NULL);
        oss_reader_push_free(NULL);
        bad_inputs += 4;
        body_bytes = 0;
        expect_ok("push", oss_client_start_reader_push(client, greq, NULL, 0, count_body, NULL, NULL, &push));
        if (push) {
            oss_reader_push_increment_window(push, UINT64_MAX);
            oss_reader_push_increment_window(push, UINT64_MAX); /* saturates */
            expect_ok("push_wait", oss_reader_push_wait(push, NULL));
            CHECK(oss_reader_push_is_done(push), "push done");
            CHECK((int64_t)body_bytes == (int64_t)total, "push: %zu bytes of %zu", body_bytes, total);
        }
        oss_reader_push_free(push);
        oss_reader_options_free(ro);
    }
    {
        /* Listing page by page: NULLs, bad UTF-8, out-of-range values, then the bucket's pages. */
        oss_listing_t *ls = NULL;
        oss_list_page_t *page = NULL;
        const char *k = NULL, *et = NULL, *lm = NULL, *sc = NULL;
        uint64_t sz = 0;
        size_t objects = 0;
        int pages = 0;
        char *long_prefix = big_string(1024, 'p');
        expect_err("list client", oss_client_list_objects(NULL, bucket, NULL, NULL, NULL, 0, &ls), NUL_ARG);
        expect_err("list bucket", oss_client_list_objects(client, NULL, NULL, NULL, NULL, 0, &ls), NUL_ARG);
        expect_err("list out", oss_client_list_objects(client, bucket, NULL, NULL, NULL, 0, NULL), NUL_ARG);
        expect_err("list bad utf-8 prefix", oss_client_list_objects(client, bucket, "\xff\xfe", NULL, NULL, 0, &ls),
                   OSS_ERROR_KIND_INVALID_UTF8);
        expect_err("list max_keys", oss_client_list_objects(client, bucket, NULL, NULL, NULL, 1001, &ls), INVALID);
        expect_err("list max_keys max", oss_client_list_objects(client, bucket, NULL, NULL, NULL, UINT32_MAX, &ls), INVALID);
        expect_err("list long prefix", oss_client_list_objects(client, bucket, long_prefix, NULL, NULL, 0, &ls), INVALID);
        expect_err("list bad bucket", oss_client_list_objects(client, "Bad_Bucket!", NULL, NULL, NULL, 0, &ls), INVALID);
        free(long_prefix);
        CHECK(ls == NULL, "list: an out parameter was written on failure");
        expect_err("next_page listing", oss_listing_next_page(NULL, &page), NUL_ARG);
        CHECK(oss_list_page_object_count(NULL) == 0, "object_count(NULL)");
        CHECK(!oss_list_page_object_at(NULL, 0, &k, &sz, &et, &lm, &sc), "object_at(NULL)");
        CHECK(oss_list_page_object_invalid(NULL, 0) == NULL, "object_invalid(NULL)");
        CHECK(oss_list_page_prefix_count(NULL) == 0, "prefix_count(NULL)");
        CHECK(oss_list_page_prefix_at(NULL, 0) == NULL, "prefix_at(NULL)");
        oss_listing_cancel(NULL);
        oss_listing_free(NULL);
        oss_list_page_free(NULL);
        bad_inputs += 7;
        expect_ok("list", oss_client_list_objects(client, bucket, "", "/", NULL, 1, &ls));
        if (ls) {
            expect_err("next_page out", oss_listing_next_page(ls, NULL), NUL_ARG);
            for (;;) {
                page = NULL;
                oss_error_t *e = oss_listing_next_page(ls, &page);
                if (e) {
                    expect_ok("next_page", e);
                    break;
                }
                if (!page) break;
                pages++;
                for (size_t i = 0; i < oss_list_page_object_count(page); i++) {
                    CHECK(oss_list_page_object_at(page, i, &k, &sz, NULL, NULL, NULL) && k != NULL, "object_at");
                    CHECK(oss_list_page_object_invalid(page, i) == NULL, "object_invalid of a usable key");
                    objects++;
                }
                CHECK(!oss_list_page_object_at(page, SIZE_MAX, &k, &sz, &et, &lm, &sc), "object_at out of range");
                for (size_t i = 0; i < oss_list_page_prefix_count(page); i++) {
                    CHECK(oss_list_page_prefix_at(page, i) != NULL, "prefix_at");
                }
                CHECK(oss_list_page_prefix_at(page, SIZE_MAX) == NULL, "prefix_at out of range");
                CHECK(oss_list_page_object_invalid(page, SIZE_MAX) == NULL, "object_invalid out of range");
                oss_list_page_free(page);
            }
            CHECK(pages >= 1, "at least one page");
            oss_listing_cancel(ls);
            expect_err("next_page after cancel", oss_listing_next_page(ls, &page), OSS_ERROR_KIND_CANCELLED);
        }
        oss_listing_free(ls);
        (void)objects;
    }
    expect_err("meta client", oss_client_get_object_meta(NULL, greq, &meta), NUL_ARG);
    expect_err("meta request", oss_client_get_object_meta(client, NULL, &meta), NUL_ARG);
    any_result("meta meta_out NULL", oss_client_get_object_meta(client, greq, NULL));
    expect_err("to_file client", oss_client_get_object_to_file(NULL, greq, "x.bin", &meta), NUL_ARG);
    expect_err("to_file request", oss_client_get_object_to_file(client, NULL, "x.bin", &meta), NUL_ARG);
    expect_err("to_file path", oss_client_get_object_to_file(client, greq, NULL, &meta), NUL_ARG);
    expect_err("get client", oss_client_get_object(NULL, greq, write_sink, NULL, &meta), NUL_ARG);
    expect_err("get request", oss_client_get_object(client, NULL, write_sink, NULL, &meta), NUL_ARG);
    expect_err("get write", oss_client_get_object(client, greq, NULL, NULL, &meta), NUL_ARG);
    expect_err("download client", oss_client_resumable_download_object(NULL, dreq, &meta), NUL_ARG);
    expect_err("download request", oss_client_resumable_download_object(client, NULL, &meta), NUL_ARG);
    CHECK(meta == NULL, "an out parameter was written on failure");

    /* config */
    oss_config_free(NULL);
    bad_inputs++;
    expect_err("user_agent cfg", oss_config_set_user_agent(NULL, "ua"), NUL_ARG);
    expect_err("user_agent value", oss_config_set_user_agent(cfg, NULL), NUL_ARG);
    expect_err("max_connections cfg", oss_config_set_max_connections(NULL, 4), NUL_ARG);
    expect_err("connect_timeout cfg", oss_config_set_connect_timeout_ms(NULL, 4), NUL_ARG);
    expect_err("request_timeout cfg", oss_config_set_request_timeout_ms(NULL, 4), NUL_ARG);
    expect_err("retry cfg", oss_config_set_retry(NULL, 1, 1), NUL_ARG);
    expect_err("call_timeout cfg", oss_config_set_call_timeout_ms(NULL, 4), NUL_ARG);
    expect_err("proxy cfg", oss_config_set_proxy(NULL, "http", "h", 1, "u", "p"), NUL_ARG);
    any_result("proxy NULL strings", oss_config_set_proxy(cfg, NULL, NULL, 0, NULL, NULL));
    any_result("proxy NULL host", oss_config_set_proxy(cfg, "http", NULL, 8080, NULL, NULL));
    expect_err("no_proxy cfg", oss_config_set_no_proxy(NULL, "x"), NUL_ARG);
    CHECK(oss_config_set_no_proxy(cfg, NULL) == NULL, "no_proxy NULL list (the environment's)");
    CHECK(oss_config_set_no_proxy(cfg, "") == NULL, "no_proxy empty list");
    CHECK(oss_config_set_no_proxy(cfg, "*, ,,10.0.0.0/99,[::1],\t.x.") == NULL, "no_proxy odd list");
    expect_err("verify_tls cfg", oss_config_set_verify_tls(NULL, true), NUL_ARG);
    expect_err("ca_file cfg", oss_config_set_ca_file(NULL, "x"), NUL_ARG);
    any_result("ca_file NULL", oss_config_set_ca_file(cfg, NULL));
    expect_err("ca_path cfg", oss_config_set_ca_path(NULL, "x"), NUL_ARG);
    any_result("ca_path NULL", oss_config_set_ca_path(cfg, NULL));
    expect_err("cname cfg", oss_config_set_cname(NULL, true), NUL_ARG);
    expect_err("path_style cfg", oss_config_set_path_style(NULL, true), NUL_ARG);
    expect_err("crc64 cfg", oss_config_set_crc64(NULL, true), NUL_ARG);
    expect_err("skew cfg", oss_config_set_date_skew_adjustment(NULL, true), NUL_ARG);
    expect_err("reissue cfg", oss_config_set_reissue_slow_parts(NULL, true), NUL_ARG);
    CHECK(oss_config_set_reissue_slow_parts(cfg, false) == NULL, "reissue off");
    CHECK(oss_config_set_reissue_slow_parts(cfg, true) == NULL, "reissue on");
    expect_err("rate cfg", oss_config_set_recv_rate_limit_kbps(NULL, 1), NUL_ARG);
    expect_err("budget cfg", oss_config_set_memory_budget(NULL, 64u << 20), NUL_ARG);
    expect_err("budget 0", oss_config_set_memory_budget(cfg, 0), OSS_ERROR_KIND_INVALID_ARGUMENT);
    expect_err("budget below 16 MiB", oss_config_set_memory_budget(cfg, (16u << 20) - 1),
               OSS_ERROR_KIND_INVALID_ARGUMENT);
    expect_err("budget max", oss_config_set_memory_budget(cfg, UINT64_MAX), OSS_ERROR_KIND_INVALID_ARGUMENT);
    {
        static const uint8_t tk[2048] = {1, 2, 3};
        expect_err("token key cfg", oss_config_set_resume_token_key(NULL, tk, 32), NUL_ARG);
        expect_err("token key NULL", oss_config_set_resume_token_key(cfg, NULL, 32), NUL_ARG);
        expect_err("token key 15 bytes", oss_config_set_resume_token_key(cfg, tk, 15),
                   OSS_ERROR_KIND_INVALID_ARGUMENT);
        expect_err("token key 1025 bytes", oss_config_set_resume_token_key(cfg, tk, 1025),
                   OSS_ERROR_KIND_INVALID_ARGUMENT);
        expect_err("token key SIZE_MAX", oss_config_set_resume_token_key(cfg, tk, SIZE_MAX),
                   OSS_ERROR_KIND_INVALID_ARGUMENT);
        expect_ok("token key 16 bytes", oss_config_set_resume_token_key(cfg, tk, 16));
        expect_ok("token key default again", oss_config_set_resume_token_key(cfg, NULL, 0));
    }
    rate_frees = 0;
    expect_err("rate cb cfg", oss_config_set_recv_rate_limit_cb(NULL, rate_cb, NULL, rate_free), NUL_ARG);
    CHECK(rate_frees == 1, "rate user_data freed when the call fails");
    expect_ok("rate cb NULL clears", oss_config_set_recv_rate_limit_cb(cfg, NULL, NULL, rate_free));
    CHECK(rate_frees == 2, "rate user_data freed at once for a NULL cb");
    metrics_frees = 0;
    expect_err("metrics cb cfg", oss_config_set_request_metrics_callback(NULL, metrics_cb, NULL, metrics_free),
               NUL_ARG);
    CHECK(metrics_frees == 1, "metrics user_data freed when the call fails");
    expect_ok("metrics cb NULL clears", oss_config_set_request_metrics_callback(cfg, NULL, NULL, metrics_free));
    CHECK(metrics_frees == 2, "metrics user_data freed at once for a NULL cb");
    {
        oss_request_stats_t st;
        expect_err("client stats client", oss_client_request_stats(NULL, &st), NUL_ARG);
        expect_err("transfer stats transfer", oss_transfer_request_stats(NULL, &st), NUL_ARG);
    }
    expect_err("sigver cfg", oss_config_set_signature_version(NULL, 1), NUL_ARG);
    expect_err("region cfg", oss_config_set_region(NULL, "r"), NUL_ARG);
    any_result("region NULL", oss_config_set_region(cfg, NULL));
    expect_err("resolve cfg", oss_config_add_resolve(NULL, "h:80:127.0.0.1"), NUL_ARG);
    expect_err("resolve NULL", oss_config_add_resolve(cfg, NULL), NUL_ARG);
    expect_err("resolve empty", oss_config_add_resolve(cfg, ""), OSS_ERROR_KIND_INVALID_ARGUMENT);
    expect_err("resolve no addr", oss_config_add_resolve(cfg, "h:80:"), OSS_ERROR_KIND_INVALID_ARGUMENT);
    expect_err("resolve port 0", oss_config_add_resolve(cfg, "h:0:127.0.0.1"), OSS_ERROR_KIND_INVALID_ARGUMENT);
    expect_err("resolve port 65536", oss_config_add_resolve(cfg, "h:65536:127.0.0.1"),
               OSS_ERROR_KIND_INVALID_ARGUMENT);
    expect_err("resolve bad addr", oss_config_add_resolve(cfg, "h:80:127.0.0.300"),
               OSS_ERROR_KIND_INVALID_ARGUMENT);
    expect_err("resolve control char", oss_config_add_resolve(cfg, "h\n:80:127.0.0.1"),
               OSS_ERROR_KIND_INVALID_ARGUMENT);
    {
        /* A valid entry, then the same HOST:PORT again (replaces it): on a config of its own, so
         * that the clients made from `cfg` below keep the name service. */
        oss_config_t *rc = oss_config_new();
        expect_ok("resolve ok", oss_config_add_resolve(rc, "h:80:127.0.0.2,[::1]"));
        expect_ok("resolve again", oss_config_add_resolve(rc, "h:80:127.0.0.3"));
        oss_config_free(rc);
    }

    /* credentials */
    {
        oss_credentials_provider_t *p = NULL;
        expect_err("static ak", oss_credentials_provider_new_static(NULL, "sk", NULL, &p), NUL_ARG);
        expect_err("static sk", oss_credentials_provider_new_static("ak", NULL, NULL, &p), NUL_ARG);
        expect_err("static out", oss_credentials_provider_new_static("ak", "sk", NULL, NULL), NUL_ARG);
        expect_err("env out", oss_credentials_provider_new_env(NULL), NUL_ARG);
        expect_err("callback cb", oss_credentials_provider_new_callback(NULL, NULL, NULL, &p), NUL_ARG);
        expect_err("callback out", oss_credentials_provider_new_callback(creds_cb, NULL, NULL, NULL), NUL_ARG);
        expect_err("credentials_set out", oss_credentials_set(NULL, "a", "b", NULL), NUL_ARG);
        CHECK(p == NULL, "provider_out written on failure");
        oss_credentials_provider_free(NULL);
        bad_inputs++;
    }

    /* the cloud providers: NULL outs, bad UTF-8, missing files, bad role names, and
     * oss_credentials_provider_get. Nothing here fetches (the metadata service and STS are only
     * asked on a request). HOME is the scratch directory: no real ~/.aliyun is read. */
    {
        oss_credentials_provider_t *p = NULL;
        char *id = NULL, *sk = NULL, *tok = NULL;
        const char *dir = getenv("OSS_TEST_DIR");
        if (dir) setenv("HOME", dir, 1);
        expect_err("profile out", oss_credentials_provider_new_profile(NULL, NULL, NULL), NUL_ARG);
        expect_err("profile bad utf8 path", oss_credentials_provider_new_profile("\xff\xfe", NULL, &p), BAD_UTF8);
        expect_err("profile bad utf8 name", oss_credentials_provider_new_profile(NULL, "\xff", &p), BAD_UTF8);
        any_result("profile no file", oss_credentials_provider_new_profile(NULL, NULL, &p));
        CHECK(p == NULL, "profile: no ~/.aliyun/config.json in the scratch HOME");
        any_result("profile missing path", oss_credentials_provider_new_profile("/nonexistent/config.json", "x", &p));
        any_result("profile directory", oss_credentials_provider_new_profile("/", NULL, &p));
        CHECK(p == NULL, "profile_out written on failure");
        expect_err("ecs out", oss_credentials_provider_new_ecs_ram_role(NULL, NULL), NUL_ARG);
        expect_err("ecs bad utf8", oss_credentials_provider_new_ecs_ram_role("\xff", &p), BAD_UTF8);
        expect_err("ecs role with a slash", oss_credentials_provider_new_ecs_ram_role("../x", &p), INVALID);
        expect_ok("ecs NULL role", oss_credentials_provider_new_ecs_ram_role(NULL, &p));
        oss_credentials_provider_free(p);
        p = NULL;
        expect_err("oidc out", oss_credentials_provider_new_oidc_role("a", "b", "c", NULL, NULL), NUL_ARG);
        expect_err("oidc bad utf8", oss_credentials_provider_new_oidc_role("\xff", "b", "c", NULL, &p), BAD_UTF8);
        any_result("oidc all NULL", oss_credentials_provider_new_oidc_role(NULL, NULL, NULL, NULL, &p));
        CHECK(p == NULL, "oidc: nothing set, nothing made");
        expect_ok("oidc given", oss_credentials_provider_new_oidc_role("acs:ram::1:role/r", "acs:ram::1:oidc-provider/p",
                                                                       "/nonexistent/token", NULL, &p));
        oss_credentials_provider_free(p);
        p = NULL;
        expect_err("ram role ak", oss_credentials_provider_new_ram_role_arn(NULL, "sk", NULL, "arn", NULL, &p), NUL_ARG);
        expect_err("ram role sk", oss_credentials_provider_new_ram_role_arn("ak", NULL, NULL, "arn", NULL, &p), NUL_ARG);
        expect_err("ram role arn", oss_credentials_provider_new_ram_role_arn("ak", "sk", NULL, NULL, NULL, &p), NUL_ARG);
        expect_err("ram role out", oss_credentials_provider_new_ram_role_arn("ak", "sk", NULL, "arn", NULL, NULL), NUL_ARG);
        expect_err("ram role bad utf8", oss_credentials_provider_new_ram_role_arn("ak", "sk", NULL, "\xff", NULL, &p), BAD_UTF8);
        any_result("ram role control chars", oss_credentials_provider_new_ram_role_arn("a\nk", "sk", NULL, "arn", NULL, &p));
        any_result("ram role empty arn", oss_credentials_provider_new_ram_role_arn("ak", "sk", NULL, "", NULL, &p));
        CHECK(p == NULL, "ram role: nothing made on failure");
        expect_err("chain out", oss_credentials_provider_new_default_chain(NULL), NUL_ARG);
        expect_ok("chain", oss_credentials_provider_new_default_chain(&p));
        oss_credentials_provider_free(p);
        p = NULL;
        expect_ok("static for get", oss_credentials_provider_new_static("get-ak", "rel-get-secret-QQQ", "rel-get-token-RRR", &p));
        expect_err("get provider", oss_credentials_provider_get(NULL, &id, &sk, &tok), NUL_ARG);
        expect_err("get id out", oss_credentials_provider_get(p, NULL, &sk, &tok), NUL_ARG);
        expect_err("get sk out", oss_credentials_provider_get(p, &id, NULL, &tok), NUL_ARG);
        expect_err("get token out", oss_credentials_provider_get(p, &id, &sk, NULL), NUL_ARG);
        CHECK(id == NULL && sk == NULL && tok == NULL, "get: nothing written on failure");
        expect_ok("get", oss_credentials_provider_get(p, &id, &sk, &tok));
        CHECK(id && sk && tok && !strcmp(id, "get-ak") && !strcmp(sk, "rel-get-secret-QQQ") &&
                  !strcmp(tok, "rel-get-token-RRR"),
              "get returns the provider's credentials");
        oss_string_free(id);
        oss_string_free(sk);
        oss_string_free(tok);
        oss_credentials_provider_free(p);
    }

    /* errors: getters on NULL return defaults */
    CHECK(oss_error_kind(NULL) == OSS_ERROR_KIND_NONE, "kind(NULL)");
    CHECK(oss_error_code(NULL) != NULL, "code(NULL)");
    CHECK(oss_error_message(NULL) != NULL, "message(NULL)");
    CHECK(oss_error_request_id(NULL) != NULL, "request_id(NULL)");
    CHECK(oss_error_host(NULL) != NULL, "host(NULL)");
    CHECK(oss_error_ec(NULL) != NULL, "ec(NULL)");
    CHECK(oss_error_http_status(NULL) == 0, "http_status(NULL)");
    CHECK(oss_error_bucket(NULL) != NULL && oss_error_bucket(NULL)[0] == '\0', "bucket(NULL)");
    CHECK(oss_error_key(NULL) != NULL && oss_error_key(NULL)[0] == '\0', "key(NULL)");
    CHECK(oss_error_detail(NULL) == OSS_ERROR_DETAIL_NONE, "detail(NULL)");
    oss_error_free(NULL);
    bad_inputs += 11;

    /* kind names: every kind named, any other value (out of range, negative cast) "UNKNOWN" */
    CHECK(strcmp(oss_error_kind_name(OSS_ERROR_KIND_SERVER), "OSS_ERROR_KIND_SERVER") == 0, "kind name");
    CHECK(strcmp(oss_error_kind_name(OSS_ERROR_KIND_NONE), "OSS_ERROR_KIND_NONE") == 0, "kind name none");
    CHECK(strcmp(oss_error_kind_name(OSS_ERROR_KIND_PANIC), "OSS_ERROR_KIND_PANIC") == 0, "kind name panic");
    CHECK(strcmp(oss_error_kind_name(14), "OSS_ERROR_KIND_UNKNOWN") == 0, "kind name 14");
    CHECK(strcmp(oss_error_kind_name(UINT32_MAX), "OSS_ERROR_KIND_UNKNOWN") == 0, "kind name max");
    CHECK(strcmp(oss_error_kind_name((uint32_t)-1), "OSS_ERROR_KIND_UNKNOWN") == 0, "kind name -1");
    bad_inputs += 3;

    /* object meta: getters on NULL, NULL outs */
    CHECK(oss_object_meta_content_length(NULL) <= 0, "content_length(NULL)");
    CHECK(oss_object_meta_etag(NULL) != NULL, "etag(NULL)");
    CHECK(oss_object_meta_last_modified(NULL) != NULL, "last_modified(NULL)");
    (void)oss_object_meta_version_id(NULL);
    CHECK(oss_object_meta_request_id(NULL) != NULL, "request_id(NULL)");
    CHECK(oss_object_meta_content_type(NULL) != NULL, "content_type(NULL)");
    CHECK(oss_object_meta_object_type(NULL) != NULL, "object_type(NULL)");
    CHECK(!oss_object_meta_crc64(NULL, &crc), "crc64(NULL)");
    CHECK(!oss_object_meta_verified(NULL), "verified(NULL)");
    CHECK(oss_object_meta_user_meta_count(NULL) == 0, "user_meta_count(NULL)");
    CHECK(!oss_object_meta_user_meta_at(NULL, 0, &n, &v), "user_meta_at(NULL)");
    CHECK(oss_object_meta_header_count(NULL) == 0, "header_count(NULL)");
    CHECK(!oss_object_meta_header_at(NULL, 0, &n, &v), "header_at(NULL)");
    CHECK(oss_object_meta_header(NULL, "etag") == NULL, "header(NULL)");
    oss_object_meta_free(NULL);
    bad_inputs += 15;
    expect_ok("head", oss_client_head_object(client, greq, &meta));
    if (meta) {
        CHECK(!oss_object_meta_verified(meta), "a HEAD's metadata verified nothing");
        (void)oss_object_meta_crc64(meta, NULL);
        (void)oss_object_meta_user_meta_at(meta, 0, NULL, NULL);
        (void)oss_object_meta_header_at(meta, 0, NULL, NULL);
        (void)oss_object_meta_header_at(meta, 0, &n, NULL);
        CHECK(oss_object_meta_header(meta, NULL) == NULL, "header(meta, NULL)");
        CHECK(oss_object_meta_header(meta, "\xff\xfe") == NULL, "header(meta, bad utf8)");
        CHECK(!oss_object_meta_header_at(meta, SIZE_MAX, &n, &v), "header_at(SIZE_MAX)");
        CHECK(!oss_object_meta_user_meta_at(meta, SIZE_MAX, &n, &v), "user_meta_at(SIZE_MAX)");
        bad_inputs += 8;
        oss_object_meta_free(meta);
        meta = NULL;
    }

    /* get-object request */
    {
        oss_get_object_request_t *r = NULL;
        expect_err("greq bucket", oss_get_object_request_new(NULL, key, &r), NUL_ARG);
        expect_err("greq key", oss_get_object_request_new(bucket, NULL, &r), NUL_ARG);
        expect_err("greq out", oss_get_object_request_new(bucket, key, NULL), NUL_ARG);
        expect_err("greq url NULL", oss_get_object_request_new_url(NULL, &r), NUL_ARG);
        expect_err("greq url out", oss_get_object_request_new_url("http://127.0.0.1/x", NULL), NUL_ARG);
        expect_err("greq url not a url", oss_get_object_request_new_url("not a url", &r), -1);
        expect_err("greq url scheme", oss_get_object_request_new_url("file:///etc/passwd", &r), -1);
        expect_err("greq url no host", oss_get_object_request_new_url("http://", &r), -1);
        CHECK(r == NULL, "request_out written on failure");
        oss_string_free(NULL);
        oss_get_object_request_free(NULL);
        oss_get_object_request_cancel(NULL);
        bad_inputs += 2;
        expect_err("greq range", oss_get_object_request_set_range(NULL, 0, 1), NUL_ARG);
        expect_err("greq version", oss_get_object_request_set_version_id(NULL, "v"), NUL_ARG);
        any_result("greq version NULL", oss_get_object_request_set_version_id(greq, NULL));
        expect_err("greq match", oss_get_object_request_set_matching_etags(NULL, etags, 1), NUL_ARG);
        any_result("greq match NULL array", oss_get_object_request_set_matching_etags(greq, NULL, 3));
        any_result("greq match NULL element", oss_get_object_request_set_matching_etags(greq, etags, 2));
        expect_err("greq nonmatch", oss_get_object_request_set_nonmatching_etags(NULL, etags, 1), NUL_ARG);
        any_result("greq nonmatch NULL array", oss_get_object_request_set_nonmatching_etags(greq, NULL, 3));
        any_result("greq nonmatch NULL element", oss_get_object_request_set_nonmatching_etags(greq, etags, 2));
        expect_err("greq modified", oss_get_object_request_set_modified_since(NULL, "x"), NUL_ARG);
        any_result("greq modified NULL", oss_get_object_request_set_modified_since(greq, NULL));
        expect_err("greq unmodified", oss_get_object_request_set_unmodified_since(NULL, "x"), NUL_ARG);
        any_result("greq unmodified NULL", oss_get_object_request_set_unmodified_since(greq, NULL));
        expect_err("greq response header", oss_get_object_request_set_response_header(NULL, 0, "x"), NUL_ARG);
        any_result("greq response header NULL", oss_get_object_request_set_response_header(greq, 0, NULL));
        expect_err("greq traffic", oss_get_object_request_set_traffic_limit(NULL, 245760), NUL_ARG);
        expect_err("greq payer", oss_get_object_request_set_request_payer(NULL, true), NUL_ARG);
        expect_err("greq progress", oss_get_object_request_set_progress(NULL, progress_cb, NULL, NULL), NUL_ARG);
        any_result("greq progress NULL cb", oss_get_object_request_set_progress(greq, NULL, NULL, NULL));
        expect_err("greq abortable", oss_get_object_request_set_progress_abortable(NULL, abortable_cb, NULL, NULL), NUL_ARG);
        any_result("greq abortable NULL cb", oss_get_object_request_set_progress_abortable(greq, NULL, NULL, NULL));
        /* A setter that fails still frees the user data it was given, once. */
        rate_frees = 0;
        expect_err("greq progress frees", oss_get_object_request_set_progress(NULL, progress_cb, NULL, rate_free), NUL_ARG);
        expect_err("greq abortable frees", oss_get_object_request_set_progress_abortable(NULL, abortable_cb, NULL, rate_free), NUL_ARG);
        CHECK(rate_frees == 2, "greq progress user_data freed once when the call fails");
    }

    /* download request */
    {
        oss_download_request_t *r = NULL;
        expect_err("dreq bucket", oss_download_request_new(NULL, key, "f", &r), NUL_ARG);
        expect_err("dreq key", oss_download_request_new(bucket, NULL, "f", &r), NUL_ARG);
        any_result("dreq file NULL (default path)", oss_download_request_new(bucket, key, NULL, &r));
        oss_download_request_free(r);
        r = NULL;
        expect_err("dreq out", oss_download_request_new(bucket, key, "f", NULL), NUL_ARG);
        oss_download_request_free(NULL);
        oss_download_request_cancel(NULL);
        bad_inputs += 2;
        expect_err("dreq file_path", oss_download_request_set_file_path(NULL, "f"), NUL_ARG);
        any_result("dreq file_path NULL", oss_download_request_set_file_path(dreq, NULL));
        expect_ok("dreq file_path back", oss_download_request_set_file_path(dreq, "null-args.bin"));
        expect_err("dreq part", oss_download_request_set_part_size(NULL, 1 << 20), NUL_ARG);
        expect_err("dreq threads", oss_download_request_set_thread_num(NULL, 2), NUL_ARG);
        expect_err("dreq ckpt", oss_download_request_set_checkpoint_dir(NULL, "."), NUL_ARG);
        any_result("dreq ckpt NULL", oss_download_request_set_checkpoint_dir(dreq, NULL));
        expect_err("dreq range", oss_download_request_set_range(NULL, 0, 1), NUL_ARG);
        expect_err("dreq verify", oss_download_request_set_verify_on_resume(NULL, true), NUL_ARG);
        expect_err("dreq direct io", oss_download_request_set_direct_io(NULL, false), NUL_ARG);
        expect_err("dreq target", oss_download_request_set_throughput_target(NULL, 1), NUL_ARG);
        expect_err("dreq version", oss_download_request_set_version_id(NULL, "v"), NUL_ARG);
        any_result("dreq version NULL", oss_download_request_set_version_id(dreq, NULL));
        expect_err("dreq match", oss_download_request_set_matching_etags(NULL, etags, 1), NUL_ARG);
        any_result("dreq match NULL array", oss_download_request_set_matching_etags(dreq, NULL, 3));
        any_result("dreq match NULL element", oss_download_request_set_matching_etags(dreq, etags, 2));
        expect_err("dreq nonmatch", oss_download_request_set_nonmatching_etags(NULL, etags, 1), NUL_ARG);
        any_result("dreq nonmatch NULL array", oss_download_request_set_nonmatching_etags(dreq, NULL, 3));
        any_result("dreq nonmatch NULL element", oss_download_request_set_nonmatching_etags(dreq, etags, 2));
        expect_err("dreq modified", oss_download_request_set_modified_since(NULL, "x"), NUL_ARG);
        any_result("dreq modified NULL", oss_download_request_set_modified_since(dreq, NULL));
        expect_err("dreq unmodified", oss_download_request_set_unmodified_since(NULL, "x"), NUL_ARG);
        any_result("dreq unmodified NULL", oss_download_request_set_unmodified_since(dreq, NULL));
        expect_err("dreq response header", oss_download_request_set_response_header(NULL, 0, "x"), NUL_ARG);
        any_result("dreq response header NULL", oss_download_request_set_response_header(dreq, 0, NULL));
        expect_err("dreq traffic", oss_download_request_set_traffic_limit(NULL, 245760), NUL_ARG);
        expect_err("dreq payer", oss_download_request_set_request_payer(NULL, true), NUL_ARG);
        expect_err("dreq progress", oss_download_request_set_progress(NULL, progress_cb, NULL, NULL), NUL_ARG);
        any_result("dreq progress NULL cb", oss_download_request_set_progress(dreq, NULL, NULL, NULL));
        expect_err("dreq abortable", oss_download_request_set_progress_abortable(NULL, abortable_cb, NULL, NULL), NUL_ARG);
        any_result("dreq abortable NULL cb", oss_download_request_set_progress_abortable(dreq, NULL, NULL, NULL));
        /* A setter that fails still frees the user data it was given, once. */
        rate_frees = 0;
        expect_err("dreq progress frees", oss_download_request_set_progress(NULL, progress_cb, NULL, rate_free), NUL_ARG);
        expect_err("dreq abortable frees", oss_download_request_set_progress_abortable(NULL, abortable_cb, NULL, rate_free), NUL_ARG);
        CHECK(rate_frees == 2, "dreq progress user_data freed once when the call fails");
    }

    /* asynchronous transfers */
    {
        const oss_transfer_t *t = NULL;
        oss_transfer_status_t st;
        uint8_t *tok = NULL;
        size_t len = 0;
        static const uint8_t junk[] = "not a token";
        long frees_before = done_frees;
        expect_err("start download client", oss_client_start_resumable_download(NULL, dreq, done_cb, NULL, done_free, &t), NUL_ARG);
        expect_err("start download request", oss_client_start_resumable_download(client, NULL, done_cb, NULL, done_free, &t), NUL_ARG);
        expect_err("start download out", oss_client_start_resumable_download(client, dreq, done_cb, NULL, done_free, NULL), NUL_ARG);
        expect_err("start get client", oss_client_start_get_object_to_file(NULL, greq, "x.bin", done_cb, NULL, done_free, &t), NUL_ARG);
        expect_err("start get request", oss_client_start_get_object_to_file(client, NULL, "x.bin", done_cb, NULL, done_free, &t), NUL_ARG);
        expect_err("start get path", oss_client_start_get_object_to_file(client, greq, NULL, done_cb, NULL, done_free, &t), NUL_ARG);
        expect_err("start get path utf8", oss_client_start_get_object_to_file(client, greq, "\xff\xfe.bin", done_cb, NULL, done_free, &t), OSS_ERROR_KIND_INVALID_UTF8);
        expect_err("start get out", oss_client_start_get_object_to_file(client, greq, "x.bin", done_cb, NULL, done_free, NULL), NUL_ARG);
        expect_err("start resume client", oss_client_start_resume(NULL, junk, sizeof junk, NULL, done_cb, NULL, done_free, &t), NUL_ARG);
        expect_err("start resume token", oss_client_start_resume(client, NULL, 10, NULL, done_cb, NULL, done_free, &t), NUL_ARG);
        expect_err("start resume empty", oss_client_start_resume(client, NULL, 0, dreq, done_cb, NULL, done_free, &t), INVALID);
        expect_err("start resume junk", oss_client_start_resume(client, junk, sizeof junk, NULL, done_cb, NULL, done_free, &t), INVALID);
        expect_err("start resume out", oss_client_start_resume(client, junk, sizeof junk, NULL, done_cb, NULL, done_free, NULL), NUL_ARG);
        CHECK(t == NULL, "a failed start wrote its out-parameter");
        CHECK(done_frees - frees_before == 13, "user_data_free after failed starts: %ld", done_frees - frees_before);
        CHECK(oss_transfer_poll(NULL) == OSS_TRANSFER_STATE_FAILED, "poll NULL");
        CHECK(oss_transfer_wait(NULL, -1) == OSS_TRANSFER_STATE_FAILED, "wait NULL");
        oss_transfer_cancel(NULL);
        CHECK(!oss_transfer_pause(NULL), "pause NULL");
        expect_err("status transfer", oss_transfer_status(NULL, &st), NUL_ARG);
        expect_err("result transfer", oss_transfer_result(NULL, &meta), NUL_ARG);
        expect_err("token transfer", oss_transfer_take_resume_token(NULL, &tok, &len), NUL_ARG);
        CHECK(oss_transfer_clone(NULL) == NULL, "clone NULL");
        oss_transfer_free(NULL);
        oss_bytes_free(NULL, 0);
        oss_bytes_free(NULL, 5);
        bad_inputs += 9;
        /* A real transfer (NULL callback and user data allowed), then NULL out-pointers on it. */
        expect_ok("start", oss_client_start_resumable_download(client, dreq, NULL, NULL, NULL, &t));
        expect_err("status out", oss_transfer_status(t, NULL), NUL_ARG);
        expect_err("token out", oss_transfer_take_resume_token(t, NULL, &len), NUL_ARG);
        expect_err("token len out", oss_transfer_take_resume_token(t, &tok, NULL), NUL_ARG);
        {
            const oss_transfer_t *t2 = oss_transfer_clone(t);
            CHECK(t2 == t, "clone gives the same handle");
            oss_transfer_free(t2);
        }
        (void)oss_transfer_wait(t, 120000);
        any_result("result meta NULL", oss_transfer_result(t, NULL));
        expect_err("token of a finished download", oss_transfer_take_resume_token(t, &tok, &len), INVALID);
        oss_transfer_free(t);
        /* A running transfer freed at once: it runs on and completes once. */
        {
            long calls = done_calls;
            expect_ok("start and free", oss_client_start_get_object_to_file(client, greq, "freed.bin", done_cb, NULL, done_free, &t));
            oss_transfer_free(t);
            while (__atomic_load_n(&done_frees, __ATOMIC_SEQ_CST) == frees_before + 13) {
                struct timespec ts = {0, 1000000};
                nanosleep(&ts, NULL);
            }
            CHECK(done_calls == calls + 1, "the freed transfer completed %ld times", done_calls - calls);
        }
    }

    /* SDK-level */
    CHECK(oss_version() != NULL, "version");
    CHECK(oss_is_sdk_initialized(), "initialised");
    oss_set_log_level(UINT32_MAX);
    CHECK(oss_get_log_level() == OSS_LOG_TRACE, "log level clamps to TRACE");
    oss_set_log_callback(NULL, NULL, NULL);
    oss_set_log_callback(NULL, (void *)etags, NULL);
    oss_set_log_callback(log_sink, NULL, NULL);
    CHECK(oss_crc64(7, NULL, 0) == 7, "crc64 NULL/0");
    CHECK(oss_crc64(7, NULL, 100) == 7, "crc64 NULL/100");
    (void)oss_crc64_combine(UINT64_MAX, UINT64_MAX, UINT64_MAX);
    (void)oss_crc64_combine(0, 0, 0);
    bad_inputs += 9;

    oss_download_request_free(dreq);
    oss_get_object_request_free(greq);
    oss_credentials_provider_free(creds);
    oss_config_free(cfg);
}

/* ---- invalid UTF-8, empty and 1 MiB strings, out-of-range numbers ----------------------- */
static void bad_values(const oss_client_t *client, const char *endpoint, const char *bucket,
                       const char *key, const char *ak, const char *sk) {
    const char *bad = "bad\xff\xfe\xc0\x80utf8";
    char *huge = big_string(1 << 20, 'k');
    oss_config_t *cfg = oss_config_new();
    oss_credentials_provider_t *creds = NULL;
    const oss_client_t *c2 = NULL;
    oss_get_object_request_t *greq = NULL;
    oss_download_request_t *dreq = NULL;
    oss_object_meta_t *meta = NULL;
    const char *bad_etags[2] = {"\"ok\"", "\xff"};

    /* invalid UTF-8 in every string argument */
    expect_err("endpoint utf8", oss_client_new(bad, NULL, cfg, &c2), -1);
    expect_ok("creds", oss_credentials_provider_new_static(ak, sk, NULL, &creds));
    expect_err("endpoint utf8 2", oss_client_new(bad, creds, cfg, &c2), BAD_UTF8);
    expect_err("region utf8", oss_client_set_region(client, bad), BAD_UTF8);
    expect_err("ua utf8", oss_config_set_user_agent(cfg, bad), BAD_UTF8);
    expect_err("proxy utf8", oss_config_set_proxy(cfg, "http", bad, 8080, "u", "p"), BAD_UTF8);
    expect_err("no_proxy utf8", oss_config_set_no_proxy(cfg, bad), BAD_UTF8);
    expect_err("proxy user utf8", oss_config_set_proxy(cfg, "http", "h", 8080, bad, "p"), BAD_UTF8);
    expect_err("proxy scheme utf8", oss_config_set_proxy(cfg, bad, "h", 8080, "u", "p"), BAD_UTF8);
    expect_err("proxy pass utf8", oss_config_set_proxy(cfg, "http", "h", 8080, "u", bad), BAD_UTF8);
    expect_err("ca_file utf8", oss_config_set_ca_file(cfg, bad), -1);
    expect_err("ca_path utf8", oss_config_set_ca_path(cfg, bad), -1);
    expect_err("cfg region utf8", oss_config_set_region(cfg, bad), BAD_UTF8);
    expect_err("cfg resolve utf8", oss_config_add_resolve(cfg, bad), BAD_UTF8);
    {
        oss_credentials_provider_t *p = NULL;
        expect_err("ak utf8", oss_credentials_provider_new_static(bad, "sk", NULL, &p), BAD_UTF8);
        expect_err("sk utf8", oss_credentials_provider_new_static("ak", bad, NULL, &p), BAD_UTF8);
        expect_err("token utf8", oss_credentials_provider_new_static("ak", "sk", bad, &p), BAD_UTF8);
        expect_err("ak empty", oss_credentials_provider_new_static("", "sk", NULL, &p), -1);
        any_result("ak 1 MiB", oss_credentials_provider_new_static(huge, "sk", NULL, &p));
        oss_credentials_provider_free(p);
    }
    expect_err("greq bucket utf8", oss_get_object_request_new(bad, key, &greq), -1);
    expect_err("greq key utf8", oss_get_object_request_new(bucket, bad, &greq), BAD_UTF8);
    expect_err("dreq bucket utf8", oss_download_request_new(bad, key, "f", &dreq), -1);
    expect_err("dreq key utf8", oss_download_request_new(bucket, bad, "f", &dreq), BAD_UTF8);
    expect_err("dreq path utf8", oss_download_request_new(bucket, key, bad, &dreq), -1);
    expect_ok("greq", oss_get_object_request_new(bucket, key, &greq));
    expect_ok("dreq", oss_download_request_new(bucket, key, "bad-values.bin", &dreq));
    expect_err("to_file path utf8", oss_client_get_object_to_file(client, greq, bad, &meta), -1);
    expect_err("greq version utf8", oss_get_object_request_set_version_id(greq, bad), BAD_UTF8);
    expect_err("greq etags utf8", oss_get_object_request_set_matching_etags(greq, bad_etags, 2), BAD_UTF8);
    expect_err("greq nonetags utf8", oss_get_object_request_set_nonmatching_etags(greq, bad_etags, 2), BAD_UTF8);
    expect_err("greq modified utf8", oss_get_object_request_set_modified_since(greq, bad), BAD_UTF8);
    expect_err("greq unmodified utf8", oss_get_object_request_set_unmodified_since(greq, bad), BAD_UTF8);
    expect_err("greq response utf8", oss_get_object_request_set_response_header(greq, 0, bad), BAD_UTF8);
    expect_err("dreq path utf8 2", oss_download_request_set_file_path(dreq, bad), -1);
    expect_err("dreq ckpt utf8", oss_download_request_set_checkpoint_dir(dreq, bad), -1);
    expect_err("dreq version utf8", oss_download_request_set_version_id(dreq, bad), BAD_UTF8);
    expect_err("dreq etags utf8", oss_download_request_set_matching_etags(dreq, bad_etags, 2), BAD_UTF8);
    expect_err("dreq nonetags utf8", oss_download_request_set_nonmatching_etags(dreq, bad_etags, 2), BAD_UTF8);
    expect_err("dreq modified utf8", oss_download_request_set_modified_since(dreq, bad), BAD_UTF8);
    expect_err("dreq unmodified utf8", oss_download_request_set_unmodified_since(dreq, bad), BAD_UTF8);
    expect_err("dreq response utf8", oss_download_request_set_response_header(dreq, 0, bad), BAD_UTF8);
    oss_get_object_request_free(greq);
    oss_download_request_free(dreq);
    greq = NULL;
    dreq = NULL;

    /* empty and 1 MiB strings */
    expect_err("endpoint empty", oss_client_new("", creds, cfg, &c2), -1);
    any_result("endpoint 1 MiB", oss_client_new(huge, creds, cfg, &c2));
    oss_client_free(c2);
    c2 = NULL;
    any_result("region empty", oss_client_set_region(client, ""));
    any_result("region 1 MiB", oss_client_set_region(client, huge));
    any_result("ua 1 MiB", oss_config_set_user_agent(cfg, huge));
    any_result("ua with CR LF", oss_config_set_user_agent(cfg, "a\r\nX-Injected: 1"));
    any_result("ca_file missing", oss_config_set_ca_file(cfg, "/nonexistent/ca.pem"));
    refused("greq bucket empty", oss_get_object_request_new("", key, &greq), &greq, client, NULL);
    refused("greq key empty", oss_get_object_request_new(bucket, "", &greq), &greq, client, NULL);
    any_result("greq key 1 MiB", oss_get_object_request_new(bucket, huge, &greq));
    if (greq) expect_err("head with a 1 MiB key", oss_client_head_object(client, greq, &meta), -1);
    oss_get_object_request_free(greq);
    greq = NULL;
    any_result("dreq key 1 MiB", oss_download_request_new(bucket, huge, "k.bin", &dreq));
    if (dreq) expect_err("download with a 1 MiB key", oss_client_resumable_download_object(client, dreq, &meta), INVALID);
    oss_download_request_free(dreq);
    dreq = NULL;
    refused("dreq path empty", oss_download_request_new(bucket, key, "", &dreq), NULL, client, &dreq);
    oss_download_request_free(dreq);
    dreq = NULL;
    any_result("dreq path 1 MiB", oss_download_request_new(bucket, key, huge, &dreq));
    if (dreq) expect_err("download to a 1 MiB path", oss_client_resumable_download_object(client, dreq, &meta), -1);
    oss_download_request_free(dreq);
    dreq = NULL;
    expect_ok("dreq", oss_download_request_new(bucket, key, "bad-values.bin", &dreq));
    any_result("ckpt empty", oss_download_request_set_checkpoint_dir(dreq, ""));
    any_result("ckpt 1 MiB", oss_download_request_set_checkpoint_dir(dreq, huge));
    any_result("ckpt missing", oss_download_request_set_checkpoint_dir(dreq, "/nonexistent/dir"));
    expect_err("download with a missing checkpoint dir", oss_client_resumable_download_object(client, dreq, &meta), INVALID);
    any_result("ckpt NULL again", oss_download_request_set_checkpoint_dir(dreq, NULL));
    any_result("version empty", oss_download_request_set_version_id(dreq, ""));
    any_result("version 1 MiB", oss_download_request_set_version_id(dreq, huge));
    expect_err("download with a bad version id", oss_client_resumable_download_object(client, dreq, &meta), -1);
    any_result("version NULL again", oss_download_request_set_version_id(dreq, NULL));
    any_result("modified garbage", oss_download_request_set_modified_since(dreq, "not a date"));
    any_result("modified NULL again", oss_download_request_set_modified_since(dreq, NULL));

    /* out-of-range numbers */
    any_result("part 0", oss_download_request_set_part_size(dreq, 0));
    any_result("part 1", oss_download_request_set_part_size(dreq, 1));
    refused("part max", oss_download_request_set_part_size(dreq, UINT64_MAX), NULL, client, &dreq);
    any_result("part back", oss_download_request_set_part_size(dreq, 100 * 1024));
    any_result("threads 0", oss_download_request_set_thread_num(dreq, 0));
    refused("threads max", oss_download_request_set_thread_num(dreq, UINT32_MAX), NULL, client, &dreq);
    any_result("threads back", oss_download_request_set_thread_num(dreq, 3));
    expect_ok("target max", oss_download_request_set_throughput_target(dreq, UINT64_MAX));
    expect_ok("target 1 B/s", oss_download_request_set_throughput_target(dreq, 1));
    expect_ok("target off", oss_download_request_set_throughput_target(dreq, 0));
    any_result("range negative", oss_download_request_set_range(dreq, -5, -7));
    any_result("range min/max", oss_download_request_set_range(dreq, INT64_MIN, INT64_MAX));
    any_result("range reversed", oss_download_request_set_range(dreq, 5, 2));
    any_result("range past the end", oss_download_request_set_range(dreq, INT64_MAX - 1, INT64_MAX));
    expect_err("download past the end", oss_client_resumable_download_object(client, dreq, &meta), -1);
    expect_ok("range back", oss_download_request_set_range(dreq, 0, -1));
    any_result("traffic 0", oss_download_request_set_traffic_limit(dreq, 0));
    refused("traffic max", oss_download_request_set_traffic_limit(dreq, UINT64_MAX), NULL, client, &dreq);
    any_result("traffic back", oss_download_request_set_traffic_limit(dreq, 0));
    any_result("response header 999", oss_download_request_set_response_header(dreq, 999, "x"));
    any_result("response header max", oss_download_request_set_response_header(dreq, UINT32_MAX, "x"));
    any_result("greq range min", oss_get_object_request_new(bucket, key, &greq));
    any_result("greq range reversed", oss_get_object_request_set_range(greq, 9, 3));
    any_result("greq range min/max", oss_get_object_request_set_range(greq, INT64_MIN, INT64_MAX));
    any_result("greq traffic max", oss_get_object_request_set_traffic_limit(greq, UINT64_MAX));
    any_result("greq response 999", oss_get_object_request_set_response_header(greq, 999, "x"));
    any_result("get with odd settings", oss_client_get_object(client, greq, write_sink, NULL, &meta));
    oss_object_meta_free(meta);
    meta = NULL;
    oss_get_object_request_free(greq);
    greq = NULL;

    /* config numbers: a client is still made and works, or the setter refuses */
    any_result("max_connections 0", oss_config_set_max_connections(cfg, 0));
    any_result("max_connections max", oss_config_set_max_connections(cfg, UINT32_MAX));
    any_result("connect timeout 0", oss_config_set_connect_timeout_ms(cfg, 0));
    any_result("connect timeout max", oss_config_set_connect_timeout_ms(cfg, UINT64_MAX));
    any_result("request timeout 0", oss_config_set_request_timeout_ms(cfg, 0));
    any_result("request timeout max", oss_config_set_request_timeout_ms(cfg, UINT64_MAX));
    any_result("retry max", oss_config_set_retry(cfg, UINT32_MAX, UINT64_MAX));
    any_result("call timeout 0", oss_config_set_call_timeout_ms(cfg, 0));
    any_result("call timeout max", oss_config_set_call_timeout_ms(cfg, UINT64_MAX));
    any_result("rate max", oss_config_set_recv_rate_limit_kbps(cfg, UINT64_MAX));
    /* The smallest budget: the downloads below still end (one part at a time). */
    expect_ok("budget min", oss_config_set_memory_budget(cfg, 16u << 20));
    rate_answer = UINT64_MAX; /* an absurd answer: saturates, the downloads below still end */
    expect_ok("rate cb max", oss_config_set_recv_rate_limit_cb(cfg, rate_cb, NULL, NULL));
    metrics_calls = metrics_bad = 0;
    expect_ok("metrics cb", oss_config_set_request_metrics_callback(cfg, metrics_cb, NULL, metrics_free));
    any_result("sigver 99", oss_config_set_signature_version(cfg, 99));
    any_result("proxy port 0", oss_config_set_proxy(cfg, "http", "127.0.0.1", 0, NULL, NULL));
    any_result("proxy scheme odd", oss_config_set_proxy(cfg, "gopher", "127.0.0.1", 1, NULL, NULL));
    any_result("proxy off", oss_config_set_proxy(cfg, NULL, NULL, 0, NULL, NULL));
    any_result("ca_file off", oss_config_set_ca_file(cfg, NULL));
    any_result("client with extreme config", oss_client_new(endpoint, creds, cfg, &c2));
    if (c2) {
        /* Requests with extreme timeouts and retry settings still end (the object exists). */
        expect_ok("greq", oss_get_object_request_new(bucket, key, &greq));
        any_result("head with extreme config", oss_client_head_object(c2, greq, &meta));
        oss_object_meta_free(meta);
        meta = NULL;
        {
            oss_request_stats_t st;
            expect_err("client stats out", oss_client_request_stats(c2, NULL), NUL_ARG);
            expect_ok("client stats", oss_client_request_stats(c2, &st));
            CHECK(metrics_calls >= 1 && (long)st.requests == metrics_calls,
                  "metrics: %ld calls, %llu requests counted", metrics_calls, (unsigned long long)st.requests);
            CHECK(metrics_bad == 0, "metrics: %ld malformed records", metrics_bad);
        }
        oss_get_object_request_free(greq);
        greq = NULL;
        oss_client_free(c2);
        c2 = NULL;
    }

    oss_download_request_free(dreq);
    oss_credentials_provider_free(creds);
    oss_config_free(cfg);
    free(huge);
}

/* ---- default destinations never escape the working directory --------------------------- */
static void escaping_keys(const oss_client_t *client, const char *bucket, const char *dir) {
    static const char *keys[] = {"../../etc/x", "/abs",        "a/../../b", "..",
                                 "../x",        "./../x",      "a/..",      "a\x01" "b",
                                 "a\nb",        "a\tb/../../c", "dir/",     "x/../../../tmp/y",
                                 "//etc/passwd", "\x1b[31m"};
    size_t i;
    char cwd[4096];
    snprintf(cwd, sizeof cwd, "%s/cwd", dir);
    mkdir(cwd, 0755);
    CHECK(chdir(cwd) == 0, "chdir %s: %s", cwd, strerror(errno));
    for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        oss_download_request_t *r = NULL;
        oss_object_meta_t *meta = NULL;
        oss_error_t *e = oss_download_request_new(bucket, keys[i], NULL, &r);
        if (e) {
            expect_err("escaping key refused at new", e, -1);
            continue;
        }
        e = oss_client_resumable_download_object(client, r, &meta);
        CHECK(e != NULL, "key '%s' with a default path was accepted", keys[i]);
        if (e) {
            printf("escaping key %zu: %s: %s\n", i, oss_error_code(e), oss_error_message(e));
            expect_err("escaping key", e, INVALID);
        }
        oss_object_meta_free(meta);
        oss_download_request_free(r);
    }
    CHECK(chdir(dir) == 0, "chdir back");
}

/* ---- use after shutdown, init/shutdown from many threads ------------------------------- */
struct storm {
    const oss_client_t *client;
    const char *bucket, *key;
    int id;
};

static void *storm_thread(void *arg) {
    struct storm *s = arg;
    int i;
    for (i = 0; i < 25; i++) {
        oss_object_meta_t *meta = NULL;
        oss_get_object_request_t *r = NULL;
        oss_error_t *e;
        if ((i + s->id) % 3 == 0) {
            oss_shutdown_sdk();
        } else {
            e = oss_initialize_sdk();
            any_result("init in a storm", e);
        }
        e = oss_get_object_request_new(s->bucket, s->key, &r);
        oss_error_free(e);
        e = oss_client_head_object(s->client, r, &meta);
        if (e) {
            int k = (int)oss_error_kind(e);
            CHECK(k == OSS_ERROR_KIND_NOT_INITIALIZED || k == OSS_ERROR_KIND_CANCELLED ||
                      k == OSS_ERROR_KIND_TRANSPORT || k == OSS_ERROR_KIND_TIMEOUT,
                  "head in a storm: %s: %s", oss_error_code(e), oss_error_message(e));
            CHECK(k != OSS_ERROR_KIND_PANIC, "panic in a storm");
            oss_error_free(e);
        }
        oss_object_meta_free(meta);
        oss_get_object_request_free(r);
        (void)oss_is_sdk_initialized();
    }
    return NULL;
}

static void lifecycle(const oss_client_t *client, const char *bucket, const char *key) {
    oss_get_object_request_t *r = NULL;
    oss_download_request_t *d = NULL;
    oss_object_meta_t *meta = NULL;
    pthread_t t[16];
    struct storm s[16];
    int i;
    expect_ok("greq", oss_get_object_request_new(bucket, key, &r));
    expect_ok("dreq", oss_download_request_new(bucket, key, "after-shutdown.bin", &d));
    oss_shutdown_sdk();
    oss_shutdown_sdk();
    CHECK(!oss_is_sdk_initialized(), "still initialised after shutdown");
    expect_err("head after shutdown", oss_client_head_object(client, r, &meta), OSS_ERROR_KIND_NOT_INITIALIZED);
    expect_err("get after shutdown", oss_client_get_object(client, r, write_sink, NULL, &meta), OSS_ERROR_KIND_NOT_INITIALIZED);
    expect_err("to_file after shutdown", oss_client_get_object_to_file(client, r, "x.bin", &meta), OSS_ERROR_KIND_NOT_INITIALIZED);
    expect_err("download after shutdown", oss_client_resumable_download_object(client, d, &meta), OSS_ERROR_KIND_NOT_INITIALIZED);
    any_result("meta after shutdown", oss_client_get_object_meta(client, r, &meta));
    {
        const oss_transfer_t *t = NULL;
        expect_err("start download after shutdown", oss_client_start_resumable_download(client, d, NULL, NULL, NULL, &t), OSS_ERROR_KIND_NOT_INITIALIZED);
        expect_err("start get after shutdown", oss_client_start_get_object_to_file(client, r, "x.bin", NULL, NULL, NULL, &t), OSS_ERROR_KIND_NOT_INITIALIZED);
        CHECK(t == NULL, "a transfer after shutdown");
    }
    oss_object_meta_free(meta);
    meta = NULL;
    /* handles made and freed while shut down */
    {
        oss_config_t *c = oss_config_new();
        oss_credentials_provider_t *p = NULL;
        const oss_client_t *cl = NULL;
        any_result("creds while shut down", oss_credentials_provider_new_static("a", "b", NULL, &p));
        any_result("client while shut down", oss_client_new("http://127.0.0.1:1", p, c, &cl));
        oss_client_free(cl);
        oss_credentials_provider_free(p);
        oss_config_free(c);
    }
    expect_ok("initialise again", oss_initialize_sdk());
    expect_ok("initialise twice", oss_initialize_sdk());
    expect_ok("head after re-initialise", oss_client_head_object(client, r, &meta));
    oss_object_meta_free(meta);
    meta = NULL;

    for (i = 0; i < 16; i++) {
        s[i].client = client;
        s[i].bucket = bucket;
        s[i].key = key;
        s[i].id = i;
        CHECK(pthread_create(&t[i], NULL, storm_thread, &s[i]) == 0, "pthread_create");
    }
    for (i = 0; i < 16; i++) pthread_join(t[i], NULL);
    expect_ok("initialise after the storm", oss_initialize_sdk());
    expect_ok("head after the storm", oss_client_head_object(client, r, &meta));
    oss_object_meta_free(meta);
    oss_get_object_request_free(r);
    oss_download_request_free(d);
}

/* ---- TLS: verification is on by default ------------------------------------------------- */
static void tls(const char *endpoint, const char *ca, const char *bucket, const char *key,
                const char *ak, const char *sk) {
    oss_get_object_request_t *r = NULL;
    oss_object_meta_t *meta = NULL;
    oss_config_t *cfg;
    const oss_client_t *c;
    oss_error_t *e;
    expect_ok("greq", oss_get_object_request_new(bucket, key, &r));

    cfg = oss_config_new();
    oss_config_set_retry(cfg, 0, 10);
    c = client_with(endpoint, ak, sk, cfg);
    e = oss_client_head_object(c, r, &meta);
    CHECK(e != NULL, "a server with an unknown CA was accepted by default");
    if (e) {
        printf("TLS by default: %s: %s\n", oss_error_code(e), oss_error_message(e));
        CHECK(oss_error_kind(e) == OSS_ERROR_KIND_TRANSPORT, "TLS refusal kind %d", (int)oss_error_kind(e));
        oss_error_free(e);
    }
    oss_object_meta_free(meta);
    meta = NULL;
    oss_client_free(c);
    oss_config_free(cfg);

    cfg = oss_config_new();
    expect_ok("ca file", oss_config_set_ca_file(cfg, ca));
    c = client_with(endpoint, ak, sk, cfg);
    expect_ok("TLS with the CA given", oss_client_head_object(c, r, &meta));
    oss_object_meta_free(meta);
    meta = NULL;
    oss_client_free(c);
    oss_config_free(cfg);

    cfg = oss_config_new();
    expect_ok("verify off", oss_config_set_verify_tls(cfg, false));
    c = client_with(endpoint, ak, sk, cfg);
    expect_ok("TLS with verification off", oss_client_head_object(c, r, &meta));
    oss_object_meta_free(meta);
    oss_client_free(c);
    oss_config_free(cfg);
    oss_get_object_request_free(r);
}

/* ---- secrets: STS and a wrong secret, with trace logging -------------------------------- */
static void secrets_in_errors(const char *endpoint, const char *bucket, const char *key) {
    oss_get_object_request_t *r = NULL;
    oss_object_meta_t *meta = NULL;
    oss_credentials_provider_t *p = NULL;
    oss_config_t *cfg = oss_config_new();
    const oss_client_t *c = NULL;
    const char *kv[2];
    expect_ok("greq", oss_get_object_request_new(bucket, key, &r));
    expect_ok("sts creds", oss_credentials_provider_new_static(env("OSS_TEST_STS_AK"), env("OSS_TEST_STS_SK"),
                                                              env("OSS_TEST_STS_TOKEN"), &p));
    expect_ok("sts client", oss_client_new(endpoint, p, cfg, &c));
    expect_ok("head with STS", oss_client_head_object(c, r, &meta));
    oss_object_meta_free(meta);
    meta = NULL;
    oss_client_free(c);
    oss_credentials_provider_free(p);
    /* wrong secret and wrong token: errors that must not echo them */
    expect_ok("wrong creds", oss_credentials_provider_new_static(env("OSS_TEST_AK"), env("OSS_TEST_WRONG_SK"), NULL, &p));
    expect_ok("wrong client", oss_client_new(endpoint, p, cfg, &c));
    expect_err("head with a wrong secret", oss_client_head_object(c, r, &meta), OSS_ERROR_KIND_SERVER);
    expect_err("get with a wrong secret", oss_client_get_object(c, r, write_sink, NULL, &meta), OSS_ERROR_KIND_SERVER);
    oss_client_free(c);
    oss_credentials_provider_free(p);
    expect_ok("wrong token", oss_credentials_provider_new_static(env("OSS_TEST_STS_AK"), env("OSS_TEST_STS_SK"),
                                                                env("OSS_TEST_WRONG_SK"), &p));
    expect_ok("wrong token client", oss_client_new(endpoint, p, cfg, &c));
    expect_err("head with a wrong token", oss_client_head_object(c, r, &meta), OSS_ERROR_KIND_SERVER);
    oss_client_free(c);
    oss_credentials_provider_free(p);
    /* callback provider, with hostile calls of oss_credentials_set inside */
    kv[0] = env("OSS_TEST_AK");
    kv[1] = env("OSS_TEST_SK");
    expect_ok("callback creds", oss_credentials_provider_new_callback(creds_cb, (void *)kv, NULL, &p));
    expect_ok("callback client", oss_client_new(endpoint, p, cfg, &c));
    expect_ok("head with callback creds", oss_client_head_object(c, r, &meta));
    oss_object_meta_free(meta);
    oss_client_free(c);
    oss_credentials_provider_free(p);
    oss_config_free(cfg);
    oss_get_object_request_free(r);
}

int main(void) {
    const char *endpoint = env("OSS_TEST_ENDPOINT");
    const char *bucket = env("OSS_TEST_BUCKET");
    const char *key = env("OSS_TEST_KEY");
    const char *dir = env("OSS_TEST_DIR");
    const oss_client_t *client;
    oss_config_t *cfg;
    secrets[0] = env("OSS_TEST_SK");
    secrets[1] = env("OSS_TEST_STS_SK");
    secrets[2] = env("OSS_TEST_STS_TOKEN");
    secrets[3] = env("OSS_TEST_WRONG_SK");
    CHECK(chdir(dir) == 0, "chdir");

    /* Before initialisation: refused, not crashed. */
    {
        oss_get_object_request_t *r = NULL;
        oss_object_meta_t *meta = NULL;
        const oss_client_t *c = NULL;
        oss_credentials_provider_t *p = NULL;
        oss_config_t *cc = oss_config_new();
        any_result("creds before init", oss_credentials_provider_new_static("a", "b", NULL, &p));
        any_result("client before init", oss_client_new(endpoint, p, cc, &c));
        any_result("greq before init", oss_get_object_request_new(bucket, key, &r));
        if (c && r) expect_err("head before init", oss_client_head_object(c, r, &meta), OSS_ERROR_KIND_NOT_INITIALIZED);
        oss_get_object_request_free(r);
        oss_client_free(c);
        oss_credentials_provider_free(p);
        oss_config_free(cc);
    }
    expect_ok("initialise", oss_initialize_sdk());
    oss_set_log_level(OSS_LOG_TRACE);
    oss_set_log_callback(log_sink, NULL, NULL);
    cfg = oss_config_new();
    oss_config_set_retry(cfg, 1, 10);
    client = client_with(endpoint, env("OSS_TEST_AK"), env("OSS_TEST_SK"), cfg);
    oss_config_free(cfg);

    null_arguments(client, bucket, key);
    bad_values(client, endpoint, bucket, key, env("OSS_TEST_AK"), env("OSS_TEST_SK"));
    escaping_keys(client, bucket, dir);
    batch_inputs(client, bucket, dir);
    secrets_in_errors(endpoint, bucket, key);
    tls(env("OSS_TEST_TLS_ENDPOINT"), env("OSS_TEST_TLS_CA"), bucket, key, env("OSS_TEST_AK"),
        env("OSS_TEST_SK"));
    lifecycle(client, bucket, key);

    oss_set_log_callback(NULL, NULL, NULL);
    oss_client_free(client);
    oss_shutdown_sdk();
    CHECK(log_lines > 0, "no log line was seen at trace level");
    printf("LOG_LINES %ld\n", log_lines);
    printf("BAD_INPUTS %ld\n", bad_inputs);
    if (failures) {
        fprintf(stderr, "hostile: %d failures\n", failures);
        return 1;
    }
    printf("hostile: all checks passed\n");
    return 0;
}
