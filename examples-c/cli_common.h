/* cli_common: what the example command-line programs (oss_download, oss_async_download) share:
 * an option parser that takes options anywhere on the line (before, between and after the
 * positional arguments; `--` ends the options; `--name=value` and `--name value`; `-vv`), size
 * and duration parsers, and the common options: -v/--verbose, --log FILE, --retries N,
 * --timeout DURATION, --max-time DURATION, -h/--help.
 *
 * Compiled into each program (the Makefile, the tests and out-of-tree builds list
 * examples-c/cli_common.c next to the program's own file); C99, no allocation except the log
 * file's FILE. */
#ifndef OSS_FFI_EXAMPLES_CLI_COMMON_H
#define OSS_FFI_EXAMPLES_CLI_COMMON_H

#include "oss_ffi.h"

#include <stdint.h>
#include <stdio.h>

/* One option of a program's table. `id` is the program's own (> 0), or a CLI_OPT_* below for
 * the common ones. A table ends with an entry whose `name` is NULL. */
typedef struct {
    const char *name;  /* long name without the dashes, e.g. "part-size" */
    char short_name;   /* e.g. 'v', or 0 */
    int takes_value;   /* 1: --name VALUE or --name=VALUE */
    int id;
} cli_option_t;

/* Ids of the common options (negative, so that they never clash with a program's). */
enum {
    CLI_OPT_HELP = -100,
    CLI_OPT_VERBOSE,
    CLI_OPT_LOG,
    CLI_OPT_LOG_LEVEL,
    CLI_OPT_RETRIES,
    CLI_OPT_TIMEOUT,
    CLI_OPT_MAX_TIME
};

/* The common options' table entries; put CLI_COMMON_OPTIONS in a program's table. */
#define CLI_COMMON_OPTIONS                                                                         \
    {"help", 'h', 0, CLI_OPT_HELP}, {"verbose", 'v', 0, CLI_OPT_VERBOSE},                          \
        {"log", 0, 1, CLI_OPT_LOG}, {"log-level", 0, 1, CLI_OPT_LOG_LEVEL},                        \
        {"retries", 0, 1, CLI_OPT_RETRIES}, {"timeout", 0, 1, CLI_OPT_TIMEOUT},                    \
        {"max-time", 0, 1, CLI_OPT_MAX_TIME}

/* Their help text (each program prints it after its own options). */
#define CLI_COMMON_HELP                                                                            \
    "  -v, --verbose         log the library's lines to stderr: -v info, -vv debug, -vvv trace\n"  \
    "  --log FILE            log to FILE (appended) instead of stderr; with no -v: info\n"         \
    "  --log-level LEVEL     off, error, warn, info, debug or trace (OSS_SDK_LOG_LEVEL too)\n"     \
    "  --retries N           retries of a failed request (default 3; 0 = none)\n"                  \
    "  --timeout DURATION    network timeout: connect, and no byte received for that long\n"      \
    "                        (e.g. 30, 30s, 500ms, 2m; default: the library's)\n"                  \
    "  --max-time DURATION   limit on the whole download; a resumable one keeps its checkpoint\n"  \
    "  -h, --help            this help (to stdout, exit code 0)\n"                                 \
    "\n"                                                                                           \
    "Options may come anywhere on the command line, as --name VALUE or --name=VALUE; `--` ends\n"  \
    "them. SIZE: a number of bytes with an optional suffix K, M, G, T (powers of 1024, also\n"     \
    "written KiB, MiB, GiB, TiB) or KB, MB, GB, TB (powers of 1000).\n"

/* The parser's state over argv. */
typedef struct {
    int argc;
    char **argv;
    int index;         /* next argv element */
    const char *shorts; /* rest of a cluster of short flags ("-vv") */
    int only_positional; /* after `--` */
    const char *prog;
} cli_parser_t;

enum { CLI_END = 0, CLI_POSITIONAL = -1, CLI_ERROR = -2 };

void cli_parser_init(cli_parser_t *p, const char *prog, int argc, char **argv);

/* The next option: its id (with *value set when it takes one), CLI_POSITIONAL (*value = the
 * argument), CLI_END, or CLI_ERROR after printing "PROG: <why>" to stderr (unknown option,
 * missing value, a value given to a flag). */
int cli_next(cli_parser_t *p, const cli_option_t *table, const char **value);

/* Parsers; each returns 1 on success, 0 (and leaves *out alone) otherwise. */
int cli_parse_u64(const char *s, uint64_t *out);
/* "8M", "100K", "1.5G" is refused (whole numbers only), "8MiB", "10MB", "123456", "4KB". */
int cli_parse_size(const char *s, uint64_t *out);
/* A SIZE per second: cli_parse_size, with an optional "/s" ("25M", "25MiB/s", "100MB/s"). */
int cli_parse_rate(const char *s, uint64_t *out);
/* "30" (seconds), "30s", "500ms", "2m", "1h" -> milliseconds. */
int cli_parse_duration_ms(const char *s, uint64_t *out);

/* What the common options set. */
typedef struct {
    int verbose;          /* count of -v */
    int log_level;        /* from --log-level, -1 when not given */
    const char *log_file; /* --log */
    int has_retries;
    uint32_t retries;
    uint64_t timeout_ms;  /* 0: the library's default */
    uint64_t max_time_ms; /* 0: none */
    int help;
    FILE *log;            /* opened by cli_common_start_logging */
} cli_common_t;

void cli_common_init(cli_common_t *c);

/* Handles a common option `id` with `value`. Returns 1 when handled, 0 when `id` is not a
 * common option, -1 after printing an error for a bad value. */
int cli_common_option(cli_common_t *c, const char *prog, int id, const char *value);

/* Applies -v/--log-level/--log: the level (verbose wins over OSS_SDK_LOG_LEVEL, which wins over
 * the default: off, or info with --log) and the sink (the file, appended; stderr otherwise).
 * Call after oss_initialize_sdk (which reads OSS_SDK_LOG_LEVEL). Returns 0, or -1 after printing
 * why the file cannot be opened. */
int cli_common_start_logging(cli_common_t *c, const char *prog);

/* Puts the library back on its stderr sink and closes the log file (after oss_shutdown_sdk). */
void cli_common_stop_logging(cli_common_t *c);

/* Applies --retries, --timeout and --max-time to a client configuration. */
oss_error_t *cli_common_apply_config(const cli_common_t *c, oss_config_t *cfg);

#endif
