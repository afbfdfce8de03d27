/* The foundation's C acceptance test: SDK lifecycle, V4 and V1 clients, head and get against
 * the local OSS server, and the error objects for NoSuchKey, a wrong secret, a NULL argument,
 * invalid UTF-8 and an unreachable endpoint. Run by tests/c_api.rs with:
 *   OSS_TEST_ENDPOINT, OSS_TEST_BUCKET, OSS_TEST_KEY, OSS_TEST_SIZE, OSS_TEST_CRC, OSS_TEST_DIR,
 *   OSS_TEST_AK, OSS_TEST_SK, OSS_TEST_RO_DIR (a directory no file can be created in). Prints one line per check; exits non-zero on the first failure. */
#include "check.h"
#include "oss_ffi.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>




static void print_error(const char *what, const oss_error_t *e) {
    printf("%s: kind=%d code=%s status=%u request_id=%s message=%s\n", what, (int)oss_error_kind(e),
           oss_error_code(e), (unsigned)oss_error_http_status(e), oss_error_request_id(e),
           oss_error_message(e));
}

/* Expects `err` to be an error of `kind` with `code`; frees it. */
static void expect_error(const char *what, oss_error_t *err, oss_error_kind_t kind, const char *code,
                         uint16_t status) {
    CHECK(err != NULL, "%s: expected an error", what);
    if (!err) return;
    print_error(what, err);
    CHECK(oss_error_kind(err) == kind, "%s: kind %d, want %d", what, (int)oss_error_kind(err), (int)kind);
    CHECK(strcmp(oss_error_code(err), code) == 0, "%s: code %s, want %s", what, oss_error_code(err), code);
    CHECK(oss_error_http_status(err) == status, "%s: status %u, want %u", what,
          (unsigned)oss_error_http_status(err), (unsigned)status);
    CHECK(strlen(oss_error_message(err)) > 0, "%s: empty message", what);
    oss_error_free(err);
}


/* The receive-rate callback: KiB/s asked while downloading; counts its calls and its frees. */
static long rate_calls = 0, rate_frees = 0;
static uint64_t rate_cb(void *ud) {
    rate_calls++;
    return *(const uint64_t *)ud;
}
static void rate_free(void *ud) {
    (void)ud;
    rate_frees++;
}

/* Request metrics: records checked as they come (from library threads, hence the mutex). */
static pthread_mutex_t metrics_lock = PTHREAD_MUTEX_INITIALIZER;
static long metrics_calls = 0, metrics_gets = 0, metrics_parts = 0, metrics_bad = 0, metrics_frees = 0;
static uint64_t metrics_bytes = 0;
static void metrics_cb(const oss_request_metrics_t *m, void *ud) {
    (void)ud;
    pthread_mutex_lock(&metrics_lock);
    metrics_calls++;
    metrics_bytes += m->bytes;
    if (!strcmp(m->operation, "GetObject")) {
        metrics_gets++;
        if (m->part_number > 0) metrics_parts++;
        if (m->range_start < 0 || m->range_end < m->range_start) metrics_bad++;
    }
    if (m->attempt < 1 || m->http_status == 0 || m->error_code[0] || !m->request_id[0] || !m->remote_addr[0] ||
        m->first_byte_us > m->total_us || m->sign_us + m->permit_wait_us + (m->connect_us > 0 ? m->connect_us : 0) +
        m->first_byte_us + m->body_us + m->write_us > m->total_us || m->connect_us < -1 || m->memory_wait_us < 0)
        metrics_bad++;
    pthread_mutex_unlock(&metrics_lock);
}
static void metrics_free(void *ud) {
    (void)ud;
    metrics_frees++;
}

