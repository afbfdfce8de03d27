/*
 * oss_ffi/cxx/auth/CredentialsProvider.h - a source of credentials.
 *
 * getCredentials() is called before every request (so rotating STS credentials work), from
 * library threads, one call at a time per client. Subclasses may throw: the request then fails
 * with code "InvalidCredentials" (no exception leaves the OssClient call).
 */
#ifndef OSS_FFI_CXX_AUTH_CREDENTIALSPROVIDER_H
#define OSS_FFI_CXX_AUTH_CREDENTIALSPROVIDER_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <oss_ffi/cxx/auth/Credentials.h>

OSS_FFI_CXX_NS_BEGIN

class CredentialsProvider {
public:
    CredentialsProvider() = default;
    virtual ~CredentialsProvider() = default;
    virtual Credentials getCredentials() = 0;
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_AUTH_CREDENTIALSPROVIDER_H
