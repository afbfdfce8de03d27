/* oss_async_download: several resumable downloads at once with the asynchronous API.
 *
 *   oss_async_download --endpoint URL --bucket BUCKET [--checkpoint-dir DIR] [--threads N]
 *                      [--part-size SIZE] [--pause-at PERCENT] [--resume] [-v] [--log FILE]
 *                      [--retries N] [--timeout DURATION] [--max-time DURATION] KEY=FILE...
 *
 * Options may come anywhere, before, between or after the KEY=FILE pairs (parsed by
 * cli_common.c, shared with oss_download); SIZE takes K/M/G suffixes (8M = 8 MiB).
 *
 * Every KEY=FILE pair is one transfer on one shared client (one connection pool), started at once;
 * a status line sums their progress. Ctrl-C (or --pause-at, from each transfer's progress
 * callback) pauses them: each paused transfer's resume token is written to FILE.resume, and a
 * later run with --resume continues from it, in this process or any other of the same user on the
 * same machine (tokens are sealed with the per-user key ~/.config/oss-ffi/resume-token.key; an
 * edited token is refused), with or without a checkpoint directory. Credentials: OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET. Exit codes: 0 all
 * downloaded, 1 a download failed, 2 usage, 3 paused (run again with --resume). */
#define _POSIX_C_SOURCE 200809L
#include "cli_common.h"
#include "oss_ffi.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    char key[1024];
    char file[1024];
    char token_path[1100];
    int pause_at; /* percent, 0 = never */
    const oss_transfer_t *transfer;
} item_t;

static volatile sig_atomic_t interrupted = 0;
static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

/* Progress of one transfer (a library thread): pauses it past --pause-at. Returning nonzero would
 * abort it instead. The handle was written by the start call before the transfer ran. */
static int32_t progress(size_t increment, int64_t transferred, int64_t total, void *user_data) {
    item_t *it = user_data;
    (void)increment;
    if (it->pause_at > 0 && transferred < total && transferred * 100 >= total * it->pause_at)
        oss_transfer_pause(it->transfer);
    return 0;
}

/* Completion (a library thread, once per transfer). */
static void done(const oss_transfer_t *t, const oss_error_t *err, void *user_data) {
    item_t *it = user_data;
    if (oss_transfer_poll(t) == OSS_TRANSFER_STATE_PAUSED)
        fprintf(stderr, "paused    %s\n", it->key);
    else if (err)
        fprintf(stderr, "failed    %s: %s: %s\n", it->key, oss_error_code(err), oss_error_message(err));
    else
        fprintf(stderr, "done      %s -> %s\n", it->key, it->file);
}

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc(n > 0 ? (size_t)n : 1);
    *len = fread(buf, 1, n > 0 ? (size_t)n : 0, f);
    fclose(f);
    return buf;
}

static const char *usage_text =
    "usage: oss_async_download --endpoint URL --bucket BUCKET [options] KEY=FILE...\n"
    "\n"
    "  --endpoint URL        e.g. http://127.0.0.1:9000\n"
    "  --bucket BUCKET       bucket name\n"
    "  --checkpoint-dir DIR  existing directory for the checkpoints\n"
    "  --threads N           parts in flight per download (default 4)\n"
    "  --part-size SIZE      part size (default: the library's, 8M)\n"
    "  --pause-at PERCENT    pause each download once it has PERCENT of its bytes\n"
    "  --resume              continue from the FILE.resume tokens of an earlier run\n"
    "\n"
    "Common options:\n" CLI_COMMON_HELP
    "\n"
    "Exit codes: 0 all downloaded, 1 a download failed, 2 usage, 3 paused (run again with\n"
    "--resume). Credentials: OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET.\n";

static int usage(const char *why, const char *arg) {
    fprintf(stderr, "oss_async_download: ");
    fprintf(stderr, why, arg);
    fprintf(stderr, "\n(oss_async_download --help shows the options)\n");
    return 2;
}

enum { OPT_ENDPOINT = 1, OPT_BUCKET, OPT_CHECKPOINT_DIR, OPT_THREADS, OPT_PART_SIZE, OPT_PAUSE_AT, OPT_RESUME };

