/*
 * oss_ffi/cxx/Types.h - enums, callbacks and collections of the OSS C++ SDK surface
 * (oss-ffi's header-only C++ layer; names as in the Alibaba Cloud OSS C++ SDK 1.10).
 */
#ifndef OSS_FFI_CXX_TYPES_H
#define OSS_FFI_CXX_TYPES_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

OSS_FFI_CXX_NS_BEGIN

enum StorageClass { Standard, IA, Archive, ColdArchive };

enum CannedAccessControlList { Private = 0, PublicRead, PublicReadWrite, Default };

/* Overrides of response headers for GetObject / ResumableDownloadObject (response-*). */
enum RequestResponseHeader {
    ContentType,
    ContentLanguage,
    Expires,
    CacheControl,
    ContentDisposition,
    ContentEncoding,
};

enum LogLevel { LogOff = 0, LogFatal, LogError, LogWarn, LogInfo, LogDebug, LogTrace, LogAll };

enum class RequestPayer { NotSet = 0, BucketOwner, Requester };

/* V1: HMAC-SHA1 (the default). V4: OSS4-HMAC-SHA256, needs OssClient::SetRegion. */
enum class SignatureVersionType { V1, V4 };

/* Called from library threads, one call at a time; it must not call back into the SDK. */
typedef void (*LogCallback)(LogLevel level, const std::string &stream);

struct caseSensitiveLess {
    bool operator()(const std::string &lhs, const std::string &rhs) const { return lhs < rhs; }
};

struct caseInsensitiveLess {
    bool operator()(const std::string &lhs, const std::string &rhs) const
    {
        std::string::size_type n = lhs.size() < rhs.size() ? lhs.size() : rhs.size();
        for (std::string::size_type i = 0; i < n; ++i) {
            int a = std::tolower(static_cast<unsigned char>(lhs[i]));
            int b = std::tolower(static_cast<unsigned char>(rhs[i]));
            if (a != b) {
                return a < b;
            }
        }
        return lhs.size() < rhs.size();
    }
};

/* increment: bytes just received; transferred of total done (never decreasing; after a resume
 * the first call reports the bytes already on disk). Called from a library thread, serialised. */
typedef std::function<void(size_t increment, int64_t transferred, int64_t total, void *userData)>
    TransferProgressHandler;

struct TransferProgress {
    TransferProgressHandler Handler;
    void *UserData;
};

typedef std::vector<std::string> RefererList;
typedef std::map<std::string, std::string, caseInsensitiveLess> MetaData;
typedef std::map<std::string, std::string, caseInsensitiveLess> HeaderCollection;
typedef std::map<std::string, std::string, caseSensitiveLess> ParameterCollection;
typedef std::function<std::shared_ptr<std::iostream>(void)> IOStreamFactory;
typedef std::vector<unsigned char> ByteBuffer;

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_TYPES_H
