/*
 * rusage OUT CMD [ARGS...]: runs CMD, forwards SIGINT/SIGTERM to it, and writes
 * "<exit code> <user+sys cpu seconds> <peak RSS KiB> <user seconds> <sys seconds>
 *  <voluntary context switches> <involuntary context switches>" of CMD to the file OUT
 * (wait4: the rusage of CMD and of every descendant it waited for).
 *
 * bench/run.py starts every measured tool through this small program: on Linux a process's
 * ru_maxrss starts from the RSS of the process it was forked from, so a tool forked straight
 * from the (large) Python driver would report the driver's RSS as its own peak.
 */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t child;

static void forward(int sig) {
    if (child > 0) kill(child, sig);
}

int main(int argc, char **argv) {
    struct rusage ru;
    int status = 0, code;
    double user, sys;
    FILE *out;
    if (argc < 3) {
        fprintf(stderr, "usage: rusage OUT CMD [ARGS...]\n");
        return 127;
    }
    signal(SIGINT, forward);
    signal(SIGTERM, forward);
    child = fork();
    if (child < 0) return 127;
    if (child == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    while (wait4(child, &status, 0, &ru) < 0) {
    }
    code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    out = fopen(argv[1], "w");
    if (!out) return 127;
    user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    fprintf(out, "%d %.6f %ld %.6f %.6f %ld %ld\n", code, user + sys, ru.ru_maxrss, user, sys, ru.ru_nvcsw,
            ru.ru_nivcsw);
    fclose(out);
    return code;
}
