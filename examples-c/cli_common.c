/* cli_common: the example programs' shared option parsing and common options (see the header). */
#define _POSIX_C_SOURCE 200809L

#include "cli_common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void cli_parser_init(cli_parser_t *p, const char *prog, int argc, char **argv) {
    memset(p, 0, sizeof *p);
    p->argc = argc;
    p->argv = argv;
    p->index = 1;
    p->prog = prog;
}

static const cli_option_t *find_long(const cli_option_t *t, const char *name, size_t len) {
    for (; t->name; t++)
        if (strlen(t->name) == len && !strncmp(t->name, name, len)) return t;
    return NULL;
}

static const cli_option_t *find_short(const cli_option_t *t, char c) {
    for (; t->name; t++)
        if (t->short_name && t->short_name == c) return t;
    return NULL;
}

int cli_next(cli_parser_t *p, const cli_option_t *table, const char **value) {
    const char *a;
    const cli_option_t *o;
    *value = NULL;
    if (p->shorts && *p->shorts) {
        /* The rest of "-vv": flags only; a short option with a value takes the next argument. */
        char c = *p->shorts++;
        o = find_short(table, c);
        if (!o) {
            fprintf(stderr, "%s: unknown option '-%c'\n", p->prog, c);
            return CLI_ERROR;
        }
        if (o->takes_value) {
            if (*p->shorts) {
                *value = p->shorts;
            } else if (p->index < p->argc) {
                *value = p->argv[p->index++];
            } else {
                fprintf(stderr, "%s: -%c needs a value\n", p->prog, c);
                return CLI_ERROR;
            }
            p->shorts = NULL;
        }
        return o->id;
    }
    p->shorts = NULL;
    if (p->index >= p->argc) return CLI_END;
    a = p->argv[p->index++];
    if (p->only_positional || a[0] != '-' || a[1] == '\0') {
        *value = a; /* "-" alone is an argument (stdin/stdout by convention) */
        return CLI_POSITIONAL;
    }
    if (a[1] == '-' && a[2] == '\0') {
        p->only_positional = 1;
        return cli_next(p, table, value);
    }
    if (a[1] == '-') {
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        o = find_long(table, name, len);
        if (!o) {
            fprintf(stderr, "%s: unknown option '%s'\n", p->prog, a);
            return CLI_ERROR;
        }
        if (!o->takes_value) {
            if (eq) {
                fprintf(stderr, "%s: --%s takes no value\n", p->prog, o->name);
                return CLI_ERROR;
            }
            return o->id;
        }
        if (eq) {
            *value = eq + 1;
        } else if (p->index < p->argc) {
            *value = p->argv[p->index++];
        } else {
            fprintf(stderr, "%s: --%s needs a value\n", p->prog, o->name);
            return CLI_ERROR;
        }
        return o->id;
    }
    p->shorts = a + 1;
    return cli_next(p, table, value);
}

int cli_parse_u64(const char *s, uint64_t *out) {
    char *end = NULL;
    unsigned long long v;
    if (!s || *s < '0' || *s > '9') return 0;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s || *end) return 0;
    *out = (uint64_t)v;
    return 1;
}

/* The digits of `s` as a number, and where they end. */
static int leading_u64(const char *s, uint64_t *out, const char **rest) {
    char *end = NULL;
    unsigned long long v;
    if (!s || *s < '0' || *s > '9') return 0;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno) return 0;
    *out = (uint64_t)v;
    *rest = end;
    return 1;
}

static int same_ci(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
        if (x != y) return 0;
    }
    return *a == *b;
}

int cli_parse_size(const char *s, uint64_t *out) {
    static const struct {
        const char *suffix;
        uint64_t mult;
    } units[] = {
        {"", 1},
        {"b", 1},
        {"k", 1ULL << 10},
        {"kib", 1ULL << 10},
        {"kb", 1000ULL},
        {"m", 1ULL << 20},
        {"mib", 1ULL << 20},
        {"mb", 1000ULL * 1000},
        {"g", 1ULL << 30},
        {"gib", 1ULL << 30},
        {"gb", 1000ULL * 1000 * 1000},
        {"t", 1ULL << 40},
        {"tib", 1ULL << 40},
        {"tb", 1000ULL * 1000 * 1000 * 1000},
    };
    uint64_t v;
    const char *rest;
    size_t i;
    if (!leading_u64(s, &v, &rest)) return 0;
    for (i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (same_ci(rest, units[i].suffix)) {
            if (v > UINT64_MAX / units[i].mult) return 0;
            *out = v * units[i].mult;
            return 1;
        }
    }
    return 0;
}

int cli_parse_rate(const char *s, uint64_t *out) {
    char buf[64];
    size_t n = strlen(s);
    if (n >= sizeof buf) return 0;
    memcpy(buf, s, n + 1);
    if (n > 2 && buf[n - 2] == '/' && (buf[n - 1] == 's' || buf[n - 1] == 'S')) buf[n - 2] = '\0';
    return cli_parse_size(buf, out);
}

