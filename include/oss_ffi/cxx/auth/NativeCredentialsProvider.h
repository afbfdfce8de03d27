/*
 * oss_ffi/cxx/auth/NativeCredentialsProvider.h - the library's own cloud credentials
 * providers (this library's class: the official OSS C++ SDK has no such class), over the C
 * ABI's oss_credentials_provider_new_* constructors:
 *
 *   Profile(path, profile)   the Alibaba Cloud CLI's ~/.aliyun/config.json (modes AK, StsToken,
 *                            RamRoleArn, ChainableRamRoleArn, EcsRamRole, OIDC) or an ini
 *                            credentials file; profile "" = ALIBABA_CLOUD_PROFILE, else `current`
 *   EcsRamRole(role)         the ECS instance RAM role (metadata service, IMDSv2 token)
 *   OidcRole(...)            STS AssumeRoleWithOIDC (RRSA); "" = ALIBABA_CLOUD_ROLE_ARN,
 *                            ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE...
 *   RamRoleArn(...)          STS AssumeRole signed with an access key
 *   DefaultChain()           environment, OIDC, CLI profile, credentials file, ECS RAM role
 *
 * Credentials that expire are refreshed 15 minutes before expiry, one refresh shared by
 * concurrent requests; a failed refresh keeps still-valid credentials (see README,
 * "Credentials"). Use it as any provider:
 *
 *   OssClient client(endpoint, NativeCredentialsProvider::DefaultChain(), conf);
 *
 * No exception at construction: a provider that could not be made (a missing file, an
 * unsupported profile mode...) reports ok() == false and error(), and getCredentials() throws
 * std::runtime_error with that message (a request then fails with "InvalidCredentials").
 * Copies share the native provider. Threads: any; getCredentials() may block for the fetch.
 */
#ifndef OSS_FFI_CXX_AUTH_NATIVECREDENTIALSPROVIDER_H
#define OSS_FFI_CXX_AUTH_NATIVECREDENTIALSPROVIDER_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <memory>
#include <stdexcept>
#include <string>

#include <oss_ffi.h>

#include <oss_ffi/cxx/auth/Credentials.h>
#include <oss_ffi/cxx/auth/CredentialsProvider.h>

OSS_FFI_CXX_NS_BEGIN

class NativeCredentialsProvider : public CredentialsProvider {
public:
    static std::shared_ptr<NativeCredentialsProvider> Profile(const std::string &path = "",
                                                              const std::string &profile = "")
    {
        oss_credentials_provider_t *p = nullptr;
        oss_error_t *err = oss_credentials_provider_new_profile(opt(path), opt(profile), &p);
        return make(p, err);
    }

    static std::shared_ptr<NativeCredentialsProvider> EcsRamRole(const std::string &role = "")
    {
        oss_credentials_provider_t *p = nullptr;
        oss_error_t *err = oss_credentials_provider_new_ecs_ram_role(opt(role), &p);
        return make(p, err);
    }

    static std::shared_ptr<NativeCredentialsProvider> OidcRole(const std::string &roleArn = "",
                                                               const std::string &oidcProviderArn = "",
                                                               const std::string &oidcTokenFile = "",
                                                               const std::string &roleSessionName = "")
    {
        oss_credentials_provider_t *p = nullptr;
        oss_error_t *err = oss_credentials_provider_new_oidc_role(opt(roleArn), opt(oidcProviderArn),
                                                                  opt(oidcTokenFile), opt(roleSessionName), &p);
        return make(p, err);
    }

    static std::shared_ptr<NativeCredentialsProvider> RamRoleArn(const std::string &accessKeyId,
                                                                 const std::string &accessKeySecret,
                                                                 const std::string &roleArn,
                                                                 const std::string &roleSessionName = "",
                                                                 const std::string &securityToken = "")
    {
        oss_credentials_provider_t *p = nullptr;
        oss_error_t *err =
            oss_credentials_provider_new_ram_role_arn(accessKeyId.c_str(), accessKeySecret.c_str(),
                                                      opt(securityToken), roleArn.c_str(), opt(roleSessionName), &p);
        return make(p, err);
    }

    static std::shared_ptr<NativeCredentialsProvider> DefaultChain()
    {
        oss_credentials_provider_t *p = nullptr;
        oss_error_t *err = oss_credentials_provider_new_default_chain(&p);
        return make(p, err);
    }

    ~NativeCredentialsProvider() = default;

    bool ok() const { return native_ != nullptr; }
    const std::string &error() const { return error_; }

    Credentials getCredentials() override
    {
        if (!native_) {
            throw std::runtime_error(error_);
        }
        char *id = nullptr, *secret = nullptr, *token = nullptr;
        oss_error_t *err = oss_credentials_provider_get(native_.get(), &id, &secret, &token);
        if (err) {
            std::string message = oss_error_message(err);
            oss_error_free(err);
            throw std::runtime_error(message);
        }
        Credentials c(id, secret, token);
        oss_string_free(id);
        oss_string_free(secret);
        oss_string_free(token);
        return c;
    }

    /* The native provider (valid while this object lives), e.g. for oss_client_new. */
    const oss_credentials_provider_t *native() const { return native_.get(); }

private:
    struct Free {
        void operator()(oss_credentials_provider_t *p) const { oss_credentials_provider_free(p); }
    };

    NativeCredentialsProvider(oss_credentials_provider_t *p, const std::string &error)
        : native_(p, Free()), error_(error)
    {
    }

    static const char *opt(const std::string &s) { return s.empty() ? nullptr : s.c_str(); }

    static std::shared_ptr<NativeCredentialsProvider> make(oss_credentials_provider_t *p, oss_error_t *err)
    {
        std::string message;
        if (err) {
            message = oss_error_message(err);
            oss_error_free(err);
        }
        return std::shared_ptr<NativeCredentialsProvider>(new NativeCredentialsProvider(p, message));
    }

    std::shared_ptr<oss_credentials_provider_t> native_;
    std::string error_;
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_AUTH_NATIVECREDENTIALSPROVIDER_H
