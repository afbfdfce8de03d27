// A resumable download with a progress callback, then a ranged download of the same object, with
// the C++ SDK's API (only the link line differs from a build against the official SDK).
//
//   export OSS_ACCESS_KEY_ID=... OSS_ACCESS_KEY_SECRET=...
//   progress_range_download ENDPOINT REGION BUCKET KEY OUTPUT_DIR [RANGE_START RANGE_END]
//
// Writes OUTPUT_DIR/whole.bin (the object) and OUTPUT_DIR/range.bin (bytes RANGE_START..RANGE_END,
// default 0..1048575), using OUTPUT_DIR as the checkpoint directory.
#include <alibabacloud/oss/OssClient.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

using namespace AlibabaCloud::OSS;

struct ProgressState {
    std::string label;
    int lastPercent;
};

// Called from a library thread, one call at a time. Exceptions thrown here are swallowed by the
// library's trampoline; keep the handler short.
static void ProgressCallback(size_t increment, int64_t transferred, int64_t total, void *userData)
{
    (void)increment;
    ProgressState *state = static_cast<ProgressState *>(userData);
    int percent = total > 0 ? static_cast<int>(transferred * 100 / total) : 100;
    if (percent / 10 != state->lastPercent / 10 || transferred == total) {
        state->lastPercent = percent;
        std::cout << state->label << ": " << percent << "% (" << transferred << "/" << total << " bytes)"
                  << std::endl;
    }
}

static int Fail(const char *what, const GetObjectOutcome &outcome)
{
    std::cout << what << " fail"
              << ",code:" << outcome.error().Code() << ",message:" << outcome.error().Message()
              << ",requestId:" << outcome.error().RequestId() << std::endl;
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 6 && argc != 8) {
        std::cerr << "usage: " << argv[0] << " ENDPOINT REGION BUCKET KEY OUTPUT_DIR [RANGE_START RANGE_END]"
                  << std::endl;
        return 2;
    }
    const std::string endpoint = argv[1], region = argv[2], bucket = argv[3], key = argv[4], dir = argv[5];
    const int64_t rangeStart = argc == 8 ? std::strtoll(argv[6], nullptr, 10) : 0;
    const int64_t rangeEnd = argc == 8 ? std::strtoll(argv[7], nullptr, 10) : 1048575;

    InitializeSdk();
    int rc = 0;
    {
        ClientConfiguration conf;
        conf.signatureVersion = SignatureVersionType::V4;
        auto credentialsProvider = std::make_shared<EnvironmentVariableCredentialsProvider>();
        OssClient client(endpoint, credentialsProvider, conf);
        client.SetRegion(region);

        // The whole object, 4 threads of 1 MiB parts, with progress.
        ProgressState whole = {"whole object", -10};
        DownloadObjectRequest request(bucket, key, dir + "/whole.bin", dir, 1024 * 1024, 4);
        TransferProgress progress = {ProgressCallback, &whole};
        request.setTransferProgress(progress);
        auto outcome = client.ResumableDownloadObject(request);
        if (!outcome.isSuccess()) {
            rc = Fail("ResumableDownloadObject", outcome);
        } else {
            const ObjectMetaData &meta = outcome.result().Metadata();
            std::cout << "whole object: " << meta.ContentLength() << " bytes, ETag " << meta.ETag() << ", CRC64 "
                      << meta.CRC64() << ", requestId " << outcome.result().RequestId() << std::endl;
        }

        // Only a range: the file holds exactly bytes rangeStart..rangeEnd.
        if (rc == 0) {
            ProgressState ranged = {"range", -10};
            DownloadObjectRequest rangeRequest(bucket, key, dir + "/range.bin", dir);
            rangeRequest.setRange(rangeStart, rangeEnd);
            rangeRequest.setPartSize(256 * 1024);
            rangeRequest.setThreadNum(2);
            TransferProgress rangeProgress = {ProgressCallback, &ranged};
            rangeRequest.setTransferProgress(rangeProgress);
            auto rangeOutcome = client.ResumableDownloadObject(rangeRequest);
            if (!rangeOutcome.isSuccess()) {
                rc = Fail("ResumableDownloadObject(range)", rangeOutcome);
            } else {
                std::cout << "range " << rangeStart << "-" << rangeEnd << " saved to " << dir << "/range.bin"
                          << std::endl;
            }
        }
    }
    ShutdownSdk();
    return rc;
}
