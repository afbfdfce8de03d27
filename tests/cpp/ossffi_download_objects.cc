// The oss-ffi extension OssClient::OssFfiDownloadObjects (not in the official SDK): a prefix into a
// directory with its handlers and report, a re-run that fetches nothing, a dry run with filters, a
// key list with a missing key (the outcome's error, the report still there), and bad requests
// refused before anything is written. Run by tests/cpp_api.rs with OSS_TEST_ENDPOINT,
// OSS_TEST_BUCKET, OSS_TEST_PREFIX (holding OSS_TEST_COUNT objects f<NN>.bin and sub/g.bin),
// OSS_TEST_DIR, OSS_TEST_AK, OSS_TEST_SK.
#include <alibabacloud/oss/OssClient.h>

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "check.hpp"

namespace oss = AlibabaCloud::OSS;

static bool exists(const std::string &path)
{
    struct stat st;
    return stat(path.c_str(), &st) == 0;
}

int main()
{
    const std::string bucket = env("OSS_TEST_BUCKET"), prefix = env("OSS_TEST_PREFIX"), dir = env("OSS_TEST_DIR");
    const uint64_t n = std::strtoull(env("OSS_TEST_COUNT").c_str(), nullptr, 10);
    oss::InitializeSdk();
    {
        oss::ClientConfiguration conf;
        oss::OssClient client(env("OSS_TEST_ENDPOINT"), env("OSS_TEST_AK"), env("OSS_TEST_SK"), conf);

        // A prefix, with both handlers.
        std::mutex m;
        uint64_t downloaded = 0, calls = 0;
        bool lastListingDone = false;
        auto req = oss::OssFfiDownloadObjectsRequest::ForPrefix(bucket, prefix, dir + "/all");
        req.setObjectHandler([&](const oss::OssFfiBatchObject &o) {
            std::lock_guard<std::mutex> g(m);
            if (o.Outcome == oss::OssFfiObjectOutcome::Downloaded) {
                ++downloaded;
            }
        });
        req.setProgressHandler([&](const oss::OssFfiBatchProgress &p) {
            std::lock_guard<std::mutex> g(m);
            ++calls;
            lastListingDone = p.ListingDone;
        });
        auto outcome = client.OssFfiDownloadObjects(req);
        CHECK(outcome.isSuccess(), outcome.error().Code() + ": " + outcome.error().Message());
        CHECK(outcome.result().Progress().ObjectsDone == n, std::to_string(outcome.result().Progress().ObjectsDone));
        CHECK(outcome.result().Failures().empty(), "failures");
        CHECK(!outcome.result().Stopped(), "stopped");
        CHECK(!outcome.result().JournalPath().empty(), "journal path");
        CHECK(downloaded == n, std::to_string(downloaded));
        CHECK(calls >= 1 && lastListingDone, "the last progress call says the listing is done");
        CHECK(exists(dir + "/all/f00.bin") && exists(dir + "/all/sub/g.bin"), "files below the directory");

        // Again: nothing downloaded.
        auto again = client.OssFfiDownloadObjects(req);
        CHECK(again.isSuccess(), again.error().Message());
        CHECK(again.result().Progress().ObjectsDone == 0 && again.result().Progress().ObjectsSkipped == n,
              "re-run: " + std::to_string(again.result().Progress().ObjectsDone) + " done");

        // A dry run of the top-level .bin files but f00.
        uint64_t would = 0;
        auto dry = oss::OssFfiDownloadObjectsRequest::ForPrefix(bucket, prefix, dir + "/dry");
        dry.setDryRun(true);
        dry.setInclude({"/*.bin"});
        dry.setExclude({"f00.bin"});
        dry.setObjectHandler([&](const oss::OssFfiBatchObject &o) {
            if (o.Outcome == oss::OssFfiObjectOutcome::WouldDownload) {
                ++would;
            }
        });
        auto d = client.OssFfiDownloadObjects(dry);
        CHECK(d.isSuccess(), d.error().Message());
        CHECK(would == n - 2, "would download " + std::to_string(would));
        CHECK(!exists(dir + "/dry/f01.bin"), "a dry run wrote a file");

        // A key list with a missing key: the error, and the report with it.
        auto keys = oss::OssFfiDownloadObjectsRequest::ForKeys(bucket, {prefix + "f01.bin", prefix + "missing"},
                                                             dir + "/keys");
        auto k = client.OssFfiDownloadObjects(keys);
        CHECK(!k.isSuccess(), "a missing key failed nothing");
        CHECK(k.error().Code() == "NoSuchKey", k.error().Code());
        CHECK(k.result().Failures().size() == 1 && k.result().Failures()[0].first == prefix + "missing",
              "the failure names the key");
        CHECK(exists(dir + "/keys/" + prefix + "f01.bin"), "the other key was downloaded");

        // Refused before anything runs.
        auto bad = oss::OssFfiDownloadObjectsRequest::ForPrefix(bucket, prefix, dir + "/bad");
        bad.setMaxObjectsInFlight(0);
        auto b = client.OssFfiDownloadObjects(bad);
        CHECK(!b.isSuccess() && b.error().Code() == "ValidateError", b.error().Code());
        auto nul = oss::OssFfiDownloadObjectsRequest::ForKeys(bucket, {std::string("a\0b", 3)}, dir + "/bad");
        auto nb = client.OssFfiDownloadObjects(nul);
        CHECK(!nb.isSuccess() && nb.error().Code() == "ValidateError", nb.error().Message());
        CHECK(!exists(dir + "/bad"), "a refused batch made its directory");
    }
    oss::ShutdownSdk();
    if (failures) {
        std::fprintf(stderr, "cpp ossffi_download_objects: %d failures\n", failures);
        return 1;
    }
    std::printf("cpp ossffi_download_objects: all checks passed\n");
    return 0;
}
