/*
 * oss_ffi/cxx/ServiceRequest.h - what every request carries: a response stream factory
 * (where GetObject writes the body) and a progress callback.
 */
#ifndef OSS_FFI_CXX_SERVICEREQUEST_H
#define OSS_FFI_CXX_SERVICEREQUEST_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <iostream>
#include <memory>
#include <string>

#include <oss_ffi/cxx/Types.h>

OSS_FFI_CXX_NS_BEGIN

/* Request flags (ServiceRequest::setFlags), as in the official SDK. This library honours
 * REQUEST_FLAG_CHECK_CRC64 together with REQUEST_FLAG_SAVE_CLIENT_CRC64 on GetObject (the CRC64
 * of the bytes received is saved to the result's metadata as x-oss-hash-crc64ecma-by-client);
 * the others concern uploads and are accepted and ignored. */
const int REQUEST_FLAG_CONTENTMD5 = (1 << 0);
const int REQUEST_FLAG_PARAM_IN_PATH = (1 << 1);
const int REQUEST_FLAG_CHECK_CRC64 = (1 << 2);
const int REQUEST_FLAG_SAVE_CLIENT_CRC64 = (1 << 3);
const int REQUEST_FLAG_CHUNKED_ENCODING = (1 << 4);

class ServiceRequest {
public:
    virtual ~ServiceRequest() = default;

    int Flags() const { return flags_; }
    void setFlags(int flags) { flags_ = flags; }

    const IOStreamFactory &ResponseStreamFactory() const { return responseStreamFactory_; }
    void setResponseStreamFactory(const IOStreamFactory &factory) { responseStreamFactory_ = factory; }

    const OSS_FFI_CXX_NS::TransferProgress &TransferProgress() const { return transferProgress_; }
    void setTransferProgress(const OSS_FFI_CXX_NS::TransferProgress &arg) { transferProgress_ = arg; }

protected:
    ServiceRequest() : flags_(0), responseStreamFactory_(), transferProgress_() {
        transferProgress_.UserData = nullptr;
    }

private:
    int flags_;
    IOStreamFactory responseStreamFactory_;
    OSS_FFI_CXX_NS::TransferProgress transferProgress_;
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_SERVICEREQUEST_H
