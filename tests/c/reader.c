/* The prefetching reader from C: the whole object read sequentially (length and CRC64 against
 * the server's, verified at the end), random reads after seeks (SEEK_SET/CUR/END) compared with
 * the sequential bytes, a range, cancel from another thread while a read waits, and the push
 * form with a window the callback advances, in order. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void ok(const char *what, oss_error_t *e) {
    if (e) {
        fprintf(stderr, "%s: %s\n", what, oss_error_message(e));
        failures++;
        oss_error_free(e);
    }
}

struct push_state {
    const oss_reader_push_t *push;
    const unsigned char *want;
    size_t size;
    size_t got;
    size_t window;
    int freed;
};

/* Checks each piece against the sequential read and opens the window a little at a time. */
static int32_t on_body(const uint8_t *data, size_t len, uint64_t offset, void *user_data) {
    struct push_state *s = user_data;
    CHECK(offset == s->got, "push out of order: %llu, expected %zu", (unsigned long long)offset, s->got);
    CHECK(s->got + len <= s->size && memcmp(data, s->want + s->got, len) == 0, "push bytes at %zu", s->got);
    s->got += len;
    CHECK(s->got <= s->window, "push beyond its window: %zu > %zu", s->got, s->window);
    s->window += len;
    oss_reader_push_increment_window(s->push, len);
    return 0;
}

/* A callback that tries to read another reader, a stream and a listing: refused (each would
 * block a library thread). */
struct reentry {
    oss_reader_t *other;
    oss_object_stream_t *stream;
    oss_listing_t *listing;
    int kind, stream_kind, listing_kind;
};

static int32_t on_body_reads_another(const uint8_t *data, size_t len, uint64_t offset, void *user_data) {
    struct reentry *t = user_data;
    unsigned char b[16];
    size_t n = 0;
    (void)data;
    (void)len;
    (void)offset;
    if (t->kind < 0) {
        oss_error_t *e = oss_reader_read(t->other, b, sizeof b, &n);
        t->kind = e ? (int)oss_error_kind(e) : 0;
        oss_error_free(e);
        e = oss_object_stream_read(t->stream, b, sizeof b, &n);
        t->stream_kind = e ? (int)oss_error_kind(e) : 0;
        oss_error_free(e);
        oss_list_page_t *page = NULL;
        e = oss_listing_next_page(t->listing, &page);
        t->listing_kind = e ? (int)oss_error_kind(e) : 0;
        oss_error_free(e);
        oss_list_page_free(page);
    }
    return 0;
}

/* Reads a reader, or (`r` NULL) an object stream, to its end: returns the byte count and sets
 * `*crc_out` to their CRC64; an error is a failure named `what`. */
static size_t read_to_end(oss_reader_t *r, oss_object_stream_t *s, const char *what, uint64_t *crc_out) {
    unsigned char b[65536];
    size_t total = 0, n = 0;
    uint64_t crc = 0;
    for (;;) {
        oss_error_t *e = r ? oss_reader_read(r, b, sizeof b, &n) : oss_object_stream_read(s, b, sizeof b, &n);
        if (e) {
            ok(what, e);
            break;
        }
        if (n == 0) {
            break;
        }
        crc = oss_crc64(crc, b, n);
        total += n;
    }
    *crc_out = crc;
    return total;
}

static void free_state(void *user_data) {
    ((struct push_state *)user_data)->freed++;
}

static void pause_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static void *cancel_later(void *arg) {
    pause_ms(100);
    oss_reader_cancel(arg);
    return NULL;
}

