// The official SDK's behaviour where this layer used to differ, and the rest of its
// download-side API, against the local OSS server. One CHECK per behaviour that differed and per
// added API. Run by tests/cpp_api.rs with OSS_TEST_ENDPOINT, OSS_TEST_BUCKET, OSS_TEST_KEY (an
// object of OSS_TEST_SIZE bytes whose CRC64 is OSS_TEST_CRC), OSS_TEST_BAD_KEY (an object whose
// bytes no longer match its CRC64), OSS_TEST_PUBLIC_BUCKET / OSS_TEST_PUBLIC_KEY (anonymous
// reads allowed), OSS_TEST_DIR, OSS_TEST_AK / OSS_TEST_SK; the server also accepts the STS keys
// cpp-sts-ak / cpp-sts-sk with the token "cpp-sts-token/+=". Writes each V1 and V4 presigned URL
// it makes to OSS_TEST_DIR/urls.txt for the cross-check with the official Python SDK.
#include <alibabacloud/oss/Const.h>
#include <alibabacloud/oss/OssClient.h>
#include <alibabacloud/oss/client/RateLimiter.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <sstream>
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
    return outcome.error().Code() + ": " + outcome.error().Message();
}

static uint64_t crcOf(const std::string &data) { return oss::ComputeCRC64(0, data.data(), data.size()); }