static const cli_option_t option_table[] = {
    {"endpoint", 0, 1, OPT_ENDPOINT},
    {"bucket", 0, 1, OPT_BUCKET},
    {"checkpoint-dir", 0, 1, OPT_CHECKPOINT_DIR},
    {"threads", 0, 1, OPT_THREADS},
    {"part-size", 0, 1, OPT_PART_SIZE},
    {"pause-at", 0, 1, OPT_PAUSE_AT},
    {"resume", 0, 0, OPT_RESUME},
    CLI_COMMON_OPTIONS,
    {NULL, 0, 0, 0},
};

static int fail(const char *what, oss_error_t *err) {
    fprintf(stderr, "%s: %s: %s\n", what, oss_error_code(err), oss_error_message(err));
    oss_error_free(err);
    return 1;
}

int main(int argc, char **argv) {
    const char *endpoint = NULL, *bucket = NULL, *ckpt = NULL, *v;
    uint64_t part_size = 0;
    int threads = 4, pause_at = 0, resume = 0, n = 0, i, failed = 0, paused = 0, running, id;
    cli_parser_t parser;
    cli_common_t common;
    oss_config_t *cfg = NULL;
    item_t *items = calloc((size_t)argc, sizeof *items);
    oss_credentials_provider_t *creds = NULL;
    const oss_client_t *client = NULL;
    oss_error_t *err;
    struct timespec tick = {0, 200 * 1000000L};

    cli_common_init(&common);
    cli_parser_init(&parser, "oss_async_download", argc, argv);
    while ((id = cli_next(&parser, option_table, &v)) != CLI_END) {
        const char *eq;
        uint64_t num;
        int c;
        if (id == CLI_ERROR) {
            free(items);
            fputs("(oss_async_download --help shows the options)\n", stderr); /* cli_next said why */
            return 2;
        }
        if ((c = cli_common_option(&common, "oss_async_download", id, v)) != 0) {
            if (c < 0) {
                free(items);
                return 2;
            }
            continue;
        }
        switch (id) {
        case OPT_ENDPOINT: endpoint = v; break;
        case OPT_BUCKET: bucket = v; break;
        case OPT_CHECKPOINT_DIR: ckpt = v; break;
        case OPT_RESUME: resume = 1; break;
        case OPT_THREADS:
            if (!cli_parse_u64(v, &num) || num == 0 || num > 1024) {
                free(items);
                return usage("bad --threads '%s' (1 to 1024)", v);
            }
            threads = (int)num;
            break;
        case OPT_PART_SIZE:
            if (!cli_parse_size(v, &part_size) || part_size == 0) {
                free(items);
                return usage("bad --part-size '%s' (e.g. 8M, 100K, 1048576)", v);
            }
            break;
        case OPT_PAUSE_AT:
            if (!cli_parse_u64(v, &num) || num > 100) {
                free(items);
                return usage("bad --pause-at '%s' (a percentage)", v);
            }
            pause_at = (int)num;
            break;
        case CLI_POSITIONAL:
            eq = strchr(v, '=');
            if (!eq || eq == v || !eq[1] || (size_t)(eq - v) >= sizeof items[n].key ||
                strlen(eq + 1) >= sizeof items[n].file) {
                free(items);
                return usage("want KEY=FILE, not '%s'", v);
            }
            memcpy(items[n].key, v, (size_t)(eq - v));
            strcpy(items[n].file, eq + 1);
            snprintf(items[n].token_path, sizeof items[n].token_path, "%s.resume", items[n].file);
            n++;
            break;
        default: free(items); return usage("unhandled option (%s)", v ? v : "?");
        }
    }
    if (common.help) {
        fputs(usage_text, stdout);
        free(items);
        return 0;
    }
    if (!endpoint || !bucket || n == 0) {
        free(items);
        return usage("%s", "--endpoint, --bucket and at least one KEY=FILE are required");
    }
    for (i = 0; i < n; i++) items[i].pause_at = pause_at; /* wherever --pause-at was given */
    signal(SIGINT, on_sigint);

    if ((err = oss_initialize_sdk())) {
        free(items);
        return fail("set-up", err);
    }
    if (cli_common_start_logging(&common, "oss_async_download") != 0) {
        oss_shutdown_sdk();
        free(items);
        return 2;
    }
    cfg = oss_config_new();
    if ((err = oss_credentials_provider_new_env(&creds)) || (err = cli_common_apply_config(&common, cfg)) ||
        (err = oss_client_new(endpoint, creds, cfg, &client))) {
        oss_config_free(cfg);
        oss_credentials_provider_free(creds);
        oss_shutdown_sdk();
        cli_common_stop_logging(&common);
        free(items);
        return fail("set-up", err);
    }
    oss_config_free(cfg);
    for (i = 0; i < n; i++) {
        item_t *it = &items[i];
        oss_download_request_t *req = NULL;
        size_t len = 0;
        unsigned char *token = resume ? read_file(it->token_path, &len) : NULL;
        err = oss_download_request_new(bucket, it->key, it->file, &req);
        if (!err) err = oss_download_request_set_thread_num(req, (uint32_t)threads);
        if (!err && part_size) err = oss_download_request_set_part_size(req, part_size);
        if (!err && ckpt) err = oss_download_request_set_checkpoint_dir(req, ckpt);
        if (!err) err = oss_download_request_set_progress_abortable(req, progress, it, NULL);
        /* The request is copied by the start: it is freed right after. With a token, only its
         * progress, threads and checkpoint directory are used; the token names the rest. */
        if (!err && token)
            err = oss_client_start_resume(client, token, len, req, done, it, NULL, &it->transfer);
        else if (!err)
            err = oss_client_start_resumable_download(client, req, done, it, NULL, &it->transfer);
        free(token);
        oss_download_request_free(req);
        if (err) {
            failed += fail(it->key, err);
            it->transfer = NULL;
        }
    }

    /* The live status of every transfer, until all ended; Ctrl-C pauses them all. */
    do {
        int64_t done_bytes = 0, total = 0;
        running = 0;
        for (i = 0; i < n; i++) {
            oss_transfer_status_t st;
            if (!items[i].transfer) continue;
            if (interrupted) oss_transfer_pause(items[i].transfer);
            if (!oss_transfer_status(items[i].transfer, &st)) {
                done_bytes += st.transferred;
                total += st.total;
                running += st.state == OSS_TRANSFER_STATE_RUNNING;
            }
        }
        fprintf(stderr, "status    %d running, %lld of %lld bytes\n", running, (long long)done_bytes,
                (long long)total);
        if (running) nanosleep(&tick, NULL);
    } while (running);

    for (i = 0; i < n; i++) {
        item_t *it = &items[i];
        oss_transfer_state_t st;
        if (!it->transfer) continue;
        st = oss_transfer_wait(it->transfer, -1); /* after its completion returned */
        if (st == OSS_TRANSFER_STATE_PAUSED) {
            uint8_t *token = NULL;
            size_t len = 0;
            if ((err = oss_transfer_take_resume_token(it->transfer, &token, &len))) {
                failed += fail(it->key, err);
            } else {
                FILE *f = fopen(it->token_path, "wb");
                int written = f && fwrite(token, 1, len, f) == len;
                if (f && fclose(f) != 0) written = 0;
                if (written) {
                    printf("paused %s: resume token in %s\n", it->key, it->token_path);
                    paused++;
                } else {
                    fprintf(stderr, "cannot write %s\n", it->token_path);
                    failed++;
                }
                oss_bytes_free(token, len);
            }
        } else if (st == OSS_TRANSFER_STATE_SUCCEEDED) {
            printf("downloaded %s/%s to %s\n", bucket, it->key, it->file);
            remove(it->token_path); /* a token used up, if any */
        } else {
            failed++;
        }
        oss_transfer_free(it->transfer);
    }
    oss_client_free(client);
    oss_credentials_provider_free(creds);
    oss_shutdown_sdk();
    cli_common_stop_logging(&common);
    free(items);
    return failed ? 1 : paused ? 3 : 0;
}
