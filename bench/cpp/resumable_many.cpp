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

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
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
    std::string endpoint, bucket, list, threads, partSize, checkpointDir, caFile, concurrency;
    bool verifySSL = true;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--no-verify-ssl") {
            verifySSL = false;
            continue;
        }
        if (i + 1 >= argc) return usage("missing value or unknown option: " + a);
        std::string v = argv[++i];
        if (a == "--endpoint") endpoint = v;
        else if (a == "--bucket") bucket = v;
        else if (a == "--list") list = v;
        else if (a == "--threads") threads = v;
        else if (a == "--concurrency") concurrency = v;
        else if (a == "--part-size") partSize = v;
        else if (a == "--checkpoint-dir") checkpointDir = v;
        else if (a == "--ca-file") caFile = v;
        else return usage("unknown option: " + a);
    }
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
        ClientConfiguration conf;
        conf.verifySSL = verifySSL;
        if (!caFile.empty()) conf.caFile = caFile;
        if (pool > conf.maxConnections) conf.maxConnections = pool;
        OssClient client(endpoint, ak, sk, conf);

        std::atomic<long long> bytes(0);
        std::atomic<size_t> next(0), done(0);
        std::atomic<bool> failed(false);
        std::mutex errLock;
        auto work = [&]() {
            for (;;) {
                size_t i = next++;
                if (i >= jobs.size() || failed) return;
                DownloadObjectRequest request(bucket, jobs[i].first, jobs[i].second);
                if (!checkpointDir.empty()) request.setCheckpointDir(checkpointDir);
                if (!threads.empty())
                    request.setThreadNum(static_cast<uint32_t>(std::strtoul(threads.c_str(), nullptr, 10)));
                if (!partSize.empty()) request.setPartSize(std::strtoull(partSize.c_str(), nullptr, 10));
                auto outcome = client.ResumableDownloadObject(request);
                if (!outcome.isSuccess()) {
                    std::lock_guard<std::mutex> l(errLock);
                    std::cerr << "ResumableDownloadObject of " << jobs[i].first << " failed: code "
                              << outcome.error().Code() << ", message " << outcome.error().Message()
                              << ", request id " << outcome.error().RequestId() << "\n";
                    failed = true;
                    return;
                }
                bytes += static_cast<long long>(outcome.result().Metadata().ContentLength());
                done++;
            }
        };
        auto t0 = std::chrono::steady_clock::now();
        if (pool == 1) {
            work();
        } else {
            std::vector<std::thread> workers;
            for (unsigned n = 0; n < pool; n++) workers.push_back(std::thread(work));
            for (size_t n = 0; n < workers.size(); n++) workers[n].join();
        }
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        rc = failed ? 1 : 0;
        if (rc == 0)
            std::printf("{\"seconds\": %.6f, \"objects\": %llu, \"bytes\": %lld}\n", secs,
                        static_cast<unsigned long long>(done.load()), bytes.load());
    }
    ShutdownSdk();
    return rc;
}
