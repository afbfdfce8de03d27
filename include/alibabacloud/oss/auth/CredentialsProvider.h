/*
 * alibabacloud/oss/auth/CredentialsProvider.h - a source of credentials.
 *
 * getCredentials() is called before every request (so rotating STS credentials work), from
 * library threads, one call at a time per client. Subclasses may throw: the request then fails
 * with code "InvalidCredentials" (no exception leaves the OssClient call).
 */
#ifndef ALIBABACLOUD_OSS_AUTH_CREDENTIALSPROVIDER_H
#define ALIBABACLOUD_OSS_AUTH_CREDENTIALSPROVIDER_H

#include <alibabacloud/oss/auth/Credentials.h>

namespace AlibabaCloud {
namespace OSS {

class CredentialsProvider {
public:
    CredentialsProvider() = default;
    virtual ~CredentialsProvider() = default;
    virtual Credentials getCredentials() = 0;
};

}  // namespace OSS
}  // namespace AlibabaCloud

#endif  // ALIBABACLOUD_OSS_AUTH_CREDENTIALSPROVIDER_H
