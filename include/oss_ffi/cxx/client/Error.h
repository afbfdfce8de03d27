/*
 * oss_ffi/cxx/client/Error.h - the failure a RetryStrategy is asked about.
 */
#ifndef OSS_FFI_CXX_CLIENT_ERROR_H
#define OSS_FFI_CXX_CLIENT_ERROR_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <string>

OSS_FFI_CXX_NS_BEGIN

class Error {
public:
    Error() : status_(0) {}
    Error(const std::string &code, const std::string &message) : status_(0), code_(code), message_(message) {}
    ~Error() = default;

    long Status() const { return status_; }
    const std::string &Code() const { return code_; }
    const std::string &Message() const { return message_; }
    void setStatus(long status) { status_ = status; }
    void setCode(const std::string &code) { code_ = code; }
    void setMessage(const std::string &message) { message_ = message; }

private:
    long status_;
    std::string code_;
    std::string message_;
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_CLIENT_ERROR_H
