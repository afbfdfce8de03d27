/*
 * oss_ffi/cxx/detail/Settings.h - PRIVATE: the C++ layer's request and configuration types
 * translated onto the C ABI's handles: ClientConfiguration onto oss_config_t (and the retry
 * strategy onto retries and delays), the conditions of a request, a DownloadObjectRequest onto
 * oss_download_request_t, the download's metadata as the official SDK reports it, and the
 * official SDK's error code for a GetObject CRC mismatch. OssClient.h holds the facade.
 */
#ifndef OSS_FFI_CXX_DETAIL_SETTINGS_H
#define OSS_FFI_CXX_DETAIL_SETTINGS_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>
#include <oss_ffi.h>
#include <oss_ffi/cxx/Global.h>
#include <oss_ffi/cxx/OssError.h>
#include <oss_ffi/cxx/OssFwd.h>
#include <oss_ffi/cxx/Types.h>
#include <oss_ffi/cxx/auth/Credentials.h>
#include <oss_ffi/cxx/auth/CredentialsProvider.h>
#include <oss_ffi/cxx/auth/EnvironmentVariableCredentialsProvider.h>
#include <oss_ffi/cxx/auth/SimpleCredentialsProvider.h>
#include <oss_ffi/cxx/client/AsyncCallerContext.h>
#include <oss_ffi/cxx/client/ClientConfiguration.h>
#include <oss_ffi/cxx/client/RateLimiter.h>
#include <oss_ffi/cxx/client/RetryStrategy.h>
#include <oss_ffi/cxx/detail/Async.h>
#include <oss_ffi/cxx/detail/Bridge.h>
#include <oss_ffi/cxx/detail/Handle.h>

