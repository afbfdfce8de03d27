// How the C++ layer turns the C ABI's errors into the official SDK's codes and messages: by kind,
// code and detail (oss_error_kind, oss_error_code, oss_error_detail), never by message text, so
// a reworded library message cannot change what a C++ caller sees. The mapping table
// (detail::officialError) is checked row by row with messages that would mislead a text match;
// then the real errors end to end. Run by tests/cpp_api.rs with OSS_TEST_ENDPOINT,
// OSS_TEST_BUCKET, OSS_TEST_KEY, OSS_TEST_DIR, OSS_TEST_AK, OSS_TEST_SK.
#include <alibabacloud/oss/OssClient.h>

#include <cstdio>
#include <string>

#include "check.hpp"

namespace oss = AlibabaCloud::OSS;
namespace detail = AlibabaCloud::OSS::detail;

static bool is(const oss::OssError &e, const std::string &code, const std::string &message)
{
    return e.Code() == code && e.Message() == message;
}

template <typename O>
static std::string describe(const O &outcome)
{
    return outcome.isSuccess() ? std::string("ok") : outcome.error().Code() + ": " + outcome.error().Message();
}

int main()
{
    // --- the mapping table ----------------------------------------------------------------------
    // A missing checkpoint directory: the detail decides, whatever the library's message says.
    CHECK(is(detail::officialError(OSS_ERROR_KIND_INVALID_ARGUMENT, "ValidateError",
                                   OSS_ERROR_DETAIL_CHECKPOINT_DIR_MISSING, "the directory /x is gone"),
             "ValidateError", "Checkpoint directory is not exist."),
          "checkpoint directory by its detail, with another message");
    CHECK(is(detail::officialError(OSS_ERROR_KIND_INVALID_ARGUMENT, "ValidateError",
                                   OSS_ERROR_DETAIL_CHECKPOINT_DIR_MISSING, ""),
             "ValidateError", "Checkpoint directory is not exist."),
          "checkpoint directory by its detail, with no message");
    // The same words without the detail are just a message: kept as they are.
    CHECK(is(detail::officialError(OSS_ERROR_KIND_INVALID_ARGUMENT, "ValidateError", OSS_ERROR_DETAIL_NONE,
                                   "Checkpoint directory is not exist: but no detail"),
             "ValidateError", "Checkpoint directory is not exist: but no detail"),
          "a message that looks like the checkpoint error is not mapped");
    CHECK(is(detail::officialError(OSS_ERROR_KIND_SERVER, "NoSuchKey", OSS_ERROR_DETAIL_NONE,
                                   "Checkpoint directory is not exist"),
             "NoSuchKey", "Checkpoint directory is not exist"),
          "a server error keeps its code and message");
    // Cancelled (DisableRequest, ShutdownSdk): by kind, whatever the code and message.
    CHECK(is(detail::officialError(OSS_ERROR_KIND_CANCELLED, "Cancelled", OSS_ERROR_DETAIL_NONE, "anything"),
             "ClientError:100002", "Disable all requests by upper."),
          "cancelled by its kind");
    CHECK(is(detail::officialError(OSS_ERROR_KIND_CANCELLED, "Cancelled", OSS_ERROR_DETAIL_NONE, ""),
             "ClientError:100002", "Disable all requests by upper."),
          "cancelled with no message");
    CHECK(is(detail::officialError(OSS_ERROR_KIND_TRANSPORT, "ClientError:200007", OSS_ERROR_DETAIL_NONE,
                                   "Cancelled"),
             "ClientError:200007", "Cancelled"),
          "a message saying Cancelled is not a cancellation");
    // Everything else passes through.
    CHECK(is(detail::officialError(OSS_ERROR_KIND_CRC_MISMATCH, "CrcCheckError", OSS_ERROR_DETAIL_NONE, "m"),
             "CrcCheckError", "m"),
          "CRC mismatch passes through (GetObject renames it by code)");
    CHECK(is(detail::officialError(OSS_ERROR_KIND_IO, "IOError", OSS_ERROR_DETAIL_NONE, "disk full"), "IOError",
             "disk full"),
          "I/O passes through");
    std::puts("mapping table ok");

    // --- end to end -------------------------------------------------------------------------------
    const std::string endpoint = env("OSS_TEST_ENDPOINT"), bucket = env("OSS_TEST_BUCKET"), key = env("OSS_TEST_KEY"),
                      dir = env("OSS_TEST_DIR"), ak = env("OSS_TEST_AK"), sk = env("OSS_TEST_SK");
    oss::InitializeSdk();
    oss::ClientConfiguration conf;
    oss::OssClient client(endpoint, ak, sk, conf);
    {
        oss::DownloadObjectRequest r(bucket, key, dir + "/out.bin", dir + "/no-such-dir");
        oss::GetObjectOutcome g = client.ResumableDownloadObject(r);
        CHECK(!g.isSuccess() && is(g.error(), "ValidateError", "Checkpoint directory is not exist."),
              "a missing checkpoint directory: " + describe(g));
    }
    {
        client.DisableRequest();
        oss::GetObjectOutcome g = client.GetObject(bucket, key);
        CHECK(!g.isSuccess() && is(g.error(), "ClientError:100002", "Disable all requests by upper."),
              "a refused request: " + describe(g));
        client.EnableRequest();
        g = client.GetObject(bucket, key);
        CHECK(g.isSuccess(), "enabled again: " + describe(g));
    }
    std::puts("end to end ok");

    oss::ShutdownSdk();
    if (failures) {
        std::fprintf(stderr, "cpp error_mapping: %d check(s) failed\n", failures);
        return 1;
    }
    std::puts("cpp error_mapping: all checks passed");
    return 0;
}
