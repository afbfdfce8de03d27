/* Callbacks and threads through the C ABI: a log sink (never sees a secret), a rotating STS
 * credentials callback, progress invariants, cancelling a download from its own progress
 * callback and resuming it, and many threads sharing one client. Environment as in
 * client_basic.c, plus OSS_TEST_STS_AK / OSS_TEST_STS_SK / OSS_TEST_STS_TOKEN. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "oss_ffi.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>



/* ---- log sink ---- */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_lines = 0, secret_seen = 0;
static int log_freed = 0;

static void on_log(oss_log_level_t level, const char *message, void *user_data) {
    const char **secrets = (const char **)user_data;
    int i;
    (void)level;
    pthread_mutex_lock(&log_lock);
    log_lines++;
    for (i = 0; secrets[i]; i++) {
        if (strstr(message, secrets[i])) secret_seen++;
    }
    pthread_mutex_unlock(&log_lock);
}

static void on_log_free(void *user_data) {
    (void)user_data;
    log_freed++;
}

/* ---- rotating credentials ---- */
struct rotating {
    pthread_mutex_t lock;
    int calls;
    int fail;
};

static int32_t credentials_cb(void *user_data, oss_credentials_t *out) {
    struct rotating *r = (struct rotating *)user_data;
    oss_error_t *err;
    int n;
    pthread_mutex_lock(&r->lock);
    n = r->calls++;
    pthread_mutex_unlock(&r->lock);
    if (r->fail) return 7;
    if (n % 2 == 0) {
        err = oss_credentials_set(out, env("OSS_TEST_AK"), env("OSS_TEST_SK"), NULL);
    } else {
        err = oss_credentials_set(out, env("OSS_TEST_STS_AK"), env("OSS_TEST_STS_SK"), env("OSS_TEST_STS_TOKEN"));
    }
    if (err) {
        oss_error_free(err);
        return 1;
    }
    return 0;
}

/* ---- progress ---- */
struct progress {
    int64_t last, total, first, calls, sum;
    int64_t cancel_at; /* cancel when transferred >= cancel_at (0 = never) */
    const oss_download_request_t *request;
    int violations;
};

static void on_progress(size_t increment, int64_t transferred, int64_t total, void *user_data) {
    struct progress *p = (struct progress *)user_data;
    if (p->calls == 0) p->first = transferred;
    p->calls++;
    p->sum += (int64_t)increment;
    if (transferred < p->last || transferred > total || (p->total && total != p->total)) p->violations++;
    p->last = transferred;
    p->total = total;
    if (p->cancel_at && transferred >= p->cancel_at) oss_download_request_cancel(p->request);
}


static const oss_client_t *shared_client;

struct job {
    int index;
    int ok;
};

static void *download_thread(void *arg) {
    struct job *job = (struct job *)arg;
    oss_download_request_t *dl = NULL;
    oss_error_t *err;
    char path[4096];
    int64_t size;
    snprintf(path, sizeof path, "%s/thread-%d.bin", env("OSS_TEST_DIR"), job->index);
    err = oss_download_request_new(env("OSS_TEST_BUCKET"), env("OSS_TEST_KEY"), path, &dl);
    if (!err) err = oss_download_request_set_part_size(dl, 100 * 1024);
    if (!err) err = oss_download_request_set_thread_num(dl, (uint32_t)(1 + job->index % 5));
    if (!err) err = oss_client_resumable_download_object(shared_client, dl, NULL);
    if (err) {
        fprintf(stderr, "thread %d: %s: %s\n", job->index, oss_error_code(err), oss_error_message(err));
        oss_error_free(err);
    } else {
        job->ok = file_crc(path, &size) == strtoull(env("OSS_TEST_CRC"), NULL, 10);
    }
    oss_download_request_free(dl);
    return NULL;
}

