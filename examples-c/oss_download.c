/*
 * oss_download - a resumable, concurrent, verified OSS download from the command line, over the
 * C API in oss_ffi.h.
 *
 *   export OSS_ACCESS_KEY_ID=... OSS_ACCESS_KEY_SECRET=... [OSS_SESSION_TOKEN=...]
 *   oss_download --endpoint https://oss-cn-hangzhou.aliyuncs.com --bucket B --key K \
 *                --output FILE [--checkpoint-dir DIR] [--threads N] [--part-size 8M] \
 *                [--range START-END] [--v4 --region cn-hangzhou] [--no-crc] [--no-direct-io]
 *
 * Progress goes to stderr: a live bar on a terminal, one plain line per second otherwise.
 * Ctrl-C (SIGINT) or SIGTERM cancels cleanly; with --checkpoint-dir the next run with the same
 * arguments resumes where it stopped. A second Ctrl-C kills the program at once.
 *
 * Exit codes (one per failure class):
 *   0 downloaded and verified       5 network: connect/timeout/transport
 *   1 internal error                6 CRC64 mismatch
 *   2 usage / missing credentials   7 cancelled (resumable when a checkpoint dir was given)
 *   3 invalid parameter             8 the object changed on the server (state discarded)
 *   4 server error (4xx/5xx)        9 local file-system error
 *                                  10 another download holds the destination file
 */
#define _POSIX_C_SOURCE 200809L

#include "oss_ffi.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
    EXIT_OK = 0,
    EXIT_INTERNAL = 1,
    EXIT_USAGE = 2,
    EXIT_INVALID = 3,
    EXIT_SERVER = 4,
    EXIT_NETWORK = 5,
    EXIT_CRC = 6,
    EXIT_CANCELLED = 7,
    EXIT_CHANGED = 8,
    EXIT_LOCAL_IO = 9,
    EXIT_BUSY = 10
};

static const char *usage_text =
    "usage: oss_download --endpoint URL --bucket NAME --key KEY [options]\n"
    "\n"
    "  --endpoint URL        e.g. https://oss-cn-hangzhou.aliyuncs.com or http://127.0.0.1:9000\n"
    "  --bucket NAME         bucket name\n"
    "  --key KEY             object key\n"
    "  --output PATH         destination file (default: the key, relative to the current directory)\n"
    "  --checkpoint-dir DIR  existing directory for the checkpoint: makes the download resumable\n"
    "  --threads N           parts downloaded at once (default 4)\n"
    "  --part-size SIZE      part size, suffixes K/M/G (default 8M, at least 100K)\n"
    "  --range START-END     only bytes START..END inclusive; START- means to the end\n"
    "  --v4                  OSS4-HMAC-SHA256 signing (needs --region); default V1\n"
    "  --region REGION       signing region, e.g. cn-hangzhou\n"
    "  --rate KIB            limit the download rate to KIB KiB/s (all connections together)\n"
    "  --throughput-target R instead of --threads: reach R bytes/s (suffixes K/M/G), or 'max'\n"
    "                        for as fast as the link allows; parts in flight ramp up while\n"
    "                        the rate grows (oss_download_request_set_throughput_target)\n"
    "  --memory-budget SIZE  memory of the client's downloads, suffixes K/M/G (default 64M;\n"
    "                        oss_config_set_memory_budget)\n"
    "  --no-verify-on-resume do not re-read finished parts when resuming (they are re-read\n"
    "                        and checked against their CRC64 by default)\n"
    "  --no-crc              skip the whole-object CRC64 check (oss_config_set_crc64 false)\n"
    "  --resolve HOST:PORT:ADDR[,ADDR...]\n"
    "                        use these addresses for HOST (and BUCKET.HOST) instead of the name\n"
    "                        service, as curl's --resolve; repeatable (oss_config_add_resolve)\n"
    "  --no-direct-io        write through the page cache (default: direct I/O where the\n"
    "                        file system allows it; oss_download_request_set_direct_io)\n"
    "  --progress MODE       auto (bar on a terminal, lines otherwise), bar, lines or none\n"
    "  -h, --help            this help\n"
    "\n"
    "Credentials come from OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET and OSS_SESSION_TOKEN.\n"
    "Exit codes: 0 ok, 1 internal, 2 usage, 3 invalid parameter, 4 server error, 5 network,\n"
    "6 CRC mismatch, 7 cancelled, 8 object changed, 9 local I/O, 10 destination busy.\n";

