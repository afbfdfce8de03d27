/*
 * alibabacloud/oss/auth/SimpleCredentialsProvider.h - fixed credentials.
 */
#ifndef ALIBABACLOUD_OSS_AUTH_SIMPLECREDENTIALSPROVIDER_H
#define ALIBABACLOUD_OSS_AUTH_SIMPLECREDENTIALSPROVIDER_H

#include <string>

#include <alibabacloud/oss/auth/Credentials.h>
#include <alibabacloud/oss/auth/CredentialsProvider.h>

namespace AlibabaCloud {
namespace OSS {

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

}  // namespace OSS
}  // namespace AlibabaCloud

#endif  // ALIBABACLOUD_OSS_AUTH_SIMPLECREDENTIALSPROVIDER_H