OSS_FFI_CXX_NS_BEGIN
namespace detail {

/* See client/RetryStrategy.h. */
inline void retryPolicy(const RetryStrategy *strategy, uint32_t &retries, uint64_t &baseDelay)
{
    retries = 0;
    if (!strategy) {
        return;
    }
    const DefaultRetryStrategy *builtin = dynamic_cast<const DefaultRetryStrategy *>(strategy);
    if (builtin) {
        long n = builtin->MaxRetries();
        retries = n < 0 ? 0 : (n > 100 ? 100 : static_cast<uint32_t>(n));
        long d = builtin->ScaleFactor();
        baseDelay = d < 0 ? 0 : static_cast<uint64_t>(d);
        return;
    }
    Error probe("ServiceUnavailable", "probe");
    probe.setStatus(503);
    try {
        while (retries < 100 && strategy->shouldRetry(probe, static_cast<long>(retries))) {
            ++retries;
        }
        long d = strategy->calcDelayTimeMs(probe, 0);
        baseDelay = d < 0 ? 0 : static_cast<uint64_t>(d);
    } catch (...) {
        /* keep what was learned */
    }
}

/* Maps ClientConfiguration onto oss_config_t. Timeouts <= 0 keep the defaults. */
inline bool configure(oss_config_t *cfg, const ClientConfiguration &conf, OssError &error)
{
    if (!detail::noNul({{"userAgent", &conf.userAgent},
                        {"proxyHost", &conf.proxyHost},
                        {"proxyUserName", &conf.proxyUserName},
                        {"proxyPassword", &conf.proxyPassword},
                        {"caFile", &conf.caFile},
                        {"caPath", &conf.caPath}},
                       error)) {
        return false;
    }
    if (!conf.userAgent.empty() && detail::failed(oss_config_set_user_agent(cfg, conf.userAgent.c_str()), error)) {
        return false;
    }
    if (detail::failed(oss_config_set_max_connections(cfg, static_cast<uint32_t>(conf.maxConnections)), error)) {
        return false;
    }
    if (conf.connectTimeoutMs > 0 &&
        detail::failed(oss_config_set_connect_timeout_ms(cfg, static_cast<uint64_t>(conf.connectTimeoutMs)), error)) {
        return false;
    }
    if (conf.requestTimeoutMs > 0 &&
        detail::failed(oss_config_set_request_timeout_ms(cfg, static_cast<uint64_t>(conf.requestTimeoutMs)), error)) {
        return false;
    }
    uint32_t retries = 0;
    uint64_t baseDelay = 300;
    retryPolicy(conf.retryStrategy.get(), retries, baseDelay);
    if (detail::failed(oss_config_set_retry(cfg, retries, baseDelay), error)) {
        return false;
    }
    if (!conf.proxyHost.empty()) {
        if (conf.proxyPort > 65535) {
            error = detail::validateError("proxyPort must be at most 65535");
            return false;
        }
        if (detail::failed(oss_config_set_proxy(cfg, conf.proxyScheme == Http::HTTPS ? "https" : "http",
                                                conf.proxyHost.c_str(), static_cast<uint16_t>(conf.proxyPort),
                                                detail::optional(conf.proxyUserName),
                                                detail::optional(conf.proxyPassword)),
                           error)) {
            return false;
        }
    }
    if (detail::failed(oss_config_set_verify_tls(cfg, conf.verifySSL), error) ||
        detail::failed(oss_config_set_ca_file(cfg, detail::optional(conf.caFile)), error) ||
        detail::failed(oss_config_set_ca_path(cfg, detail::optional(conf.caPath)), error) ||
        detail::failed(oss_config_set_cname(cfg, conf.isCname), error) ||
        detail::failed(oss_config_set_path_style(cfg, conf.isPathStyle), error) ||
        detail::failed(oss_config_set_crc64(cfg, conf.enableCrc64), error) ||
        detail::failed(oss_config_set_date_skew_adjustment(cfg, conf.enableDateSkewAdjustment), error) ||
        detail::failed(oss_config_set_reissue_slow_parts(cfg, conf.reissueSlowParts), error) ||
        detail::failed(oss_config_set_memory_budget(cfg, conf.memoryBudget), error)) {
        return false;
    }
    if (!conf.resumeTokenKey.empty() &&
        detail::failed(oss_config_set_resume_token_key(cfg,
                                                       reinterpret_cast<const uint8_t *>(conf.resumeTokenKey.data()),
                                                       conf.resumeTokenKey.size()),
                       error)) {
        return false;
    }
    if (!detail::noNul("resolve entry", conf.resolve, error)) {
        return false;
    }
    for (std::vector<std::string>::const_iterator it = conf.resolve.begin(); it != conf.resolve.end(); ++it) {
        if (detail::failed(oss_config_add_resolve(cfg, it->c_str()), error)) {
            return false;
        }
    }
    /* Rate() is asked again while downloading, as in the official SDK. */
    if (conf.recvRateLimiter &&
        detail::failed(oss_config_set_recv_rate_limit_cb(cfg, detail::rateTrampoline,
                                                         new detail::RateLimiterBox(conf.recvRateLimiter),
                                                         detail::deleteRateLimiterBox),
                       error)) {
        return false;
    }
    if (conf.requestMetrics &&
        detail::failed(oss_config_set_request_metrics_callback(cfg, detail::metricsTrampoline,
                                                               new detail::MetricsBox(conf.requestMetrics),
                                                               detail::deleteMetricsBox),
                       error)) {
        return false;
    }
    uint32_t version = conf.signatureVersion == SignatureVersionType::V4 ? OSS_SIGNATURE_V4 : OSS_SIGNATURE_V1;
    return !detail::failed(oss_config_set_signature_version(cfg, version), error);
}

template <typename R>
bool conditions(oss_get_object_request_t *req, const R &request, OssError &error)
{
    if (!detail::noNul("ETag condition", request.MatchingETagsConstraint(), error) ||
        !detail::noNul("ETag condition", request.NonmatchingETagsConstraint(), error) ||
        !detail::noNul({{"modified-since condition", &request.ModifiedSinceConstraint()},
                        {"unmodified-since condition", &request.UnmodifiedSinceConstraint()}},
                       error)) {
        return false;
    }
    std::vector<const char *> match = detail::cStrings(request.MatchingETagsConstraint());
    std::vector<const char *> noMatch = detail::cStrings(request.NonmatchingETagsConstraint());
    return !detail::failed(oss_get_object_request_set_matching_etags(req, match.empty() ? nullptr : &match[0],
                                                                     match.size()),
                           error) &&
           !detail::failed(oss_get_object_request_set_nonmatching_etags(
                               req, noMatch.empty() ? nullptr : &noMatch[0], noMatch.size()),
                           error) &&
           !detail::failed(oss_get_object_request_set_modified_since(
                               req, detail::optional(request.ModifiedSinceConstraint())),
                           error) &&
           !detail::failed(oss_get_object_request_set_unmodified_since(
                               req, detail::optional(request.UnmodifiedSinceConstraint())),
                           error);
}

inline bool saveClientCrc(const GetObjectRequest &request)
{
    return (request.Flags() & REQUEST_FLAG_CHECK_CRC64) && (request.Flags() & REQUEST_FLAG_SAVE_CLIENT_CRC64);
}

/* As the official SDK's GetObject: a CRC64 mismatch is "ClientError:100001" (only the
 * resumable download reports "CrcCheckError"). */
inline OssError getObjectError(OssError error)
{
    if (error.Code() == "CrcCheckError") {
        error.setCode("ClientError:100001");
        error.setMessage("Crc64 validation failed. " + error.Message());
    }
    return error;
}

/* The result's metadata as the official SDK builds it: the object's headers with the
 * response-* overrides applied (a part GET returns them); for a range, Content-Length is the
 * range's length and Content-Range "bytes start-end/size". */
inline ObjectMetaData downloadMetaData(const oss_object_meta_t *raw, const DownloadObjectRequest &request)
{
    ObjectMetaData meta = detail::toMetaData(raw);
    static const char *const names[] = {"Content-Type",        "Content-Language", "Expires",
                                        "Cache-Control",       "Content-Disposition", "Content-Encoding"};
    const std::map<RequestResponseHeader, std::string> &overrides = request.ResponseHeaders();
    for (std::map<RequestResponseHeader, std::string>::const_iterator it = overrides.begin();
         it != overrides.end(); ++it) {
        int i = static_cast<int>(it->first);
        if (i >= 0 && i < 6) {
            meta.HttpMetaData()[names[i]] = it->second;
        }
    }
    int64_t size = oss_object_meta_content_length(raw);
    if (request.RangeIsSet() && size > 0) {
        int64_t start = request.RangeStart();
        int64_t end = request.RangeEnd();
        if (end < 0 || end > size - 1) {
            end = size - 1;
        }
        meta.setContentLength(end - start + 1);
        meta.HttpMetaData()["Content-Range"] = "bytes " + std::to_string(static_cast<long long>(start)) + "-" +
                                               std::to_string(static_cast<long long>(end)) + "/" +
                                               std::to_string(static_cast<long long>(size));
    } else {
        meta.HttpMetaData().erase("Content-Range");
    }
    return meta;
}

inline bool downloadSettings(oss_download_request_t *req, const DownloadObjectRequest &request, OssError &error)
{
    std::string checkpointDir = request.CheckpointDir();
    if (checkpointDir.empty() &&
        !detail::wideToUtf8(request.CheckpointDirW(), "checkpoint directory", checkpointDir, error)) {
        return false;
    }
    if (!detail::noNul({{"checkpoint directory", &checkpointDir},
                        {"version id", &request.VersionId()},
                        {"modified-since condition", &request.ModifiedSinceConstraint()},
                        {"unmodified-since condition", &request.UnmodifiedSinceConstraint()}},
                       error) ||
        !detail::noNul("ETag condition", request.MatchingETagsConstraint(), error) ||
        !detail::noNul("ETag condition", request.NonmatchingETagsConstraint(), error) ||
        !detail::responseHeadersNoNul(request.ResponseHeaders(), error)) {
        return false;
    }
    std::vector<const char *> match = detail::cStrings(request.MatchingETagsConstraint());
    std::vector<const char *> noMatch = detail::cStrings(request.NonmatchingETagsConstraint());
    if (detail::failed(oss_download_request_set_part_size(req, request.PartSize()), error) ||
        detail::failed(oss_download_request_set_thread_num(req, request.ThreadNum()), error) ||
        detail::failed(oss_download_request_set_checkpoint_dir(req, detail::optional(checkpointDir)), error) ||
        detail::failed(oss_download_request_set_verify_on_resume(req, request.VerifyOnResume()), error) ||
        detail::failed(oss_download_request_set_direct_io(req, request.DirectIO()), error) ||
        detail::failed(oss_download_request_set_throughput_target(req, request.ThroughputTarget()), error) ||
        detail::failed(oss_download_request_set_version_id(req, detail::optional(request.VersionId())), error) ||
        detail::failed(oss_download_request_set_matching_etags(req, match.empty() ? nullptr : &match[0],
                                                               match.size()),
                       error) ||
        detail::failed(oss_download_request_set_nonmatching_etags(req, noMatch.empty() ? nullptr : &noMatch[0],
                                                                  noMatch.size()),
                       error) ||
        detail::failed(oss_download_request_set_modified_since(req, detail::optional(request.ModifiedSinceConstraint())),
                       error) ||
        detail::failed(
            oss_download_request_set_unmodified_since(req, detail::optional(request.UnmodifiedSinceConstraint())),
            error) ||
        detail::failed(oss_download_request_set_traffic_limit(req, request.TrafficLimit()), error) ||
        detail::failed(oss_download_request_set_request_payer(
                           req, request.RequestPayer() == OSS_FFI_CXX_NS::RequestPayer::Requester),
                       error)) {
        return false;
    }
    if (request.RangeIsSet() &&
        detail::failed(oss_download_request_set_range(req, request.RangeStart(), request.RangeEnd()), error)) {
        return false;
    }
    const std::map<RequestResponseHeader, std::string> &headers = request.ResponseHeaders();
    for (std::map<RequestResponseHeader, std::string>::const_iterator it = headers.begin(); it != headers.end();
         ++it) {
        if (detail::failed(oss_download_request_set_response_header(req, static_cast<uint32_t>(it->first),
                                                                    it->second.c_str()),
                           error)) {
            return false;
        }
    }
    if (request.TransferProgress().Handler &&
        detail::failed(oss_download_request_set_progress(req, detail::progressTrampoline,
                                                         new TransferProgress(request.TransferProgress()),
                                                         detail::deleteProgressBox),
                       error)) {
        return false;
    }
    return true;
}

}  // namespace detail
OSS_FFI_CXX_NS_END

#endif