static const oss_client_t *make_client(const char *endpoint, const char *ak, const char *sk, int v4) {
    oss_credentials_provider_t *creds = NULL;
    oss_config_t *cfg = oss_config_new();
    const oss_client_t *client = NULL;
    oss_error_t *err = oss_credentials_provider_new_static(ak, sk, NULL, &creds);
    CHECK(err == NULL, "static credentials");
    oss_error_free(err);
    CHECK(oss_config_set_retry(cfg, 1, 10) == NULL, "retry");
    CHECK(oss_config_set_connect_timeout_ms(cfg, 2000) == NULL, "connect timeout");
    if (v4) {
        CHECK(oss_config_set_signature_version(cfg, OSS_SIGNATURE_V4) == NULL, "v4");
    }
    err = oss_client_new(endpoint, creds, cfg, &client);
    CHECK(err == NULL, "client_new: %s", oss_error_message(err));
    oss_error_free(err);
    if (v4 && client) {
        /* A V4 client without a region refuses to sign, before sending anything. */
        oss_get_object_request_t *req = NULL;
        oss_object_meta_t *meta = NULL;
        CHECK(oss_get_object_request_new(env("OSS_TEST_BUCKET"), env("OSS_TEST_KEY"), &req) == NULL, "req");
        expect_error("v4 without region", oss_client_head_object(client, req, &meta),
                     OSS_ERROR_KIND_INVALID_ARGUMENT, "ValidateError", 0);
        CHECK(meta == NULL, "meta_out untouched on failure");
        oss_get_object_request_free(req);
        CHECK(oss_client_set_region(client, "cn-hangzhou") == NULL, "set region");
    }
    oss_config_free(cfg);
    oss_credentials_provider_free(creds); /* the client keeps its own reference */
    return client;
}

