/*
 * What the many-download bench programs (many_objects.cpp, resumable_many.cpp) share: their
 * command-line parsing, the client configuration and the pool of worker threads that take the
 * next download until the list is done or one fails. Written against the official SDK's API
 * only, so that it builds against the official SDK and against this project's C++ layer alike.
 */
#ifndef OSS_FFI_BENCH_COMMON_H
#define OSS_FFI_BENCH_COMMON_H

#include <alibabacloud/oss/OssClient.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bench {

/* The options of a command line: `--no-verify-ssl`, and every option of `names` with its value. */
struct Options {
    bool verifySSL = true;
    std::map<std::string, std::string> values;

    /* The value of `name`, or `dflt` when it was not given. */
    std::string get(const std::string &name, const std::string &dflt = std::string()) const
    {
        std::map<std::string, std::string>::const_iterator it = values.find(name);
        return it == values.end() ? dflt : it->second;
    }
};

/* Parses argv into `out`; on a bad command line returns why (empty = parsed). */
inline std::string parseOptions(int argc, char **argv, const std::vector<std::string> &names, Options &out)
{
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--no-verify-ssl") {
            out.verifySSL = false;
            continue;
        }
        if (i + 1 >= argc) return "missing value or unknown option: " + a;
        std::string v = argv[++i];
        bool known = false;
        for (size_t n = 0; n < names.size(); n++)
            if (a == names[n]) known = true;
        if (!known) return "unknown option: " + a;
        out.values[a] = v;
    }
    return std::string();
}

/* The client configuration of the options: TLS checks, CA file, maxConnections raised to `pool`
 * above its default. */
inline AlibabaCloud::OSS::ClientConfiguration clientConfiguration(const Options &opts, unsigned pool)
{
    AlibabaCloud::OSS::ClientConfiguration conf;
    conf.verifySSL = opts.verifySSL;
    std::string caFile = opts.get("--ca-file");
    if (!caFile.empty()) conf.caFile = caFile;
    if (pool > conf.maxConnections) conf.maxConnections = pool;
    return conf;
}

/* A pool job's verdict on the outcome of a download: true with its content length in `bytes`,
 * or false with "<what> failed: code C, message M, request id R" in `error`. */
template <class Outcome>
bool downloaded(const Outcome &outcome, const std::string &what, long long &bytes, std::string &error)
{
    if (!outcome.isSuccess()) {
        error = what + " failed: code " + outcome.error().Code() + ", message " + outcome.error().Message() +
                ", request id " + outcome.error().RequestId();
        return false;
    }
    bytes = static_cast<long long>(outcome.result().Metadata().ContentLength());
    return true;
}

/* Seconds since `t0`. */
inline double secondsSince(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/* What a pool of downloads did. */
struct PoolResult {
    unsigned long long done;
    long long bytes;
    bool failed;
};

/* Runs job(i, bytes, error) for each i in 0..count on `pool` threads (on this one when pool is 1),
 * each thread taking the next i. A job returns true with the bytes it wrote, or false with why
 * (printed on stderr, one line, never interleaved); the first failure stops every thread at its
 * next i. */
template <class Job>
PoolResult runPool(unsigned pool, size_t count, Job job)
{
    std::atomic<long long> bytes(0);
    std::atomic<size_t> next(0), done(0);
    std::atomic<bool> failed(false);
    std::mutex errLock;
    auto work = [&]() {
        for (;;) {
            size_t i = next++;
            if (i >= count || failed) return;
            long long n = 0;
            std::string error;
            if (!job(i, n, error)) {
                std::lock_guard<std::mutex> l(errLock);
                std::cerr << error << "\n";
                failed = true;
                return;
            }
            bytes += n;
            done++;
        }
    };
    if (pool == 1) {
        work();
    } else {
        std::vector<std::thread> workers;
        for (unsigned n = 0; n < pool; n++) workers.push_back(std::thread(work));
        for (size_t n = 0; n < workers.size(); n++) workers[n].join();
    }
    PoolResult r;
    r.done = static_cast<unsigned long long>(done.load());
    r.bytes = bytes.load();
    r.failed = failed.load();
    return r;
}

}  // namespace bench

#endif
