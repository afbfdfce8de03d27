/*
 * oss_ffi/cxx/auth/SimpleCredentialsProvider.h - fixed credentials.
 */
#ifndef OSS_FFI_CXX_AUTH_SIMPLECREDENTIALSPROVIDER_H
#define OSS_FFI_CXX_AUTH_SIMPLECREDENTIALSPROVIDER_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <string>

#include <oss_ffi/cxx/auth/Credentials.h>
#include <oss_ffi/cxx/auth/CredentialsProvider.h>

OSS_FFI_CXX_NS_BEGIN

class SimpleCredentialsProvider : public CredentialsProvider {
public:
    explicit SimpleCredentialsProvider(const Credentials &credentials) : credentials_(credentials) {}
    SimpleCredentialsProvider(const std::string &accessKeyId, const std::string &accessKeySecret,
                              const std::string &securityToken = "")
        : credentials_(accessKeyId, accessKeySecret, securityToken)
    {
    }
    ~SimpleCredentialsProvider() = default;
    Credentials getCredentials() override { return credentials_; }

private:
    Credentials credentials_;
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_AUTH_SIMPLECREDENTIALSPROVIDER_H
