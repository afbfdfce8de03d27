/*
 * resumable_many: many ResumableDownloadObject calls one after another, in one process, through
 * one OssClient, written against the official Alibaba Cloud OSS C++ SDK's API only (the "small"
 * mode of bench/run.py). Built twice, like resumable_bench.cpp: against the
 * official SDK 1.10.1 and against this project's header-only layer (-Iinclude -loss_ffi).
 *
 *   resumable_many --endpoint URL --bucket B --list FILE [--concurrency N]
 *                  [--threads N] [--part-size BYTES] [--checkpoint-dir DIR]
 *                  [--ca-file PEM] [--no-verify-ssl]
 *
 * FILE has one download per line: KEY, a tab, the output path. Every request is built with the
 * three-argument DownloadObjectRequest constructor (the library's defaults: 8 MiB parts, 3
 * threads in both) unless --threads / --part-size are given. The downloads run strictly one
 * after another; the first failure stops the loop (code and message on stderr, exit status 1).
 * --concurrency N (the "concurrent" mode): N std::threads share the list, each
 * taking the next download, through the same client (maxConnections raised to N above 16); a
 * failure stops every thread at its next download.
 * Credentials: OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET.
 *
 * Prints one JSON line on stdout: {"seconds": <the loop of calls>, "objects": N, "bytes": <sum
 * of the content lengths>}. Exit status 0 = all downloaded, 1 = a download failed, 2 = usage.
 */
#include <alibabacloud/oss/OssClient.h>

#include "bench_common.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

using namespace AlibabaCloud::OSS;

namespace {

int usage(const std::string &msg)
{
    std::cerr << "resumable_many: " << msg << "\n"
              << "usage: resumable_many --endpoint URL --bucket B --list FILE [--concurrency N] [--threads N]\n"
              << "       [--part-size BYTES] [--checkpoint-dir DIR] [--ca-file PEM] [--no-verify-ssl]\n"
              << "FILE: one \"KEY<tab>OUTPUT\" per line\n";
    return 2;
}

}  // namespace

int main(int argc, char **argv)
{
    bench::Options opts;
    std::string bad = bench::parseOptions(argc, argv,
                                          {"--endpoint", "--bucket", "--list", "--threads", "--concurrency",
                                           "--part-size", "--checkpoint-dir", "--ca-file"},
                                          opts);
    if (!bad.empty()) return usage(bad);
    const std::string endpoint = opts.get("--endpoint"), bucket = opts.get("--bucket"), list = opts.get("--list"),
                      threads = opts.get("--threads"), partSize = opts.get("--part-size"),
                      checkpointDir = opts.get("--checkpoint-dir"), concurrency = opts.get("--concurrency");
    if (endpoint.empty() || bucket.empty() || list.empty())
        return usage("--endpoint, --bucket and --list are required");
    const char *ak = std::getenv("OSS_ACCESS_KEY_ID");
    const char *sk = std::getenv("OSS_ACCESS_KEY_SECRET");
    if (!ak || !sk) return usage("OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET must be set");

    std::vector<std::pair<std::string, std::string> > jobs;
    {
        std::ifstream in(list.c_str());
        if (!in) return usage("cannot read " + list);
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty()) continue;
            std::string::size_type tab = line.find('\t');
            if (tab == std::string::npos || tab == 0 || tab + 1 == line.size())
                return usage("bad line in " + list + ": " + line);
            jobs.push_back(std::make_pair(line.substr(0, tab), line.substr(tab + 1)));
        }
    }
    if (jobs.empty()) return usage(list + " lists no object");

    InitializeSdk();
    int rc = 0;
    {
        const unsigned pool =
            concurrency.empty() ? 1u : static_cast<unsigned>(std::strtoul(concurrency.c_str(), nullptr, 10));
        if (pool < 1 || pool > 1024) return usage("--concurrency is 1..1024");
        OssClient client(endpoint, ak, sk, bench::clientConfiguration(opts, pool));

        auto t0 = std::chrono::steady_clock::now();
        bench::PoolResult r =
            bench::runPool(pool, jobs.size(), [&](size_t i, long long &bytes, std::string &error) {
                DownloadObjectRequest request(bucket, jobs[i].first, jobs[i].second);
                if (!checkpointDir.empty()) request.setCheckpointDir(checkpointDir);
                if (!threads.empty())
                    request.setThreadNum(static_cast<uint32_t>(std::strtoul(threads.c_str(), nullptr, 10)));
                if (!partSize.empty()) request.setPartSize(std::strtoull(partSize.c_str(), nullptr, 10));
                return bench::downloaded(client.ResumableDownloadObject(request),
                                         "ResumableDownloadObject of " + jobs[i].first, bytes, error);
            });
        double secs = bench::secondsSince(t0);
        rc = r.failed ? 1 : 0;
        if (rc == 0)
            std::printf("{\"seconds\": %.6f, \"objects\": %llu, \"bytes\": %lld}\n", secs, r.done, r.bytes);
    }
    ShutdownSdk();
    return rc;
}
