/*
 * alibabacloud/oss/auth/EnvironmentVariableCredentialsProvider.h - credentials from
 * OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET and optional OSS_SESSION_TOKEN, read before every
 * request. When they are not set, requests fail with code "InvalidCredentials".
 */
#ifndef ALIBABACLOUD_OSS_AUTH_ENVIRONMENTVARIABLECREDENTIALSPROVIDER_H
#define ALIBABACLOUD_OSS_AUTH_ENVIRONMENTVARIABLECREDENTIALSPROVIDER_H

#include <cstdlib>
#include <string>

#include <alibabacloud/oss/auth/Credentials.h>
#include <alibabacloud/oss/auth/CredentialsProvider.h>

namespace AlibabaCloud {
namespace OSS {

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

}  // namespace OSS
}  // namespace AlibabaCloud

#endif  // ALIBABACLOUD_OSS_AUTH_ENVIRONMENTVARIABLECREDENTIALSPROVIDER_H
