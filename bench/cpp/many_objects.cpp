/*
 * many_objects: a prefix downloaded with the official Alibaba Cloud OSS C++ SDK the way a user of
 * that SDK writes it today (it has no batch download): ListObjects page by page, then N threads
 * of the program's own, each taking the next key and calling GetObject(bucket, key, file). The
 * "objects" mode of bench/run.py; built against the official SDK 1.10.1 like
 * resumable_bench.cpp (only against it: this project's C++ layer has no ListObjects).
 *
 *   many_objects --endpoint URL --bucket B --prefix P --output-dir DIR [--threads N]
 *                [--ca-file PEM] [--no-verify-ssl]
 *
 * The local path of a key is the key minus the prefix's directory part (everything up to and
 * including the prefix's last '/'), the rule of this library's batch download; parent
 * directories are created as needed. Keys ending in '/' are skipped. --threads: the worker
 * threads (default 16); the client's maxConnections is raised to N above its 16. The first
 * failure stops every thread at its next key (code and message on stderr, exit status 1).
 * Nothing is fsync'd (GetObject to a file does not). Credentials: OSS_ACCESS_KEY_ID /
 * OSS_ACCESS_KEY_SECRET.
 *
 * Prints one JSON line on stdout: {"seconds": <listing + downloads>, "list_seconds": <listing>,
 * "objects": N, "bytes": <sum of the sizes written>}. Exit status 0 = all downloaded, 1 = a
 * request failed, 2 = usage.
 */
#include <alibabacloud/oss/OssClient.h>

#include "bench_common.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

using namespace AlibabaCloud::OSS;

namespace {

int usage(const std::string &msg)
{
    std::cerr << "many_objects: " << msg << "\n"
              << "usage: many_objects --endpoint URL --bucket B --prefix P --output-dir DIR [--threads N]\n"
              << "       [--ca-file PEM] [--no-verify-ssl]\n";
    return 2;
}

// mkdir -p of the directories of `path` below `base` (which exists).
bool makeParents(const std::string &base, const std::string &rel)
{
    std::string::size_type pos = 0;
    while ((pos = rel.find('/', pos)) != std::string::npos) {
        std::string dir = base + "/" + rel.substr(0, pos);
        if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return false;
        pos++;
    }
    return true;
}

}  // namespace

int main(int argc, char **argv)
{
    bench::Options opts;
    std::string bad = bench::parseOptions(
        argc, argv, {"--endpoint", "--bucket", "--prefix", "--output-dir", "--threads", "--ca-file"}, opts);
    if (!bad.empty()) return usage(bad);
    const std::string endpoint = opts.get("--endpoint"), bucket = opts.get("--bucket"),
                      prefix = opts.get("--prefix"), outDir = opts.get("--output-dir"),
                      threads = opts.get("--threads", "16");
    if (endpoint.empty() || bucket.empty() || outDir.empty())
        return usage("--endpoint, --bucket and --output-dir are required");
    const unsigned pool = static_cast<unsigned>(std::strtoul(threads.c_str(), nullptr, 10));
    if (pool < 1 || pool > 1024) return usage("--threads is 1..1024");
    const char *ak = std::getenv("OSS_ACCESS_KEY_ID");
    const char *sk = std::getenv("OSS_ACCESS_KEY_SECRET");
    if (!ak || !sk) return usage("OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET must be set");
    const std::string::size_type slash = prefix.rfind('/');
    const std::string::size_type strip = slash == std::string::npos ? 0 : slash + 1;

    InitializeSdk();
    int rc = 0;
    {
        OssClient client(endpoint, ak, sk, bench::clientConfiguration(opts, pool));

        auto t0 = std::chrono::steady_clock::now();
        std::vector<std::pair<std::string, int64_t> > keys;
        {
            ListObjectsRequest request(bucket);
            request.setPrefix(prefix);
            request.setMaxKeys(1000);
            for (;;) {
                auto outcome = client.ListObjects(request);
                if (!outcome.isSuccess()) {
                    std::cerr << "ListObjects failed: code " << outcome.error().Code() << ", message "
                              << outcome.error().Message() << "\n";
                    ShutdownSdk();
                    return 1;
                }
                for (const auto &o : outcome.result().ObjectSummarys()) {
                    if (o.Key().empty() || o.Key()[o.Key().size() - 1] == '/') continue;
                    keys.push_back(std::make_pair(o.Key(), o.Size()));
                }
                if (!outcome.result().IsTruncated()) break;
                request.setMarker(outcome.result().NextMarker());
            }
        }
        double listSecs = bench::secondsSince(t0);

        bench::PoolResult r =
            bench::runPool(pool, keys.size(), [&](size_t i, long long &bytes, std::string &error) {
                const std::string &key = keys[i].first;
                std::string rel = key.substr(strip);
                if (!makeParents(outDir, rel)) {
                    error = "cannot create the directories of " + rel;
                    return false;
                }
                return bench::downloaded(client.GetObject(bucket, key, outDir + "/" + rel), "GetObject of " + key,
                                         bytes, error);
            });
        double secs = bench::secondsSince(t0);
        rc = r.failed ? 1 : 0;
        if (rc == 0)
            std::printf("{\"seconds\": %.6f, \"list_seconds\": %.6f, \"objects\": %llu, \"bytes\": %lld}\n", secs,
                        listSecs, r.done, r.bytes);
    }
    ShutdownSdk();
    return rc;
}