static void head_and_get(const oss_client_t *client, const char *label) {
    const char *bucket = env("OSS_TEST_BUCKET"), *key = env("OSS_TEST_KEY"), *dir = env("OSS_TEST_DIR");
    int64_t want_size = strtoll(env("OSS_TEST_SIZE"), NULL, 10);
    uint64_t want_crc = strtoull(env("OSS_TEST_CRC"), NULL, 10);
    oss_get_object_request_t *req = NULL;
    oss_object_meta_t *meta = NULL;
    oss_error_t *err;
    char path[4096];
    uint64_t crc = 0;
    int64_t size = -1;

    CHECK(oss_get_object_request_new(bucket, key, &req) == NULL, "request");
    err = oss_client_head_object(client, req, &meta);
    CHECK(err == NULL, "%s head: %s", label, oss_error_message(err));
    oss_error_free(err);
    CHECK(oss_object_meta_content_length(meta) == want_size, "%s size %" PRId64, label,
          oss_object_meta_content_length(meta));
    CHECK(oss_object_meta_etag(meta)[0] == '"', "%s etag %s", label, oss_object_meta_etag(meta));
    CHECK(strlen(oss_object_meta_last_modified(meta)) > 0, "%s last-modified", label);
    CHECK(strlen(oss_object_meta_request_id(meta)) > 0, "%s request id", label);
    CHECK(oss_object_meta_crc64(meta, &crc) && crc == want_crc, "%s crc %" PRIu64, label, crc);
    CHECK(oss_object_meta_header(meta, "Content-Length") != NULL, "%s header lookup", label);
    oss_object_meta_free(meta);
    meta = NULL;

    err = oss_client_get_object_meta(client, req, &meta);
    CHECK(err == NULL && oss_object_meta_content_length(meta) == want_size, "%s get_object_meta", label);
    oss_error_free(err);
    oss_object_meta_free(meta);
    meta = NULL;

    snprintf(path, sizeof path, "%s/get-%s.bin", dir, label);
    err = oss_client_get_object_to_file(client, req, path, &meta);
    CHECK(err == NULL, "%s get: %s", label, oss_error_message(err));
    oss_error_free(err);
    CHECK(file_crc(path, &size) == want_crc && size == want_size, "%s file content (size %" PRId64 ")", label, size);
    oss_object_meta_free(meta);

    /* A range: bytes 1..10 of the object. */
    CHECK(oss_get_object_request_set_range(req, 1, 10) == NULL, "range");
    snprintf(path, sizeof path, "%s/range-%s.bin", dir, label);
    err = oss_client_get_object_to_file(client, req, path, NULL);
    CHECK(err == NULL, "%s range get: %s", label, oss_error_message(err));
    oss_error_free(err);
    file_crc(path, &size);
    CHECK(size == 10, "%s range size %" PRId64, label, size);
    oss_get_object_request_free(req);

    /* A presigned URL (the client's signature version), read back by URL to a file; a
     * tampered signature is refused by the server. */
    {
        oss_get_object_request_t *by_url = NULL;
        char *url = NULL;
        CHECK(oss_get_object_request_new(bucket, key, &req) == NULL, "presign request");
        CHECK(oss_get_object_request_set_response_header(req, OSS_RESPONSE_CACHE_CONTROL, "no-store") == NULL,
              "presign override");
        err = oss_client_presign_get_object(client, req, (int64_t)time(NULL) + 300, &url);
        CHECK(err == NULL && url != NULL, "%s presign: %s", label, oss_error_message(err));
        oss_error_free(err);
        oss_get_object_request_free(req);
        if (url) {
            CHECK(strstr(url, strcmp(label, "v4") == 0 ? "x-oss-signature=" : "Signature=") != NULL, "%s url %s",
                  label, url);
            CHECK(oss_get_object_request_new_url(url, &by_url) == NULL, "url request");
            snprintf(path, sizeof path, "%s/by-url-%s.bin", dir, label);
            err = oss_client_get_object_to_file(client, by_url, path, &meta);
            CHECK(err == NULL, "%s by url: %s", label, oss_error_message(err));
            oss_error_free(err);
            CHECK(file_crc(path, &size) == want_crc && size == want_size, "%s by-url content", label);
            CHECK(meta && oss_object_meta_header(meta, "Cache-Control") &&
                      strcmp(oss_object_meta_header(meta, "Cache-Control"), "no-store") == 0,
                  "%s by-url override", label);
            oss_object_meta_free(meta);
            meta = NULL;
            oss_get_object_request_free(by_url);
            by_url = NULL;
            url[strlen(url) - 1] = url[strlen(url) - 1] == 'A' ? 'B' : 'A';
            CHECK(oss_get_object_request_new_url(url, &by_url) == NULL, "tampered url request");
            err = oss_client_get_object_to_file(client, by_url, path, NULL);
            expect_error("tampered url", err, OSS_ERROR_KIND_SERVER, "SignatureDoesNotMatch", 403);
            oss_get_object_request_free(by_url);
            oss_string_free(url);
        }
    }

    /* ResumableDownloadObject with a checkpoint directory. */
    {
        oss_download_request_t *dl = NULL;
        snprintf(path, sizeof path, "%s/resumable-%s.bin", dir, label);
        CHECK(oss_download_request_new(bucket, key, path, &dl) == NULL, "download request");
        CHECK(oss_download_request_set_checkpoint_dir(dl, dir) == NULL, "checkpoint dir");
        CHECK(oss_download_request_set_part_size(dl, 100 * 1024) == NULL, "part size");
        CHECK(oss_download_request_set_thread_num(dl, 4) == NULL, "threads");
        err = oss_client_resumable_download_object(client, dl, &meta);
        CHECK(err == NULL, "%s resumable: %s", label, oss_error_message(err));
        oss_error_free(err);
        CHECK(file_crc(path, &size) == want_crc && size == want_size, "%s resumable content", label);
        CHECK(oss_object_meta_content_length(meta) == want_size, "%s resumable meta", label);
        oss_object_meta_free(meta);
        meta = NULL;
        oss_download_request_free(dl);
        dl = NULL;

        /* A checkpoint directory nothing can be created in (a read-only mount made by the
         * harness): IOError at the start, naming the directory; no file written. */
        snprintf(path, sizeof path, "%s/ro-checkpoint-%s.bin", dir, label);
        CHECK(oss_download_request_new(bucket, key, path, &dl) == NULL, "download request");
        CHECK(oss_download_request_set_checkpoint_dir(dl, env("OSS_TEST_RO_DIR")) == NULL, "checkpoint dir");
        err = oss_client_resumable_download_object(client, dl, &meta);
        CHECK(err && strstr(oss_error_message(err), "cannot hold a checkpoint") &&
                  strstr(oss_error_message(err), env("OSS_TEST_RO_DIR")),
              "%s read-only checkpoint dir message: %s", label, oss_error_message(err));
        expect_error("read-only checkpoint dir", err, OSS_ERROR_KIND_IO, "IOError", 0);
        CHECK(meta == NULL, "%s read-only checkpoint dir: meta_out untouched", label);
        oss_object_meta_free(meta);
        meta = NULL;
        CHECK(file_crc(path, &size) == 0 && size == -1, "%s read-only checkpoint dir: no file", label);
        oss_download_request_free(dl);
    }
    printf("%s: head, get, range and resumable download ok\n", label);
}

