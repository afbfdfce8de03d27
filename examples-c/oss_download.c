/*
 * oss_download - a resumable, concurrent, verified OSS download from the command line, over the
 * C API in oss_ffi.h.
 *
 *   export OSS_ACCESS_KEY_ID=... OSS_ACCESS_KEY_SECRET=... [OSS_SESSION_TOKEN=...]
 *   oss_download --endpoint https://oss-cn-hangzhou.aliyuncs.com --bucket B --key K \
 *                --output FILE [--checkpoint-dir DIR] [--threads N] [--part-size 8M] \
 *                [--range START-END] [--v4 --region cn-hangzhou] [--no-crc] [--no-direct-io]
 *                [--proxy [http://][USER[:PASSWORD]@]HOST[:PORT]] [--noproxy LIST]
 *   oss_download --endpoint URL --bucket B --prefix P --output-dir DIR \
 *                [--include GLOB]... [--exclude GLOB]... [--dry-run] [--max-objects N]
 *   oss_download --endpoint URL --bucket B --keys-from FILE --output-dir DIR ...
 *
 * A batch (--prefix or --keys-from) downloads every object under the prefix (or every key of the
 * file, one a line; "-" is stdin) into DIR, through oss_client_download_objects: a journal in DIR
 * (or --checkpoint-dir) makes a re-run skip what is done; a progress line for the batch, a
 * summary at the end, exit code non-zero when any object failed.
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
 *                                  11 the destination exists (--no-clobber)
 *
 * The destination: missing parent directories are created (like wget -x and `aws s3 cp`; curl
 * wants --create-dirs): --no-create-dirs refuses instead. An existing file is replaced when the
 * download completes, unless --no-clobber. After a whole-object download the object's size, ETag
 * and CRC64 and the file's size and mtime are recorded in the xattr user.oss-ffi.object; a later
 * run that finds the record still true of the file and of the object (one HEAD) downloads
 * nothing (--force downloads anyway). Options are parsed by cli_common.c (shared with
 * oss_async_download).
 */
#define _POSIX_C_SOURCE 200809L

#include "cli_common.h"
#include "oss_ffi.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
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
    EXIT_BUSY = 10,
    EXIT_EXISTS = 11
};

static const char *usage_text =
    "usage: oss_download --endpoint URL --bucket NAME --key KEY [options]\n"
    "       oss_download --endpoint URL --bucket NAME --prefix P --output-dir DIR [options]\n"
    "       oss_download --endpoint URL --bucket NAME --keys-from FILE --output-dir DIR [options]\n"
    "\n"
    "  --endpoint URL        e.g. https://oss-cn-hangzhou.aliyuncs.com or http://127.0.0.1:9000\n"
    "  --bucket NAME         bucket name\n"
    "  --key KEY             object key\n"
    "  --output PATH         destination file (default: the key, relative to the current directory)\n"
    "  --checkpoint-dir DIR  existing directory for the checkpoint: makes the download resumable\n"
    "  --threads N           parts downloaded at once (default 4)\n"
    "  --part-size SIZE      part size (default 8M, at least 100K)\n"
    "  --range START-END     only bytes START..END inclusive; START- means to the end\n"
    "  --v4                  OSS4-HMAC-SHA256 signing (needs --region); default V1\n"
    "  --region REGION       signing region, e.g. cn-hangzhou\n"
    "  --rate RATE           limit the download rate (all connections together): a plain\n"
    "                        number is KiB/s, a SIZE with a suffix is per second (2M, 2MiB/s)\n"
    "  --throughput-target R instead of --threads: reach R bytes/s (a SIZE, optional /s), or 'max'\n"
    "                        for as fast as the link allows; parts in flight ramp up while\n"
    "                        the rate grows (oss_download_request_set_throughput_target)\n"
    "  --memory-budget SIZE  memory of the client's downloads (default 64M;\n"
    "                        oss_config_set_memory_budget)\n"
    "  --no-verify-on-resume do not re-read finished parts when resuming (they are re-read\n"
    "                        and checked against their CRC64 by default)\n"
    "  --no-crc              skip the whole-object CRC64 check (oss_config_set_crc64 false)\n"
    "  --no-reissue          never re-request a part far slower than the others on a new\n"
    "                        connection (oss_config_set_reissue_slow_parts false)\n"
    "  --resolve HOST:PORT:ADDR[,ADDR...]\n"
    "                        use these addresses for HOST (and BUCKET.HOST) instead of the name\n"
    "                        service, as curl's --resolve; repeatable (oss_config_add_resolve)\n"
    "  --no-direct-io        write through the page cache (default: direct I/O where the\n"
    "                        file system allows it; oss_download_request_set_direct_io)\n"
    "  --progress MODE       auto (bar on a terminal, lines otherwise), bar, lines or none\n"
    "  --stats               print the requests' summary at the end: requests, retries, bytes and\n"
    "                        time by phase (oss_config_set_request_metrics_callback)\n"
    "  --proxy URL           [http[s]://][USER[:PASSWORD]@]HOST[:PORT] for every request (default:\n"
    "                        http_proxy, HTTPS_PROXY, ALL_PROXY and NO_PROXY as curl reads them)\n"
    "  --noproxy LIST        hosts reached without the proxy, instead of NO_PROXY (curl's\n"
    "                        --noproxy: names, IPs, CIDRs, or * alone; \"\" for none)\n"
    "\n"
    "The destination:\n"
    "  -n, --no-clobber      never replace an existing destination (exit code 11), unless it\n"
    "                        already holds this object (exit code 0, nothing downloaded)\n"
    "  --force               download even when the destination already holds the object\n"
    "  --no-create-dirs      do not create missing parent directories of the destination\n"
    "                        (created by default, mode 0777 & ~umask)\n"
    "\n"
    "A whole-object download records the object (size, ETag, CRC64) and the file's size and\n"
    "modification time in the destination's extended attribute user.oss-ffi.object; a later\n"
    "run finds it, asks the server (one HEAD) and skips the download when both still match.\n"
    "Where the file system has no user extended attributes nothing is recorded (-v says so)\n"
    "and every run downloads.\n"
    "\n";

