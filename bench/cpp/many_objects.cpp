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

#include <sys/stat.h>
#include <sys/types.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
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
    std::string endpoint, bucket, prefix, outDir, threads = "16", caFile;
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
        else if (a == "--prefix") prefix = v;
        else if (a == "--output-dir") outDir = v;
        else if (a == "--threads") threads = v;
        else if (a == "--ca-file") caFile = v;
        else return usage("unknown option: " + a);
    }
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
        ClientConfiguration conf;
        conf.verifySSL = verifySSL;
        if (!caFile.empty()) conf.caFile = caFile;
        if (pool > conf.maxConnections) conf.maxConnections = pool;
        OssClient client(endpoint, ak, sk, conf);

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
        double listSecs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

        std::atomic<long long> bytes(0);
        std::atomic<size_t> next(0), done(0);
        std::atomic<bool> failed(false);
        std::mutex errLock;
        auto work = [&]() {
            for (;;) {
                size_t i = next++;
                if (i >= keys.size() || failed) return;
                const std::string &key = keys[i].first;
                std::string rel = key.substr(strip);
                if (!makeParents(outDir, rel)) {
                    std::lock_guard<std::mutex> l(errLock);
                    std::cerr << "cannot create the directories of " << rel << "\n";
                    failed = true;
                    return;
                }
                auto outcome = client.GetObject(bucket, key, outDir + "/" + rel);
                if (!outcome.isSuccess()) {
                    std::lock_guard<std::mutex> l(errLock);
                    std::cerr << "GetObject of " << key << " failed: code " << outcome.error().Code()
                              << ", message " << outcome.error().Message() << ", request id "
                              << outcome.error().RequestId() << "\n";
                    failed = true;
                    return;
                }
                bytes += static_cast<long long>(outcome.result().Metadata().ContentLength());
                done++;
            }
        };
        std::vector<std::thread> workers;
        for (unsigned n = 0; n < pool; n++) workers.push_back(std::thread(work));
        for (size_t n = 0; n < workers.size(); n++) workers[n].join();
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        rc = failed ? 1 : 0;
        if (rc == 0)
            std::printf("{\"seconds\": %.6f, \"list_seconds\": %.6f, \"objects\": %llu, \"bytes\": %lld}\n", secs,
                        listSecs, static_cast<unsigned long long>(done.load()), bytes.load());
    }
    ShutdownSdk();
    return rc;
}
