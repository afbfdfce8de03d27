/*
 * oss_ffi/cxx/auth/EnvironmentVariableCredentialsProvider.h - credentials from
 * OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET and optional OSS_SESSION_TOKEN, read before every
 * request. When they are not set, requests fail with code "InvalidCredentials".
 */
#ifndef OSS_FFI_CXX_AUTH_ENVIRONMENTVARIABLECREDENTIALSPROVIDER_H
#define OSS_FFI_CXX_AUTH_ENVIRONMENTVARIABLECREDENTIALSPROVIDER_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <cstdlib>
#include <string>

#include <oss_ffi/cxx/auth/Credentials.h>
#include <oss_ffi/cxx/auth/CredentialsProvider.h>

OSS_FFI_CXX_NS_BEGIN

class EnvironmentVariableCredentialsProvider : public CredentialsProvider {
public:
    EnvironmentVariableCredentialsProvider() = default;
    ~EnvironmentVariableCredentialsProvider() = default;
    Credentials getCredentials() override
    {
        return Credentials(env("OSS_ACCESS_KEY_ID"), env("OSS_ACCESS_KEY_SECRET"), env("OSS_SESSION_TOKEN"));
    }

private:
    static std::string env(const char *name)
    {
        const char *v = std::getenv(name);
        return v ? std::string(v) : std::string();
    }
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_AUTH_ENVIRONMENTVARIABLECREDENTIALSPROVIDER_H
