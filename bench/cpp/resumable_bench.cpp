/*
 * resumable_bench: one ResumableDownloadObject, written against the official Alibaba Cloud OSS
 * C++ SDK's API only. bench/run.py builds this one source twice: against the official SDK 1.10.1
 * and against this project's header-only layer (-Iinclude -Ltarget/release -loss_ffi), and times
 * both as whole processes.
 *
 *   resumable_bench --endpoint URL --bucket B --key K --output FILE
 *                   [--threads N] [--part-size BYTES] [--checkpoint-dir DIR]
 *                   [--ca-file PEM] [--no-verify-ssl] [--no-progress]
 *
 * Without --threads / --part-size the request keeps the library's own defaults (the
 * three-argument DownloadObjectRequest constructor: 8 MiB parts, 3 threads in both). Every
 * option also has an environment variable (BENCH_ENDPOINT, BENCH_BUCKET, BENCH_KEY,
 * BENCH_OUTPUT, BENCH_THREADS, BENCH_PART_SIZE, BENCH_CHECKPOINT_DIR, BENCH_CA_FILE); the
 * command line wins. Credentials: OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET.
 *
 * A progress callback is set (as an application would, it only records the last values) unless
 * --no-progress. Prints one JSON line on stdout: {"seconds": <ResumableDownloadObject call>,
 * "bytes": <content length>, "progress_calls": N, "progress_last": N}. Exit status 0 = ok,
 * 1 = the download failed (code and message on stderr), 2 = usage.
 */
#include <alibabacloud/oss/OssClient.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>

using namespace AlibabaCloud::OSS;

namespace {

struct Progress {
    uint64_t calls;
    int64_t last;
    int64_t total;
};

void onProgress(size_t increment, int64_t transferred, int64_t total, void *userData)
{
    (void)increment;
    Progress *p = static_cast<Progress *>(userData);
    p->calls++;
    p->last = transferred;
    p->total = total;
}

std::string envOr(const char *name, const char *fallback)
{
    const char *v = std::getenv(name);
    return (v && *v) ? std::string(v) : std::string(fallback);
}

int usage(const char *msg)
{
    std::cerr << "resumable_bench: " << msg << "\n"
              << "usage: resumable_bench --endpoint URL --bucket B --key K --output FILE [--threads N]\n"
              << "       [--part-size BYTES] [--checkpoint-dir DIR] [--ca-file PEM] [--no-verify-ssl]\n"
              << "       [--no-progress]\n";
    return 2;
}

}  // namespace

int main(int argc, char **argv)
{
    std::string endpoint = envOr("BENCH_ENDPOINT", "");
    std::string bucket = envOr("BENCH_BUCKET", "");
    std::string key = envOr("BENCH_KEY", "");
    std::string output = envOr("BENCH_OUTPUT", "");
    std::string threads = envOr("BENCH_THREADS", "");
    std::string partSize = envOr("BENCH_PART_SIZE", "");
    std::string checkpointDir = envOr("BENCH_CHECKPOINT_DIR", "");
    std::string caFile = envOr("BENCH_CA_FILE", "");
    bool verifySSL = true;
    bool progress = true;

    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--no-verify-ssl") {
            verifySSL = false;
            continue;
        }
        if (a == "--no-progress") {
            progress = false;
            continue;
        }
        if (i + 1 >= argc) return usage(("missing value or unknown option: " + a).c_str());
        std::string v = argv[++i];
        if (a == "--endpoint") endpoint = v;
        else if (a == "--bucket") bucket = v;
        else if (a == "--key") key = v;
        else if (a == "--output") output = v;
        else if (a == "--threads") threads = v;
        else if (a == "--part-size") partSize = v;
        else if (a == "--checkpoint-dir") checkpointDir = v;
        else if (a == "--ca-file") caFile = v;
        else return usage(("unknown option: " + a).c_str());
    }
    if (endpoint.empty() || bucket.empty() || key.empty() || output.empty())
        return usage("--endpoint, --bucket, --key and --output are required");
    const char *ak = std::getenv("OSS_ACCESS_KEY_ID");
    const char *sk = std::getenv("OSS_ACCESS_KEY_SECRET");
    if (!ak || !sk) return usage("OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET must be set");

    InitializeSdk();
    int rc = 0;
    {
        ClientConfiguration conf;
        conf.verifySSL = verifySSL;
        if (!caFile.empty()) conf.caFile = caFile;
        OssClient client(endpoint, ak, sk, conf);

        /* The three-argument constructor: the library's default part size and thread count. */
        DownloadObjectRequest request(bucket, key, output);
        if (!checkpointDir.empty()) request.setCheckpointDir(checkpointDir);
        if (!threads.empty()) request.setThreadNum(static_cast<uint32_t>(std::strtoul(threads.c_str(), nullptr, 10)));
        if (!partSize.empty()) request.setPartSize(std::strtoull(partSize.c_str(), nullptr, 10));

        Progress p = {0, 0, 0};
        if (progress) {
            TransferProgress tp = {onProgress, &p};
            request.setTransferProgress(tp);
        }

        auto t0 = std::chrono::steady_clock::now();
        auto outcome = client.ResumableDownloadObject(request);
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!outcome.isSuccess()) {
            std::cerr << "ResumableDownloadObject failed: code " << outcome.error().Code() << ", message "
                      << outcome.error().Message() << ", request id " << outcome.error().RequestId() << "\n";
            rc = 1;
        } else {
            std::printf("{\"seconds\": %.6f, \"bytes\": %lld, \"threads\": %u, \"part_size\": %llu, "
                        "\"progress_calls\": %llu, \"progress_last\": %lld}\n",
                        secs, static_cast<long long>(outcome.result().Metadata().ContentLength()),
                        static_cast<unsigned>(request.ThreadNum()),
                        static_cast<unsigned long long>(request.PartSize()),
                        static_cast<unsigned long long>(p.calls), static_cast<long long>(p.last));
        }
    }
    ShutdownSdk();
    return rc;
}
