/* The asynchronous C API: transfers started at once, their completion called exactly
 * once, wait/poll/status, cancel and pause at random moments from other threads and from the
 * progress and completion callbacks, resume tokens (in this process and in another one), hostile
 * tokens, and oss_shutdown_sdk with transfers in flight. Run by tests/c_api.rs in three steps:
 *
 *   transfers main      many concurrent transfers on one client (each file compared byte for
 *                       byte), the chaos phase, truncated and bit-flipped tokens; leaves a paused
 *                       download's token in DIR/paused.tok and another in DIR/changed.tok
 *   transfers resume    (after the harness forged tokens into DIR/forged*, and overwrote the object
 *                       of changed.tok) forged tokens refused, paused.tok resumed in this other
 *                       process, changed.tok refused with ObjectChanged
 *   transfers fork      a process fork()ed while transfers run: every oss_transfer_* call on
 *                       them returns at once there (OSS_TRANSFER_STATE_OTHER_PROCESS, no-ops,
 *                       errors saying so), before and after it initialised its own SDK; a start
 *                       with the parent's client fails at once; a client of its own works; the
 *                       parent's transfers end normally
 *   transfers shutdown  oss_shutdown_sdk with transfers in flight
 *
 * Environment: OSS_TEST_ENDPOINT, OSS_TEST_BUCKET, OSS_TEST_AK, OSS_TEST_SK, OSS_TEST_DIR (the
 * reference copies of the objects are DIR/ref/<name>, the object of each is obj/<name>),
 * OSS_TEST_MANY (concurrent transfers), OSS_TEST_CHAOS (transfers in the chaos phase),
 * OSS_TEST_CHAOS_MS (how long the chaos thread acts), OSS_TEST_FLIP_STEP (every n-th byte of the
 * token is flipped). Prints "transfers <mode>: all checks passed". */
#define _DEFAULT_SOURCE 1 /* scandir, rand_r, nanosleep under -std=c11 */
#include "check.h"
#include "oss_ffi.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NUL_ARG OSS_ERROR_KIND_NULL_ARGUMENT
#define INVALID OSS_ERROR_KIND_INVALID_ARGUMENT

static const char *dir, *bucket;
static const oss_client_t *client;

/* ---- helpers ---------------------------------------------------------------------------- */

static void ok(const char *what, oss_error_t *err) {
    CHECK(err == NULL, "%s: %s: %s", what, err ? oss_error_code(err) : "",
          err ? oss_error_message(err) : "");
    oss_error_free(err);
}

/* An error of `kind` that must be there; frees it. */
static void expect_kind(const char *what, oss_error_t *err, oss_error_kind_t kind) {
    CHECK(err != NULL, "%s: expected an error", what);
    if (!err) return;
    CHECK(oss_error_kind(err) == kind, "%s: kind %d, want %d (%s: %s)", what,
          (int)oss_error_kind(err), (int)kind, oss_error_code(err), oss_error_message(err));
    CHECK(*oss_error_message(err), "%s: empty message", what);
    oss_error_free(err);
}

static unsigned char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0, r;
    *len = 0;
    if (!f) return NULL;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap);
        }
        r = fread(buf + n, 1, cap - n, f);
        if (r == 0) break;
        n += r;
    }
    fclose(f);
    *len = n;
    return buf;
}

static void write_all(const char *path, const uint8_t *data, size_t len) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "cannot write %s", path);
    if (!f) return;
    CHECK(fwrite(data, 1, len, f) == len, "short write %s", path);
    fclose(f);
}

typedef struct {
    const char *name;
    char key[64];
    unsigned char *bytes;
    size_t len;
} object_t;

static void load_object(object_t *o, const char *name) {
    char path[4096];
    o->name = name;
    snprintf(o->key, sizeof o->key, "obj/%s", name);
    snprintf(path, sizeof path, "%s/ref/%s", dir, name);
    o->bytes = read_all(path, &o->len);
    if (!o->bytes) {
        fprintf(stderr, "missing reference %s\n", path);
        exit(2);
    }
}