struct options {
    const char *endpoint, *bucket, *key, *output, *checkpoint_dir, *region, *progress;
    unsigned long threads;
    uint64_t part_size, rate_kib, throughput_target, memory_budget;
    int64_t range_start, range_end;
    int has_range, v4, verify_on_resume, no_crc, no_direct_io;
    const char *resolve[16]; /* --resolve HOST:PORT:ADDR[,ADDR...], repeatable */
    int n_resolve;
};

/* ---- small parsers ---------------------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t *out) {
    char *end = NULL;
    unsigned long long v;
    if (!s || !*s || *s == '-') return 0;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s || *end) return 0;
    *out = (uint64_t)v;
    return 1;
}

/* "8M", "100K", "1G", "123456". */
static int parse_size(const char *s, uint64_t *out) {
    char buf[64];
    size_t n = strlen(s);
    uint64_t mult = 1, v;
    if (n == 0 || n >= sizeof buf) return 0;
    memcpy(buf, s, n + 1);
    switch (buf[n - 1]) {
    case 'k': case 'K': mult = 1024ULL; buf[n - 1] = '\0'; break;
    case 'm': case 'M': mult = 1024ULL * 1024; buf[n - 1] = '\0'; break;
    case 'g': case 'G': mult = 1024ULL * 1024 * 1024; buf[n - 1] = '\0'; break;
    default: break;
    }
    if (!parse_u64(buf, &v) || v > UINT64_MAX / mult) return 0;
    *out = v * mult;
    return 1;
}

/* "START-END" or "START-" (to the end). */
static int parse_range(const char *s, int64_t *start, int64_t *end) {
    char buf[64];
    char *dash;
    uint64_t a, b;
    if (strlen(s) >= sizeof buf) return 0;
    strcpy(buf, s);
    dash = strchr(buf, '-');
    if (!dash) return 0;
    *dash = '\0';
    if (!parse_u64(buf, &a) || a > INT64_MAX) return 0;
    *start = (int64_t)a;
    if (dash[1] == '\0') {
        *end = -1;
        return 1;
    }
    if (!parse_u64(dash + 1, &b) || b > INT64_MAX) return 0;
    *end = (int64_t)b;
    return 1;
}

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "oss_download: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", usage_text);
    return EXIT_USAGE;
}

/* Returns -1 when the options are fine, else the exit code. */
static int parse_args(int argc, char **argv, struct options *o) {
    int i;
    memset(o, 0, sizeof *o);
    o->threads = 4;
    o->part_size = 8ULL * 1024 * 1024;
    o->verify_on_resume = 1; /* the library's default: finished parts are re-read on resume */
    o->progress = "auto";
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes_value = 1;
        uint64_t n;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage_text, stdout);
            return EXIT_OK;
        } else if (!strcmp(a, "--v4")) {
            o->v4 = 1;
            takes_value = 0;
        } else if (!strcmp(a, "--verify-on-resume")) {
            o->verify_on_resume = 1; /* the default; kept so that older command lines still work */
            takes_value = 0;
        } else if (!strcmp(a, "--no-verify-on-resume")) {
            o->verify_on_resume = 0;
            takes_value = 0;
        } else if (!strcmp(a, "--no-direct-io")) {
            o->no_direct_io = 1;
            takes_value = 0;
        } else if (!strcmp(a, "--no-crc")) {
            o->no_crc = 1;
            takes_value = 0;
        } else if (!v) {
            return usage_error("%s needs a value (or is unknown)", a);
        } else if (!strcmp(a, "--endpoint")) {
            o->endpoint = v;
        } else if (!strcmp(a, "--bucket")) {
            o->bucket = v;
        } else if (!strcmp(a, "--key")) {
            o->key = v;
        } else if (!strcmp(a, "--output")) {
            o->output = v;
        } else if (!strcmp(a, "--checkpoint-dir")) {
            o->checkpoint_dir = v;
        } else if (!strcmp(a, "--region")) {
            o->region = v;
        } else if (!strcmp(a, "--progress")) {
            if (strcmp(v, "auto") && strcmp(v, "bar") && strcmp(v, "lines") && strcmp(v, "none"))
                return usage_error("--progress wants auto, bar, lines or none, not '%s'", v);
            o->progress = v;
        } else if (!strcmp(a, "--threads")) {
            if (!parse_u64(v, &n) || n > 100000) return usage_error("bad --threads '%s'", v);
            o->threads = (unsigned long)n;
        } else if (!strcmp(a, "--part-size")) {
            if (!parse_size(v, &o->part_size)) return usage_error("bad --part-size '%s'", v);
        } else if (!strcmp(a, "--throughput-target")) {
            if (!strcmp(v, "max")) o->throughput_target = UINT64_MAX;
            else if (!parse_size(v, &o->throughput_target) || o->throughput_target == 0)
                return usage_error("bad --throughput-target '%s' (want a rate or max)", v);
        } else if (!strcmp(a, "--resolve")) {
            if (o->n_resolve == (int)(sizeof o->resolve / sizeof o->resolve[0]))
                return usage_error("too many %s", a);
            o->resolve[o->n_resolve++] = v;
        } else if (!strcmp(a, "--memory-budget")) {
            if (!parse_size(v, &o->memory_budget)) return usage_error("bad --memory-budget '%s'", v);
        } else if (!strcmp(a, "--rate")) {
            if (!parse_u64(v, &o->rate_kib)) return usage_error("bad --rate '%s'", v);
        } else if (!strcmp(a, "--range")) {
            if (!parse_range(v, &o->range_start, &o->range_end))
                return usage_error("bad --range '%s' (want START-END or START-)", v);
            o->has_range = 1;
        } else {
            return usage_error("unknown option '%s'", a);
        }
        i += takes_value;
    }
    if (!o->endpoint) return usage_error("%s is required", "--endpoint");
    if (!o->bucket) return usage_error("%s is required", "--bucket");
    if (!o->key) return usage_error("%s is required", "--key");
    if (o->v4 && !o->region) return usage_error("%s is required with --v4", "--region");
    return -1;
}

