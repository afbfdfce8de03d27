// One program with both SDKs: the official Alibaba Cloud OSS C++ SDK (<alibabacloud/oss/...>,
// AlibabaCloud::OSS) uploads, oss-ffi's coexistence form (<oss_ffi/cxx/...>, OssFfi) downloads.
// Built by tests/cpp_api.rs against the official SDK 1.10.1 and an oss-ffi installed with
// DROP_IN=no; run with OSS_TEST_ENDPOINT, OSS_TEST_BUCKET, OSS_TEST_KEY, OSS_TEST_DIR,
// OSS_TEST_AK, OSS_TEST_SK, OSS_TEST_SIZE (the bytes to upload are generated here).
#include <alibabacloud/oss/OssClient.h>
#include <oss_ffi/cxx/OssClient.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>

#include "check.hpp"

static std::string readFile(const std::string &path)
{
    std::ifstream in(path.c_str(), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

int main()
{
    const std::string endpoint = env("OSS_TEST_ENDPOINT"), bucket = env("OSS_TEST_BUCKET"), key = env("OSS_TEST_KEY"),
                      dir = env("OSS_TEST_DIR"), ak = env("OSS_TEST_AK"), sk = env("OSS_TEST_SK");
    const size_t size = static_cast<size_t>(std::strtoull(env("OSS_TEST_SIZE").c_str(), nullptr, 10));
    std::string data(size, '\0');
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < size; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        data[i] = static_cast<char>(x & 0xFF);
    }

    AlibabaCloud::OSS::InitializeSdk();
    OssFfi::InitializeSdk();

    // Upload with the official SDK.
    {
        AlibabaCloud::OSS::ClientConfiguration conf;
        AlibabaCloud::OSS::OssClient official(endpoint, ak, sk, conf);
        std::shared_ptr<std::iostream> content = std::make_shared<std::stringstream>(data);
        AlibabaCloud::OSS::PutObjectOutcome put = official.PutObject(bucket, key, content);
        CHECK(put.isSuccess(), "official PutObject: " + (put.isSuccess() ? std::string("ok")
                                                                         : put.error().Code() + ": " +
                                                                               put.error().Message()));
    }
    std::puts("uploaded with the official SDK");

    // Download with oss-ffi, in parts, with a checkpoint directory.
    {
        OssFfi::ClientConfiguration conf;
        OssFfi::OssClient client(endpoint, ak, sk, conf);
        OssFfi::DownloadObjectRequest request(bucket, key, dir + "/downloaded.bin", dir);
        request.setPartSize(100 * 1024);
        request.setThreadNum(3);
        OssFfi::GetObjectOutcome got = client.ResumableDownloadObject(request);
        CHECK(got.isSuccess(), "OssFfi ResumableDownloadObject: " +
                                   (got.isSuccess() ? std::string("ok")
                                                    : got.error().Code() + ": " + got.error().Message()));
        CHECK(got.isSuccess() && got.result().Metadata().ContentLength() == static_cast<int64_t>(size),
              "the downloaded object's length");
        CHECK(readFile(dir + "/downloaded.bin") == data, "the downloaded bytes are the uploaded ones");
        CHECK(OssFfi::ComputeCRC64(0, data.data(), data.size()) ==
                  AlibabaCloud::OSS::ComputeCRC64(0, &data[0], data.size()),
              "both SDKs' CRC64 agree");
    }
    std::puts("downloaded with oss-ffi (OssFfi)");

    OssFfi::ShutdownSdk();
    AlibabaCloud::OSS::ShutdownSdk();
    if (failures) {
        std::fprintf(stderr, "cpp coexist_official: %d check(s) failed\n", failures);
        return 1;
    }
    std::puts("cpp coexist_official: all checks passed");
    return 0;
}