int main(void) {
    static const char *secrets[4];
    struct rotating rot;
    oss_credentials_provider_t *creds = NULL;
    oss_config_t *cfg = oss_config_new();
    const oss_client_t *client = NULL;
    oss_download_request_t *dl = NULL;
    oss_object_meta_t *meta = NULL;
    oss_error_t *err;
    struct progress prog;
    char path[4096];
    int64_t size, want_size = strtoll(env("OSS_TEST_SIZE"), NULL, 10);
    uint64_t want_crc = strtoull(env("OSS_TEST_CRC"), NULL, 10);
    pthread_t threads[8];
    struct job jobs[8];
    int i;

    secrets[0] = env("OSS_TEST_SK");
    secrets[1] = env("OSS_TEST_STS_SK");
    secrets[2] = env("OSS_TEST_STS_TOKEN");
    secrets[3] = NULL;
    CHECK(oss_get_log_level() == OSS_LOG_OFF, "logging is off by default");
    CHECK(oss_initialize_sdk() == NULL, "init");
    /* The harness sets OSS_SDK_LOG_LEVEL=debug: initialisation applies it. */
    CHECK(oss_get_log_level() == OSS_LOG_DEBUG, "OSS_SDK_LOG_LEVEL applied (level %d)", (int)oss_get_log_level());
    oss_set_log_callback(on_log, (void *)secrets, on_log_free);
    oss_set_log_level(OSS_LOG_TRACE);
    CHECK(oss_get_log_level() == OSS_LOG_TRACE, "log level");

    memset(&rot, 0, sizeof rot);
    pthread_mutex_init(&rot.lock, NULL);
    CHECK(oss_credentials_provider_new_callback(credentials_cb, &rot, NULL, &creds) == NULL, "callback provider");
    CHECK(oss_config_set_signature_version(cfg, OSS_SIGNATURE_V4) == NULL, "v4");
    CHECK(oss_config_set_region(cfg, "cn-hangzhou") == NULL, "region");
    CHECK(oss_config_set_retry(cfg, 2, 10) == NULL, "retry");
    err = oss_client_new(env("OSS_TEST_ENDPOINT"), creds, cfg, &client);
    CHECK(err == NULL, "client: %s", oss_error_message(err));
    oss_error_free(err);
    oss_credentials_provider_free(creds);
    oss_config_free(cfg);

    /* Progress, then a cancel from inside the progress callback, then a resume. */
    snprintf(path, sizeof path, "%s/cancelled.bin", env("OSS_TEST_DIR"));
    CHECK(oss_download_request_new(env("OSS_TEST_BUCKET"), env("OSS_TEST_KEY"), path, &dl) == NULL, "dl");
    CHECK(oss_download_request_set_checkpoint_dir(dl, env("OSS_TEST_DIR")) == NULL, "ckpt");
    CHECK(oss_download_request_set_part_size(dl, 100 * 1024) == NULL, "part");
    CHECK(oss_download_request_set_thread_num(dl, 1) == NULL, "threads");
    memset(&prog, 0, sizeof prog);
    prog.cancel_at = want_size / 3;
    prog.request = dl;
    CHECK(oss_download_request_set_progress(dl, on_progress, &prog, NULL) == NULL, "progress");
    err = oss_client_resumable_download_object(client, dl, &meta);
    CHECK(err && oss_error_kind(err) == OSS_ERROR_KIND_CANCELLED, "cancelled: %s", err ? oss_error_code(err) : "ok");
    printf("cancelled at %" PRId64 " of %" PRId64 " bytes: %s\n", prog.last, prog.total, err ? oss_error_message(err) : "");
    oss_error_free(err);
    CHECK(meta == NULL, "no meta on failure");
    CHECK(prog.violations == 0, "progress invariants before cancel");

    memset(&prog, 0, sizeof prog);
    err = oss_client_resumable_download_object(client, dl, &meta);
    CHECK(err == NULL, "resume: %s", oss_error_message(err));
    oss_error_free(err);
    printf("resumed: first progress call reported %" PRId64 " bytes already on disk, %" PRId64 " calls\n", prog.first,
           prog.calls);
    CHECK(prog.first > 0, "first call after resume reports the bytes on disk");
    CHECK(prog.violations == 0 && prog.last == want_size && prog.total == want_size, "progress invariants");
    CHECK(file_crc(path, &size) == want_crc && size == want_size, "resumed file content");
    CHECK(oss_object_meta_content_length(meta) == want_size, "meta");
    oss_object_meta_free(meta);
    oss_download_request_free(dl);

    /* Many threads on one shared client. */
    shared_client = client;
    for (i = 0; i < 8; i++) {
        jobs[i].index = i;
        jobs[i].ok = 0;
        pthread_create(&threads[i], NULL, download_thread, &jobs[i]);
    }
    for (i = 0; i < 8; i++) {
        pthread_join(threads[i], NULL);
        CHECK(jobs[i].ok, "thread %d", i);
    }
    printf("8 threads downloaded through one client\n");
    CHECK(rot.calls > 2, "the credentials callback was asked per request (%d calls)", rot.calls);

    /* A failing credentials callback is a clear error. */
    rot.fail = 1;
    {
        oss_get_object_request_t *req = NULL;
        CHECK(oss_get_object_request_new(env("OSS_TEST_BUCKET"), env("OSS_TEST_KEY"), &req) == NULL, "req");
        err = oss_client_head_object(client, req, &meta);
        CHECK(err && strcmp(oss_error_code(err), "InvalidCredentials") == 0, "callback failure: %s",
              err ? oss_error_message(err) : "none");
        oss_error_free(err);
        oss_get_object_request_free(req);
    }
    oss_client_free(client);

    CHECK(log_lines > 0, "the log sink received lines");
    CHECK(secret_seen == 0, "no secret in %d log lines", log_lines);
    oss_set_log_callback(NULL, NULL, NULL);
    CHECK(log_freed == 1, "the log user data was released once");
    oss_shutdown_sdk();
    pthread_mutex_destroy(&rot.lock);
    printf("log lines: %d, secrets seen: %d, credential calls: %d\n", log_lines, secret_seen, rot.calls);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("callbacks: all checks passed\n");
    return 0;
}