/* ---- errors ------------------------------------------------------------------------------ */

static int exit_code_of(const oss_error_t *err) {
    switch (oss_error_kind(err)) {
    case OSS_ERROR_KIND_NONE: return EXIT_OK;
    case OSS_ERROR_KIND_INVALID_ARGUMENT:
    case OSS_ERROR_KIND_NULL_ARGUMENT:
    case OSS_ERROR_KIND_INVALID_UTF8: return EXIT_INVALID;
    case OSS_ERROR_KIND_SERVER: return EXIT_SERVER;
    case OSS_ERROR_KIND_TRANSPORT:
    case OSS_ERROR_KIND_TIMEOUT: return EXIT_NETWORK;
    case OSS_ERROR_KIND_CRC_MISMATCH: return EXIT_CRC;
    case OSS_ERROR_KIND_CANCELLED: return EXIT_CANCELLED;
    case OSS_ERROR_KIND_OBJECT_CHANGED: return EXIT_CHANGED;
    case OSS_ERROR_KIND_IO: return EXIT_LOCAL_IO;
    case OSS_ERROR_KIND_BUSY: return EXIT_BUSY;
    default: return EXIT_INTERNAL;
    }
}

/* Writes `s` with every control character shown as \xNN instead of sent raw: C0 controls (ESC
 * starts terminal escape sequences, CR and LF can forge lines), DEL, and the C1 controls U+0080 to
 * U+009F (UTF-8 C2 80..C2 9F; U+009B is a one-byte CSI on some terminals). What servers send (error
 * codes and messages, ETags, request ids) and what names hold is never trusted with the terminal. */
static void put_safe(FILE *f, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    for (; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            fprintf(f, "\\x%02x", *p);
        } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            fprintf(f, "\\xc2\\x%02x", p[1]);
            p++;
        } else {
            fputc(*p, f);
        }
    }
}

/* `label`, the sanitised `value`, a newline. */
static void put_line(FILE *f, const char *label, const char *value) {
    fputs(label, f);
    put_safe(f, value);
    fputc('\n', f);
}

/* Prints the error (code, message, request id, host, HTTP status), frees it, returns the exit code. */
static int report(const char *what, oss_error_t *err) {
    int code = exit_code_of(err);
    fprintf(stderr, "oss_download: %s failed\n", what);
    put_line(stderr, "  code:       ", oss_error_code(err));
    put_line(stderr, "  message:    ", oss_error_message(err));
    if (*oss_error_request_id(err)) put_line(stderr, "  request id: ", oss_error_request_id(err));
    if (*oss_error_host(err)) put_line(stderr, "  host:       ", oss_error_host(err));
    if (oss_error_http_status(err)) fprintf(stderr, "  http:       %u\n", (unsigned)oss_error_http_status(err));
    oss_error_free(err);
    return code;
}

/* ---- progress ---------------------------------------------------------------------------- */