/* The batch's help: its own string, as C99 promises string literals of 4095 bytes only. */
static const char *usage_batch =
    "Many objects into a directory (a batch; oss_client_download_objects):\n"
    "  --prefix P            every object whose key starts with P (\"\" : the whole bucket); a\n"
    "                        key's file is DIR/ + the key minus P's directory part (everything\n"
    "                        up to its last '/'): --prefix logs/2026-12-0 puts\n"
    "                        logs/2026-12-01/a.gz at DIR/2026-12-01/a.gz\n"
    "  --keys-from FILE      the keys in FILE, one a line (\"-\": stdin); each to DIR/KEY\n"
    "  --output-dir DIR      the destination directory (made if missing)\n"
    "  --include GLOB        only objects whose path below DIR matches GLOB, as rclone's filters:\n"
    "                        * and ? stay within a directory, ** crosses them, [abc] classes;\n"
    "                        /GLOB is anchored at DIR, GLOB matches the path's end (*.gz: every\n"
    "                        .gz file); repeatable\n"
    "  --exclude GLOB        leave out objects whose path matches GLOB (wins over --include);\n"
    "                        repeatable\n"
    "  --dry-run             list what would be downloaded (\"would download KEY -> PATH\"),\n"
    "                        fetch and write nothing\n"
    "  --max-objects N       objects downloaded at once (default 64, at most 1024)\n"
    "  --fail-fast           stop at the first failed object (default: go on, report them all)\n"
    "  -n, --no-clobber      keep every existing file; --force replaces every one (default:\n"
    "                        skip what the batch's journal records as done and unchanged)\n"
    "  --checkpoint-dir DIR  where the batch's journal and the large objects' checkpoints go\n"
    "                        (default: hidden files in the output directory)\n"
    "  --threads, --part-size, --no-verify-on-resume and --no-direct-io apply to each large\n"
    "  object (over twice the part size); --key, --output and --range do not go with a batch.\n"
    "A key that would leave DIR (.., absolute, control characters) or collide with another\n"
    "key's file is refused for that key alone. Progress: one line for the batch (objects\n"
    "listed, done, skipped, failed; bytes; rate); every failed key is printed with its error\n"
    "and the summary at the end; the exit code is the first failure's (see below).\n"
    "\n";

/* The rest of the help: a second string, as C99 promises string literals of 4095 bytes only. */
static const char *usage_tail =
    "Common options:\n" CLI_COMMON_HELP
    "\n"
    "Credentials come from OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET and OSS_SESSION_TOKEN.\n"
    "Exit codes: 0 ok (or already there), 1 internal, 2 usage, 3 invalid parameter, 4 server\n"
    "error, 5 network, 6 CRC mismatch, 7 cancelled, 8 object changed, 9 local I/O,\n"
    "10 destination busy, 11 destination exists (--no-clobber).\n";

struct options {
    const char *endpoint, *bucket, *key, *output, *checkpoint_dir, *region, *progress, *noproxy;
    unsigned long threads;
    uint64_t part_size, rate_kib, throughput_target, memory_budget;
    int64_t range_start, range_end;
    int has_range, v4, verify_on_resume, no_crc, no_reissue, no_direct_io, stats;
    int no_clobber, force, no_create_dirs;
    cli_common_t common; /* -v, --log, --retries, --timeout, --max-time, --help */
    /* --proxy, split into what oss_config_set_proxy takes (host empty: none). */
    char proxy_scheme[8], proxy_host[256], proxy_user[256], proxy_password[256];
    uint64_t proxy_port;
    const char *resolve[16]; /* --resolve HOST:PORT:ADDR[,ADDR...], repeatable */
    int n_resolve;
    /* a batch: --prefix or --keys-from, into --output-dir */
    const char *prefix, *keys_from, *output_dir;
    const char *include[64], *exclude[64];
    int n_include, n_exclude, dry_run, fail_fast;
    unsigned long max_objects;
};

/* ---- small parsers ---------------------------------------------------------------------- */

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
    if (!cli_parse_u64(buf, &a) || a > INT64_MAX) return 0;
    *start = (int64_t)a;
    if (dash[1] == '\0') {
        *end = -1;
        return 1;
    }
    if (!cli_parse_u64(dash + 1, &b) || b > INT64_MAX) return 0;
    *end = (int64_t)b;
    return 1;
}

/* Copies s[0..n) into dst (size cap) as a string; 0 when it does not fit. */
static int copy_part(char *dst, size_t cap, const char *s, size_t n) {
    if (n >= cap) return 0;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 1;
}

