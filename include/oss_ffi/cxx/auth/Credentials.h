/*
 * oss_ffi/cxx/auth/Credentials.h - an access key pair and optional STS token.
 */
#ifndef OSS_FFI_CXX_AUTH_CREDENTIALS_H
#define OSS_FFI_CXX_AUTH_CREDENTIALS_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <string>

OSS_FFI_CXX_NS_BEGIN

class Credentials {
public:
    Credentials() {}
    Credentials(const std::string &accessKeyId, const std::string &accessKeySecret,
                const std::string &sessionToken = "")
        : accessKeyId_(accessKeyId), accessKeySecret_(accessKeySecret), sessionToken_(sessionToken)
    {
    }
    ~Credentials() {}

    const std::string &AccessKeyId() const { return accessKeyId_; }
    const std::string &AccessKeySecret() const { return accessKeySecret_; }
    const std::string &SessionToken() const { return sessionToken_; }
    void setAccessKeyId(const std::string &accessKeyId) { accessKeyId_ = accessKeyId; }
    void setAccessKeySecret(const std::string &accessKeySecret) { accessKeySecret_ = accessKeySecret; }
    void setSessionToken(const std::string &sessionToken) { sessionToken_ = sessionToken; }

private:
    std::string accessKeyId_;
    std::string accessKeySecret_;
    std::string sessionToken_;
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_AUTH_CREDENTIALS_H
