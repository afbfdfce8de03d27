/*
 * oss_ffi/cxx/model/GetObjectByUrlRequest.h - parameters of OssClient::GetObjectByUrl: a
 * complete (typically presigned) URL, sent as it is.
 *
 * Difference: the headers of the ObjectMetaData constructor are not sent (no x-oss-* header may
 * be added to a signed URL; use a GetObjectRequest on the client for ranges and conditions).
 */
#ifndef OSS_FFI_CXX_MODEL_GETOBJECTBYURLREQUEST_H
#define OSS_FFI_CXX_MODEL_GETOBJECTBYURLREQUEST_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <string>

#include <oss_ffi/cxx/ServiceRequest.h>
#include <oss_ffi/cxx/model/ObjectMetaData.h>

OSS_FFI_CXX_NS_BEGIN

class GetObjectByUrlRequest : public ServiceRequest {
public:
    explicit GetObjectByUrlRequest(const std::string &url) : url_(url), metaData_()
    {
        setFlags(Flags() | REQUEST_FLAG_PARAM_IN_PATH | REQUEST_FLAG_CHECK_CRC64);
    }
    GetObjectByUrlRequest(const std::string &url, const ObjectMetaData &metaData) : url_(url), metaData_(metaData)
    {
        setFlags(Flags() | REQUEST_FLAG_PARAM_IN_PATH | REQUEST_FLAG_CHECK_CRC64);
    }
    const std::string &Url() const { return url_; }
    const ObjectMetaData &Metadata() const { return metaData_; }

private:
    std::string url_;
    ObjectMetaData metaData_;
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_MODEL_GETOBJECTBYURLREQUEST_H
