/*
 * oss_ffi/cxx/client/ClientConfiguration.h - client settings with the C++ SDK's defaults.
 *
 * The fields are read once, when the OssClient is constructed (recvRateLimiter is kept and its
 * Rate() asked again while downloading).
 */
#ifndef OSS_FFI_CXX_CLIENT_CLIENTCONFIGURATION_H
#define OSS_FFI_CXX_CLIENT_CLIENTCONFIGURATION_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <oss_ffi.h>

#include <oss_ffi/cxx/Types.h>
#include <oss_ffi/cxx/auth/CredentialsProvider.h>
#include <oss_ffi/cxx/client/RateLimiter.h>
#include <oss_ffi/cxx/client/RetryStrategy.h>
#include <oss_ffi/cxx/http/HttpType.h>

OSS_FFI_CXX_NS_BEGIN

class ClientConfiguration {
public:
    ClientConfiguration()
        : userAgent(defaultUserAgent()),
          scheme(Http::HTTP),
          maxConnections(16),
          requestTimeoutMs(10000),
          connectTimeoutMs(5000),
          retryStrategy(std::make_shared<DefaultRetryStrategy>(3, 300)),
          proxyScheme(Http::HTTP),
          proxyHost(),
          proxyPort(0),
          proxyUserName(),
          proxyPassword(),
          verifySSL(true),
          caPath(),
          caFile(),
          isCname(false),
          isPathStyle(false),
          enableCrc64(true),
          enableDateSkewAdjustment(true),
          sendRateLimiter(),
          recvRateLimiter(),
          networkInterface(),
          signatureVersion(SignatureVersionType::V1),
          memoryBudget(64ULL * 1024 * 1024),
          resolve(),
          reissueSlowParts(true)
    {
    }
    ~ClientConfiguration() = default;

    /* User-Agent header. */
    std::string userAgent;
    /* Unused: the scheme comes from the endpoint (none = http). */
    Http::Scheme scheme;
    /* Concurrent requests (and pooled connections) per client, 1..1024. */
    unsigned maxConnections;
    /* Low-speed timeout: a request fails when no byte arrives for this long (not a total limit). */
    long requestTimeoutMs;
    /* TCP/TLS connect timeout. */
    long connectTimeoutMs;
    /* See client/RetryStrategy.h; null: no retries. */
    std::shared_ptr<RetryStrategy> retryStrategy;
    /* Proxy, used only when proxyHost is set. */
    Http::Scheme proxyScheme;
    std::string proxyHost;
    unsigned int proxyPort;
    std::string proxyUserName;
    std::string proxyPassword;
    /* Verify the server's certificate and host name. */
    bool verifySSL;
    /* Extra trusted CA certificates: a directory of PEM files / a PEM bundle. */
    std::string caPath;
    std::string caFile;
    /* The endpoint is a custom domain bound to the bucket. */
    bool isCname;
    /* Path-style addressing (endpoint/bucket/key); automatic for IP and localhost endpoints. */
    bool isPathStyle;
    /* Verify the CRC64 of downloads. */
    bool enableCrc64;
    /* Correct the clock offset after RequestTimeTooSkewed. */
    bool enableDateSkewAdjustment;
    /* See client/RateLimiter.h. */
    std::shared_ptr<RateLimiter> sendRateLimiter;
    std::shared_ptr<RateLimiter> recvRateLimiter;
    /* Unused (binding to an interface is not supported). */
    std::string networkInterface;
    /* V4 needs OssClient::SetRegion. */
    SignatureVersionType signatureVersion;
    /* Extension: the memory of all the client's downloads together, in bytes (16 MiB..1 TiB,
     * default 64 MiB): a part waits for room in it rather than allocate, whatever the thread
     * counts (oss_config_set_memory_budget). */
    uint64_t memoryBudget;
    /* Extension: the key that seals and checks resume tokens (HMAC-SHA256; 16 to 1024 bytes,
     * oss_config_set_resume_token_key). Empty (the default): the per-user key file
     * ~/.config/oss-ffi/resume-token.key, made 0600 on first use. Tokens are made and used by
     * the C and Python asynchronous APIs; the official API has none. */
    std::string resumeTokenKey;
    /* Extension (not in the official SDK): addresses for hosts instead of the name service's,
     * as curl's --resolve: each "HOST:PORT:ADDR[,ADDR...]", also covering BUCKET.HOST; PORT must
     * be the endpoint's (oss_config_add_resolve). Empty by default. Either way the client spreads
     * its connections over a host's addresses. */
    std::vector<std::string> resolve;
    /* Extension: called once per request attempt (retries included) with what it was, how it
     * ended and where its time went; the record and its strings are borrowed for the call
     * (oss_config_set_request_metrics_callback). Runs on library threads, possibly for several
     * requests at once: it must be thread-safe and quick, must not call the client, and its
     * exceptions are swallowed. Also makes OssClient::RequestStats count. Empty by default
     * (nothing measured). */
    std::function<void(const oss_request_metrics_t &)> requestMetrics;
    /* Extension: a download's part far slower than its other parts is re-requested, for the
     * bytes it has not delivered, on a new connection (oss_config_set_reissue_slow_parts). On by
     * default. */
    bool reissueSlowParts;

private:
    static std::string defaultUserAgent()
    {
#if defined(__linux__)
        const char *os = "Linux";
#elif defined(__APPLE__)
        const char *os = "Darwin";
#elif defined(_WIN32)
        const char *os = "Windows";
#else
        const char *os = "Unknown";
#endif
        return std::string("aliyun-sdk-cpp/") + OSS_FFI_VERSION + " (" + os + ") oss-ffi";
    }
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_CLIENT_CLIENTCONFIGURATION_H
