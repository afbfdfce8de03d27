// Paths and keys the C ABI cannot carry as they are: a wide path with a value that is no Unicode
// character (a lone surrogate, past U+10FFFF) or an embedded L'\0', and a narrow path, key or
// bucket with an embedded '\0', are refused with ValidateError and nothing is written; before,
// the first became U+FFFD (so different paths were one file) and the others were cut at the NUL.
// Run by tests/cpp_api.rs with OSS_TEST_ENDPOINT, OSS_TEST_BUCKET, OSS_TEST_KEY (an object; the
// same key followed by "\0tail" names another one), OSS_TEST_DIR (an empty scratch directory),
// OSS_TEST_AK, OSS_TEST_SK.
#include <alibabacloud/oss/OssClient.h>

#include <dirent.h>

#include <cstdio>
#include <set>
#include <string>

#include "check.hpp"

namespace oss = AlibabaCloud::OSS;

static std::wstring widen(const std::string &ascii)
{
    return std::wstring(ascii.begin(), ascii.end());
}

// The names in `dir` (without . and ..), recursively one level for the checkpoint directories.
static std::set<std::string> listing(const std::string &dir)
{
    std::set<std::string> names;
    DIR *d = opendir(dir.c_str());
    if (!d) {
        return names;
    }
    while (struct dirent *e = readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") {
            names.insert(n);
        }
    }
    closedir(d);
    return names;
}

template <typename O>
static std::string describe(const O &outcome)
{
    return outcome.isSuccess() ? std::string("ok") : outcome.error().Code() + ": " + outcome.error().Message();
}

template <typename O>
static bool refused(const O &outcome)
{
    return !outcome.isSuccess() && outcome.error().Code() == "ValidateError";
}

