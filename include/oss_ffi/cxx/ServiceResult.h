/*
 * oss_ffi/cxx/ServiceResult.h - the raw answer of a request: request id and headers.
 */
#ifndef OSS_FFI_CXX_SERVICERESULT_H
#define OSS_FFI_CXX_SERVICERESULT_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <string>

#include <oss_ffi/cxx/Types.h>

OSS_FFI_CXX_NS_BEGIN

class ServiceResult {
public:
    ServiceResult() : responseCode_(0) {}
    virtual ~ServiceResult() = default;

    const std::string &RequestId() const { return requestId_; }
    const HeaderCollection &headerCollection() const { return headerCollection_; }
    int responseCode() const { return responseCode_; }

    void setRequestId(const std::string &value) { requestId_ = value; }
    void setHeaderCollection(const HeaderCollection &value) { headerCollection_ = value; }
    void setResponseCode(int value) { responseCode_ = value; }

private:
    std::string requestId_;
    HeaderCollection headerCollection_;
    int responseCode_;
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_SERVICERESULT_H
