/*
 * oss_ffi/cxx/model/GeneratePresignedUrlRequest.h - parameters of
 * OssClient::GeneratePresignedUrl, as in the official SDK.
 *
 * Only GET URLs are made (this library downloads): another method is a ValidateError. The
 * version id, response-* overrides, traffic limit and request payer go into the URL and its
 * signature. Differences: content type / MD5, user or HTTP metadata (signed headers), extra
 * parameters, setProcess and setUnencodedSlash(true) are refused with ValidateError rather than
 * signed; addAdditionalSignHeader is accepted and ignored (no header is signed).
 */
#ifndef OSS_FFI_CXX_MODEL_GENERATEPRESIGNEDURLREQUEST_H
#define OSS_FFI_CXX_MODEL_GENERATEPRESIGNEDURLREQUEST_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <cstdint>
#include <ctime>
#include <map>
#include <string>

#include <oss_ffi/cxx/Types.h>
#include <oss_ffi/cxx/http/HttpType.h>
#include <oss_ffi/cxx/model/ObjectMetaData.h>

OSS_FFI_CXX_NS_BEGIN

class GeneratePresignedUrlRequest {
public:
    GeneratePresignedUrlRequest(const std::string &bucket, const std::string &key)
        : GeneratePresignedUrlRequest(bucket, key, Http::Get)
    {
    }
    /* Expires 15 minutes from now unless setExpires is called. */
    GeneratePresignedUrlRequest(const std::string &bucket, const std::string &key, Http::Method method)
        : bucket_(bucket),
          key_(key),
          method_(method),
          unencodedSlash_(false),
          expires_(static_cast<int64_t>(std::time(nullptr)) + 15 * 60),
          trafficLimit_(0),
          requestPayer_(OSS_FFI_CXX_NS::RequestPayer::NotSet),
          unsupported_()
    {
    }

    void setBucket(const std::string &bucket) { bucket_ = bucket; }
    void setKey(const std::string &key) { key_ = key; }
    void setContentType(const std::string &value) { metaData_.setContentType(value); }
    void setContentMd5(const std::string &value) { metaData_.setContentMd5(value); }
    /* Unix time (seconds) at which the URL stops working. */
    void setExpires(int64_t unixTime) { expires_ = unixTime; }
    void setProcess(const std::string &) { unsupported_ = "x-oss-process (image processing) is not supported"; }
    void setTrafficLimit(uint64_t value) { trafficLimit_ = value; }
    void setVersionId(const std::string &versionId) { versionId_ = versionId; }
    void setRequestPayer(OSS_FFI_CXX_NS::RequestPayer value) { requestPayer_ = value; }
    void addResponseHeaders(RequestResponseHeader header, const std::string &value)
    {
        responseHeaders_[header] = value;
    }
    void addParameter(const std::string &key, const std::string &value)
    {
        (void)value;
        unsupported_ = "the parameter " + key + " is not supported in a presigned URL by this library";
    }
    MetaData &UserMetaData() { return metaData_.UserMetaData(); }
    MetaData &HttpMetaData() { return metaData_.HttpMetaData(); }
    void setUnencodedSlash(bool value) { unencodedSlash_ = value; }
    void addAdditionalSignHeader(const std::string &) {}

    /* Getters of this layer (the official class has none; OssClient reads them). */
    const std::string &Bucket() const { return bucket_; }
    const std::string &Key() const { return key_; }
    Http::Method Method() const { return method_; }
    int64_t Expires() const { return expires_; }
    uint64_t TrafficLimit() const { return trafficLimit_; }
    const std::string &VersionId() const { return versionId_; }
    OSS_FFI_CXX_NS::RequestPayer RequestPayer() const { return requestPayer_; }
    const std::map<RequestResponseHeader, std::string> &ResponseHeaders() const { return responseHeaders_; }
    /* Why the request cannot be presigned by this library; empty when it can. */
    std::string Unsupported() const
    {
        if (!unsupported_.empty()) {
            return unsupported_;
        }
        if (unencodedSlash_) {
            return "setUnencodedSlash(true) is not supported";
        }
        if (!metaData_.HttpMetaData().empty() || !metaData_.UserMetaData().empty()) {
            return "signed headers (content type, MD5, metadata) are not supported in a GET URL by this library";
        }
        return std::string();
    }

private:
    std::string bucket_;
    std::string key_;
    Http::Method method_;
    ObjectMetaData metaData_;
    bool unencodedSlash_;
    int64_t expires_;
    uint64_t trafficLimit_;
    std::string versionId_;
    OSS_FFI_CXX_NS::RequestPayer requestPayer_;
    std::map<RequestResponseHeader, std::string> responseHeaders_;
    std::string unsupported_;
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_MODEL_GENERATEPRESIGNEDURLREQUEST_H
