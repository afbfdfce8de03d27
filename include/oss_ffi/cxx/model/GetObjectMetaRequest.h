/*
 * oss_ffi/cxx/model/GetObjectMetaRequest.h - parameters of OssClient::GetObjectMeta.
 */
#ifndef OSS_FFI_CXX_MODEL_GETOBJECTMETAREQUEST_H
#define OSS_FFI_CXX_MODEL_GETOBJECTMETAREQUEST_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <string>

#include <oss_ffi/cxx/OssRequest.h>

OSS_FFI_CXX_NS_BEGIN

class GetObjectMetaRequest : public OssObjectRequest {
public:
    GetObjectMetaRequest(const std::string &bucket, const std::string &key) : OssObjectRequest(bucket, key) {}
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_MODEL_GETOBJECTMETAREQUEST_H
