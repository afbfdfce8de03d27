/*
 * alibabacloud/oss/detail/Bridge.h - PRIVATE: conversions between the C ABI and the C++ types,
 * and the callback trampolines. Every trampoline is noexcept and catches everything: a C++
 * exception never unwinds into the library.
 */
#ifndef ALIBABACLOUD_OSS_DETAIL_BRIDGE_H
#define ALIBABACLOUD_OSS_DETAIL_BRIDGE_H

#include <cstddef>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <oss_ffi.h>

#include <alibabacloud/oss/OssError.h>
#include <alibabacloud/oss/Types.h>
#include <alibabacloud/oss/auth/Credentials.h>
#include <alibabacloud/oss/auth/CredentialsProvider.h>
#include <alibabacloud/oss/client/RateLimiter.h>
#include <alibabacloud/oss/detail/Handle.h>
#include <alibabacloud/oss/model/ObjectMetaData.h>

namespace AlibabaCloud {
namespace OSS {
namespace detail {

/* The C error as the official SDK reports it: a refused or aborted request (DisableRequest,
 * shutdown) is "ClientError:100002"; a missing checkpoint directory has the original's exact
 * message. The C ABI's code and message are kept everywhere else. */
inline OssError toOssError(const oss_error_t *e)
{
    OssError error(oss_error_code(e), oss_error_message(e));
    if (error.Code() == "Cancelled") {
        error = OssError("ClientError:100002", "Disable all requests by upper.");
    } else if (error.Code() == "ValidateError" &&
               error.Message().compare(0, 33, "Checkpoint directory is not exist") == 0) {
        error.setMessage("Checkpoint directory is not exist.");
    }
    error.setRequestId(oss_error_request_id(e));
    error.setHost(oss_error_host(e));
    return error;
}

/* Takes over `raw` (a fallible call's return value): false when it is NULL (success); otherwise
 * fills `error`, frees the C error and returns true. */
inline bool failed(oss_error_t *raw, OssError &error)
{
    ErrorHandle err(raw);
    if (!err) {
        return false;
    }
    error = toOssError(err.get());
    return true;
}

inline OssError validateError(const std::string &message) { return OssError("ValidateError", message); }

/* NULL for "", so optional C arguments mean "unset". */
inline const char *optional(const std::string &s) { return s.empty() ? nullptr : s.c_str(); }

inline std::vector<const char *> cStrings(const std::vector<std::string> &v)
{
    std::vector<const char *> out;
    out.reserve(v.size());
    for (std::vector<std::string>::const_iterator it = v.begin(); it != v.end(); ++it) {
        out.push_back(it->c_str());
    }
    return out;
}

/* Everything the server said, as the original SDK's ObjectMetaData holds it. */
inline ObjectMetaData toMetaData(const oss_object_meta_t *meta)
{
    HeaderCollection headers;
    size_t count = oss_object_meta_header_count(meta);
    for (size_t i = 0; i < count; ++i) {
        const char *name = nullptr;
        const char *value = nullptr;
        if (oss_object_meta_header_at(meta, i, &name, &value) && name && value) {
            headers[name] = value;
        }
    }
    size_t users = oss_object_meta_user_meta_count(meta);
    for (size_t i = 0; i < users; ++i) {
        const char *name = nullptr;
        const char *value = nullptr;
        if (oss_object_meta_user_meta_at(meta, i, &name, &value) && name && value) {
            headers[std::string("x-oss-meta-") + name] = value;
        }
    }
    /* Fill what the parsed accessors know if the raw headers lack it. */
    if (headers.find("ETag") == headers.end() && *oss_object_meta_etag(meta)) {
        headers["ETag"] = oss_object_meta_etag(meta);
    }
    if (headers.find("Last-Modified") == headers.end() && *oss_object_meta_last_modified(meta)) {
        headers["Last-Modified"] = oss_object_meta_last_modified(meta);
    }
    if (headers.find("Content-Length") == headers.end() && oss_object_meta_content_length(meta) >= 0) {
        headers["Content-Length"] = std::to_string(static_cast<long long>(oss_object_meta_content_length(meta)));
    }
    if (headers.find("x-oss-version-id") == headers.end() && *oss_object_meta_version_id(meta)) {
        headers["x-oss-version-id"] = oss_object_meta_version_id(meta);
    }
    if (headers.find("x-oss-request-id") == headers.end() && *oss_object_meta_request_id(meta)) {
        headers["x-oss-request-id"] = oss_object_meta_request_id(meta);
    }
    uint64_t crc = 0;
    if (headers.find("x-oss-hash-crc64ecma") == headers.end() && oss_object_meta_crc64(meta, &crc)) {
        headers["x-oss-hash-crc64ecma"] = std::to_string(static_cast<unsigned long long>(crc));
    }
    ObjectMetaData md(headers);
    md.setVerified(oss_object_meta_verified(meta));
    return md;
}

inline HeaderCollection toHeaders(const oss_object_meta_t *meta) { return toMetaData(meta).toHeaderCollection(); }

/* --- credentials: a shared_ptr<CredentialsProvider> boxed as user_data --- */

typedef std::shared_ptr<CredentialsProvider> ProviderBox;

/* 0: filled; 1: null provider; 2: credentials refused (empty or invalid); 3: getCredentials threw. */
inline int32_t credentialsTrampoline(void *userData, oss_credentials_t *out) noexcept
{
    try {
        ProviderBox &provider = *static_cast<ProviderBox *>(userData);
        if (!provider) {
            return 1;
        }
        Credentials c = provider->getCredentials();
        ErrorHandle err(oss_credentials_set(out, c.AccessKeyId().c_str(), c.AccessKeySecret().c_str(),
                                            optional(c.SessionToken())));
        return err ? 2 : 0;
    } catch (...) {
        return 3;
    }
}

inline void deleteProviderBox(void *userData) noexcept { delete static_cast<ProviderBox *>(userData); }

/* --- receive rate: a shared_ptr<RateLimiter> boxed as user_data; Rate() in KB/s, <= 0 unlimited --- */

typedef std::shared_ptr<RateLimiter> RateLimiterBox;

inline uint64_t rateTrampoline(void *userData) noexcept
{
    try {
        RateLimiterBox &limiter = *static_cast<RateLimiterBox *>(userData);
        int rate = limiter ? limiter->Rate() : 0;
        return rate > 0 ? static_cast<uint64_t>(rate) : 0;
    } catch (...) {
        return 0;
    }
}

inline void deleteRateLimiterBox(void *userData) noexcept { delete static_cast<RateLimiterBox *>(userData); }

/* --- progress: a copy of the TransferProgress boxed as user_data --- */

inline void progressTrampoline(size_t increment, int64_t transferred, int64_t total, void *userData) noexcept
{
    try {
        const TransferProgress &p = *static_cast<const TransferProgress *>(userData);
        if (p.Handler) {
            p.Handler(increment, transferred, total, p.UserData);
        }
    } catch (...) {
        /* never unwind into the library */
    }
}

inline void deleteProgressBox(void *userData) noexcept { delete static_cast<TransferProgress *>(userData); }

/* --- GetObject body: user_data is the std::iostream, borrowed for the call --- */

inline int32_t writeTrampoline(const uint8_t *data, size_t len, void *userData) noexcept
{
    try {
        std::iostream &stream = *static_cast<std::iostream *>(userData);
        stream.write(reinterpret_cast<const char *>(data), static_cast<std::streamsize>(len));
        return stream.good() ? 0 : 1;
    } catch (...) {
        return 2;
    }
}

/* A GetObject body going to a stream, with the CRC64 of what was written when asked for
 * (REQUEST_FLAG_SAVE_CLIENT_CRC64). Borrowed for the call. */
struct StreamSink {
    StreamSink(std::iostream *s, bool crc) : stream(s), computeCrc(crc), crc(0) {}
    std::iostream *stream;
    bool computeCrc;
    uint64_t crc;
};

inline int32_t sinkTrampoline(const uint8_t *data, size_t len, void *userData) noexcept
{
    try {
        StreamSink &sink = *static_cast<StreamSink *>(userData);
        sink.stream->write(reinterpret_cast<const char *>(data), static_cast<std::streamsize>(len));
        if (sink.computeCrc) {
            sink.crc = oss_crc64(sink.crc, data, len);
        }
        return sink.stream->good() ? 0 : 1;
    } catch (...) {
        return 2;
    }
}

}  // namespace detail
}  // namespace OSS
}  // namespace AlibabaCloud

#endif  // ALIBABACLOUD_OSS_DETAIL_BRIDGE_H