int main()
{
    const std::string endpoint = env("OSS_TEST_ENDPOINT"), bucket = env("OSS_TEST_BUCKET"), key = env("OSS_TEST_KEY"),
                      dir = env("OSS_TEST_DIR"), ak = env("OSS_TEST_AK"), sk = env("OSS_TEST_SK");
    oss::InitializeSdk();
    oss::ClientConfiguration conf;
    oss::OssClient client(endpoint, ak, sk, conf);
    const std::wstring wdir = widen(dir);

    // --- wide file paths -------------------------------------------------------------------------
    {
        const wchar_t bad[] = {static_cast<wchar_t>(0xD800), static_cast<wchar_t>(0xD801),
                               static_cast<wchar_t>(0xDC00), static_cast<wchar_t>(0xDFFF)};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
            std::wstring path = wdir + L"/lone-" + std::wstring(1, bad[i]) + L".bin";
            oss::GetObjectOutcome g = client.ResumableDownloadObject(oss::DownloadObjectRequest(bucket, key, path));
            CHECK(refused(g), "a lone surrogate in the wide path: " + describe(g));
        }
        if (sizeof(wchar_t) == 4) {
            std::wstring path = wdir + L"/big-" + std::wstring(1, static_cast<wchar_t>(0x110000)) + L".bin";
            oss::GetObjectOutcome g = client.ResumableDownloadObject(oss::DownloadObjectRequest(bucket, key, path));
            CHECK(refused(g), "a value past U+10FFFF in the wide path: " + describe(g));
        }
        std::wstring nul = wdir + L"/nul.bin";
        nul += L'\0';
        nul += L"tail";
        oss::GetObjectOutcome g = client.ResumableDownloadObject(oss::DownloadObjectRequest(bucket, key, nul));
        CHECK(refused(g), "an embedded NUL in the wide path: " + describe(g));
        CHECK(listing(dir).empty(), "nothing written for the refused wide paths");
    }
    std::puts("wide file paths ok");

    // --- wide checkpoint directories --------------------------------------------------------------
    {
        std::wstring lone = wdir + L"/ckpt-" + std::wstring(1, static_cast<wchar_t>(0xDC00));
        oss::GetObjectOutcome g = client.ResumableDownloadObject(
            oss::DownloadObjectRequest(bucket, key, wdir + L"/with-ckpt.bin", lone, 100 * 1024, 2));
        CHECK(refused(g), "a lone surrogate in the wide checkpoint directory: " + describe(g));
        std::wstring nul = wdir;
        nul += L'\0';
        nul += L"x";
        g = client.ResumableDownloadObject(
            oss::DownloadObjectRequest(bucket, key, wdir + L"/with-ckpt.bin", nul, 100 * 1024, 2));
        CHECK(refused(g), "an embedded NUL in the wide checkpoint directory: " + describe(g));
        CHECK(listing(dir).empty(), "nothing written for the refused checkpoint directories");
        // A supplementary character (a UTF-16 pair where wchar_t has 16 bits) is a valid path.
        std::wstring ok = wdir + L"/smile-\U0001F600.bin";
        g = client.ResumableDownloadObject(oss::DownloadObjectRequest(bucket, key, ok, wdir, 100 * 1024, 2));
        CHECK(g.isSuccess(), "a valid wide path: " + describe(g));
        CHECK(listing(dir).count("smile-\xF0\x9F\x98\x80.bin") == 1, "the valid wide path is UTF-8 on disk");
    }
    std::puts("wide checkpoint directories ok");

    // --- narrow strings with an embedded NUL ------------------------------------------------------
    {
        const std::set<std::string> before = listing(dir);
        std::string nulPath = dir + "/cut.bin";
        nulPath += '\0';
        nulPath += "tail";
        oss::GetObjectOutcome g = client.ResumableDownloadObject(oss::DownloadObjectRequest(bucket, key, nulPath));
        CHECK(refused(g), "an embedded NUL in the file path: " + describe(g));
        std::string nulDir = dir;
        nulDir += '\0';
        g = client.ResumableDownloadObject(oss::DownloadObjectRequest(bucket, key, dir + "/c.bin", nulDir));
        CHECK(refused(g), "an embedded NUL in the checkpoint directory: " + describe(g));
        g = client.GetObject(bucket, key, nulPath);
        CHECK(refused(g), "an embedded NUL in GetObject's file: " + describe(g));
        CHECK(listing(dir) == before, "nothing written for the refused narrow paths");

        std::string nulKey = key;
        nulKey += '\0';
        nulKey += "tail";
        g = client.GetObject(bucket, nulKey);
        CHECK(refused(g), "an embedded NUL in the key (GetObject): " + describe(g));
        g = client.ResumableDownloadObject(oss::DownloadObjectRequest(bucket, nulKey, dir + "/k.bin"));
        CHECK(refused(g), "an embedded NUL in the key (ResumableDownloadObject): " + describe(g));
        oss::ObjectMetaDataOutcome h = client.HeadObject(bucket, nulKey);
        CHECK(refused(h), "an embedded NUL in the key (HeadObject): " + describe(h));
        CHECK(!client.DoesObjectExist(bucket, nulKey), "an embedded NUL in the key (DoesObjectExist)");
        oss::StringOutcome u = client.GeneratePresignedUrl(bucket, nulKey);
        CHECK(refused(u), "an embedded NUL in the key (GeneratePresignedUrl): " + describe(u));
        std::string nulBucket = bucket;
        nulBucket += '\0';
        g = client.GetObject(nulBucket, key);
        CHECK(refused(g), "an embedded NUL in the bucket: " + describe(g));
        oss::GetObjectRequest r(bucket, key);
        std::string etag = "\"abc\"";
        etag += '\0';
        r.addMatchingETagConstraint(etag);
        g = client.GetObject(r);
        CHECK(refused(g), "an embedded NUL in an ETag condition: " + describe(g));
        std::string nulUrl = endpoint + "/x";
        nulUrl += '\0';
        g = client.GetObjectByUrl(nulUrl);
        CHECK(refused(g), "an embedded NUL in the URL: " + describe(g));
        CHECK(listing(dir) == before, "nothing written for the refused keys");
        CHECK(client.GetObject(bucket, key).isSuccess(), "the key itself still works");
    }
    std::puts("narrow strings ok");

    // --- client construction and settings ---------------------------------------------------------
    {
        std::string nulSk = sk;
        nulSk += '\0';
        oss::OssClient bad(endpoint, ak, nulSk, conf);
        oss::GetObjectOutcome g = bad.GetObject(bucket, key);
        CHECK(refused(g), "an embedded NUL in the secret: " + describe(g));
        CHECK(g.isSuccess() || g.error().Message().find(sk) == std::string::npos, "the secret is not quoted");
        std::string nulEndpoint = endpoint;
        nulEndpoint += '\0';
        oss::OssClient badEndpoint(nulEndpoint, ak, sk, conf);
        g = badEndpoint.GetObject(bucket, key);
        CHECK(refused(g), "an embedded NUL in the endpoint: " + describe(g));
        oss::ClientConfiguration nulConf;
        nulConf.userAgent = std::string("agent\0x", 7);
        oss::OssClient badConf(endpoint, ak, sk, nulConf);
        g = badConf.GetObject(bucket, key);
        CHECK(refused(g), "an embedded NUL in the user agent: " + describe(g));
    }
    std::puts("client settings ok");

    oss::ShutdownSdk();
    if (failures) {
        std::fprintf(stderr, "cpp paths: %d check(s) failed\n", failures);
        return 1;
    }
    std::puts("cpp paths: all checks passed");
    return 0;
}
