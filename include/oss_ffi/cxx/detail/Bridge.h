/*
 * oss_ffi/cxx/detail/Bridge.h - PRIVATE: conversions between the C ABI and the C++ types,
 * and the callback trampolines. Every trampoline is noexcept and catches everything: a C++
 * exception never unwinds into the library.
 */
#ifndef OSS_FFI_CXX_DETAIL_BRIDGE_H
#define OSS_FFI_CXX_DETAIL_BRIDGE_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <iostream>
#include <map>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <oss_ffi.h>

#include <oss_ffi/cxx/OssError.h>
#include <oss_ffi/cxx/Types.h>
#include <oss_ffi/cxx/auth/Credentials.h>
#include <oss_ffi/cxx/auth/CredentialsProvider.h>
#include <oss_ffi/cxx/client/RateLimiter.h>
#include <oss_ffi/cxx/detail/Handle.h>
#include <oss_ffi/cxx/model/ObjectMetaData.h>

OSS_FFI_CXX_NS_BEGIN
namespace detail {

/* The official SDK's code and message for an error of the C ABI, chosen by its kind, code and
 * detail, never by its message text (which the library may reword): a request refused or aborted
 * (kind CANCELLED: DisableRequest, ShutdownSdk) is "ClientError:100002" "Disable all requests by
 * upper."; a missing checkpoint directory (detail CHECKPOINT_DIR_MISSING) has the original's
 * exact message. Every other error keeps the C ABI's code and message. */
inline OssError officialError(oss_error_kind_t kind, const std::string &code, oss_error_detail_t detail,
                              const std::string &message)
{
    if (kind == OSS_ERROR_KIND_CANCELLED) {
        return OssError("ClientError:100002", "Disable all requests by upper.");
    }
    if (detail == OSS_ERROR_DETAIL_CHECKPOINT_DIR_MISSING) {
        return OssError(code, "Checkpoint directory is not exist.");
    }
    return OssError(code, message);
}

/* The C error as the official SDK reports it (officialError), with its request id and host. */
inline OssError toOssError(const oss_error_t *e)
{
    OssError error = officialError(oss_error_kind(e), oss_error_code(e), oss_error_detail(e), oss_error_message(e));
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

/* A string the C ABI gets as `const char *` (NUL-terminated), with what it is for the message. */
struct CText {
    const char *what;
    const std::string *value;
};

/* false with a ValidateError when one of `texts` holds a NUL: the C ABI would see the string cut
 * there (another key, another file), so it is refused, never truncated. */
inline bool noNul(std::initializer_list<CText> texts, OssError &error)
{
    for (std::initializer_list<CText>::const_iterator it = texts.begin(); it != texts.end(); ++it) {
        std::string::size_type at = it->value->find('\0');
        if (at != std::string::npos) {
            error = validateError(std::string("The ") + it->what + " has a NUL character at byte " +
                                  std::to_string(static_cast<unsigned long long>(at)) +
                                  " (it would be cut there)");
            return false;
        }
    }
    return true;
}

inline bool noNul(const char *what, const std::vector<std::string> &values, OssError &error)
{
    for (std::vector<std::string>::const_iterator it = values.begin(); it != values.end(); ++it) {
        if (!noNul({{what, &*it}}, error)) {
            return false;
        }
    }
    return true;
}

inline bool responseHeadersNoNul(const std::map<RequestResponseHeader, std::string> &headers, OssError &error)
{
    for (std::map<RequestResponseHeader, std::string>::const_iterator it = headers.begin(); it != headers.end(); ++it) {
        if (!noNul({{"response header override", &it->second}}, error)) {
            return false;
        }
    }
    return true;
}

/* The UTF-8 of a wide path (UTF-32, or UTF-16 where wchar_t has 16 bits) into `out`. A value that
 * is no Unicode scalar (an unpaired surrogate, past U+10FFFF) or an embedded L'\0' is refused
 * with a ValidateError naming `what`, `out` untouched: a replacement character would make
 * different paths one file, and the C ABI would cut the path at the NUL. */
inline bool wideToUtf8(const std::wstring &w, const char *what, std::string &out, OssError &error)
{
    std::string utf8;
    for (std::wstring::size_type i = 0; i < w.size(); ++i) {
        std::wstring::size_type at = i;
        uint32_t c = static_cast<uint32_t>(w[i]);
        if (sizeof(wchar_t) == 2) {
            c &= 0xFFFFu;
            if (c >= 0xD800u && c <= 0xDBFFu && i + 1 < w.size()) {
                uint32_t lo = static_cast<uint32_t>(w[i + 1]) & 0xFFFFu;
                if (lo >= 0xDC00u && lo <= 0xDFFFu) {
                    c = 0x10000u + ((c - 0xD800u) << 10) + (lo - 0xDC00u);
                    ++i;
                }
            }
        }
        if (c == 0 || (c >= 0xD800u && c <= 0xDFFFu) || c > 0x10FFFFu) {
            char hex[16];
            std::snprintf(hex, sizeof hex, "%04X", static_cast<unsigned>(c));
            error = validateError(std::string("The ") + what + " has " +
                                  (c == 0 ? std::string("a NUL character")
                                          : std::string("U+") + hex + ", which is not a Unicode character,") +
                                  " at index " + std::to_string(static_cast<unsigned long long>(at)));
            return false;
        }
        if (c < 0x80u) {
            utf8 += static_cast<char>(c);
        } else if (c < 0x800u) {
            utf8 += static_cast<char>(0xC0u | (c >> 6));
            utf8 += static_cast<char>(0x80u | (c & 0x3Fu));
        } else if (c < 0x10000u) {
            utf8 += static_cast<char>(0xE0u | (c >> 12));
            utf8 += static_cast<char>(0x80u | ((c >> 6) & 0x3Fu));
            utf8 += static_cast<char>(0x80u | (c & 0x3Fu));
        } else {
            utf8 += static_cast<char>(0xF0u | (c >> 18));
            utf8 += static_cast<char>(0x80u | ((c >> 12) & 0x3Fu));
            utf8 += static_cast<char>(0x80u | ((c >> 6) & 0x3Fu));
            utf8 += static_cast<char>(0x80u | (c & 0x3Fu));
        }
    }
    out.swap(utf8);
    return true;
}

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
        OssError nul;
        if (!noNul({{"access key id", &c.AccessKeyId()},
                    {"access key secret", &c.AccessKeySecret()},
                    {"security token", &c.SessionToken()}},
                   nul)) {
            return 2;
        }
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

typedef std::function<void(const oss_request_metrics_t &)> MetricsBox;

inline void metricsTrampoline(const oss_request_metrics_t *metrics, void *userData) noexcept
{
    try {
        const MetricsBox &fn = *static_cast<MetricsBox *>(userData);
        if (fn && metrics) {
            fn(*metrics);
        }
    } catch (...) {
    }
}

inline void deleteMetricsBox(void *userData) noexcept { delete static_cast<MetricsBox *>(userData); }

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
OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_DETAIL_BRIDGE_H