int main(void) {
    const char *endpoint = env("OSS_TEST_ENDPOINT"), *bucket = env("OSS_TEST_BUCKET");
    const char *key = env("OSS_TEST_KEY");
    size_t size = (size_t)strtoull(env("OSS_TEST_SIZE"), NULL, 10);
    uint64_t want_crc = strtoull(env("OSS_TEST_CRC"), NULL, 10);
    const oss_client_t *client = NULL;
    oss_credentials_provider_t *creds = NULL;
    oss_get_object_request_t *req = NULL;
    oss_reader_options_t *opts = NULL;
    oss_reader_t *r = NULL;
    oss_object_meta_t *meta = NULL;
    unsigned char *all = malloc(size + 1), buf[70000];
    size_t total = 0, n = 0;
    uint64_t pos = 0, crc = 0;

    ok("init", oss_initialize_sdk());
    ok("creds", oss_credentials_provider_new_static(env("OSS_TEST_AK"), env("OSS_TEST_SK"), NULL, &creds));
    ok("client", oss_client_new(endpoint, creds, NULL, &client));
    ok("request", oss_get_object_request_new(bucket, key, &req));
    ok("options", oss_reader_options_new(&opts));
    ok("part size", oss_reader_options_set_part_size(opts, 256 * 1024));
    ok("window", oss_reader_options_set_max_window(opts, 2 * 1024 * 1024));

    /* Sequential, to the end. */
    ok("open", oss_client_open_reader(client, req, opts, &r));
    CHECK(r && oss_reader_size(r) == (int64_t)size, "size %lld", r ? (long long)oss_reader_size(r) : -1LL);
    for (;;) {
        oss_error_t *e = oss_reader_read(r, buf, sizeof buf, &n);
        if (e) {
            ok("read", e);
            break;
        }
        if (n == 0) break;
        CHECK(total + n <= size, "more bytes than the object has");
        if (total + n > size) break;
        memcpy(all + total, buf, n);
        crc = oss_crc64(crc, buf, n);
        total += n;
    }
    CHECK(total == size && crc == want_crc, "sequential: %zu bytes, CRC %llu", total, (unsigned long long)crc);
    ok("meta", oss_reader_meta(r, &meta));
    CHECK(meta && oss_object_meta_verified(meta), "verified against the whole-object CRC64");
    oss_object_meta_free(meta);
    meta = NULL;

    /* Random reads after seeks, against the sequential bytes. */
    ok("seek end", oss_reader_seek(r, -1000, 2, &pos));
    CHECK(pos == size - 1000 && oss_reader_tell(r) == (int64_t)(size - 1000), "SEEK_END");
    ok("read footer", oss_reader_read(r, buf, 1000, &n));
    CHECK(n > 0 && memcmp(buf, all + size - 1000, n) == 0, "footer bytes");
    ok("seek set", oss_reader_seek(r, 12345, 0, &pos));
    ok("seek cur", oss_reader_seek(r, 100, 1, &pos));
    CHECK(pos == 12445, "SEEK_CUR: %llu", (unsigned long long)pos);
    ok("read middle", oss_reader_read(r, buf, 5000, &n));
    CHECK(n > 0 && n <= 5000 && memcmp(buf, all + 12445, n) == 0, "middle bytes");
    oss_reader_free(r);
    r = NULL;

    /* A range: bytes 100..=299999 (positions from the range's start). */
    {
        oss_get_object_request_t *ranged = NULL;
        ok("ranged request", oss_get_object_request_new(bucket, key, &ranged));
        ok("range", oss_get_object_request_set_range(ranged, 100, 299999));
        ok("open range", oss_client_open_reader(client, ranged, NULL, &r));
        oss_get_object_request_free(ranged);
    }
    CHECK(oss_reader_size(r) == 299900, "range size %lld", (long long)oss_reader_size(r));
    total = 0;
    for (;;) {
        ok("read range", oss_reader_read(r, buf, sizeof buf, &n));
        if (n == 0) break;
        CHECK(memcmp(buf, all + 100 + total, n) == 0, "range bytes at %zu", total);
        total += n;
    }
    CHECK(total == 299900, "range: %zu bytes", total);
    oss_reader_free(r);
    r = NULL;

    /* Cancel from another thread while a read may be waiting: that read or the next fails. */
    ok("open again", oss_client_open_reader(client, req, opts, &r));
    {
        pthread_t t;
        oss_error_t *e = NULL;
        pthread_create(&t, NULL, cancel_later, r);
        for (;;) {
            e = oss_reader_read(r, buf, 1, &n);
            if (e || n == 0) break;
            pause_ms(1);
        }
        pthread_join(t, NULL);
        CHECK(e && oss_error_kind(e) == OSS_ERROR_KIND_CANCELLED, "cancelled");
        oss_error_free(e);
    }
    oss_reader_free(r);

    /* Push: a window of 100000 bytes, advanced by the callback as it consumes. */
    {
        struct push_state s = {NULL, all, size, 0, 100000, 0};
        oss_reader_push_t *p = NULL;
        ok("push", oss_client_start_reader_push(client, req, opts, 0, on_body, &s, free_state, &p));
        s.push = p;
        oss_reader_push_increment_window(p, 100000);
        ok("push wait", oss_reader_push_wait(p, &meta));
        CHECK(s.got == size, "push: %zu bytes of %zu", s.got, size);
        CHECK(meta && oss_object_meta_verified(meta), "push verified");
        CHECK(s.freed == 1, "user data freed once: %d", s.freed);
        oss_object_meta_free(meta);
        oss_reader_push_free(p);
    }

    /* A read of a reader from inside a library callback is refused, and that reader is still
     * whole afterwards (the refused read lost nothing). */
    {
        struct reentry t = {NULL, NULL, NULL, -1, -1, -1};
        oss_reader_push_t *p = NULL;
        ok("open the other", oss_client_open_reader(client, req, opts, &t.other));
        ok("open a stream", oss_client_get_object_stream_open(client, req, &t.stream, NULL));
        ok("open a listing", oss_client_list_objects(client, bucket, "", "", "", 1000, &t.listing));
        ok("push reading another", oss_client_start_reader_push(client, req, opts, UINT64_MAX, on_body_reads_another, &t, NULL, &p));
        ok("push reading another wait", oss_reader_push_wait(p, NULL));
        oss_reader_push_free(p);
        CHECK(t.kind == OSS_ERROR_KIND_INVALID_ARGUMENT, "a read from a callback: kind %d", t.kind);
        CHECK(t.stream_kind == OSS_ERROR_KIND_INVALID_ARGUMENT, "a stream read from a callback: kind %d", t.stream_kind);
        CHECK(t.listing_kind == OSS_ERROR_KIND_INVALID_ARGUMENT, "a page from a callback: kind %d", t.listing_kind);
        total = read_to_end(t.other, NULL, "the other reader after the refused read", &crc);
        CHECK(total == size && crc == want_crc, "the other reader read whole: %zu bytes", total);
        oss_reader_free(t.other);
        total = read_to_end(NULL, t.stream, "the stream after the refused read", &crc);
        CHECK(total == size && crc == want_crc, "the stream read whole: %zu bytes", total);
        oss_object_stream_free(t.stream);
        oss_list_page_t *page = NULL;
        oss_error_t *le = oss_listing_next_page(t.listing, &page);
        CHECK(!le && page && oss_list_page_object_count(page) >= 1, "the listing after the refused page: %s",
              le ? oss_error_message(le) : "no page");
        oss_error_free(le);
        oss_list_page_free(page);
        oss_listing_free(t.listing);
    }

    /* An empty object, pushed with a window of 0: it ends at once (nothing to deliver). */
    {
        struct push_state s = {NULL, all, 0, 0, 0, 0};
        oss_get_object_request_t *empty = NULL;
        oss_reader_push_t *p = NULL;
        ok("empty request", oss_get_object_request_new(bucket, "empty.bin", &empty));
        ok("push empty", oss_client_start_reader_push(client, empty, NULL, 0, on_body, &s, free_state, &p));
        ok("push empty wait", oss_reader_push_wait(p, &meta));
        CHECK(s.got == 0 && meta && oss_object_meta_content_length(meta) == 0, "empty push");
        oss_object_meta_free(meta);
        meta = NULL;
        oss_reader_push_free(p);
        oss_get_object_request_free(empty);
    }

    oss_reader_options_free(opts);
    oss_get_object_request_free(req);
    oss_client_free(client);
    oss_credentials_provider_free(creds);
    oss_shutdown_sdk();
    free(all);
    if (failures) {
        fprintf(stderr, "reader: %d checks failed\n", failures);
        return 1;
    }
    printf("reader: all checks passed\n");
    return 0;
}