/* The file at `path` holds exactly the object's bytes. */
static int same_file(const char *path, const object_t *o) {
    size_t len;
    unsigned char *got = read_all(path, &len);
    int same = got && len == o->len && memcmp(got, o->bytes, len) == 0;
    free(got);
    return same;
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static void sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int env_int(const char *name, int def) {
    const char *v = getenv(name);
    return v && *v ? atoi(v) : def;
}

static oss_download_request_t *download_request(const object_t *o, const char *dest,
                                                const char *ckpt_dir, uint32_t threads) {
    oss_download_request_t *req = NULL;
    ok("download request", oss_download_request_new(bucket, o->key, dest, &req));
    ok("part size", oss_download_request_set_part_size(req, 102400));
    ok("threads", oss_download_request_set_thread_num(req, threads));
    if (ckpt_dir) ok("checkpoint dir", oss_download_request_set_checkpoint_dir(req, ckpt_dir));
    return req;
}

/* ---- many concurrent transfers on one client ------------------------------------------- */

typedef struct {
    pthread_mutex_t mu;
    int completions, frees;
    int err_kind; /* -1: none */
    const oss_transfer_t *seen;
} count_t;

static void count_done(const oss_transfer_t *t, const oss_error_t *err, void *ud) {
    count_t *c = ud;
    pthread_mutex_lock(&c->mu);
    c->completions++;
    c->seen = t;
    c->err_kind = err ? (int)oss_error_kind(err) : -1;
    /* The state is final before the completion runs. */
    CHECK(oss_transfer_poll(t) != OSS_TRANSFER_STATE_RUNNING, "running in its completion");
    /* wait does not block inside a callback. */
    CHECK(oss_transfer_wait(t, -1) != OSS_TRANSFER_STATE_RUNNING, "wait in the completion");
    pthread_mutex_unlock(&c->mu);
}

static void count_free(void *ud) {
    count_t *c = ud;
    pthread_mutex_lock(&c->mu);
    c->frees++;
    pthread_mutex_unlock(&c->mu);
}

static void phase_many(object_t *objs, int nobj, int n) {
    const oss_transfer_t **ts = calloc((size_t)n, sizeof *ts);
    count_t *cs = calloc((size_t)n, sizeof *cs);
    char (*dests)[4096] = calloc((size_t)n, sizeof *dests);
    oss_get_object_request_t *greq = NULL;
    int i, succeeded = 0;
    for (i = 0; i < n; i++) {
        const object_t *o = &objs[i % nobj];
        pthread_mutex_init(&cs[i].mu, NULL);
        cs[i].err_kind = -2;
        snprintf(dests[i], sizeof dests[i], "%s/many/%d.bin", dir, i);
        if (i % 10 == 9) {
            ok("get request", oss_get_object_request_new(bucket, o->key, &greq));
            ok("start get_object_to_file",
               oss_client_start_get_object_to_file(client, greq, dests[i], count_done, &cs[i],
                                                   count_free, &ts[i]));
            oss_get_object_request_free(greq); /* copied by the start */
        } else {
            oss_download_request_t *req = download_request(o, dests[i], NULL, 2);
            ok("start download", oss_client_start_resumable_download(client, req, count_done,
                                                                      &cs[i], count_free, &ts[i]));
            oss_download_request_free(req); /* copied by the start */
        }
    }
    for (i = 0; i < n; i++) {
        const object_t *o = &objs[i % nobj];
        oss_transfer_state_t st;
        oss_transfer_status_t status;
        oss_object_meta_t *meta = NULL;
        if (!ts[i]) continue;
        st = oss_transfer_wait(ts[i], 300000);
        CHECK(st == OSS_TRANSFER_STATE_SUCCEEDED, "transfer %d: state %d", i, (int)st);
        /* wait returned after the completion and its user_data_free. */
        pthread_mutex_lock(&cs[i].mu);
        CHECK(cs[i].completions == 1, "transfer %d: %d completions", i, cs[i].completions);
        CHECK(cs[i].frees == 1, "transfer %d: %d frees", i, cs[i].frees);
        CHECK(cs[i].err_kind == -1, "transfer %d: error kind %d", i, cs[i].err_kind);
        CHECK(cs[i].seen == ts[i], "transfer %d: the completion saw another handle", i);
        pthread_mutex_unlock(&cs[i].mu);
        ok("result", oss_transfer_result(ts[i], &meta));
        CHECK(meta && oss_object_meta_content_length(meta) == (int64_t)o->len, "transfer %d meta", i);
        oss_object_meta_free(meta);
        ok("status", oss_transfer_status(ts[i], &status));
        CHECK(status.state == OSS_TRANSFER_STATE_SUCCEEDED && status.transferred == status.total &&
                  status.total == (int64_t)o->len,
              "transfer %d status %lld/%lld", i, (long long)status.transferred,
              (long long)status.total);
        CHECK(same_file(dests[i], o), "transfer %d: %s differs from %s", i, dests[i], o->name);
        if (i % 10 == 9) CHECK(!oss_transfer_pause(ts[i]), "a GetObject transfer paused");
        expect_kind("token of a finished transfer",
                    oss_transfer_take_resume_token(ts[i], &(uint8_t *){NULL}, &(size_t){0}), INVALID);
        succeeded += st == OSS_TRANSFER_STATE_SUCCEEDED;
        oss_transfer_free(ts[i]);
        pthread_mutex_destroy(&cs[i].mu);
    }
    printf("many: %d of %d concurrent transfers on one client verified\n", succeeded, n);
    free(ts);
    free(cs);
    free(dests);
}

/* ---- chaos: cancel, pause, resume at random moments -------------------------------------- */

typedef struct slot slot_t;
typedef struct {
    slot_t *slot;
    int completions;
    int freed;
} start_ctx_t;

struct slot {
    int idx;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned seed;
    const object_t *obj;
    char dest[4096];
    oss_download_request_t *req;
    const oss_transfer_t *current;
    start_ctx_t *ctxs[64];
    int starts, completions, generation, done, calm;
    int pauses, cancels, aborts, resumes_from_callback;
};

static void ctx_free(void *ud) {
    start_ctx_t *c = ud;
    /* Called after the completion returned: the slot lock is free. */
    pthread_mutex_lock(&c->slot->mu);
    c->freed++;
    pthread_mutex_unlock(&c->slot->mu);
}

static void chaos_done(const oss_transfer_t *t, const oss_error_t *err, void *ud);

/* With the slot locked: a new transfer for the slot (a resume from `token`, or a start). */
static void slot_start(slot_t *s, const uint8_t *token, size_t token_len) {
    start_ctx_t *c;
    const oss_transfer_t *t = NULL;
    oss_error_t *err;
    if (s->starts >= 64) {
        CHECK(0, "slot %d: too many starts", s->idx);
        s->done = 1;
        pthread_cond_broadcast(&s->cv);
        return;
    }
    c = calloc(1, sizeof *c);
    c->slot = s;
    s->ctxs[s->starts++] = c;
    /* The old handle (if any) is released here: its completion may still be running (this is
     * it), with the handle it was given still valid. */
    oss_transfer_free(s->current);
    s->current = NULL;
    if (token)
        err = oss_client_start_resume(client, token, token_len, s->req, chaos_done, c, ctx_free, &t);
    else
        err = oss_client_start_resumable_download(client, s->req, chaos_done, c, ctx_free, &t);
    if (err) {
        CHECK(0, "slot %d: start: %s: %s", s->idx, oss_error_code(err), oss_error_message(err));
        oss_error_free(err);
        s->done = 1;
        pthread_cond_broadcast(&s->cv);
        return;
    }
    s->current = t;
}

static void chaos_done(const oss_transfer_t *t, const oss_error_t *err, void *ud) {
    start_ctx_t *c = ud;
    slot_t *s = c->slot;
    oss_transfer_state_t st = oss_transfer_poll(t);
    pthread_mutex_lock(&s->mu);
    c->completions++;
    s->completions++;
    CHECK(t == s->current, "slot %d: the completion's handle is not the transfer started", s->idx);
    if (st == OSS_TRANSFER_STATE_SUCCEEDED) {
        CHECK(err == NULL, "slot %d: success with an error", s->idx);
        s->done = 1;
        pthread_cond_broadcast(&s->cv);
    } else if (st == OSS_TRANSFER_STATE_PAUSED) {
        uint8_t *tok = NULL;
        size_t len = 0;
        CHECK(err && oss_error_kind(err) == OSS_ERROR_KIND_CANCELLED, "slot %d: paused error", s->idx);
        /* Pausing or cancelling a transfer that ended does nothing. */
        oss_transfer_pause(t);
        oss_transfer_cancel(t);
        ok("take token", oss_transfer_take_resume_token(t, &tok, &len));
        expect_kind("token taken twice", oss_transfer_take_resume_token(t, &tok, &len), INVALID);
        s->generation++;
        s->resumes_from_callback++;
        if (tok) slot_start(s, tok, len);
        oss_bytes_free(tok, len);
        /* Sometimes the resumed transfer is paused at once, from this callback (before it sent
         * anything: its token then carries the same record on). */
        if (s->current && !s->calm && s->generation < 10 && rand_r(&s->seed) % 4 == 0) {
            CHECK(oss_transfer_pause(s->current), "pause from the completion");
            s->pauses++;
        }
    } else if (st == OSS_TRANSFER_STATE_CANCELLED) {
        CHECK(err && oss_error_kind(err) == OSS_ERROR_KIND_CANCELLED, "slot %d: cancelled error", s->idx);
        if (err && strcmp(oss_error_code(err), "ClientError:200042") == 0) s->aborts++;
        s->generation++;
        slot_start(s, NULL, 0); /* from the checkpoint, if the slot has one */
    } else {
        CHECK(0, "slot %d: state %d: %s: %s", s->idx, (int)st, err ? oss_error_code(err) : "",
              err ? oss_error_message(err) : "");
        s->done = 1;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
}

static int32_t chaos_progress(size_t inc, int64_t done, int64_t total, void *ud) {
    slot_t *s = ud;
    int32_t rc = 0;
    (void)inc;
    CHECK(done <= total, "progress %lld > %lld", (long long)done, (long long)total);
    pthread_mutex_lock(&s->mu);
    if (s->generation == 0 && done < total && s->current && s->idx % 4 != 0) {
        /* Each case at least once, whatever the random draws: abort, cancel, pause. */
        if (s->idx % 4 == 1) {
            rc = 1;
        } else if (s->idx % 4 == 2) {
            oss_transfer_cancel(s->current);
            s->cancels++;
        } else {
            oss_transfer_pause(s->current);
            s->pauses++;
        }
    } else if (!s->calm && s->generation < 10 && done < total && s->current) {
        int r = (int)(rand_r(&s->seed) % 16);
        if (r == 0) {
            oss_transfer_pause(s->current);
            s->pauses++;
        } else if (r == 1) {
            oss_transfer_cancel(s->current);
            s->cancels++;
        } else if (r == 2) {
            rc = 1; /* abort through the return value */
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

typedef struct {
    slot_t *slots;
    int n;
    long until;
    unsigned seed;
} chaos_arg_t;

static void *chaos_thread(void *arg) {
    chaos_arg_t *a = arg;
    while (now_ms() < a->until) {
        slot_t *s = &a->slots[rand_r(&a->seed) % (unsigned)a->n];
        int r = (int)(rand_r(&a->seed) % 8);
        pthread_mutex_lock(&s->mu);
        /* The first transfer of slots 1-3 (mod 4) is left to its deterministic case. */
        if (!s->done && s->current && (s->generation > 0 || s->idx % 4 == 0)) {
            oss_transfer_status_t st;
            ok("status", oss_transfer_status(s->current, &st));
            CHECK(st.transferred <= st.total || st.total == 0, "status %lld/%lld",
                  (long long)st.transferred, (long long)st.total);
            if (r == 0 && s->generation < 10) {
                oss_transfer_cancel(s->current);
                s->cancels++;
            } else if (r <= 2 && s->generation < 10) {
                CHECK(oss_transfer_pause(s->current), "pause refused");
                s->pauses++;
            }
        }
        pthread_mutex_unlock(&s->mu);
        sleep_ms((long)(rand_r(&a->seed) % 15));
    }
    return NULL;
}

static void phase_chaos(const object_t *big, int n, int chaos_ms) {
    slot_t *slots = calloc((size_t)n, sizeof *slots);
    char ckpt[4096];
    pthread_t th;
    chaos_arg_t arg;
    int i, j, pauses = 0, cancels = 0, aborts = 0, starts = 0, resumed = 0;
    snprintf(ckpt, sizeof ckpt, "%s/ckpt", dir);
    for (i = 0; i < n; i++) {
        slot_t *s = &slots[i];
        s->idx = i;
        s->seed = 1234u + (unsigned)i;
        s->obj = big;
        pthread_mutex_init(&s->mu, NULL);
        pthread_cond_init(&s->cv, NULL);
        snprintf(s->dest, sizeof s->dest, "%s/chaos/%d.bin", dir, i);
        /* Even slots resume from a checkpoint after a cancel, odd ones start over. */
        s->req = download_request(big, s->dest, i % 2 == 0 ? ckpt : NULL, 3);
        ok("progress", oss_download_request_set_progress_abortable(s->req, chaos_progress, s, NULL));
    }
    for (i = 0; i < n; i++) {
        pthread_mutex_lock(&slots[i].mu);
        slot_start(&slots[i], NULL, 0);
        pthread_mutex_unlock(&slots[i].mu);
    }
    arg.slots = slots;
    arg.n = n;
    arg.until = now_ms() + chaos_ms;
    arg.seed = 99;
    pthread_create(&th, NULL, chaos_thread, &arg);
    pthread_join(th, NULL);
    for (i = 0; i < n; i++) {
        pthread_mutex_lock(&slots[i].mu);
        slots[i].calm = 1;
        pthread_mutex_unlock(&slots[i].mu);
    }
    for (i = 0; i < n; i++) {
        slot_t *s = &slots[i];
        const oss_transfer_t *last;
        long deadline = now_ms() + 600000;
        pthread_mutex_lock(&s->mu);
        while (!s->done && now_ms() < deadline) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        }
        CHECK(s->done, "slot %d never finished", i);
        last = s->current;
        pthread_mutex_unlock(&s->mu);
        /* The last transfer has settled once wait returns: its completion and free ran. */
        CHECK(oss_transfer_wait(last, 600000) == OSS_TRANSFER_STATE_SUCCEEDED, "slot %d last state", i);
        pthread_mutex_lock(&s->mu);
        CHECK(s->completions == s->starts, "slot %d: %d completions for %d starts", i,
              s->completions, s->starts);
        for (j = 0; j < s->starts; j++) {
            CHECK(s->ctxs[j]->completions == 1, "slot %d start %d: %d completions", i, j,
                  s->ctxs[j]->completions);
            CHECK(s->ctxs[j]->freed == 1, "slot %d start %d: user_data freed %d times", i, j,
                  s->ctxs[j]->freed);
            free(s->ctxs[j]);
        }
        pauses += s->pauses;
        cancels += s->cancels;
        aborts += s->aborts;
        starts += s->starts;
        resumed += s->resumes_from_callback;
        pthread_mutex_unlock(&s->mu);
        CHECK(same_file(s->dest, big), "slot %d: %s differs from the object", i, s->dest);
        oss_transfer_free(last);
        oss_download_request_free(s->req);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
    }
    printf("chaos: %d transfers, %d starts, %d pause and %d cancel requests, %d aborts from "
           "progress, %d resumes started from completions; every file verified\n",
           n, starts, pauses, cancels, aborts, resumed);
    CHECK(resumed > 0, "no pause took effect (no resume)");
    CHECK(aborts > 0, "no abort from the progress callback took effect");
    free(slots);
}

/* ---- the abortable progress callback in the blocking calls ------------------------------ */

static int32_t abort_after(size_t inc, int64_t done, int64_t total, void *ud) {
    (void)inc;
    (void)total;
    (void)ud;
    return done >= 200 * 1024 ? 1 : 0;
}

static void phase_blocking_abort(const object_t *big) {
    char dest[4096], ckpt[4096];
    oss_download_request_t *req;
    oss_get_object_request_t *greq = NULL;
    oss_object_meta_t *meta = NULL;
    oss_error_t *err;
    snprintf(dest, sizeof dest, "%s/blocking.bin", dir);
    snprintf(ckpt, sizeof ckpt, "%s/ckpt", dir);
    req = download_request(big, dest, ckpt, 2);
    ok("abortable", oss_download_request_set_progress_abortable(req, abort_after, NULL, NULL));
    err = oss_client_resumable_download_object(client, req, &meta);
    CHECK(err && oss_error_kind(err) == OSS_ERROR_KIND_CANCELLED &&
              strcmp(oss_error_code(err), "ClientError:200042") == 0,
          "blocking download aborted by its progress: %s", err ? oss_error_code(err) : "success");
    oss_error_free(err);
    CHECK(!exists(dest), "an aborted download put its file in place");
    /* The checkpoint was kept: the same request without the callback resumes and completes. */
    ok("clear progress", oss_download_request_set_progress_abortable(req, NULL, NULL, NULL));
    ok("resume after the abort", oss_client_resumable_download_object(client, req, &meta));
    CHECK(same_file(dest, big), "the download resumed after an abort differs");
    oss_object_meta_free(meta);
    meta = NULL;
    oss_download_request_free(req);
    snprintf(dest, sizeof dest, "%s/blocking-get.bin", dir);
    ok("get request", oss_get_object_request_new(bucket, big->key, &greq));
    ok("abortable", oss_get_object_request_set_progress_abortable(greq, abort_after, NULL, NULL));
    err = oss_client_get_object_to_file(client, greq, dest, &meta);
    CHECK(err && strcmp(oss_error_code(err), "ClientError:200042") == 0,
          "blocking GetObject aborted by its progress: %s", err ? oss_error_code(err) : "success");
    oss_error_free(err);
    CHECK(!exists(dest), "an aborted GetObject put its file in place");
    oss_get_object_request_free(greq);
    printf("blocking: downloads and GetObject aborted by their progress callback\n");
}

/* ---- a paused download's token ---------------------------------------------------------- */

typedef struct {
    pthread_mutex_t mu;
    const oss_transfer_t *t;
    int paused;
} pause_at_first_t;

static int32_t pause_at_first(size_t inc, int64_t done, int64_t total, void *ud) {
    pause_at_first_t *p = ud;
    (void)inc;
    pthread_mutex_lock(&p->mu);
    /* After 300 KiB: some parts are finished and recorded. */
    if (p->t && !p->paused && done >= 300 * 1024 && done < total) {
        CHECK(oss_transfer_pause(p->t), "pause from the progress callback");
        p->paused = 1;
    }
    pthread_mutex_unlock(&p->mu);
    return 0;
}

/* Pauses a download of `o` to `dest` from its progress callback (past 300 KiB); returns its
 * token. */
static uint8_t *paused_token(const object_t *o, const char *dest, const char *ckpt, size_t *len) {
    pause_at_first_t p;
    oss_download_request_t *req = download_request(o, dest, ckpt, 2);
    const oss_transfer_t *t = NULL;
    uint8_t *tok = NULL;
    oss_error_t *err;
    oss_transfer_status_t st;
    p.t = NULL;
    p.paused = 0;
    pthread_mutex_init(&p.mu, NULL);
    ok("progress", oss_download_request_set_progress_abortable(req, pause_at_first, &p, NULL));
    pthread_mutex_lock(&p.mu);
    ok("start", oss_client_start_resumable_download(client, req, NULL, NULL, NULL, &t));
    p.t = t;
    pthread_mutex_unlock(&p.mu);
    CHECK(oss_transfer_wait(t, 300000) == OSS_TRANSFER_STATE_PAUSED, "not paused: %d",
          (int)oss_transfer_poll(t));
    ok("status", oss_transfer_status(t, &st));
    CHECK(st.state == OSS_TRANSFER_STATE_PAUSED && st.transferred < st.total, "paused status");
    err = oss_transfer_result(t, NULL);
    CHECK(err && oss_error_kind(err) == OSS_ERROR_KIND_CANCELLED, "a paused transfer's result");
    oss_error_free(err);
    ok("take token", oss_transfer_take_resume_token(t, &tok, len));
    oss_transfer_free(t);
    oss_download_request_free(req);
    pthread_mutex_destroy(&p.mu);
    return tok;
}

static void phase_tokens(const object_t *big, const object_t *changing, int flip_step) {
    char dest[4096], temp[4096], path[4096], ckpt[4096];
    size_t len = 0, i, n;
    uint8_t *tok, *bad;
    const oss_transfer_t *t = NULL;
    size_t cuts[7];
    long refused = 0;
    snprintf(dest, sizeof dest, "%s/forge.bin", dir);
    snprintf(temp, sizeof temp, "%s/forge.bin.temp", dir);
    tok = paused_token(big, dest, NULL, &len);
    CHECK(tok && len > 64, "token of %zu bytes", len);
    if (!tok) return;
    /* Without a checkpoint directory the paused download's temp file is kept. */
    CHECK(exists(temp), "the paused download's temp file was removed");
    CHECK(!exists(dest), "a paused download put its file in place");

    /* Truncated, extended, bit-flipped: refused at the start, nothing started. */
    cuts[0] = 0; cuts[1] = 1; cuts[2] = 23; cuts[3] = 24; cuts[4] = 56; cuts[5] = len / 2;
    cuts[6] = len - 1;
    for (i = 0; i < 7; i++) {
        t = NULL;
        expect_kind("truncated token", oss_client_start_resume(client, tok, cuts[i], NULL, NULL,
                                                               NULL, NULL, &t), INVALID);
        CHECK(t == NULL, "a transfer out of a truncated token");
        refused++;
    }
    /* A download's token is not a batch's: refused by the batch's resume, nothing started. */
    {
        oss_error_t *e;
        t = NULL;
        e = oss_client_start_resume_batch(client, tok, len, NULL, NULL, NULL, NULL, &t);
        CHECK(e && oss_error_kind(e) == OSS_ERROR_KIND_INVALID_ARGUMENT &&
                  strstr(oss_error_message(e), "oss_client_start_resume"),
              "a download's token given to oss_client_start_resume_batch: %s", e ? oss_error_message(e) : "accepted");
        CHECK(t == NULL, "a transfer out of a download's token given as a batch's");
        oss_error_free(e);
    }
    bad = malloc(len + 1);
    memcpy(bad, tok, len);
    bad[len] = 0;
    expect_kind("extended token", oss_client_start_resume(client, bad, len + 1, NULL, NULL, NULL,
                                                          NULL, &t), INVALID);
    for (i = 0; i < len; i += (size_t)flip_step) {
        bad[i] ^= (uint8_t)(1u << (i % 8));
        t = NULL;
        expect_kind("bit-flipped token", oss_client_start_resume(client, bad, len, NULL, NULL, NULL,
                                                                 NULL, &t), INVALID);
        CHECK(t == NULL, "a transfer out of a flipped token (byte %zu)", i);
        bad[i] ^= (uint8_t)(1u << (i % 8));
        refused++;
    }
    free(bad);
    CHECK(exists(temp) && !exists(dest), "a refused token touched the files");
    printf("tokens: %ld truncated or bit-flipped tokens refused at the start\n", refused);
    snprintf(path, sizeof path, "%s/paused.tok", dir);
    write_all(path, tok, len);
    oss_bytes_free(tok, len);

    /* A paused download with a checkpoint directory, whose object the harness overwrites. */
    snprintf(dest, sizeof dest, "%s/changing.bin", dir);
    snprintf(ckpt, sizeof ckpt, "%s/ckpt", dir);
    tok = paused_token(changing, dest, ckpt, &n);
    if (!tok) return;
    snprintf(path, sizeof path, "%s/changed.tok", dir);
    write_all(path, tok, n);
    oss_bytes_free(tok, n);
}

/* ---- resume: forged tokens, another process, a changed object --------------------------- */

/* Whether the last resume_file was refused by oss_client_start_resume itself (before any
 * request or file operation). */
static int refused_at_start;

/* Resumes from the token in `path`; returns the final state, the error's kind in *kind. */
static oss_transfer_state_t resume_file(const char *path, int *kind) {
    size_t len;
    uint8_t *tok = read_all(path, &len);
    const oss_transfer_t *t = NULL;
    oss_transfer_state_t st;
    oss_error_t *err;
    count_t c;
    *kind = -1;
    refused_at_start = 0;
    memset(&c, 0, sizeof c);
    pthread_mutex_init(&c.mu, NULL);
    CHECK(tok != NULL, "cannot read %s", path);
    err = oss_client_start_resume(client, tok, len, NULL, count_done, &c, count_free, &t);
    free(tok);
    if (err) {
        *kind = (int)oss_error_kind(err);
        printf("  %s: refused at the start: %s\n", strrchr(path, '/') + 1, oss_error_message(err));
        oss_error_free(err);
        refused_at_start = 1;
        CHECK(c.completions == 0 && c.frees == 1, "a start error called done or leaked user data");
        pthread_mutex_destroy(&c.mu);
        return OSS_TRANSFER_STATE_FAILED;
    }
    st = oss_transfer_wait(t, 300000);
    err = oss_transfer_result(t, NULL);
    if (err) {
        *kind = (int)oss_error_kind(err);
        printf("  %s: %s: %s\n", strrchr(path, '/') + 1, oss_error_code(err), oss_error_message(err));
    }
    oss_error_free(err);
    CHECK(c.completions == 1 && c.frees == 1, "%s: %d completions, %d frees", path, c.completions,
          c.frees);
    oss_transfer_free(t);
    pthread_mutex_destroy(&c.mu);
    return st;
}

static int by_name(const struct dirent **a, const struct dirent **b) {
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Every token in DIR/<sub> must be refused: "v*" with INVALID_ARGUMENT, "c*" with OBJECT_CHANGED,
 * "m*" (a MAC that does not verify under this client's key, or the unkeyed format of the earlier
 * release) with INVALID_ARGUMENT by oss_client_start_resume itself, before any request;
 * `dest` must not appear (or keep holding `keep`'s bytes). */
static void forged(const char *sub, const char *dest, const object_t *keep) {
    char d[4096], path[8192];
    struct dirent **names;
    int n, i;
    snprintf(d, sizeof d, "%s/%s", dir, sub);
    n = scandir(d, &names, NULL, by_name);
    CHECK(n > 2, "no forged tokens in %s", d);
    for (i = 0; i < n; i++) {
        int kind;
        oss_transfer_state_t st;
        if (names[i]->d_name[0] == '.') {
            free(names[i]);
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", d, names[i]->d_name);
        st = resume_file(path, &kind);
        CHECK(st == OSS_TRANSFER_STATE_FAILED, "%s: state %d", path, (int)st);
        if (names[i]->d_name[0] == 'c')
            CHECK(kind == OSS_ERROR_KIND_OBJECT_CHANGED, "%s: kind %d", path, kind);
        else if (names[i]->d_name[0] == 'm')
            CHECK(kind == OSS_ERROR_KIND_INVALID_ARGUMENT && refused_at_start,
                  "%s: kind %d, refused at the start: %d", path, kind, refused_at_start);
        else
            CHECK(kind == OSS_ERROR_KIND_INVALID_ARGUMENT, "%s: kind %d", path, kind);
        if (keep)
            CHECK(same_file(dest, keep), "%s: the destination changed", path);
        else
            CHECK(!exists(dest), "%s: a forged token made the destination", path);
        free(names[i]);
    }
    free(names);
}

static void phase_resume(const object_t *big) {
    char path[4096], dest[4096], temp[4096];
    int kind;
    snprintf(dest, sizeof dest, "%s/forge.bin", dir);
    snprintf(temp, sizeof temp, "%s/forge.bin.temp", dir);
    forged("forged", dest, NULL);
    CHECK(exists(temp), "a refused token removed the temp file");
    /* The genuine token, in another process than the one that paused. */
    snprintf(path, sizeof path, "%s/paused.tok", dir);
    CHECK(resume_file(path, &kind) == OSS_TRANSFER_STATE_SUCCEEDED, "resume from paused.tok: %d", kind);
    CHECK(same_file(dest, big), "the resumed download differs from the object");
    CHECK(!exists(temp), "the temp file is left after the resume");
    /* Used once: its temp file is gone, so it is refused now. */
    CHECK(resume_file(path, &kind) == OSS_TRANSFER_STATE_FAILED && kind == INVALID, "used token: %d", kind);
    CHECK(same_file(dest, big), "a used token touched the destination");
    forged("forged_after", dest, big);
    /* The object of changed.tok was overwritten since the pause. */
    snprintf(path, sizeof path, "%s/changed.tok", dir);
    CHECK(resume_file(path, &kind) == OSS_TRANSFER_STATE_FAILED, "changed.tok resumed");
    CHECK(kind == OSS_ERROR_KIND_OBJECT_CHANGED, "changed.tok: kind %d", kind);
    snprintf(dest, sizeof dest, "%s/changing.bin", dir);
    CHECK(!exists(dest), "a changed object's token made the destination");
    snprintf(temp, sizeof temp, "%s/changing.bin.temp", dir);
    CHECK(!exists(temp), "the stale temp file of a changed object is left");
}

/* ---- shutdown with transfers in flight -------------------------------------------------- */

typedef struct {
    pthread_mutex_t mu;
    int progressed;
} seen_t;

static void seen_progress(size_t inc, int64_t done, int64_t total, void *ud) {
    seen_t *s = ud;
    (void)inc;
    (void)done;
    (void)total;
    pthread_mutex_lock(&s->mu);
    s->progressed++;
    pthread_mutex_unlock(&s->mu);
}

static void phase_shutdown(const object_t *big, int n) {
    const oss_transfer_t **ts = calloc((size_t)n + 1, sizeof *ts);
    count_t *cs = calloc((size_t)n + 1, sizeof *cs);
    seen_t seen;
    char dest[4096], ckpt[4096];
    oss_get_object_request_t *greq = NULL;
    const oss_transfer_t *late = NULL;
    count_t late_c;
    long deadline;
    int i, progressed;
    pthread_mutex_init(&seen.mu, NULL);
    seen.progressed = 0;
    snprintf(ckpt, sizeof ckpt, "%s/ckpt", dir);
    for (i = 0; i < n; i++) {
        oss_download_request_t *req;
        pthread_mutex_init(&cs[i].mu, NULL);
        snprintf(dest, sizeof dest, "%s/shutdown/%d.bin", dir, i);
        req = download_request(big, dest, i % 2 ? ckpt : NULL, 2);
        /* The server's slowest rate (30 KB/s): still running when the SDK shuts down. */
        ok("traffic limit", oss_download_request_set_traffic_limit(req, 245760));
        ok("progress", oss_download_request_set_progress(req, seen_progress, &seen, NULL));
        ok("start", oss_client_start_resumable_download(client, req, count_done, &cs[i], count_free,
                                                         &ts[i]));
        oss_download_request_free(req);
    }
    pthread_mutex_init(&cs[n].mu, NULL);
    snprintf(dest, sizeof dest, "%s/shutdown/get.bin", dir);
    ok("get request", oss_get_object_request_new(bucket, big->key, &greq));
    ok("traffic limit", oss_get_object_request_set_traffic_limit(greq, 245760));
    ok("start get", oss_client_start_get_object_to_file(client, greq, dest, count_done, &cs[n],
                                                        count_free, &ts[n]));
    oss_get_object_request_free(greq);
    deadline = now_ms() + 20000;
    do {
        sleep_ms(20);
        pthread_mutex_lock(&seen.mu);
        progressed = seen.progressed;
        pthread_mutex_unlock(&seen.mu);
    } while (progressed < n && now_ms() < deadline);
    oss_shutdown_sdk();
    for (i = 0; i <= n; i++) {
        oss_error_t *err;
        /* Every completion ran (once, with Cancelled) before oss_shutdown_sdk returned. */
        pthread_mutex_lock(&cs[i].mu);
        CHECK(cs[i].completions == 1, "transfer %d: %d completions", i, cs[i].completions);
        CHECK(cs[i].frees == 1, "transfer %d: %d frees", i, cs[i].frees);
        CHECK(cs[i].err_kind == OSS_ERROR_KIND_CANCELLED, "transfer %d: kind %d", i, cs[i].err_kind);
        pthread_mutex_unlock(&cs[i].mu);
        CHECK(oss_transfer_poll(ts[i]) == OSS_TRANSFER_STATE_CANCELLED, "transfer %d state", i);
        CHECK(oss_transfer_wait(ts[i], 0) == OSS_TRANSFER_STATE_CANCELLED, "transfer %d wait", i);
        err = oss_transfer_result(ts[i], NULL);
        CHECK(err && oss_error_kind(err) == OSS_ERROR_KIND_CANCELLED, "transfer %d result", i);
        oss_error_free(err);
        oss_transfer_cancel(ts[i]);
        oss_transfer_pause(ts[i]);
        oss_transfer_free(ts[i]);
        pthread_mutex_destroy(&cs[i].mu);
    }
    /* After shutdown nothing starts: done never called, user data freed once. */
    memset(&late_c, 0, sizeof late_c);
    pthread_mutex_init(&late_c.mu, NULL);
    {
        oss_download_request_t *req = download_request(big, "late.bin", NULL, 1);
        expect_kind("start after shutdown",
                    oss_client_start_resumable_download(client, req, count_done, &late_c, count_free,
                                                        &late),
                    OSS_ERROR_KIND_NOT_INITIALIZED);
        oss_download_request_free(req);
    }
    CHECK(late == NULL && late_c.completions == 0 && late_c.frees == 1, "a start after shutdown");
    pthread_mutex_destroy(&late_c.mu);
    printf("shutdown: %d transfers in flight each completed once with Cancelled\n", n + 1);
    free(ts);
    free(cs);
    pthread_mutex_destroy(&seen.mu);
}

/* ---- fork() with transfers in flight -------------------------------------------------- */

/* Every call on a transfer of the parent, in the child: at once, never a hang (the parent's task
 * and threads do not exist here). */
static void foreign_calls(const oss_transfer_t *t, const char *when) {
    oss_transfer_status_t st;
    oss_error_t *err;
    uint8_t *tok = NULL;
    size_t len = 0;
    const oss_transfer_t *c;
    CHECK(oss_transfer_poll(t) == OSS_TRANSFER_STATE_OTHER_PROCESS, "%s: poll %d", when,
          (int)oss_transfer_poll(t));
    CHECK(oss_transfer_wait(t, 0) == OSS_TRANSFER_STATE_OTHER_PROCESS, "%s: wait 0", when);
    CHECK(oss_transfer_wait(t, -1) == OSS_TRANSFER_STATE_OTHER_PROCESS, "%s: wait -1", when);
    oss_transfer_cancel(t); /* nothing here, nothing in the parent */
    CHECK(!oss_transfer_pause(t), "%s: pause", when);
    err = oss_transfer_status(t, &st);
    CHECK(err && strstr(oss_error_message(err), "fork") != NULL, "%s: status: %s", when,
          err ? oss_error_message(err) : "no error");
    expect_kind("status in the child", err, INVALID);
    err = oss_transfer_result(t, NULL);
    CHECK(err && strstr(oss_error_message(err), "fork") != NULL, "%s: result: %s", when,
          err ? oss_error_message(err) : "no error");
    expect_kind("result in the child", err, INVALID);
    expect_kind("token in the child", oss_transfer_take_resume_token(t, &tok, &len), INVALID);
    CHECK(tok == NULL, "%s: a token written", when);
    c = oss_transfer_clone(t);
    CHECK(c == t, "%s: clone", when);
    oss_transfer_free(c);
}

/* What the fork child is doing, for its SIGALRM handler: a hang names its step. */
static const char *volatile child_step = "starting";

/* Async-signal-safe: write(2) only, then the default action (the parent sees SIGALRM). */
static void child_hung(int sig) {
    const char *s = child_step;
    static const char head[] = "fork child: hung (SIGALRM) at: ";
    ssize_t w = write(2, head, sizeof head - 1);
    w = write(2, s, strlen(s));
    w = write(2, "\n", 1);
    (void)w;
    signal(sig, SIG_DFL);
    raise(sig);
}

/* The child: reports through its exit status; a hang becomes SIGALRM, which the parent reports
 * (and the child's handler names the step it hung in). */
static void fork_child(const oss_transfer_t **ts, int n, count_t *cs, const object_t *small) {
    const oss_client_t *mine = NULL;
    const oss_transfer_t *t = NULL;
    oss_credentials_provider_t *creds = NULL;
    oss_download_request_t *req;
    count_t c;
    char dest[4096];
    int i;
    signal(SIGALRM, child_hung);
    alarm(120);
    child_step = "the parent's transfers, before initialising";
    for (i = 0; i < n; i++) foreign_calls(ts[i], "before initialising");
    child_step = "oss_initialize_sdk";
    ok("initialise in the child", oss_initialize_sdk());
    child_step = "the parent's transfers, after initialising";
    for (i = 0; i < n; i++) foreign_calls(ts[i], "after initialising");
    /* The parent's client starts nothing here: refused at once, done never called. */
    child_step = "a start with the parent's client";
    memset(&c, 0, sizeof c);
    pthread_mutex_init(&c.mu, NULL);
    snprintf(dest, sizeof dest, "%s/fork/child-parent-client.bin", dir);
    req = download_request(small, dest, NULL, 2);
    expect_kind("a start with the parent's client",
                oss_client_start_resumable_download(client, req, count_done, &c, count_free, &t),
                INVALID);
    CHECK(t == NULL && c.completions == 0 && c.frees == 1, "a refused start in the child");
    oss_download_request_free(req);
    /* A client of its own works. */
    child_step = "a client of its own";
    ok("creds", oss_credentials_provider_new_static(env("OSS_TEST_AK"), env("OSS_TEST_SK"), NULL,
                                                    &creds));
    ok("client", oss_client_new(env("OSS_TEST_ENDPOINT"), creds, NULL, &mine));
    snprintf(dest, sizeof dest, "%s/fork/child.bin", dir);
    req = download_request(small, dest, NULL, 2);
    child_step = "its own download";
    ok("start in the child", oss_client_start_resumable_download(mine, req, NULL, NULL, NULL, &t));
    oss_download_request_free(req);
    CHECK(oss_transfer_wait(t, -1) == OSS_TRANSFER_STATE_SUCCEEDED, "the child's own transfer");
    CHECK(same_file(dest, small), "the child's own download");
    child_step = "freeing its own client";
    oss_transfer_free(t);
    oss_client_free(mine);
    oss_credentials_provider_free(creds);
    for (i = 0; i < n; i++) {
        CHECK(cs[i].completions == 0, "a completion of the parent's ran in the child");
        oss_transfer_free(ts[i]); /* only forgotten here */
    }
    child_step = "forgetting the parent's handles";
    oss_client_free(client); /* the parent's: only forgotten here */
    child_step = "oss_shutdown_sdk";
    oss_shutdown_sdk();
    child_step = "exiting";
    fprintf(stderr, "fork child: %d failures\n", failures);
    fflush(stderr);
    /* As in reentry.c: a fresh image instead of an exit, since the parent's runtime (whose threads
     * exist only there) was inherited and a leak check at exit would report its blocks. */
    execl("/bin/sh", "sh", "-c", failures ? "exit 1" : "exit 0", (char *)NULL);
    _exit(failures ? 1 : 0);
}

static void phase_fork(const object_t *big, const object_t *small) {
    enum { N = 3 };
    const oss_transfer_t *ts[N];
    count_t cs[N];
    char dests[N][4096];
    seen_t seen;
    oss_get_object_request_t *greq = NULL;
    long deadline;
    int i, status = 0, progressed;
    pid_t pid;
    pthread_mutex_init(&seen.mu, NULL);
    seen.progressed = 0;
    snprintf(dests[0], sizeof dests[0], "%s/fork", dir);
    mkdir(dests[0], 0700);
    for (i = 0; i < N; i++) {
        memset(&cs[i], 0, sizeof cs[i]);
        pthread_mutex_init(&cs[i].mu, NULL);
        snprintf(dests[i], sizeof dests[i], "%s/fork/%d.bin", dir, i);
        if (i == N - 1) {
            ok("get request", oss_get_object_request_new(bucket, big->key, &greq));
            ok("start get", oss_client_start_get_object_to_file(client, greq, dests[i], count_done,
                                                                &cs[i], count_free, &ts[i]));
            oss_get_object_request_free(greq);
        } else {
            char ckpt[4096];
            oss_download_request_t *req;
            snprintf(ckpt, sizeof ckpt, "%s/ckpt", dir);
            req = download_request(big, dests[i], i ? ckpt : NULL, 2);
            ok("progress", oss_download_request_set_progress(req, seen_progress, &seen, NULL));
            ok("start", oss_client_start_resumable_download(client, req, count_done, &cs[i],
                                                             count_free, &ts[i]));
            oss_download_request_free(req);
        }
    }
    /* Forked while they run (the library's threads busy with them). */
    deadline = now_ms() + 20000;
    do {
        sleep_ms(5);
        pthread_mutex_lock(&seen.mu);
        progressed = seen.progressed;
        pthread_mutex_unlock(&seen.mu);
    } while (progressed == 0 && now_ms() < deadline);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid == 0) fork_child(ts, N, cs, small);
    CHECK(pid > 0, "fork");
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "the child failed (status %d%s): see its messages above", status,
          WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ? ", hung: SIGALRM" : "");
    /* The parent's transfers were not touched by the child's calls. */
    for (i = 0; i < N; i++) {
        CHECK(oss_transfer_wait(ts[i], -1) == OSS_TRANSFER_STATE_SUCCEEDED, "parent transfer %d: %d",
              i, (int)oss_transfer_poll(ts[i]));
        pthread_mutex_lock(&cs[i].mu);
        CHECK(cs[i].completions == 1 && cs[i].frees == 1, "parent transfer %d: %d completions", i,
              cs[i].completions);
        pthread_mutex_unlock(&cs[i].mu);
        CHECK(same_file(dests[i], big), "parent transfer %d: %s differs", i, dests[i]);
        oss_transfer_free(ts[i]);
        pthread_mutex_destroy(&cs[i].mu);
    }
    pthread_mutex_destroy(&seen.mu);
    printf("fork: %d transfers in flight at the fork; the child's calls on them checked, the "
           "parent's checked after it\n", N);
}

/* ---- main -------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "main";
    oss_credentials_provider_t *creds = NULL;
    object_t objs[4], big, changing;
    char sub[4096];
    int i;
    dir = env("OSS_TEST_DIR");
    bucket = env("OSS_TEST_BUCKET");
    ok("init", oss_initialize_sdk());
    ok("creds", oss_credentials_provider_new_static(env("OSS_TEST_AK"), env("OSS_TEST_SK"), NULL, &creds));
    ok("client", oss_client_new(env("OSS_TEST_ENDPOINT"), creds, NULL, &client));
    load_object(&objs[0], "0");
    load_object(&objs[1], "1");
    load_object(&objs[2], "2");
    load_object(&objs[3], "3");
    load_object(&big, "big");
    load_object(&changing, "changing");
    for (i = 0; i < 4; i++) {
        static const char *subs[] = {"many", "chaos", "ckpt", "shutdown"};
        snprintf(sub, sizeof sub, "%s/%s", dir, subs[i]);
        mkdir(sub, 0700);
    }
    if (strcmp(mode, "main") == 0) {
        phase_many(objs, 4, env_int("OSS_TEST_MANY", 200));
        phase_chaos(&big, env_int("OSS_TEST_CHAOS", 24), env_int("OSS_TEST_CHAOS_MS", 1500));
        phase_tokens(&big, &changing, env_int("OSS_TEST_FLIP_STEP", 1));
        phase_blocking_abort(&big);
    } else if (strcmp(mode, "resume") == 0) {
        phase_resume(&big);
    } else if (strcmp(mode, "fork") == 0) {
        phase_fork(&big, &objs[1]);
    } else if (strcmp(mode, "shutdown") == 0) {
        phase_shutdown(&big, env_int("OSS_TEST_SHUTDOWN", 6));
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    oss_client_free(client);
    oss_credentials_provider_free(creds);
    oss_shutdown_sdk();
    for (i = 0; i < 4; i++) free(objs[i].bytes);
    free(big.bytes);
    free(changing.bytes);
    if (failures) {
        fprintf(stderr, "transfers %s: %d checks failed\n", mode, failures);
        return 1;
    }
    printf("transfers %s: all checks passed\n", mode);
    return 0;
}