static std::string readFile(const std::string &path)
{
    std::ifstream in(path.c_str(), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

static bool exists(const std::string &path)
{
    std::ifstream in(path.c_str());
    return in.good();
}

static std::string body(const oss::GetObjectOutcome &o)
{
    if (!o.isSuccess() || !o.result().Content()) {
        return std::string();
    }
    std::stringstream s;
    s << o.result().Content()->rdbuf();
    return s.str();
}

// A limiter whose rate the test changes while a download runs; counts how often it is asked.
class TestLimiter : public oss::RateLimiter {
public:
    TestLimiter() : rate_(0), calls_(0) {}
    void setRate(int rate) override { rate_.store(rate); }
    int Rate() const override
    {
        ++calls_;
        return rate_.load();
    }
    long calls() const { return calls_.load(); }

private:
    std::atomic<int> rate_;
    mutable std::atomic<long> calls_;
};

int main()
{
    const std::string endpoint = env("OSS_TEST_ENDPOINT"), bucket = env("OSS_TEST_BUCKET"), key = env("OSS_TEST_KEY"),
                      badKey = env("OSS_TEST_BAD_KEY"), dir = env("OSS_TEST_DIR"), ak = env("OSS_TEST_AK"),
                      sk = env("OSS_TEST_SK"), publicBucket = env("OSS_TEST_PUBLIC_BUCKET"),
                      publicKey = env("OSS_TEST_PUBLIC_KEY");
    const int64_t size = std::strtoll(env("OSS_TEST_SIZE").c_str(), nullptr, 10);
    const uint64_t crc = std::strtoull(env("OSS_TEST_CRC").c_str(), nullptr, 10);

    oss::InitializeSdk();
    oss::ClientConfiguration conf;
    oss::OssClient client(endpoint, ak, sk, conf);
    const std::string whole = body(client.GetObject(bucket, key));
    CHECK(static_cast<int64_t>(whole.size()) == size && crcOf(whole) == crc, "the object");

    // --- row 1: a ranged ResumableDownloadObject's metadata --------------------------------------
    {
        oss::DownloadObjectRequest r(bucket, key, dir + "/ranged.bin");
        r.setRange(1000, 200999);
        r.setPartSize(100 * 1024);
        oss::GetObjectOutcome g = client.ResumableDownloadObject(r);
        CHECK(g.isSuccess() && g.result().Metadata().ContentLength() == 200000, "range length: " + describe(g));
        std::string range = g.isSuccess() ? g.result().Metadata().HttpMetaData().at("Content-Range") : "";
        CHECK(range == "bytes 1000-200999/" + std::to_string(size), "Content-Range: " + range);
        CHECK(readFile(dir + "/ranged.bin") == whole.substr(1000, 200000), "ranged bytes");

        oss::DownloadObjectRequest tail(bucket, key, dir + "/tail.bin");
        tail.setRange(size - 10, -1);
        g = client.ResumableDownloadObject(tail);
        CHECK(g.isSuccess() && g.result().Metadata().ContentLength() == 10, "open range length: " + describe(g));
        CHECK(g.isSuccess() && g.result().Metadata().HttpMetaData().at("Content-Range") ==
                                   "bytes " + std::to_string(size - 10) + "-" + std::to_string(size - 1) + "/" +
                                       std::to_string(size),
              "open range Content-Range");

        oss::DownloadObjectRequest all(bucket, key, dir + "/all.bin");
        g = client.ResumableDownloadObject(all);
        CHECK(g.isSuccess() && g.result().Metadata().ContentLength() == size &&
                  !g.result().Metadata().hasHeader("Content-Range"),
              "no range: whole size, no Content-Range");
    }
    std::puts("row 1 (ranged metadata) ok");

    // --- row 2: response-header overrides in the result's metadata -------------------------------
    {
        oss::DownloadObjectRequest r(bucket, key, dir + "/override.bin");
        r.addResponseHeaders(oss::CacheControl, "no-cache");
        r.addResponseHeaders(oss::ContentType, "text/x-test");
        oss::GetObjectOutcome g = client.ResumableDownloadObject(r);
        CHECK(g.isSuccess() && g.result().Metadata().CacheControl() == "no-cache", "Cache-Control: " + describe(g));
        CHECK(g.isSuccess() && g.result().Metadata().ContentType() == "text/x-test", "Content-Type override");
    }
    std::puts("row 2 (response overrides) ok");

    // --- row 3: DisableRequest -> ClientError:100002 ---------------------------------------------
    {
        client.DisableRequest();
        oss::GetObjectOutcome g = client.ResumableDownloadObject(oss::DownloadObjectRequest(bucket, key, dir + "/d.bin"));
        CHECK(!g.isSuccess() && g.error().Code() == "ClientError:100002", "resumable disabled: " + describe(g));
        g = client.GetObject(bucket, key);
        CHECK(!g.isSuccess() && g.error().Code() == "ClientError:100002", "GetObject disabled: " + describe(g));
        client.EnableRequest();
        CHECK(client.GetObject(bucket, key).isSuccess(), "enabled again");
    }
    std::puts("row 3 (DisableRequest) ok");

    // --- row 4: an empty filePath ----------------------------------------------------------------
    {
        oss::DownloadObjectRequest r(bucket, "empty-path-key.bin", "");
        oss::GetObjectOutcome g = client.ResumableDownloadObject(r);
        CHECK(!g.isSuccess() && g.error().Code() == "ValidateError" &&
                  g.error().Message() == "The path of file download to is empty",
              "empty path: " + describe(g));
        CHECK(!exists("empty-path-key.bin"), "nothing written to ./<key>");
    }
    std::puts("row 4 (empty filePath) ok");

    // --- row 5: the exact message texts ----------------------------------------------------------
    {
        oss::DownloadObjectRequest r(bucket, key, dir + "/m.bin", dir + "/no-such-dir");
        oss::GetObjectOutcome g = client.ResumableDownloadObject(r);
        CHECK(!g.isSuccess() && g.error().Code() == "ValidateError" &&
                  g.error().Message() == "Checkpoint directory is not exist.",
              "checkpoint dir: " + describe(g));
        oss::GetObjectRequest bad(bucket, key);
        bad.setRange(10, 5);
        g = client.GetObject(bad);
        CHECK(!g.isSuccess() && g.error().Code() == "ValidateError" &&
                  g.error().Message().find("The range is invalid.") != std::string::npos,
              "GetObject range: " + describe(g));
    }
    std::puts("row 5 (messages) ok");

    // --- row 6: GetObject CRC mismatch -> ClientError:100001 -------------------------------------
    {
        oss::GetObjectOutcome g = client.GetObject(bucket, badKey);
        CHECK(!g.isSuccess() && g.error().Code() == "ClientError:100001", "GetObject crc: " + describe(g));
        g = client.GetObject(bucket, badKey, dir + "/bad-get.bin");
        CHECK(!g.isSuccess() && g.error().Code() == "ClientError:100001", "GetObject to file crc: " + describe(g));
        g = client.ResumableDownloadObject(oss::DownloadObjectRequest(bucket, badKey, dir + "/bad.bin"));
        CHECK(!g.isSuccess() && g.error().Code() == "CrcCheckError", "resumable crc: " + describe(g));
    }
    std::puts("row 6 (CRC codes) ok");

    // --- row 7: recvRateLimiter's Rate() is read again while downloading -------------------------
    {
        std::shared_ptr<TestLimiter> limiter = std::make_shared<TestLimiter>();
        limiter->setRate(100); /* 100 KB/s: the object would take over 10 s if Rate() were read once */
        oss::ClientConfiguration limited;
        limited.recvRateLimiter = limiter;
        oss::OssClient slow(endpoint, ak, sk, limited);
        std::thread lift([limiter]() {
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            limiter->setRate(0); /* unlimited from now on */
        });
        std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
        oss::GetObjectOutcome g = slow.GetObject(bucket, key);
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        lift.join();
        CHECK(g.isSuccess() && crcOf(body(g)) == crc, describe(g));
        CHECK(secs < 8.0, "setRate(0) during the download took effect: " + std::to_string(secs) + " s");
        CHECK(limiter->calls() > 2, "Rate() asked while downloading: " + std::to_string(limiter->calls()));
    }
    std::puts("row 7 (rate limiter re-read) ok");

    // --- row 8: setFlags / REQUEST_FLAG_*, Const.h ----------------------------------------------
    {
        oss::GetObjectRequest r(bucket, key);
        CHECK((r.Flags() & oss::REQUEST_FLAG_CHECK_CRC64) != 0, "GetObjectRequest checks CRC64 by default");
        r.setFlags(r.Flags() | oss::REQUEST_FLAG_SAVE_CLIENT_CRC64);
        oss::GetObjectOutcome g = client.GetObject(r);
        CHECK(g.isSuccess() && g.result().Metadata().HttpMetaData().count("x-oss-hash-crc64ecma-by-client") == 1 &&
                  g.result().Metadata().HttpMetaData().at("x-oss-hash-crc64ecma-by-client") == std::to_string(crc),
              "client crc saved: " + describe(g));
        oss::GetObjectRequest ranged(bucket, key);
        ranged.setRange(0, 99);
        ranged.setFlags(ranged.Flags() | oss::REQUEST_FLAG_SAVE_CLIENT_CRC64);
        g = client.GetObject(ranged);
        CHECK(g.isSuccess() && g.result().Metadata().HttpMetaData().at("x-oss-hash-crc64ecma-by-client") ==
                                   std::to_string(crcOf(whole.substr(0, 100))),
              "client crc of a range");
        g = client.GetObject(bucket, key);
        CHECK(g.isSuccess() && !g.result().Metadata().hasHeader("x-oss-hash-crc64ecma-by-client"), "not by default");
        CHECK(oss::DefaultPartSize == 8 * 1024 * 1024 && oss::PartSizeLowerLimit == 100 * 1024 &&
                  oss::DefaultResumableThreadNum == 3 && oss::ObjectNameLengthLimit == 1023 &&
                  oss::PATH_DELIMITER == '/',
              "Const.h");
        CHECK(oss::REQUEST_FLAG_CONTENTMD5 == 1 && oss::REQUEST_FLAG_PARAM_IN_PATH == 2 &&
                  oss::REQUEST_FLAG_CHECK_CRC64 == 4 && oss::REQUEST_FLAG_SAVE_CLIENT_CRC64 == 8 &&
                  oss::REQUEST_FLAG_CHUNKED_ENCODING == 16,
              "flag values");
    }
    std::puts("row 8 (flags, Const.h) ok");

    // --- API: DoesObjectExist --------------------------------------------------------------------
    CHECK(client.DoesObjectExist(bucket, key), "exists");
    CHECK(!client.DoesObjectExist(bucket, "no/such/key"), "does not exist");
    std::puts("DoesObjectExist ok");

    // --- API: GetObjectAsync / GetObjectCallable / AsyncCallerContext ----------------------------
    {
        std::mutex m;
        std::condition_variable cv;
        int done = 0;
        bool okAll = true;
        oss::GetObjectAsyncHandler handler = [&](const oss::OssClient *c, const oss::GetObjectRequest &req,
                                                 const oss::GetObjectOutcome &o,
                                                 const std::shared_ptr<const oss::AsyncCallerContext> &ctx) {
            std::lock_guard<std::mutex> lock(m);
            /* a copy of `client` that the call owns (never a pointer a caller may have destroyed) */
            okAll = okAll && c && c != &client && c->DoesObjectExist(bucket, key) && req.Key() == key &&
                    o.isSuccess() && crcOf(body(o)) == crc && ctx && ctx->Uuid() == "ctx-1";
            ++done;
            cv.notify_all();
        };
        std::shared_ptr<oss::AsyncCallerContext> ctx = std::make_shared<oss::AsyncCallerContext>();
        ctx->setUuid("ctx-1");
        CHECK(ctx->Uuid() == "ctx-1" && oss::AsyncCallerContext("u").Uuid() == "u", "AsyncCallerContext");
        for (int i = 0; i < 3; ++i) {
            client.GetObjectAsync(oss::GetObjectRequest(bucket, key), handler, ctx);
        }
        {
            std::unique_lock<std::mutex> lock(m);
            cv.wait_for(lock, std::chrono::seconds(30), [&]() { return done == 3; });
            CHECK(done == 3 && okAll, "GetObjectAsync: " + std::to_string(done));
        }
        oss::GetObjectOutcomeCallable f = client.GetObjectCallable(oss::GetObjectRequest(bucket, key));
        oss::GetObjectOutcome o = f.get();
        CHECK(o.isSuccess() && crcOf(body(o)) == crc, "GetObjectCallable: " + describe(o));
        {
            /* a copy's async call outlives the copy; the last copy waits for it when destroyed */
            std::atomic<int> late(0);
            oss::OssClient last(endpoint, ak, sk, conf);
            {
                oss::OssClient temp(last);
                temp.GetObjectAsync(oss::GetObjectRequest(bucket, key),
                                    [&late](const oss::OssClient *, const oss::GetObjectRequest &,
                                            const oss::GetObjectOutcome &r,
                                            const std::shared_ptr<const oss::AsyncCallerContext> &) {
                                        if (r.isSuccess()) ++late;
                                    });
            }
            last = oss::OssClient(endpoint, ak, sk, conf); /* the runner's last owner goes: it waits */
            CHECK(late.load() >= 1, "the destroyed client waited for its call");
        }
    }
    std::puts("GetObjectAsync / GetObjectCallable ok");

    // --- API: std::wstring constructors of DownloadObjectRequest ---------------------------------
    {
        std::wstring wdir;
        for (std::string::size_type i = 0; i < dir.size(); ++i) wdir += static_cast<wchar_t>(dir[i]);
        std::wstring wfile = wdir + L"/wide-\u00e9\u4e2d.bin";
        std::wstring wckpt = wdir;
        oss::DownloadObjectRequest r(bucket, key, wfile, wckpt, 100 * 1024, 2);
        CHECK(r.FilePathW() == wfile && r.CheckpointDirW() == wckpt && r.FilePath().empty(), "W getters");
        CHECK(r.TempFilePathW() == wfile + L".temp", "TempFilePathW");
        oss::GetObjectOutcome g = client.ResumableDownloadObject(r);
        CHECK(g.isSuccess(), "wide download: " + describe(g));
        CHECK(readFile(dir + "/wide-\xc3\xa9\xe4\xb8\xad.bin") == whole, "wide path is UTF-8 on disk");
        oss::DownloadObjectRequest r2(bucket, key, wfile);
        CHECK(r2.CheckpointDirW().empty() && r2.PartSize() == 8ULL * 1024 * 1024 && r2.ThreadNum() == 3, "defaults");
        oss::DownloadObjectRequest r3(bucket, key, wfile, wdir + L"/no-such-dir");
        g = client.ResumableDownloadObject(r3);
        CHECK(!g.isSuccess() && g.error().Message() == "Checkpoint directory is not exist.", "wide checkpoint dir");
        oss::DownloadObjectRequest r4(bucket, key, std::wstring());
        g = client.ResumableDownloadObject(r4);
        CHECK(!g.isSuccess() && g.error().Code() == "ValidateError", "empty wide path");
    }
    std::puts("wstring DownloadObjectRequest ok");

    // --- API: GetObjectRequest::setRange(start, end, bool), 7-argument constructor, Range() ------
    {
        oss::GetObjectRequest r(bucket, key);
        r.setRange(5, 104, true);
        CHECK(r.Range().first == 5 && r.Range().second == 104, "Range()");
        oss::GetObjectOutcome g = client.GetObject(r);
        CHECK(body(g) == whole.substr(5, 100), "standard range: " + describe(g));
        CHECK(oss::GetObjectRequest(bucket, key).Range().first == -1, "no range: (-1, -1)");

        std::map<std::string, std::string> params;
        params["response-cache-control"] = "max-age=7";
        params["response-content-disposition"] = "attachment";
        std::vector<std::string> match(1, whole.empty() ? "" : "*");
        oss::ObjectMetaDataOutcome head = client.HeadObject(bucket, key);
        std::vector<std::string> etag(1, head.isSuccess() ? head.result().ETag() : "");
        oss::GetObjectRequest seven(bucket, key, "", "", etag, std::vector<std::string>(), params);
        g = client.GetObject(seven);
        CHECK(g.isSuccess() && g.result().Metadata().CacheControl() == "max-age=7" &&
                  g.result().Metadata().ContentDisposition() == "attachment",
              "7-argument constructor: " + describe(g));
        std::vector<std::string> wrong(1, "\"0123456789abcdef0123456789abcdef\"");
        g = client.GetObject(oss::GetObjectRequest(bucket, key, "", "", wrong, std::vector<std::string>(), params));
        CHECK(!g.isSuccess() && g.error().Code() == "PreconditionFailed", "7-argument If-Match: " + describe(g));
    }
    std::puts("GetObjectRequest range/constructor ok");

    // --- API: GetObjectResult constructors, ByteBuffer -------------------------------------------
    {
        oss::ObjectMetaData meta;
        meta.setContentLength(42);
        meta.addHeader("x-oss-request-id", "req-1");
        oss::GetObjectResult r(bucket, key, meta);
        CHECK(r.Bucket() == bucket && r.Key() == key && r.Metadata().ContentLength() == 42 && !r.Content() &&
                  r.RequestId() == "req-1",
              "GetObjectResult(bucket, key, meta)");
        oss::GetObjectResult empty;
        CHECK(empty.Bucket().empty() && !empty.Content(), "GetObjectResult()");
        std::shared_ptr<std::iostream> s = std::make_shared<std::stringstream>("x");
        oss::HeaderCollection h;
        h["Content-Length"] = "1";
        oss::GetObjectResult withContent(bucket, key, s, h);
        withContent.setMetaData(meta);
        CHECK(withContent.Content() == s && withContent.Metadata().ContentLength() == 42, "setMetaData");
        oss::ByteBuffer buf(3, 0x7f);
        CHECK(buf.size() == 3 && buf[2] == 0x7f, "ByteBuffer");
    }
    std::puts("GetObjectResult / ByteBuffer ok");

    // --- API: GeneratePresignedUrl (V1 and V4) and GetObjectByUrl (stream and file) -------------
    {
        std::ofstream urls((dir + "/urls.txt").c_str());
        oss::StringOutcome u = client.GeneratePresignedUrl(bucket, key);
        std::string url = u.isSuccess() ? u.result() : "";
        CHECK(url.find("OSSAccessKeyId=") != std::string::npos && url.find("Signature=") != std::string::npos &&
                  url.find("Expires=") != std::string::npos,
              "V1 URL: " + url);
        urls << "v1 " << url << "\n";
        oss::GetObjectOutcome g = client.GetObjectByUrl(url);
        CHECK(body(g) == whole, "GetObjectByUrl V1: " + describe(g));
        CHECK(g.isSuccess() && g.result().Metadata().CRC64() == crc, "GetObjectByUrl metadata");
        g = client.GetObjectByUrl(url, dir + "/by-url.bin");
        CHECK(g.isSuccess() && readFile(dir + "/by-url.bin") == whole && g.result().Content(),
              "GetObjectByUrl to a file: " + describe(g));
        oss::GetObjectByUrlRequest byReq(url);
        std::shared_ptr<std::stringstream> mine = std::make_shared<std::stringstream>();
        byReq.setResponseStreamFactory([mine]() { return mine; });
        g = client.GetObjectByUrl(byReq);
        CHECK(g.isSuccess() && mine->str() == whole, "GetObjectByUrl(request) with a stream factory");

        std::string tampered = url;
        std::string::size_type at = tampered.find("Signature=") + 10;
        tampered[at] = tampered[at] == 'A' ? 'B' : 'A';
        g = client.GetObjectByUrl(tampered);
        CHECK(!g.isSuccess() && g.error().Code() == "SignatureDoesNotMatch", "tampered URL: " + describe(g));

        oss::GeneratePresignedUrlRequest over(bucket, key);
        over.addResponseHeaders(oss::CacheControl, "no-store");
        over.addResponseHeaders(oss::ContentDisposition, "attachment; filename=\"x y.bin\"");
        over.setExpires(static_cast<int64_t>(std::time(nullptr)) + 600);
        u = client.GeneratePresignedUrl(over);
        urls << "v1 " << (u.isSuccess() ? u.result() : "") << "\n";
        g = client.GetObjectByUrl(u.isSuccess() ? u.result() : "");
        CHECK(g.isSuccess() && g.result().Metadata().CacheControl() == "no-store" &&
                  g.result().Metadata().ContentDisposition() == "attachment; filename=\"x y.bin\"",
              "presigned response overrides: " + describe(g));

        u = client.GeneratePresignedUrl(bucket, key, static_cast<int64_t>(std::time(nullptr)) + 1);
        std::this_thread::sleep_for(std::chrono::milliseconds(2100));
        g = client.GetObjectByUrl(u.isSuccess() ? u.result() : "");
        CHECK(!g.isSuccess() && g.error().Code() == "AccessDenied", "expired URL: " + describe(g));

        u = client.GeneratePresignedUrl(bucket, key, static_cast<int64_t>(std::time(nullptr)) + 60, oss::Http::Put);
        CHECK(!u.isSuccess() && u.error().Code() == "ValidateError", "PUT URL refused: " + describe(u));
        u = client.GeneratePresignedUrl("Bad_Bucket", key);
        CHECK(!u.isSuccess() && u.error().Code() == "ValidateError", "bad bucket: " + describe(u));
        u = client.GeneratePresignedUrl(bucket, badKey);
        g = client.GetObjectByUrl(u.isSuccess() ? u.result() : "");
        CHECK(!g.isSuccess() && g.error().Code() == "ClientError:100001", "GetObjectByUrl CRC: " + describe(g));
        g = client.GetObjectByUrl("ftp://example.invalid/x");
        CHECK(!g.isSuccess() && g.error().Code() == "ValidateError", "not an http URL: " + describe(g));

        oss::ClientConfiguration v4conf;
        v4conf.signatureVersion = oss::SignatureVersionType::V4;
        oss::OssClient v4(endpoint, ak, sk, v4conf);
        v4.SetRegion("cn-hangzhou");
        u = v4.GeneratePresignedUrl(bucket, key, static_cast<int64_t>(std::time(nullptr)) + 300);
        url = u.isSuccess() ? u.result() : "";
        CHECK(url.find("x-oss-signature-version=OSS4-HMAC-SHA256") != std::string::npos &&
                  url.find("x-oss-credential=") != std::string::npos &&
                  url.find("x-oss-expires=") != std::string::npos && url.find("x-oss-signature=") != std::string::npos,
              "V4 URL: " + url + " " + describe(u));
        urls << "v4 " << url << "\n";
        g = v4.GetObjectByUrl(url);
        CHECK(body(g) == whole, "GetObjectByUrl V4: " + describe(g));
        oss::GeneratePresignedUrlRequest v4over(bucket, key);
        v4over.addResponseHeaders(oss::ContentType, "application/x-v4");
        u = v4.GeneratePresignedUrl(v4over);
        urls << "v4 " << (u.isSuccess() ? u.result() : "") << "\n";
        g = client.GetObjectByUrl(u.isSuccess() ? u.result() : "");
        CHECK(g.isSuccess() && g.result().Metadata().ContentType() == "application/x-v4",
              "V4 response override, fetched by another client: " + describe(g));
        u = v4.GeneratePresignedUrl(bucket, key, static_cast<int64_t>(std::time(nullptr)) - 10);
        CHECK(!u.isSuccess() && u.error().Code() == "ValidateError", "V4 past expiry: " + describe(u));

        /* STS credentials: the token travels in the URL (security-token / x-oss-security-token). */
        oss::OssClient stsV1(endpoint, "cpp-sts-ak", "cpp-sts-sk", "cpp-sts-token/+=", conf);
        u = stsV1.GeneratePresignedUrl(bucket, key);
        CHECK(u.isSuccess() && u.result().find("security-token=cpp-sts-token%2F%2B%3D") != std::string::npos,
              "V1 STS URL: " + (u.isSuccess() ? u.result() : describe(u)));
        CHECK(body(client.GetObjectByUrl(u.isSuccess() ? u.result() : "")) == whole, "V1 STS URL accepted");
        oss::OssClient stsV4(endpoint, "cpp-sts-ak", "cpp-sts-sk", "cpp-sts-token/+=", v4conf);
        stsV4.SetRegion("cn-hangzhou");
        u = stsV4.GeneratePresignedUrl(bucket, key);
        CHECK(u.isSuccess() && u.result().find("x-oss-security-token=cpp-sts-token%2F%2B%3D") != std::string::npos,
              "V4 STS URL: " + (u.isSuccess() ? u.result() : describe(u)));
        CHECK(body(client.GetObjectByUrl(u.isSuccess() ? u.result() : "")) == whole, "V4 STS URL accepted");
    }
    std::puts("GeneratePresignedUrl / GetObjectByUrl ok");

    // --- API: OssClient without credentials, on a public bucket ----------------------------------
    {
        oss::OssClient anonymous(endpoint, "", "", conf);
        oss::GetObjectOutcome g = anonymous.GetObject(publicBucket, publicKey);
        const std::string open = body(g);
        CHECK(g.isSuccess() && !open.empty(), "anonymous GetObject: " + describe(g));
        CHECK(anonymous.DoesObjectExist(publicBucket, publicKey), "anonymous DoesObjectExist");
        oss::StringOutcome u = anonymous.GeneratePresignedUrl(publicBucket, publicKey);
        CHECK(u.isSuccess() && u.result().find("Signature=") == std::string::npos &&
                  body(anonymous.GetObjectByUrl(u.result())) == open,
              "anonymous (unsigned) URL: " + describe(u));
        g = anonymous.GetObject(bucket, key);
        CHECK(!g.isSuccess() && g.error().Code() == "AccessDenied", "private bucket refused: " + describe(g));
        oss::GetObjectOutcome r = anonymous.ResumableDownloadObject(
            oss::DownloadObjectRequest(publicBucket, publicKey, dir + "/public.bin"));
        CHECK(r.isSuccess() && readFile(dir + "/public.bin") == open,
              "anonymous ResumableDownloadObject: " + describe(r));
    }
    std::puts("anonymous client ok");

    oss::ShutdownSdk();
    if (failures) {
        std::fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    std::puts("cpp compat_api: all checks passed");
    return 0;
}
