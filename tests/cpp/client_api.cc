// The C++ layer's acceptance test: the official SDK's names and behaviour over the C ABI, against
// the local OSS server. Run by tests/cpp_api.rs with OSS_TEST_ENDPOINT, OSS_TEST_BUCKET,
// OSS_TEST_KEY (an object of OSS_TEST_SIZE bytes whose CRC64 is OSS_TEST_CRC), OSS_TEST_DIR (a
// scratch directory), OSS_TEST_AK / OSS_TEST_SK (accepted keys); OSS_ACCESS_KEY_ID/SECRET are set
// to the same keys. Prints one line per check group; exits non-zero on any failure.
#include <alibabacloud/oss/OssClient.h>

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "check.hpp"

namespace oss = AlibabaCloud::OSS;

template <typename O>
static std::string describe(const O &outcome)
{
    if (outcome.isSuccess()) {
        return "ok";
    }
    return outcome.error().Code() + ": " + outcome.error().Message() + " (request " + outcome.error().RequestId() +
           ", host " + outcome.error().Host() + ")";
}

static uint64_t crcOf(const std::string &data) { return oss::ComputeCRC64(0, data.data(), data.size()); }

static std::string readFile(const std::string &path)
{
    std::ifstream in(path.c_str(), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A user-defined provider: counts calls, can be told to throw or to return nothing.
class CountingProvider : public oss::CredentialsProvider {
public:
    CountingProvider(const std::string &ak, const std::string &sk) : ak_(ak), sk_(sk), calls(0), mode(0) {}
    oss::Credentials getCredentials() override
    {
        ++calls;
        if (mode == 1) {
            throw std::runtime_error("no credentials today");
        }
        if (mode == 2) {
            return oss::Credentials();
        }
        return oss::Credentials(ak_, sk_);
    }

private:
    std::string ak_, sk_;

public:
    std::atomic<int> calls;
    std::atomic<int> mode;
};

static std::mutex logMutex;
static int logLines = 0;
// Lines that do not end in exactly one newline (the official SDK's callback gets each line with
// one "\n" at its end, as std::endl writes it).
static int logLinesMisended = 0;
static void onLog(oss::LogLevel, const std::string &line)
{
    std::lock_guard<std::mutex> lock(logMutex);
    ++logLines;
    const size_t n = line.size();
    if (n < 2 || line[n - 1] != '\n' || line[n - 2] == '\n') ++logLinesMisended;
}

struct ProgressRecord {
    std::mutex m;
    int calls = 0;
    int64_t last = -1;
    int64_t total = -1;
    bool monotonic = true;
    void *userData = nullptr;
};

static bool client_stats_zero(const oss::ClientConfiguration &conf, const std::string &endpoint,
                              const std::string &ak, const std::string &sk, const std::string &bucket,
                              const std::string &key)
{
    oss::OssClient c(endpoint, ak, sk, conf);
    (void)c.HeadObject(bucket, key);
    return c.RequestStats().requests == 0;
}

int main()
{
    const std::string endpoint = env("OSS_TEST_ENDPOINT"), bucket = env("OSS_TEST_BUCKET"), key = env("OSS_TEST_KEY"),
                      dir = env("OSS_TEST_DIR"), ak = env("OSS_TEST_AK"), sk = env("OSS_TEST_SK");
    const int64_t size = std::strtoll(env("OSS_TEST_SIZE").c_str(), nullptr, 10);
    const uint64_t crc = std::strtoull(env("OSS_TEST_CRC").c_str(), nullptr, 10);

    // --- globals ---------------------------------------------------------------------------
    oss::InitializeSdk();
    oss::InitializeSdk();  // idempotent
    CHECK(oss::IsSdkInitialized(), "initialised");
    {
        const char a[] = "hello ", b[] = "world";
        uint64_t ca = oss::ComputeCRC64(0, a, 6), cb = oss::ComputeCRC64(0, b, 5);
        CHECK(oss::ComputeCRC64(ca, b, 5) == oss::ComputeCRC64(0, "hello world", 11), "crc continue");
        CHECK(oss::CombineCRC64(ca, cb, 5) == oss::ComputeCRC64(0, "hello world", 11), "crc combine");
        CHECK(oss::ComputeCRC64(0, "123456789", 9) == 0x995DC9BBDF1939FAULL, "crc64/xz check value");
    }
    oss::SetLogCallback(onLog);
    oss::SetLogLevel(oss::LogDebug);
    std::puts("globals ok");

    // --- configuration defaults --------------------------------------------------------------
    {
        oss::ClientConfiguration conf;
        CHECK(conf.maxConnections == 16, "maxConnections");
        CHECK(conf.requestTimeoutMs == 10000, "requestTimeoutMs");
        CHECK(conf.connectTimeoutMs == 5000, "connectTimeoutMs");
        CHECK(conf.verifySSL && conf.enableCrc64 && conf.enableDateSkewAdjustment, "bools");
        CHECK(!conf.isCname && !conf.isPathStyle && conf.proxyHost.empty() && conf.proxyPort == 0, "proxy/cname");
        CHECK(conf.signatureVersion == oss::SignatureVersionType::V1, "V1 default");
        CHECK(conf.userAgent.compare(0, 15, "aliyun-sdk-cpp/") == 0, conf.userAgent);
        CHECK(conf.retryStrategy != nullptr, "retry strategy");
        CHECK(!conf.sendRateLimiter && !conf.recvRateLimiter, "rate limiters");
        CHECK(conf.memoryBudget == 64ULL * 1024 * 1024, "memoryBudget (extension)");
        CHECK(conf.resumeTokenKey.empty(), "resumeTokenKey (extension): the per-user key file by default");
        CHECK(conf.resolve.empty(), "resolve (extension)");
        oss::DownloadObjectRequest r(bucket, key, "x");
        CHECK(r.PartSize() == 8 * 1024 * 1024 && r.ThreadNum() == 3 && r.CheckpointDir().empty(), "request defaults");
        oss::DownloadObjectRequest r0(bucket, key, "x", "", 200 * 1024, 0);
        CHECK(r0.ThreadNum() == 1, "threadNum 0 becomes 1 in the constructor");
    }
    std::puts("defaults ok");

    // --- the resume token key (extension): a short key is refused when the client is made -----
    {
        oss::ClientConfiguration bad;
        bad.resumeTokenKey = "short";
        oss::OssClient c(endpoint, ak, sk, bad);
        oss::ObjectMetaDataOutcome o = c.HeadObject(bucket, key);
        CHECK(!o.isSuccess() && o.error().Code() == "ValidateError" &&
                  o.error().Message().find("resume token key") != std::string::npos,
              "a 5-byte resume token key: " + describe(o));
        oss::ClientConfiguration good;
        good.resumeTokenKey = std::string(32, '\x01');
        oss::OssClient g(endpoint, ak, sk, good);
        CHECK(g.HeadObject(bucket, key).isSuccess(), "a 32-byte resume token key");
    }

    oss::ClientConfiguration v4;
    v4.signatureVersion = oss::SignatureVersionType::V4;
    v4.retryStrategy = std::make_shared<oss::DefaultRetryStrategy>(1, 10);
    oss::ClientConfiguration v1;
    v1.retryStrategy = std::make_shared<oss::DefaultRetryStrategy>(1, 10);

    // --- the four constructors, V1 and V4 ----------------------------------------------------
    {
        std::vector<oss::OssClient> clients;
        clients.push_back(oss::OssClient(endpoint, ak, sk, v1));
        clients.push_back(oss::OssClient(endpoint, ak, sk, "", v1));
        clients.push_back(oss::OssClient(endpoint, oss::Credentials(ak, sk), v4));
        clients.push_back(oss::OssClient(endpoint, std::make_shared<oss::EnvironmentVariableCredentialsProvider>(), v4));
        clients.push_back(oss::OssClient(endpoint, std::make_shared<oss::SimpleCredentialsProvider>(ak, sk), v4));
        for (size_t i = 0; i < clients.size(); ++i) {
            clients[i].SetRegion("cn-hangzhou");
            oss::ObjectMetaDataOutcome o = clients[i].HeadObject(bucket, key);
            CHECK(o.isSuccess(), "constructor " + std::to_string(i) + ": " + describe(o));
            if (o.isSuccess()) {
                CHECK(o.result().ContentLength() == size, "size");
                CHECK(o.result().CRC64() == crc, "crc");
                CHECK(!o.result().ETag().empty() && o.result().ETag()[0] != '"', "etag unquoted: " + o.result().ETag());
                CHECK(!o.result().LastModified().empty(), "last modified");
            }
        }
        // A copy shares the client; the original may go away first.
        oss::OssClient copy = clients[0];
        clients.clear();
        CHECK(copy.GetObjectMeta(bucket, key).isSuccess(), "copy outlives the original");
        // V4 without a region is refused, as an outcome.
        oss::OssClient noRegion(endpoint, ak, sk, v4);
        oss::ObjectMetaDataOutcome o = noRegion.HeadObject(bucket, key);
        CHECK(!o.isSuccess() && !o.error().Code().empty(), describe(o));
    }
    std::puts("constructors ok");

    // --- resolve (extension): a name pinned to the emulator's address ---------------------------
    {
        const std::string port = endpoint.substr(endpoint.rfind(':') + 1);
        oss::ClientConfiguration pinned = v1;
        pinned.resolve.push_back("cpp-resolve.test:" + port + ":127.0.0.1");
        oss::OssClient c("http://cpp-resolve.test:" + port, ak, sk, pinned);
        oss::ObjectMetaDataOutcome o = c.HeadObject(bucket, key);
        CHECK(o.isSuccess(), "pinned name: " + describe(o));
        oss::ClientConfiguration bad = v1;
        bad.resolve.push_back("cpp-resolve.test:" + port + ":not-an-address");
        oss::OssClient b("http://cpp-resolve.test:" + port, ak, sk, bad);
        o = b.HeadObject(bucket, key);
        CHECK(!o.isSuccess() && o.error().Code() == "ValidateError", describe(o));
    }
    std::puts("resolve ok");

    // --- request metrics (extension): one record per attempt, added up by RequestStats ----------
    {
        oss::ClientConfiguration measured = v1;
        std::shared_ptr<int> calls = std::make_shared<int>(0);
        std::shared_ptr<int> bad = std::make_shared<int>(0);
        measured.requestMetrics = [calls, bad](const oss_request_metrics_t &m) {
            ++*calls;
            if (std::string(m.operation) != "HeadObject" || m.attempt < 1 || m.http_status != 200 ||
                m.first_byte_us > m.total_us || *m.request_id == '\0')
                ++*bad;
        };
        oss::OssClient c(endpoint, ak, sk, measured);
        oss::ObjectMetaDataOutcome o = c.HeadObject(bucket, key);
        CHECK(o.isSuccess(), "measured head: " + describe(o));
        CHECK(*calls == 1 && *bad == 0, "metrics: calls " + std::to_string(*calls) + ", bad " + std::to_string(*bad));
        oss_request_stats_t st = c.RequestStats();
        CHECK(st.requests == 1 && st.failed == 0, "RequestStats");
        CHECK(client_stats_zero(v1, endpoint, ak, sk, bucket, key), "no stats without a callback");
    }
    std::puts("metrics ok");

    oss::OssClient client(endpoint, ak, sk, v4);
    client.SetRegion("cn-hangzhou");

    // --- errors --------------------------------------------------------------------------------
    {
        oss::ObjectMetaDataOutcome o = client.HeadObject(bucket, "no/such/key");
        CHECK(!o.isSuccess(), "404 head");
        oss::GetObjectOutcome g = client.GetObject(bucket, "no/such/key");
        CHECK(!g.isSuccess() && g.error().Code() == "NoSuchKey", describe(g));
        CHECK(!g.error().RequestId().empty() && !g.error().Message().empty(), describe(g));
        CHECK(!g.error().Host().empty(), describe(g));
        oss::OssClient wrong(endpoint, ak, "not-the-secret", v1);
        g = wrong.GetObject(bucket, key);
        CHECK(!g.isSuccess() && g.error().Code() == "SignatureDoesNotMatch", describe(g));
        CHECK(g.error().Message().find("not-the-secret") == std::string::npos, "secret in the message");
        // Empty keys mean anonymous requests (as in the original SDK): refused by this bucket.
        oss::OssClient empty(endpoint, "", "", v1);
        g = empty.GetObject(bucket, key);
        CHECK(!g.isSuccess() && g.error().Code() == "AccessDenied", describe(g));
        oss::GetObjectRequest processed(bucket, key, "image/resize,w_100");
        g = client.GetObject(processed);
        CHECK(!g.isSuccess() && g.error().Code() == "ValidateError", describe(g));
        oss::OssClient unreachable("http://127.0.0.1:1", ak, sk, v1);
        g = unreachable.GetObject(bucket, key);
        CHECK(!g.isSuccess() && g.error().Code().compare(0, 12, "ClientError:") == 0, describe(g));
    }
    std::puts("errors ok");

    // --- user-defined credentials providers --------------------------------------------------
    {
        std::shared_ptr<CountingProvider> provider = std::make_shared<CountingProvider>(ak, sk);
        oss::OssClient c(endpoint, provider, v4);
        c.SetRegion("cn-hangzhou");
        CHECK(c.HeadObject(bucket, key).isSuccess(), "user provider");
        CHECK(c.GetObjectMeta(bucket, key).isSuccess(), "user provider again");
        CHECK(provider->calls >= 2, "asked before every request");
        provider->mode = 1;
        oss::ObjectMetaDataOutcome o = c.HeadObject(bucket, key);
        CHECK(!o.isSuccess() && o.error().Code() == "InvalidCredentials", "throwing provider: " + describe(o));
        provider->mode = 2;
        o = c.HeadObject(bucket, key);
        CHECK(!o.isSuccess() && o.error().Code() == "AccessDenied", "anonymous: " + describe(o));
        provider->mode = 0;
        CHECK(c.HeadObject(bucket, key).isSuccess(), "recovers");
        std::shared_ptr<oss::CredentialsProvider> none;
        oss::OssClient n(endpoint, none, v4);
        CHECK(!n.HeadObject(bucket, key).isSuccess(), "null provider");
    }
    std::puts("credentials providers ok");

    // --- GetObject: stringstream, given stream, file, request with range/progress/factory --------
    {
        oss::GetObjectOutcome g = client.GetObject(bucket, key);
        CHECK(g.isSuccess(), describe(g));
        if (g.isSuccess()) {
            std::stringstream buf;
            buf << g.result().Content()->rdbuf();
            CHECK(static_cast<int64_t>(buf.str().size()) == size && crcOf(buf.str()) == crc, "stringstream body");
            CHECK(g.result().Metadata().ContentLength() == size, "metadata length");
            CHECK(g.result().Metadata().CRC64() == crc, "metadata crc");
            CHECK(!g.result().RequestId().empty(), "request id");
        }
        std::shared_ptr<std::stringstream> mine = std::make_shared<std::stringstream>();
        g = client.GetObject(bucket, key, mine);
        CHECK(g.isSuccess() && crcOf(mine->str()) == crc, describe(g));
        CHECK(g.isSuccess() && g.result().Content().get() == mine.get(), "same stream returned");

        const std::string file = dir + "/get-to-file.bin";
        g = client.GetObject(bucket, key, file);
        CHECK(g.isSuccess(), describe(g));
        CHECK(crcOf(readFile(file)) == crc, "file body");
        CHECK(g.isSuccess() && g.result().Content() && g.result().Content()->good(), "file stream open");

        ProgressRecord rec;
        int tag = 42;
        oss::GetObjectRequest req(bucket, key);
        req.setRange(10, 99);
        oss::TransferProgress progress;
        progress.Handler = [&rec](size_t, int64_t transferred, int64_t total, void *userData) {
            std::lock_guard<std::mutex> lock(rec.m);
            ++rec.calls;
            if (transferred < rec.last) rec.monotonic = false;
            rec.last = transferred;
            rec.total = total;
            rec.userData = userData;
            throw std::runtime_error("exceptions from handlers never reach the library");
        };
        progress.UserData = &tag;
        req.setTransferProgress(progress);
        std::shared_ptr<std::stringstream> target = std::make_shared<std::stringstream>();
        req.setResponseStreamFactory([target]() { return target; });
        g = client.GetObject(req);
        CHECK(g.isSuccess(), describe(g));
        CHECK(target->str().size() == 90, "range bytes: " + std::to_string(target->str().size()));
        CHECK(rec.calls > 0 && rec.monotonic && rec.last == rec.total && rec.userData == &tag, "progress");

        oss::GetObjectRequest cond(bucket, key);
        oss::ObjectMetaDataOutcome head = client.HeadObject(bucket, key);
        cond.setNonmatchingETagConstraints(std::vector<std::string>(1, "\"" + head.result().ETag() + "\""));
        g = client.GetObject(cond);
        CHECK(!g.isSuccess(), "If-None-Match of the current ETag: " + describe(g));
    }
    std::puts("GetObject ok");

    // --- ResumableDownloadObject -------------------------------------------------------------
    {
        const std::string file = dir + "/resumable.bin";
        oss::DownloadObjectRequest req(bucket, key, file, dir, 100 * 1024, 4);
        ProgressRecord rec;
        oss::TransferProgress progress;
        progress.Handler = [](size_t, int64_t transferred, int64_t total, void *userData) {
            ProgressRecord &r = *static_cast<ProgressRecord *>(userData);
            std::lock_guard<std::mutex> lock(r.m);
            ++r.calls;
            if (transferred < r.last) r.monotonic = false;
            r.last = transferred;
            r.total = total;
        };
        progress.UserData = &rec;
        req.setTransferProgress(progress);
        oss::GetObjectOutcome g = client.ResumableDownloadObject(req);
        CHECK(g.isSuccess(), describe(g));
        CHECK(crcOf(readFile(file)) == crc, "resumable file");
        CHECK(g.isSuccess() && g.result().Metadata().ContentLength() == size, "resumable metadata size");
        CHECK(g.isSuccess() && g.result().Metadata().CRC64() == crc, "resumable metadata crc");
        CHECK(g.isSuccess() && g.result().Metadata().Verified(), "resumable: verified against the CRC64 (extension)");
        CHECK(g.isSuccess() && !g.result().RequestId().empty(), "resumable request id");
        CHECK(rec.calls > 0 && rec.monotonic && rec.last == size && rec.total == size, "resumable progress");

        oss::DownloadObjectRequest ranged(bucket, key, dir + "/ranged.bin");
        ranged.setRange(1000, 200999);
        ranged.setPartSize(100 * 1024);
        ranged.setThreadNum(2);
        g = client.ResumableDownloadObject(ranged);
        CHECK(g.isSuccess(), describe(g));
        std::string whole = readFile(file), part = readFile(dir + "/ranged.bin");
        CHECK(part.size() == 200000 && part == whole.substr(1000, 200000), "ranged bytes");
        CHECK(!g.result().Metadata().Verified(), "a range is not verified end to end (no CRC64 of a range)");
        oss::ObjectMetaDataOutcome h = client.HeadObject(bucket, key);
        CHECK(h.isSuccess() && !h.result().Verified(), "a HEAD verified nothing");
        oss::GetObjectOutcome whole_get = client.GetObject(bucket, key);
        CHECK(whole_get.isSuccess() && whole_get.result().Metadata().Verified(), "GetObject: verified");

        // Extension: a throughput target instead of the thread count.
        oss::DownloadObjectRequest target(bucket, key, dir + "/target.bin");
        CHECK(target.ThroughputTarget() == 0, "no target by default");
        target.setPartSize(100 * 1024);
        target.setThroughputTarget(oss::DownloadObjectRequest::ThroughputMax());
        g = client.ResumableDownloadObject(target);
        CHECK(g.isSuccess(), describe(g));
        CHECK(readFile(dir + "/target.bin") == whole, "throughput target bytes");

        oss::DownloadObjectRequest bad(bucket, key, dir + "/bad.bin");
        bad.setPartSize(1024);
        g = client.ResumableDownloadObject(bad);
        CHECK(!g.isSuccess() && g.error().Code() == "ValidateError", "part size: " + describe(g));
        oss::DownloadObjectRequest bad2(bucket, key, dir + "/bad.bin");
        bad2.setThreadNum(0);
        g = client.ResumableDownloadObject(bad2);
        CHECK(!g.isSuccess() && g.error().Code() == "ValidateError", "threads: " + describe(g));
        oss::DownloadObjectRequest bad3(bucket, key, dir + "/bad.bin", dir + "/no-such-dir");
        g = client.ResumableDownloadObject(bad3);
        CHECK(!g.isSuccess() && g.error().Code() == "ValidateError", "checkpoint dir: " + describe(g));
        // A checkpoint directory nothing can be created in (a read-only mount made by the
        // harness): IOError at the start, naming the directory; no file written.
        const std::string roDir = env("OSS_TEST_RO_DIR");
        oss::DownloadObjectRequest roCkpt(bucket, key, dir + "/ro-checkpoint.bin", roDir);
        g = client.ResumableDownloadObject(roCkpt);
        CHECK(!g.isSuccess() && g.error().Code() == "IOError" &&
                  g.error().Message().find("cannot hold a checkpoint") != std::string::npos &&
                  g.error().Message().find(roDir) != std::string::npos,
              "read-only checkpoint dir: " + describe(g));
        CHECK(!std::ifstream((dir + "/ro-checkpoint.bin").c_str()), "read-only checkpoint dir: no file");
        oss::DownloadObjectRequest bad4("Bad_Bucket", key, dir + "/bad.bin");
        g = client.ResumableDownloadObject(bad4);
        CHECK(!g.isSuccess() && g.error().Code() == "ValidateError", "bucket: " + describe(g));
        oss::DownloadObjectRequest gone(bucket, "no/such/key", dir + "/gone.bin");
        g = client.ResumableDownloadObject(gone);
        CHECK(!g.isSuccess() && g.error().Code() == "NoSuchKey", "404: " + describe(g));
    }
    std::puts("ResumableDownloadObject ok");

    // --- DisableRequest / EnableRequest, and many threads on one client ------------------------
    {
        client.DisableRequest();
        oss::GetObjectOutcome g = client.GetObject(bucket, key);
        CHECK(!g.isSuccess() && g.error().Code() == "ClientError:100002", "disabled: " + describe(g));
        client.EnableRequest();
        CHECK(client.GetObject(bucket, key).isSuccess(), "enabled again");

        std::atomic<int> ok(0);
        std::vector<std::thread> threads;
        for (int i = 0; i < 6; ++i) {
            threads.push_back(std::thread([&client, &ok, &bucket, &key, crc]() {
                oss::GetObjectOutcome o = client.GetObject(bucket, key);
                if (o.isSuccess()) {
                    std::stringstream s;
                    s << o.result().Content()->rdbuf();
                    if (crcOf(s.str()) == crc) ++ok;
                }
            }));
        }
        for (size_t i = 0; i < threads.size(); ++i) threads[i].join();
        CHECK(ok == 6, "threads: " + std::to_string(ok.load()));
    }
    std::puts("threads ok");

    oss::SetLogCallback(nullptr);
    oss::SetLogLevel(oss::LogOff);
    {
        std::lock_guard<std::mutex> lock(logMutex);
        CHECK(logLines > 0, "the log callback was called");
        CHECK(logLinesMisended == 0, "log lines end with one newline, as the official SDK's: " +
                                         std::to_string(logLinesMisended) + " of " + std::to_string(logLines) +
                                         " do not");
    }
    oss::ShutdownSdk();
    CHECK(!oss::IsSdkInitialized(), "shut down");
    {
        oss::GetObjectOutcome g = client.GetObject(bucket, key);
        CHECK(!g.isSuccess(), "after shutdown: " + describe(g));
    }
    if (failures) {
        std::fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    std::puts("cpp client_api: all checks passed");
    return 0;
}
