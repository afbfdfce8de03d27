// NativeCredentialsProvider (include/alibabacloud/oss/auth/NativeCredentialsProvider.h) through
// OssClient, run by tests/credentials.rs against loopback stand-ins of the ECS metadata service
// and STS and the local OSS server: the default chain reaches the ECS role (empty HOME, no
// credential variables) and a HeadObject signs with it; a CLI profile gives its keys; an
// unsupported mode is reported by ok()/error() and fails requests with "InvalidCredentials".
// Environment: OSS_TEST_ENDPOINT, OSS_TEST_BUCKET, OSS_TEST_KEY, OSS_TEST_CLI_CONFIG.
#include <alibabacloud/oss/OssClient.h>
#include <alibabacloud/oss/auth/NativeCredentialsProvider.h>

#include <cstdio>
#include <memory>
#include <string>

#include "check.hpp"

namespace oss = AlibabaCloud::OSS;

int main()
{
    oss::InitializeSdk();
    const std::string endpoint = env("OSS_TEST_ENDPOINT"), bucket = env("OSS_TEST_BUCKET"), key = env("OSS_TEST_KEY");
    oss::ClientConfiguration conf;
    {
        std::shared_ptr<oss::NativeCredentialsProvider> chain = oss::NativeCredentialsProvider::DefaultChain();
        CHECK(chain->ok(), chain->error());
        oss::OssClient client(endpoint, chain, conf);
        oss::ObjectMetaDataOutcome o = client.HeadObject(bucket, key);
        CHECK(o.isSuccess(), o.isSuccess() ? "" : o.error().Code() + ": " + o.error().Message());
        CHECK(client.HeadObject(bucket, key).isSuccess(), "again, with the cached credentials");
        oss::Credentials c = chain->getCredentials();
        CHECK(c.AccessKeyId() == "ecs-ak-1", c.AccessKeyId());
    }
    {
        std::shared_ptr<oss::NativeCredentialsProvider> p =
            oss::NativeCredentialsProvider::Profile(env("OSS_TEST_CLI_CONFIG"), "default");
        CHECK(p->ok(), p->error());
        CHECK(p->getCredentials().AccessKeyId() == "cli-ak", "the profile's key");
    }
    {
        std::shared_ptr<oss::NativeCredentialsProvider> p =
            oss::NativeCredentialsProvider::Profile(env("OSS_TEST_CLI_CONFIG"), "sso");
        CHECK(!p->ok(), "an unsupported mode is refused");
        CHECK(p->error().find("CloudSSO") != std::string::npos, p->error());
        oss::OssClient client(endpoint, p, conf);
        oss::ObjectMetaDataOutcome o = client.HeadObject(bucket, key);
        CHECK(!o.isSuccess() && o.error().Code() == "InvalidCredentials", "requests fail with InvalidCredentials");
    }
    oss::ShutdownSdk();
    if (failures) {
        std::fprintf(stderr, "cpp credentials_api: %d failures\n", failures);
        return 1;
    }
    std::printf("cpp credentials_api: all checks passed\n");
    return 0;
}