/* "[http[s]://][USER[:PASSWORD]@]HOST[:PORT]" (HOST may be "[IPv6]"); no percent-decoding. */
static int parse_proxy(const char *s, struct options *o) {
    const char *p = s, *at, *colon, *end;
    const char *sep = strstr(s, "://");
    if (sep) {
        if (!copy_part(o->proxy_scheme, sizeof o->proxy_scheme, s, (size_t)(sep - s))) return 0;
        if (strcmp(o->proxy_scheme, "http") && strcmp(o->proxy_scheme, "https")) return 0;
        p = sep + 3;
    }
    end = p + strcspn(p, "/");
    if (*end && end[1]) return 0; /* a path */
    at = NULL;
    for (colon = p; colon < end; colon++)
        if (*colon == '@') at = colon;
    if (at) {
        const char *c = memchr(p, ':', (size_t)(at - p));
        if (!copy_part(o->proxy_user, sizeof o->proxy_user, p, (size_t)((c ? c : at) - p))) return 0;
        if (c && !copy_part(o->proxy_password, sizeof o->proxy_password, c + 1, (size_t)(at - c - 1))) return 0;
        p = at + 1;
    }
    colon = NULL;
    if (*p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p));
        if (!close) return 0;
        if (!copy_part(o->proxy_host, sizeof o->proxy_host, p + 1, (size_t)(close - p - 1))) return 0;
        if (close + 1 < end && close[1] != ':') return 0;
        if (close + 1 < end) colon = close + 1;
    } else {
        colon = memchr(p, ':', (size_t)(end - p));
        if (!copy_part(o->proxy_host, sizeof o->proxy_host, p, (size_t)((colon ? colon : end) - p))) return 0;
    }
    if (!o->proxy_host[0]) return 0;
    if (colon) {
        char port[8];
        if (!copy_part(port, sizeof port, colon + 1, (size_t)(end - colon - 1))) return 0;
        if (!cli_parse_u64(port, &o->proxy_port) || o->proxy_port == 0 || o->proxy_port > 65535) return 0;
    }
    return 1;
}

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "oss_download: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(oss_download --help shows the options)\n");
    return EXIT_USAGE;
}

enum {
    OPT_ENDPOINT = 1,
    OPT_BUCKET,
    OPT_KEY,
    OPT_OUTPUT,
    OPT_CHECKPOINT_DIR,
    OPT_THREADS,
    OPT_PART_SIZE,
    OPT_RANGE,
    OPT_V4,
    OPT_REGION,
    OPT_RATE,
    OPT_THROUGHPUT_TARGET,
    OPT_MEMORY_BUDGET,
    OPT_VERIFY_ON_RESUME,
    OPT_NO_VERIFY_ON_RESUME,
    OPT_NO_CRC,
    OPT_NO_REISSUE,
    OPT_NO_DIRECT_IO,
    OPT_PROGRESS,
    OPT_NO_CLOBBER,
    OPT_FORCE,
    OPT_NO_CREATE_DIRS,
    OPT_PROXY,
    OPT_NOPROXY,
    OPT_RESOLVE,
    OPT_PREFIX,
    OPT_KEYS_FROM,
    OPT_OUTPUT_DIR,
    OPT_INCLUDE,
    OPT_EXCLUDE,
    OPT_DRY_RUN,
    OPT_MAX_OBJECTS,
    OPT_FAIL_FAST,
    OPT_STATS
    /* network options of the client: add their ids here */
};

static const cli_option_t option_table[] = {
    {"endpoint", 0, 1, OPT_ENDPOINT},
    {"bucket", 0, 1, OPT_BUCKET},
    {"key", 0, 1, OPT_KEY},
    {"output", 'o', 1, OPT_OUTPUT},
    {"checkpoint-dir", 0, 1, OPT_CHECKPOINT_DIR},
    {"threads", 0, 1, OPT_THREADS},
    {"part-size", 0, 1, OPT_PART_SIZE},
    {"range", 0, 1, OPT_RANGE},
    {"v4", 0, 0, OPT_V4},
    {"region", 0, 1, OPT_REGION},
    {"rate", 0, 1, OPT_RATE},
    {"throughput-target", 0, 1, OPT_THROUGHPUT_TARGET},
    {"memory-budget", 0, 1, OPT_MEMORY_BUDGET},
    {"verify-on-resume", 0, 0, OPT_VERIFY_ON_RESUME},
    {"no-verify-on-resume", 0, 0, OPT_NO_VERIFY_ON_RESUME},
    {"no-crc", 0, 0, OPT_NO_CRC},
    {"no-reissue", 0, 0, OPT_NO_REISSUE},
    {"no-direct-io", 0, 0, OPT_NO_DIRECT_IO},
    {"progress", 0, 1, OPT_PROGRESS},
    {"no-clobber", 'n', 0, OPT_NO_CLOBBER},
    {"force", 0, 0, OPT_FORCE},
    {"no-create-dirs", 0, 0, OPT_NO_CREATE_DIRS},
    {"proxy", 0, 1, OPT_PROXY},
    {"noproxy", 0, 1, OPT_NOPROXY},
    {"resolve", 0, 1, OPT_RESOLVE},
    {"prefix", 0, 1, OPT_PREFIX},
    {"keys-from", 0, 1, OPT_KEYS_FROM},
    {"output-dir", 0, 1, OPT_OUTPUT_DIR},
    {"include", 0, 1, OPT_INCLUDE},
    {"exclude", 0, 1, OPT_EXCLUDE},
    {"dry-run", 0, 0, OPT_DRY_RUN},
    {"max-objects", 0, 1, OPT_MAX_OBJECTS},
    {"fail-fast", 0, 0, OPT_FAIL_FAST},
    {"stats", 0, 0, OPT_STATS},
    /* network options of the client: add their entries here */
    CLI_COMMON_OPTIONS,
    {NULL, 0, 0, 0},
};