int main(void) {
    const char *endpoint = env("OSS_TEST_ENDPOINT"), *bucket = env("OSS_TEST_BUCKET");
    const char *ak = env("OSS_TEST_AK"), *sk = env("OSS_TEST_SK");
    const oss_client_t *client = NULL;
    oss_credentials_provider_t *creds = NULL;
    oss_get_object_request_t *req = NULL;
    oss_object_meta_t *meta = NULL;
    oss_error_t *err;

    CHECK(strlen(oss_version()) > 0, "version");
    CHECK(strcmp(oss_version(), OSS_FFI_VERSION) == 0, "version %s matches the header", oss_version());
    printf("oss_version %s\n", oss_version());

    /* Before initialisation: a clear error, no hang. */
    CHECK(!oss_is_sdk_initialized(), "not initialised yet");
    CHECK(oss_credentials_provider_new_static(ak, sk, NULL, &creds) == NULL, "creds");
    expect_error("before init", oss_client_new(endpoint, creds, NULL, &client),
                 OSS_ERROR_KIND_NOT_INITIALIZED, "NotInitialized", 0);
    CHECK(client == NULL, "client_out untouched");

    CHECK(oss_initialize_sdk() == NULL, "init");
    CHECK(oss_initialize_sdk() == NULL, "init is idempotent");
    CHECK(oss_is_sdk_initialized(), "initialised");

    /* NULL arguments and invalid UTF-8. */
    expect_error("NULL endpoint", oss_client_new(NULL, creds, NULL, &client), OSS_ERROR_KIND_NULL_ARGUMENT,
                 "ValidateError", 0);
    expect_error("NULL out", oss_client_new(endpoint, creds, NULL, NULL), OSS_ERROR_KIND_NULL_ARGUMENT,
                 "ValidateError", 0);
    expect_error("NULL client", oss_client_head_object(NULL, NULL, &meta), OSS_ERROR_KIND_NULL_ARGUMENT,
                 "ValidateError", 0);
    expect_error("bad UTF-8", oss_get_object_request_new(bucket, "bad\xff\xfekey", &req),
                 OSS_ERROR_KIND_INVALID_UTF8, "ValidateError", 0);
    expect_error("bad endpoint", oss_client_new("ftp://x", creds, NULL, &client),
                 OSS_ERROR_KIND_INVALID_ARGUMENT, "ValidateError", 0);
    CHECK(oss_error_kind(NULL) == OSS_ERROR_KIND_NONE, "kind of NULL");
    CHECK(strcmp(oss_error_code(NULL), "") == 0, "code of NULL");
    oss_error_free(NULL);
    oss_client_free(NULL);
    oss_object_meta_free(NULL);
    oss_credentials_provider_free(creds);

    client = make_client(endpoint, ak, sk, 1);
    head_and_get(client, "v4");
    {
        const oss_client_t *clone = oss_client_clone(client);
        CHECK(clone == client, "clone is the same client");
        oss_client_free(clone);
    }

    /* NoSuchKey. */
    CHECK(oss_get_object_request_new(bucket, "no/such key", &req) == NULL, "req");
    /* A destination in a missing directory fails locally, before any request. */
    expect_error("missing directory", oss_client_get_object_to_file(client, req, "/nonexistent-dir/x", NULL),
                 OSS_ERROR_KIND_IO, "IOError", 0);
    {
        char path[4096];
        snprintf(path, sizeof path, "%s/nosuchkey.bin", env("OSS_TEST_DIR"));
        err = oss_client_get_object_to_file(client, req, path, NULL);
        CHECK(err != NULL && strlen(oss_error_request_id(err)) > 0, "NoSuchKey request id");
        /* The error names its object: as fields, and in the message. */
        CHECK(err && strcmp(oss_error_bucket(err), bucket) == 0 && strcmp(oss_error_key(err), "no/such key") == 0,
              "NoSuchKey bucket and key: '%s' '%s'", oss_error_bucket(err), oss_error_key(err));
        CHECK(err && strstr(oss_error_message(err), "key 'no/such key'") && strstr(oss_error_message(err), bucket),
              "NoSuchKey message names the object: %s", oss_error_message(err));
        CHECK(err && strcmp(oss_error_kind_name(oss_error_kind(err)), "OSS_ERROR_KIND_SERVER") == 0, "kind name");
        expect_error("NoSuchKey", err, OSS_ERROR_KIND_SERVER, "NoSuchKey", 404);
    }
    expect_error("NoSuchKey (HEAD, x-oss-err)", oss_client_head_object(client, req, &meta),
                 OSS_ERROR_KIND_SERVER, "NoSuchKey", 404);
    oss_get_object_request_free(req);
    oss_client_free(client);

    client = make_client(endpoint, ak, sk, 0);
    head_and_get(client, "v1");
    oss_client_free(client);

    /* A receive limit from a callback, asked while the body streams (0 = unlimited); its
     * user_data is freed once, when neither the config nor the client holds it any more. */
    {
        static const uint64_t unlimited = 0;
        oss_credentials_provider_t *creds = NULL;
        oss_config_t *cfg = oss_config_new();
        oss_get_object_request_t *r = NULL;
        char path[4096];
        int64_t size = -1;
        CHECK(oss_credentials_provider_new_static(ak, sk, NULL, &creds) == NULL, "creds");
        CHECK(oss_config_set_recv_rate_limit_cb(cfg, rate_cb, (void *)&unlimited, rate_free) == NULL, "rate cb");
        CHECK(oss_client_new(endpoint, creds, cfg, &client) == NULL, "rate client");
        oss_config_free(cfg);
        oss_credentials_provider_free(creds);
        CHECK(rate_frees == 0, "user_data kept while the client lives");
        CHECK(oss_get_object_request_new(bucket, env("OSS_TEST_KEY"), &r) == NULL, "rate req");
        snprintf(path, sizeof path, "%s/rate.bin", env("OSS_TEST_DIR"));
        err = oss_client_get_object_to_file(client, r, path, NULL);
        CHECK(err == NULL, "rate get: %s", oss_error_message(err));
        oss_error_free(err);
        CHECK(file_crc(path, &size) == strtoull(env("OSS_TEST_CRC"), NULL, 10), "rate get content");
        CHECK(rate_calls > 0, "the rate callback was asked while downloading");
        oss_get_object_request_free(r);
        oss_client_free(client);
        CHECK(rate_frees == 1, "rate user_data freed once with the last holder: %ld", rate_frees);
    }

    /* Per-request metrics: one record per request of a 4-part download, added up by the
     * client's and the transfer's summaries; the user_data is freed with the last holder. */
    {
        oss_credentials_provider_t *creds = NULL;
        oss_config_t *cfg = oss_config_new();
        oss_download_request_t *dl = NULL;
        oss_object_meta_t *m = NULL;
        oss_request_stats_t st;
        char path[4096];
        CHECK(oss_credentials_provider_new_static(ak, sk, NULL, &creds) == NULL, "creds");
        CHECK(oss_config_set_request_metrics_callback(cfg, metrics_cb, NULL, metrics_free) == NULL, "metrics cb");
        CHECK(oss_client_new(endpoint, creds, cfg, &client) == NULL, "metrics client");
        oss_config_free(cfg);
        oss_credentials_provider_free(creds);
        snprintf(path, sizeof path, "%s/metrics.bin", env("OSS_TEST_DIR"));
        CHECK(oss_download_request_new(bucket, env("OSS_TEST_KEY"), path, &dl) == NULL, "metrics request");
        CHECK(oss_download_request_set_part_size(dl, 100 * 1024) == NULL, "part size");
        CHECK(oss_download_request_set_thread_num(dl, 4) == NULL, "threads");
        err = oss_client_resumable_download_object(client, dl, &m);
        CHECK(err == NULL, "metrics download: %s", oss_error_message(err));
        oss_error_free(err);
        CHECK(oss_client_request_stats(client, &st) == NULL, "client stats");
        pthread_mutex_lock(&metrics_lock);
        CHECK(metrics_calls >= 1 && st.requests == (uint64_t)metrics_calls, "stats %llu requests, %ld records",
              (unsigned long long)st.requests, metrics_calls);
        CHECK(metrics_gets >= 1 && metrics_parts == metrics_gets, "every GET is a part's: %ld of %ld",
              metrics_parts, metrics_gets);
        CHECK(metrics_bad == 0, "%ld malformed records", metrics_bad);
        CHECK(st.bytes == metrics_bytes && (int64_t)st.bytes == oss_object_meta_content_length(m),
              "bytes: stats %llu, records %llu", (unsigned long long)st.bytes, (unsigned long long)metrics_bytes);
        CHECK(st.retries == 0 && st.failed == 0, "no retries");
        pthread_mutex_unlock(&metrics_lock);
        oss_object_meta_free(m);
        oss_download_request_free(dl);
        oss_client_free(client);
        CHECK(metrics_frees == 1, "metrics user_data freed once with the last holder: %ld", metrics_frees);
    }

    /* A wrong secret: SignatureDoesNotMatch, for V1 and V4 (into this run's own scratch
     * directory: a fixed /tmp path could be another run's or another user's). */
    char never[4096];
    snprintf(never, sizeof never, "%s/never.bin", env("OSS_TEST_DIR"));
    CHECK(oss_get_object_request_new(bucket, env("OSS_TEST_KEY"), &req) == NULL, "req");
    client = make_client(endpoint, ak, "wrong-secret", 0);
    expect_error("wrong secret v1", oss_client_get_object_to_file(client, req, never, NULL),
                 OSS_ERROR_KIND_SERVER, "SignatureDoesNotMatch", 403);
    oss_client_free(client);
    client = make_client(endpoint, ak, "wrong-secret", 1);
    expect_error("wrong secret v4", oss_client_get_object_to_file(client, req, never, NULL),
                 OSS_ERROR_KIND_SERVER, "SignatureDoesNotMatch", 403);
    oss_client_free(client);

    /* An unreachable endpoint (nothing listens on port 1). */
    client = make_client("http://127.0.0.1:1", ak, sk, 0);
    err = oss_client_head_object(client, req, &meta);
    /* Retried (make_client allows 1 retry): the message says so. */
    CHECK(err && strstr(oss_error_message(err), "2 attempts over"), "unreachable says its attempts: %s",
          oss_error_message(err));
    expect_error("unreachable", err, OSS_ERROR_KIND_TRANSPORT, "ClientError:200007", 0);
    oss_client_free(client);

    /* After shutdown: a clear error, no hang; handles can still be freed. */
    client = make_client(endpoint, ak, sk, 0);
    oss_shutdown_sdk();
    oss_shutdown_sdk();
    CHECK(!oss_is_sdk_initialized(), "shut down");
    expect_error("after shutdown", oss_client_head_object(client, req, &meta), OSS_ERROR_KIND_NOT_INITIALIZED,
                 "NotInitialized", 0);
    oss_client_free(client);
    oss_get_object_request_free(req);

    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("client_basic: all checks passed\n");
    return 0;
}