struct progress {
    int mode; /* 0 none, 1 bar, 2 lines */
    int started;
    int64_t base;        /* bytes done at the first call (on disk already after a resume) */
    double t0, last;     /* monotonic seconds */
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void human(double bytes, char *buf, size_t n) {
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024.0 && u < 4) {
        bytes /= 1024.0;
        u++;
    }
    snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

/* Called from a library thread, one call at a time; must not call the SDK. */
static void on_progress(size_t increment, int64_t transferred, int64_t total, void *user_data) {
    struct progress *p = (struct progress *)user_data;
    double t = now(), elapsed, rate, eta, pct;
    char done[32], all[32], speed[32], left[32];
    int final = transferred == total;
    if (!p->started) {
        /* A first call with increment 0 and transferred > 0 is a resume: those bytes were
         * already on disk. The rate counts from here either way. */
        p->started = 1;
        p->base = transferred - (int64_t)increment;
        p->t0 = t;
        p->last = t;
        if (increment == 0 && transferred > 0 && p->mode) {
            char on_disk[32];
            human((double)transferred, on_disk, sizeof on_disk);
            fprintf(stderr, "resuming: %s already on disk\n", on_disk);
        }
    }
    if (!p->mode || (!final && t - p->last < (p->mode == 1 ? 0.1 : 1.0))) return;
    p->last = t;
    elapsed = t - p->t0;
    rate = elapsed > 0 ? (double)(transferred - p->base) / elapsed : 0;
    eta = rate > 0 ? (double)(total - transferred) / rate : -1;
    pct = total > 0 ? 100.0 * (double)transferred / (double)total : 100.0;
    human((double)transferred, done, sizeof done);
    human((double)total, all, sizeof all);
    human(rate, speed, sizeof speed);
    if (eta < 0) snprintf(left, sizeof left, "?");
    else snprintf(left, sizeof left, "%d:%02d", (int)(eta + 0.5) / 60, (int)(eta + 0.5) % 60);
    if (p->mode == 1) {
        char bar[31];
        int i, fill = (int)(pct * 30 / 100);
        for (i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r[%s] %5.1f%%  %s / %s  %s/s  ETA %s   ", bar, pct, done, all, speed, left);
        if (final) fputc('\n', stderr);
    } else {
        fprintf(stderr, "progress %.1f%% %" PRId64 "/%" PRId64 " bytes %s/s eta %s\n", pct, transferred, total,
                speed, left);
    }
    fflush(stderr);
}

/* ---- Ctrl-C: the handler only posts a semaphore; a watcher thread cancels ------------------ */

static sem_t wake;
static volatile sig_atomic_t interrupted = 0;

static void on_signal(int sig) {
    (void)sig;
    interrupted = 1;
    sem_post(&wake); /* async-signal-safe */
}

struct watcher {
    const oss_download_request_t *request;
    int quit; /* written by main before it posts `wake`; read after the wait */
};

static void *watch(void *arg) {
    struct watcher *w = (struct watcher *)arg;
    while (sem_wait(&wake) != 0 && errno == EINTR) {
    }
    if (!w->quit && interrupted) {
        fprintf(stderr, "\noss_download: interrupted, cancelling...\n");
        oss_download_request_cancel(w->request);
    }
    return NULL;
}

static void install_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = (int)SA_RESETHAND; /* a second Ctrl-C kills at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* ---- main -------------------------------------------------------------------------------- */

/* Applies the options to a new download request; NULL on success. */
static oss_error_t *build_request(const struct options *o, struct progress *p, oss_download_request_t **out) {
    oss_download_request_t *r = NULL;
    oss_error_t *err = oss_download_request_new(o->bucket, o->key, o->output, &r);
    if (!err) err = oss_download_request_set_thread_num(r, o->threads > UINT32_MAX ? UINT32_MAX : (uint32_t)o->threads);
    if (!err) err = oss_download_request_set_part_size(r, o->part_size);
    if (!err && o->throughput_target) err = oss_download_request_set_throughput_target(r, o->throughput_target);
    if (!err && o->checkpoint_dir) err = oss_download_request_set_checkpoint_dir(r, o->checkpoint_dir);
    if (!err && o->has_range) err = oss_download_request_set_range(r, o->range_start, o->range_end);
    if (!err) err = oss_download_request_set_verify_on_resume(r, o->verify_on_resume != 0);
    if (!err) err = oss_download_request_set_direct_io(r, !o->no_direct_io);
    if (!err && p->mode) err = oss_download_request_set_progress(r, on_progress, p, NULL);
    if (err) {
        oss_download_request_free(r);
        return err;
    }
    *out = r;
    return NULL;
}

static oss_error_t *make_client(const struct options *o, const oss_client_t **out) {
    oss_credentials_provider_t *creds = NULL;
    oss_config_t *cfg = oss_config_new();
    oss_error_t *err = oss_credentials_provider_new_env(&creds);
    if (!err && o->v4) err = oss_config_set_signature_version(cfg, OSS_SIGNATURE_V4);
    if (!err && o->region) err = oss_config_set_region(cfg, o->region);
    if (!err && o->rate_kib) err = oss_config_set_recv_rate_limit_kbps(cfg, o->rate_kib);
    if (!err && o->no_crc) err = oss_config_set_crc64(cfg, false);
    if (!err && o->threads > 16 && o->threads <= 1024) err = oss_config_set_max_connections(cfg, (uint32_t)o->threads);
    /* A throughput target decides the parts in flight: let the connections follow. */
    if (!err && o->throughput_target) err = oss_config_set_max_connections(cfg, 1000);
    if (!err && o->memory_budget) err = oss_config_set_memory_budget(cfg, o->memory_budget);
    for (int i = 0; !err && i < o->n_resolve; i++) err = oss_config_add_resolve(cfg, o->resolve[i]);
    if (!err) err = oss_client_new(o->endpoint, creds, cfg, out);
    oss_credentials_provider_free(creds);
    oss_config_free(cfg);
    return err;
}

int main(int argc, char **argv) {
    struct options o;
    struct progress p;
    struct watcher w;
    pthread_t thread;
    const oss_client_t *client = NULL;
    oss_download_request_t *request = NULL;
    oss_object_meta_t *meta = NULL;
    oss_error_t *err;
    double t0;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) return rc;

    if (!getenv("OSS_ACCESS_KEY_ID") || !getenv("OSS_ACCESS_KEY_SECRET")) {
        fprintf(stderr, "oss_download: set OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET "
                        "(and OSS_SESSION_TOKEN for STS credentials)\n");
        return EXIT_USAGE;
    }
    memset(&p, 0, sizeof p);
    if (!strcmp(o.progress, "bar")) p.mode = 1;
    else if (!strcmp(o.progress, "lines")) p.mode = 2;
    else if (!strcmp(o.progress, "auto")) p.mode = isatty(STDERR_FILENO) ? 1 : 2;

    if ((err = oss_initialize_sdk()) != NULL) return report("initialising the SDK", err);
    if ((err = make_client(&o, &client)) != NULL) {
        rc = report("creating the client", err);
        oss_shutdown_sdk();
        return rc;
    }
    if ((err = build_request(&o, &p, &request)) != NULL) {
        rc = report("preparing the download", err);
        oss_client_free(client);
        oss_shutdown_sdk();
        return rc;
    }

    /* The watcher waits for a signal (or for the end) and cancels this download only. */
    sem_init(&wake, 0, 0);
    w.request = request;
    w.quit = 0;
    if (pthread_create(&thread, NULL, watch, &w) != 0) {
        fprintf(stderr, "oss_download: cannot start the watcher thread\n");
        oss_download_request_free(request);
        oss_client_free(client);
        oss_shutdown_sdk();
        return EXIT_INTERNAL;
    }
    install_signals();

    t0 = now();
    err = oss_client_resumable_download_object(client, request, &meta);

    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    w.quit = 1;
    sem_post(&wake);
    pthread_join(thread, NULL);
    sem_destroy(&wake);

    if (err) {
        int cancelled = oss_error_kind(err) == OSS_ERROR_KIND_CANCELLED;
        rc = report("download", err);
        if (cancelled && o.checkpoint_dir) {
            fputs("oss_download: the checkpoint in ", stderr);
            put_safe(stderr, o.checkpoint_dir);
            fputs(" is kept; run the same command again to resume\n", stderr);
        } else if (cancelled)
            fprintf(stderr, "oss_download: no --checkpoint-dir was given, so the next run starts over\n");
    } else {
        double secs = now() - t0;
        uint64_t crc = 0;
        char size[32];
        int has_crc = oss_object_meta_crc64(meta, &crc);
        human((double)oss_object_meta_content_length(meta), size, sizeof size);
        fputs("downloaded ", stdout);
        put_safe(stdout, o.bucket);
        fputs("/", stdout);
        put_safe(stdout, o.key);
        put_line(stdout, " -> ", o.output ? o.output : o.key);
        printf("  object size:  %" PRId64 " bytes (%s)\n", oss_object_meta_content_length(meta), size);
        put_line(stdout, "  etag:         ", oss_object_meta_etag(meta));
        if (has_crc) printf("  object crc64: %" PRIu64 " (verified)\n", crc);
        put_line(stdout, "  request id:   ", oss_object_meta_request_id(meta));
        printf("  time:         %.2f s\n", secs);
        oss_object_meta_free(meta);
        rc = EXIT_OK;
    }
    oss_download_request_free(request);
    oss_client_free(client);
    oss_shutdown_sdk();
    return rc;
}