/* Returns -1 when the options are fine, else the exit code. */
static int parse_args(int argc, char **argv, struct options *o) {
    cli_parser_t p;
    const char *v;
    int id;
    uint64_t n;
    memset(o, 0, sizeof *o);
    cli_common_init(&o->common);
    o->threads = 4;
    o->part_size = 8ULL * 1024 * 1024;
    o->verify_on_resume = 1; /* the library's default: finished parts are re-read on resume */
    o->progress = "auto";
    cli_parser_init(&p, "oss_download", argc, argv);
    while ((id = cli_next(&p, option_table, &v)) != CLI_END) {
        int common;
        if (id == CLI_ERROR) { /* cli_next said why */
            fputs("(oss_download --help shows the options)\n", stderr);
            return EXIT_USAGE;
        }
        if (id == CLI_POSITIONAL) return usage_error("unexpected argument '%s'", v);
        common = cli_common_option(&o->common, "oss_download", id, v);
        if (common < 0) return EXIT_USAGE;
        if (common > 0) continue;
        switch (id) {
        case OPT_V4: o->v4 = 1; break;
        case OPT_VERIFY_ON_RESUME: o->verify_on_resume = 1; break; /* the default; older command lines */
        case OPT_NO_VERIFY_ON_RESUME: o->verify_on_resume = 0; break;
        case OPT_NO_DIRECT_IO: o->no_direct_io = 1; break;
        case OPT_NO_CRC: o->no_crc = 1; break;
        case OPT_NO_REISSUE: o->no_reissue = 1; break;
        case OPT_STATS: o->stats = 1; break;
        case OPT_NO_CLOBBER: o->no_clobber = 1; break;
        case OPT_FORCE: o->force = 1; break;
        case OPT_NO_CREATE_DIRS: o->no_create_dirs = 1; break;
        case OPT_ENDPOINT: o->endpoint = v; break;
        case OPT_BUCKET: o->bucket = v; break;
        case OPT_KEY: o->key = v; break;
        case OPT_OUTPUT: o->output = v; break;
        case OPT_CHECKPOINT_DIR: o->checkpoint_dir = v; break;
        case OPT_REGION: o->region = v; break;
        case OPT_PROGRESS:
            if (strcmp(v, "auto") && strcmp(v, "bar") && strcmp(v, "lines") && strcmp(v, "none"))
                return usage_error("--progress wants auto, bar, lines or none, not '%s'", v);
            o->progress = v;
            break;
        case OPT_THREADS:
            if (!cli_parse_u64(v, &n) || n > 100000) return usage_error("bad --threads '%s'", v);
            o->threads = (unsigned long)n;
            break;
        case OPT_PART_SIZE:
            if (!cli_parse_size(v, &o->part_size)) return usage_error("bad --part-size '%s'", v);
            break;
        case OPT_THROUGHPUT_TARGET:
            if (!strcmp(v, "max")) o->throughput_target = UINT64_MAX;
            else if (!cli_parse_rate(v, &o->throughput_target) || o->throughput_target == 0)
                return usage_error("bad --throughput-target '%s' (want a rate or max)", v);
            break;
        case OPT_MEMORY_BUDGET:
            if (!cli_parse_size(v, &o->memory_budget)) return usage_error("bad --memory-budget '%s'", v);
            break;
        case OPT_RATE:
            if (cli_parse_u64(v, &o->rate_kib)) break; /* KiB/s, as it always was */
            if (!cli_parse_rate(v, &n) || n == 0) return usage_error("bad --rate '%s' (e.g. 2048, 2M, 2MiB/s)", v);
            o->rate_kib = n < 1024 ? 1 : n / 1024;
            break;
        case OPT_PROXY:
            if (!parse_proxy(v, o))
                return usage_error("bad --proxy '%s' (want [http[s]://][USER[:PASSWORD]@]HOST[:PORT])", v);
            break;
        case OPT_NOPROXY:
            o->noproxy = v;
            break;
        case OPT_RESOLVE:
            if (o->n_resolve == (int)(sizeof o->resolve / sizeof o->resolve[0]))
                return usage_error("too many %s", "--resolve");
            o->resolve[o->n_resolve++] = v;
            break;
        case OPT_PREFIX: o->prefix = v; break;
        case OPT_KEYS_FROM: o->keys_from = v; break;
        case OPT_OUTPUT_DIR: o->output_dir = v; break;
        case OPT_DRY_RUN: o->dry_run = 1; break;
        case OPT_FAIL_FAST: o->fail_fast = 1; break;
        case OPT_INCLUDE:
            if (o->n_include == (int)(sizeof o->include / sizeof o->include[0]))
                return usage_error("too many %s", "--include");
            o->include[o->n_include++] = v;
            break;
        case OPT_EXCLUDE:
            if (o->n_exclude == (int)(sizeof o->exclude / sizeof o->exclude[0]))
                return usage_error("too many %s", "--exclude");
            o->exclude[o->n_exclude++] = v;
            break;
        case OPT_MAX_OBJECTS:
            if (!cli_parse_u64(v, &n) || n == 0 || n > 1024) return usage_error("bad --max-objects '%s' (1 to 1024)", v);
            o->max_objects = (unsigned long)n;
            break;
        case OPT_RANGE:
            if (!parse_range(v, &o->range_start, &o->range_end))
                return usage_error("bad --range '%s' (want START-END or START-)", v);
            o->has_range = 1;
            break;
        default: return usage_error("unhandled option '%s'", v ? v : "?");
        }
    }
    if (o->common.help) {
        fputs(usage_text, stdout);
        fputs(usage_batch, stdout);
        fputs(usage_tail, stdout);
        return EXIT_OK;
    }
    if (!o->endpoint) return usage_error("%s is required", "--endpoint");
    if (!o->bucket) return usage_error("%s is required", "--bucket");
    if (o->prefix || o->keys_from) {
        if (o->prefix && o->keys_from) return usage_error("%s: give --prefix or --keys-from, not both", "--keys-from");
        if (!o->output_dir) return usage_error("%s is required with --prefix or --keys-from", "--output-dir");
        if (o->key) return usage_error("%s does not go with --prefix or --keys-from", "--key");
        if (o->output) return usage_error("%s does not go with a batch (use --output-dir)", "--output");
        if (o->has_range) return usage_error("%s does not go with a batch", "--range");
        if (o->no_clobber && o->force) return usage_error("%s: give --no-clobber or --force, not both", "--force");
        if (o->v4 && !o->region) return usage_error("%s is required with --v4", "--region");
        return -1;
    }
    if (o->output_dir || o->n_include || o->n_exclude || o->dry_run || o->max_objects || o->fail_fast)
        return usage_error("%s", "--output-dir, --include, --exclude, --dry-run, --max-objects and --fail-fast need "
                                 "--prefix or --keys-from");
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


/* ---- the destination: parents, --no-clobber, the record of what it holds ------------------- */

/* Creates the missing parent directories of `path` (mode 0777 & ~umask). 0, or -1 with errno. */
static int make_parents(const char *path) {
    char buf[4096];
    char *p;
    size_t n = strlen(path);
    if (n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    p = strrchr(buf, '/');
    if (!p || p == buf) return 0; /* in the current directory, or directly under / */
    *p = '\0';
    for (p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
    return 0;
}

/* Whether `key`, used as a relative path, has no '..' component and is not absolute. */
static int key_stays_below(const char *key) {
    const char *p = key;
    if (*key == '/') return 0;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') return 0;
        p += n;
        if (*p == '/') p++;
    }
    return 1;
}

#define RECORD_XATTR "user.oss-ffi.object"

/* What the record says: the object (size, ETag, CRC64 or "-") and the file (size, mtime). */
static int format_record(char *buf, size_t n, const oss_object_meta_t *meta, const struct stat *st) {
    uint64_t crc = 0;
    char crc_text[32] = "-";
    int len;
    if (oss_object_meta_crc64(meta, &crc)) snprintf(crc_text, sizeof crc_text, "%" PRIu64, crc);
    len = snprintf(buf, n, "v1 size=%" PRId64 " crc64=%s file_size=%lld mtime=%lld.%09ld etag=%s",
                   oss_object_meta_content_length(meta), crc_text, (long long)st->st_size,
                   (long long)st->st_mtim.tv_sec, (long)st->st_mtim.tv_nsec, oss_object_meta_etag(meta));
    return len > 0 && (size_t)len < n;
}

/* Records what the destination holds; a file system without user xattrs records nothing. */
static void write_record(const char *path, const oss_object_meta_t *meta, int verbose) {
    struct stat st;
    char rec[1200];
    if (stat(path, &st) != 0 || !format_record(rec, sizeof rec, meta, &st)) return;
    if (setxattr(path, RECORD_XATTR, rec, strlen(rec), 0) != 0 && verbose) {
        fputs("oss_download: no record of the object kept on ", stderr);
        put_safe(stderr, path);
        fprintf(stderr, " (%s: extended attributes %s): the next run downloads it again\n", RECORD_XATTR,
                strerror(errno));
    }
}

/* 1 when `path` holds the object `meta` describes, by its record (and the file is unchanged since). */
static int holds_object(const char *path, const oss_object_meta_t *meta) {
    struct stat st;
    char want[1200], have[1200];
    ssize_t n;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || !format_record(want, sizeof want, meta, &st)) return 0;
    n = getxattr(path, RECORD_XATTR, have, sizeof have - 1);
    if (n <= 0) return 0;
    have[n] = '\0';
    return strcmp(have, want) == 0;
}

/* The object's size, ETag and CRC64 as the server has them now (a HEAD). */
static oss_error_t *head(const oss_client_t *client, const struct options *o, oss_object_meta_t **meta) {
    oss_get_object_request_t *r = NULL;
    oss_error_t *err = oss_get_object_request_new(o->bucket, o->key, &r);
    if (!err) err = oss_client_head_object(client, r, meta);
    oss_get_object_request_free(r);
    return err;
}

/* Before the download: -1 to go on, else the exit code (already there, --no-clobber, a directory
 * that cannot be made). */
static int check_destination(const oss_client_t *client, const struct options *o, const char *dest) {
    struct stat st;
    if (stat(dest, &st) == 0) {
        if (S_ISREG(st.st_mode) && !o->force && !o->has_range && getxattr(dest, RECORD_XATTR, NULL, 0) > 0) {
            oss_object_meta_t *meta = NULL;
            oss_error_t *err = head(client, o, &meta);
            if (err) return report("HeadObject", err);
            if (holds_object(dest, meta)) {
                fputs("oss_download: ", stdout);
                put_safe(stdout, dest);
                fputs(" already holds ", stdout);
                put_safe(stdout, o->bucket);
                fputs("/", stdout);
                put_safe(stdout, o->key);
                fputs(": nothing downloaded (same size, ETag and CRC64; --force downloads it again)\n", stdout);
                oss_object_meta_free(meta);
                return EXIT_OK;
            }
            oss_object_meta_free(meta);
        }
        if (o->no_clobber) {
            fputs("oss_download: ", stderr);
            put_safe(stderr, dest);
            fputs(" exists and is not known to hold this object: not replaced (--no-clobber)\n", stderr);
            return EXIT_EXISTS;
        }
        return -1;
    }
    /* A destination taken from the key is the library's to judge (it refuses '..' and absolute
     * keys): no directory is made for one that could land outside the working directory. */
    if (errno == ENOENT && !o->no_create_dirs && (o->output || key_stays_below(o->key)) &&
        make_parents(dest) != 0) {
        int e = errno;
        fputs("oss_download: cannot create the directory of ", stderr);
        put_safe(stderr, dest);
        fprintf(stderr, ": %s\n", strerror(e));
        return EXIT_LOCAL_IO;
    }
    return -1;
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
    const oss_batch_request_t *batch;
    int quit; /* written by main before it posts `wake`; read after the wait */
};

static void *watch(void *arg) {
    struct watcher *w = (struct watcher *)arg;
    while (sem_wait(&wake) != 0 && errno == EINTR) {
    }
    if (!w->quit && interrupted) {
        fprintf(stderr, "\noss_download: interrupted, cancelling...\n");
        if (w->request) oss_download_request_cancel(w->request);
        if (w->batch) oss_batch_request_cancel(w->batch);
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

/* Starts the watcher of `w` (its request or batch set) and installs the signal handlers; -1
 * (said on stderr) when the thread cannot start. */
static int start_watcher(struct watcher *w, pthread_t *thread) {
    sem_init(&wake, 0, 0);
    w->quit = 0;
    if (pthread_create(thread, NULL, watch, w) != 0) {
        fprintf(stderr, "oss_download: cannot start the watcher thread\n");
        return -1;
    }
    install_signals();
    return 0;
}

/* After the call: later signals ignored, the watcher told to quit and joined. */
static void stop_watcher(struct watcher *w, pthread_t thread) {
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    w->quit = 1;
    sem_post(&wake);
    pthread_join(thread, NULL);
    sem_destroy(&wake);
}

/* ---- a batch: --prefix or --keys-from into --output-dir ------------------------------------ */

struct batch_view {
    int mode; /* progress: 0 none, 1 bar, 2 lines */
    int dry_run, verbose;
    double last;
    int line_open; /* a bar line is on the terminal (end it before printing anything else) */
};

static void batch_line(struct batch_view *v, const oss_batch_progress_t *p, int final) {
    char done[32], all[32], speed[32];
    human((double)p->bytes_done, done, sizeof done);
    human((double)p->bytes_total, all, sizeof all);
    human((double)p->bytes_per_sec, speed, sizeof speed);
    if (v->mode == 1) {
        fprintf(stderr, "\r%" PRIu64 "%s listed, %" PRIu64 " done, %" PRIu64 " skipped, %" PRIu64
                        " failed  %s / %s  %s/s   ",
                p->objects_listed, p->listing_done ? "" : "+", p->objects_done, p->objects_skipped,
                p->objects_failed, done, all, speed);
        v->line_open = !final;
        if (final) fputc('\n', stderr);
    } else {
        fprintf(stderr, "batch %" PRIu64 "%s listed %" PRIu64 " done %" PRIu64 " skipped %" PRIu64
                        " failed %" PRIu64 "/%" PRIu64 " bytes %s/s\n",
                p->objects_listed, p->listing_done ? "" : "+", p->objects_done, p->objects_skipped,
                p->objects_failed, p->bytes_done, p->bytes_total, speed);
    }
    fflush(stderr);
}

/* Library thread, calls serialised. */
static void on_batch_progress(const oss_batch_progress_t *p, void *user_data) {
    struct batch_view *v = (struct batch_view *)user_data;
    double t = now();
    int final = p->listing_done && p->objects_listed == p->objects_done + p->objects_skipped + p->objects_failed;
    if (!v->mode || (!final && t - v->last < (v->mode == 1 ? 0.1 : 1.0))) return;
    v->last = t;
    batch_line(v, p, final);
}

static void end_bar(struct batch_view *v) {
    if (v->line_open) {
        fputc('\n', stderr);
        v->line_open = 0;
    }
}

/* Library thread, calls serialised (with the progress calls too). */
static void on_batch_object(const oss_batch_object_t *o, void *user_data) {
    struct batch_view *v = (struct batch_view *)user_data;
    if (o->outcome == OSS_BATCH_OUTCOME_WOULD_DOWNLOAD) {
        fputs("would download ", stdout);
        put_safe(stdout, o->key);
        fputs(" -> ", stdout);
        put_safe(stdout, o->path);
        printf(" (%" PRIu64 " bytes)\n", o->size);
    } else if (o->outcome == OSS_BATCH_OUTCOME_FAILED) {
        end_bar(v);
        fputs("failed: ", stderr);
        put_safe(stderr, o->key);
        fputs(": ", stderr);
        put_safe(stderr, oss_error_code(o->error));
        fputs(": ", stderr);
        put_safe(stderr, oss_error_message(o->error));
        fputc('\n', stderr);
    } else if (o->outcome == OSS_BATCH_OUTCOME_DOWNLOADED && v->verbose) {
        end_bar(v);
        fputs("downloaded ", stderr);
        put_safe(stderr, o->key);
        fputs(" -> ", stderr);
        put_safe(stderr, o->path);
        fputc('\n', stderr);
    }
}

/* The keys of --keys-from (one a line, "\r\n" too; empty lines skipped). 0 on success. */
static int read_keys(const char *file, char ***keys_out, size_t *n_out) {
    FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
    char *line = NULL;
    size_t cap = 0, n = 0, max = 0;
    ssize_t len;
    char **keys = NULL;
    if (!f) return -1;
    while ((len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (len == 0) continue;
        if (n == max) {
            char **more = realloc(keys, (max ? max * 2 : 64) * sizeof *keys);
            if (!more) break;
            keys = more;
            max = max ? max * 2 : 64;
        }
        keys[n++] = strdup(line);
    }
    free(line);
    if (f != stdin) fclose(f);
    *keys_out = keys;
    *n_out = n;
    return 0;
}

static oss_error_t *build_batch(const struct options *o, struct batch_view *v, char **keys, size_t n_keys,
                                oss_batch_request_t **out) {
    oss_batch_request_t *r = NULL;
    oss_error_t *err = o->prefix ? oss_batch_request_new_prefix(o->bucket, o->prefix, o->output_dir, &r)
                                 : oss_batch_request_new_keys(o->bucket, (const char *const *)keys, n_keys,
                                                              o->output_dir, &r);
    if (!err) err = oss_batch_request_set_thread_num(r, o->threads > UINT32_MAX ? UINT32_MAX : (uint32_t)o->threads);
    if (!err) err = oss_batch_request_set_part_size(r, o->part_size);
    if (!err && o->checkpoint_dir) err = oss_batch_request_set_checkpoint_dir(r, o->checkpoint_dir);
    if (!err && o->n_include) err = oss_batch_request_set_include(r, o->include, (size_t)o->n_include);
    if (!err && o->n_exclude) err = oss_batch_request_set_exclude(r, o->exclude, (size_t)o->n_exclude);
    if (!err && o->max_objects) err = oss_batch_request_set_max_objects_in_flight(r, (uint32_t)o->max_objects);
    if (!err && o->no_clobber) err = oss_batch_request_set_overwrite(r, OSS_BATCH_OVERWRITE_NEVER);
    if (!err && o->force) err = oss_batch_request_set_overwrite(r, OSS_BATCH_OVERWRITE_ALWAYS);
    if (!err && o->fail_fast) err = oss_batch_request_set_on_failure(r, OSS_BATCH_ON_FAILURE_STOP);
    if (!err) err = oss_batch_request_set_dry_run(r, o->dry_run != 0);
    if (!err) err = oss_batch_request_set_verify_on_resume(r, o->verify_on_resume != 0);
    if (!err) err = oss_batch_request_set_direct_io(r, !o->no_direct_io);
    if (!err) err = oss_batch_request_set_progress_callback(r, on_batch_progress, v, NULL);
    if (!err) err = oss_batch_request_set_object_callback(r, on_batch_object, v, NULL);
    if (err) {
        oss_batch_request_free(r);
        return err;
    }
    *out = r;
    return NULL;
}

/* The summary of a batch (stdout), then its result's exit code. */
static void ignore_metrics(const oss_request_metrics_t *m, void *user_data) {
    (void)m;
    (void)user_data;
}

/* --stats: the client's requests added up (one download or one batch per run). */
static void print_stats(const oss_client_t *client) {
    oss_request_stats_t st;
    oss_error_t *err = oss_client_request_stats(client, &st);
    if (err) {
        oss_error_free(err);
        return;
    }
    printf("requests: %" PRIu64 " (%" PRIu64 " retries, %" PRIu64 " failed), %" PRIu64 " body bytes\n",
           st.requests, st.retries, st.failed, st.bytes);
    printf("time by phase (summed over requests, ms): memory wait %.1f, sign %.1f, connection "
           "wait %.1f, connect %.1f, first byte %.1f, body %.1f, write %.1f, retry wait %.1f\n",
           st.memory_wait_us / 1e3, st.sign_us / 1e3, st.permit_wait_us / 1e3, st.connect_us / 1e3,
           st.first_byte_us / 1e3, st.body_us / 1e3, st.write_us / 1e3, st.retry_wait_us / 1e3);
    if (st.reissued > 0)
        printf("slow parts re-requested on a new connection: %" PRIu64 "\n", st.reissued);
}

static int batch_summary(const struct options *o, const oss_batch_report_t *rep, oss_error_t *err) {
    oss_batch_progress_t p;
    double secs = (double)oss_batch_report_elapsed_ms(rep) / 1000.0;
    char bytes[32], speed[32];
    size_t i, nf = oss_batch_report_failure_count(rep), nd = oss_batch_report_deleted_count(rep);
    memset(&p, 0, sizeof p);
    oss_error_free(oss_batch_report_progress(rep, &p));
    human((double)p.bytes_done, bytes, sizeof bytes);
    human(secs > 0 ? (double)p.bytes_done / secs : 0, speed, sizeof speed);
    fputs(o->dry_run ? "dry run of " : "batch ", stdout);
    put_safe(stdout, o->bucket);
    fputs("/", stdout);
    if (o->prefix) put_safe(stdout, o->prefix);
    else fputs("(keys)", stdout);
    put_line(stdout, " -> ", o->output_dir);
    printf("  listed:      %" PRIu64 " objects\n", p.objects_listed);
    printf("  %s %" PRIu64 "\n", o->dry_run ? "would fetch:" : "downloaded: ", p.objects_done);
    printf("  skipped:     %" PRIu64 " (done and unchanged, filtered, existing, directories)\n", p.objects_skipped);
    printf("  failed:      %" PRIu64 "\n", p.objects_failed);
    printf("  bytes:       %" PRIu64 " (%s), %.2f s, %s/s\n", p.bytes_done, bytes, secs, speed);
    if (*oss_batch_report_journal_path(rep)) put_line(stdout, "  journal:     ", oss_batch_report_journal_path(rep));
    for (i = 0; i < nd; i++) put_line(stdout, "  deleted on the server (local file kept): ", oss_batch_report_deleted_key(rep, i));
    for (i = 0; i < nf; i++) {
        const oss_error_t *e = oss_batch_report_failure_error(rep, i);
        fputs("  FAILED ", stderr);
        put_safe(stderr, oss_batch_report_failure_key(rep, i));
        fputs(": ", stderr);
        put_safe(stderr, oss_error_code(e));
        fputs(": ", stderr);
        put_safe(stderr, oss_error_message(e));
        fputc('\n', stderr);
    }
    if (!err) return EXIT_OK;
    if (oss_batch_report_stopped(rep) && oss_error_kind(oss_batch_report_stopped(rep)) == OSS_ERROR_KIND_CANCELLED)
        fputs("oss_download: the batch was stopped; run the same command again to go on (finished objects are "
              "skipped)\n",
              stderr);
    return report("batch", err);
}

static int run_batch(const oss_client_t *client, const struct options *o, int mode) {
    struct batch_view v;
    struct watcher w;
    pthread_t thread;
    oss_batch_request_t *request = NULL;
    oss_batch_report_t *rep = NULL;
    oss_error_t *err;
    char **keys = NULL;
    size_t n_keys = 0, i;
    int rc;
    memset(&v, 0, sizeof v);
    v.mode = o->dry_run ? 0 : mode;
    v.dry_run = o->dry_run;
    v.verbose = o->common.verbose;
    if (o->keys_from && read_keys(o->keys_from, &keys, &n_keys) != 0) {
        int e = errno;
        fputs("oss_download: cannot read --keys-from ", stderr);
        put_safe(stderr, o->keys_from);
        fprintf(stderr, ": %s\n", strerror(e));
        return EXIT_USAGE;
    }
    err = build_batch(o, &v, keys, n_keys, &request);
    for (i = 0; i < n_keys; i++) free(keys[i]);
    free(keys);
    if (err) return report("preparing the batch", err);
    w.request = NULL;
    w.batch = request;
    if (start_watcher(&w, &thread) != 0) {
        oss_batch_request_free(request);
        return EXIT_INTERNAL;
    }
    err = oss_client_download_objects(client, request, &rep);
    stop_watcher(&w, thread);
    end_bar(&v);
    if (rep) rc = batch_summary(o, rep, err);
    else rc = report("batch", err);
    oss_batch_report_free(rep);
    oss_batch_request_free(request);
    return rc;
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
    if (!err && o->no_reissue) err = oss_config_set_reissue_slow_parts(cfg, false);
    /* Any callback makes the client measure its requests; the summary is read at the end. */
    if (!err && o->stats) err = oss_config_set_request_metrics_callback(cfg, ignore_metrics, NULL, NULL);
    if (!err && o->threads > 16 && o->threads <= 1024) err = oss_config_set_max_connections(cfg, (uint32_t)o->threads);
    /* A throughput target decides the parts in flight: let the connections follow. */
    if (!err && o->throughput_target) err = oss_config_set_max_connections(cfg, 1000);
    if (!err && o->memory_budget) err = oss_config_set_memory_budget(cfg, o->memory_budget);
    if (!err) err = cli_common_apply_config(&o->common, cfg);
    if (!err && o->noproxy) err = oss_config_set_no_proxy(cfg, o->noproxy);
    if (!err && o->proxy_host[0])
        err = oss_config_set_proxy(cfg, o->proxy_scheme, o->proxy_host, (uint16_t)o->proxy_port,
                                   o->proxy_user[0] ? o->proxy_user : NULL,
                                   o->proxy_password[0] ? o->proxy_password : NULL);
    for (int i = 0; !err && i < o->n_resolve; i++) err = oss_config_add_resolve(cfg, o->resolve[i]);
    if (!err) err = oss_client_new(o->endpoint, creds, cfg, out);
    oss_credentials_provider_free(creds);
    oss_config_free(cfg);
    return err;
}

/* The end of main: the client (if any) freed, the SDK shut down, the log closed; returns `rc`. */
static int finish(const oss_client_t *client, struct options *o, int rc) {
    if (client) oss_client_free(client);
    oss_shutdown_sdk();
    cli_common_stop_logging(&o->common);
    return rc;
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
    if (cli_common_start_logging(&o.common, "oss_download") != 0) {
        oss_shutdown_sdk();
        return EXIT_USAGE;
    }
    if ((err = make_client(&o, &client)) != NULL) return finish(NULL, &o, report("creating the client", err));
    if (o.prefix || o.keys_from) {
        rc = run_batch(client, &o, p.mode);
        if (o.stats) print_stats(client);
        return finish(client, &o, rc);
    }
    if ((rc = check_destination(client, &o, o.output ? o.output : o.key)) >= 0) return finish(client, &o, rc);
    if ((err = build_request(&o, &p, &request)) != NULL)
        return finish(client, &o, report("preparing the download", err));

    /* The watcher waits for a signal (or for the end) and cancels this download only. */
    w.request = request;
    w.batch = NULL;
    if (start_watcher(&w, &thread) != 0) {
        oss_download_request_free(request);
        return finish(client, &o, EXIT_INTERNAL);
    }

    t0 = now();
    err = oss_client_resumable_download_object(client, request, &meta);

    stop_watcher(&w, thread);

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
        if (oss_object_meta_verified(meta))
            printf("  object crc64: %" PRIu64 " (verified)\n", crc);
        else if (has_crc)
            printf("  object crc64: %" PRIu64 " (NOT verified: %s)\n", crc,
                   o.no_crc ? "--no-crc" : "a range has no CRC64 of its own");
        else
            puts("  NOT verified end to end: the server sent no CRC64 (x-oss-hash-crc64ecma); the "
                 "bytes were pinned to one ETag and length-checked only");
        put_line(stdout, "  request id:   ", oss_object_meta_request_id(meta));
        printf("  time:         %.2f s\n", secs);
        if (!o.has_range) write_record(o.output ? o.output : o.key, meta, o.common.verbose || o.common.log_file);
        oss_object_meta_free(meta);
        rc = EXIT_OK;
    }
    if (o.stats) print_stats(client);
    oss_download_request_free(request);
    return finish(client, &o, rc);
}
