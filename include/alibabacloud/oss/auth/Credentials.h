/*
 * alibabacloud/oss/auth/Credentials.h - an access key pair and optional STS token.
 */
#ifndef ALIBABACLOUD_OSS_AUTH_CREDENTIALS_H
#define ALIBABACLOUD_OSS_AUTH_CREDENTIALS_H

#include <string>

namespace AlibabaCloud {
namespace OSS {

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

}  // namespace OSS
}  // namespace AlibabaCloud

#endif  // ALIBABACLOUD_OSS_AUTH_CREDENTIALS_H
