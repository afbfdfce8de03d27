/*
 * oss_ffi/cxx/OssError.h - the error of an unsuccessful Outcome.
 *
 * Code() is what callers match on: the server's XML Code (NoSuchKey, AccessDenied, ...),
 * "ValidateError" (bad parameters, nothing sent), "CrcCheckError", "RenameError",
 * "ServerError:<status>" (no XML body), "ClientError:<n>" (transport), "Cancelled",
 * "ObjectChanged", "FileLocked", "IOError", "NotInitialized", "InvalidCredentials".
 */
#ifndef OSS_FFI_CXX_OSSERROR_H
#define OSS_FFI_CXX_OSSERROR_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <string>

OSS_FFI_CXX_NS_BEGIN

class OssError {
public:
    OssError() = default;
    OssError(const std::string &code, const std::string &message) : code_(code), message_(message) {}

    const std::string &Code() const { return code_; }
    const std::string &Message() const { return message_; }
    const std::string &RequestId() const { return requestId_; }
    const std::string &Host() const { return host_; }

    void setCode(const std::string &value) { code_ = value; }
    void setMessage(const std::string &value) { message_ = value; }
    void setRequestId(const std::string &value) { requestId_ = value; }
    void setHost(const std::string &value) { host_ = value; }

private:
    std::string code_;
    std::string message_;
    std::string requestId_;
    std::string host_;
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_OSSERROR_H