int cli_parse_duration_ms(const char *s, uint64_t *out) {
    uint64_t v, mult;
    const char *rest;
    if (!leading_u64(s, &v, &rest)) return 0;
    if (!*rest || same_ci(rest, "s")) mult = 1000;
    else if (same_ci(rest, "ms")) mult = 1;
    else if (same_ci(rest, "m") || same_ci(rest, "min")) mult = 60 * 1000;
    else if (same_ci(rest, "h")) mult = 3600 * 1000;
    else return 0;
    if (v > UINT64_MAX / mult) return 0;
    *out = v * mult;
    return 1;
}

void cli_common_init(cli_common_t *c) {
    memset(c, 0, sizeof *c);
    c->log_level = -1;
}

static int parse_level(const char *s) {
    static const char *names[] = {"off", "fatal", "error", "warn", "info", "debug", "trace"};
    int i;
    for (i = 0; i < 7; i++)
        if (same_ci(s, names[i])) return i;
    if (same_ci(s, "warning")) return 3;
    if (same_ci(s, "all")) return 6;
    return -1;
}

int cli_common_option(cli_common_t *c, const char *prog, int id, const char *value) {
    uint64_t n;
    switch (id) {
    case CLI_OPT_HELP: c->help = 1; return 1;
    case CLI_OPT_VERBOSE: c->verbose++; return 1;
    case CLI_OPT_LOG: c->log_file = value; return 1;
    case CLI_OPT_LOG_LEVEL:
        if ((c->log_level = parse_level(value)) < 0) {
            fprintf(stderr, "%s: bad --log-level '%s' (off, error, warn, info, debug, trace)\n", prog, value);
            return -1;
        }
        return 1;
    case CLI_OPT_RETRIES:
        if (!cli_parse_u64(value, &n) || n > 100) {
            fprintf(stderr, "%s: bad --retries '%s' (0 to 100)\n", prog, value);
            return -1;
        }
        c->has_retries = 1;
        c->retries = (uint32_t)n;
        return 1;
    case CLI_OPT_TIMEOUT:
        if (!cli_parse_duration_ms(value, &c->timeout_ms) || c->timeout_ms == 0) {
            fprintf(stderr, "%s: bad --timeout '%s' (e.g. 30, 30s, 500ms, 2m)\n", prog, value);
            return -1;
        }
        return 1;
    case CLI_OPT_MAX_TIME:
        if (!cli_parse_duration_ms(value, &c->max_time_ms) || c->max_time_ms == 0) {
            fprintf(stderr, "%s: bad --max-time '%s' (e.g. 600, 10m, 1h)\n", prog, value);
            return -1;
        }
        return 1;
    default: return 0;
    }
}

/* The log sink for --log: one line per call, "<UTC time> <LEVEL> <message>". The library calls
 * it one line at a time. */
static void log_to_file(oss_log_level_t level, const char *message, void *user_data) {
    static const char *names[] = {"OFF", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"};
    FILE *f = (FILE *)user_data;
    struct timespec ts;
    struct tm tm;
    char when[32] = "";
    clock_gettime(CLOCK_REALTIME, &ts);
    if (gmtime_r(&ts.tv_sec, &tm)) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(f, "%s.%03ldZ %s %s\n", when, ts.tv_nsec / 1000000L,
            (unsigned)level < 7 ? names[level] : "TRACE", message);
    fflush(f);
}

int cli_common_start_logging(cli_common_t *c, const char *prog) {
    int level = -1;
    if (c->log_level >= 0) level = c->log_level;
    else if (c->verbose) level = c->verbose >= 3 ? OSS_LOG_TRACE : c->verbose == 2 ? OSS_LOG_DEBUG : OSS_LOG_INFO;
    else if (c->log_file && oss_get_log_level() == OSS_LOG_OFF) level = OSS_LOG_INFO;
    if (c->log_file) {
        c->log = fopen(c->log_file, "a");
        if (!c->log) {
            fprintf(stderr, "%s: cannot open the log file %s: %s\n", prog, c->log_file, strerror(errno));
            return -1;
        }
        oss_set_log_callback(log_to_file, c->log, NULL);
    }
    if (level >= 0) oss_set_log_level((uint32_t)level);
    return 0;
}

void cli_common_stop_logging(cli_common_t *c) {
    if (!c->log) return;
    oss_set_log_callback(NULL, NULL, NULL);
    fclose(c->log);
    c->log = NULL;
}

oss_error_t *cli_common_apply_config(const cli_common_t *c, oss_config_t *cfg) {
    oss_error_t *err = NULL;
    if (c->has_retries) err = oss_config_set_retry(cfg, c->retries, 300);
    if (!err && c->timeout_ms) err = oss_config_set_connect_timeout_ms(cfg, c->timeout_ms);
    if (!err && c->timeout_ms) err = oss_config_set_request_timeout_ms(cfg, c->timeout_ms);
    if (!err && c->max_time_ms) err = oss_config_set_call_timeout_ms(cfg, c->max_time_ms);
    return err;
}
