/*
 * oss_ffi/cxx/client/AsyncCallerContext.h - a caller's tag passed through to the handler of
 * an asynchronous call (OssClient::GetObjectAsync), as in the official SDK.
 */
#ifndef OSS_FFI_CXX_CLIENT_ASYNCCALLERCONTEXT_H
#define OSS_FFI_CXX_CLIENT_ASYNCCALLERCONTEXT_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <string>

OSS_FFI_CXX_NS_BEGIN

class AsyncCallerContext {
public:
    AsyncCallerContext() : uuid_() {}
    explicit AsyncCallerContext(const std::string &uuid) : uuid_(uuid) {}
    virtual ~AsyncCallerContext() = default;

    const std::string &Uuid() const { return uuid_; }
    void setUuid(const std::string &uuid) { uuid_ = uuid; }

private:
    std::string uuid_;
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_CLIENT_ASYNCCALLERCONTEXT_H
