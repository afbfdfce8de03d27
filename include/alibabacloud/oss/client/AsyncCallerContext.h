/*
 * alibabacloud/oss/client/AsyncCallerContext.h - a caller's tag passed through to the handler of
 * an asynchronous call (OssClient::GetObjectAsync), as in the official SDK.
 */
#ifndef ALIBABACLOUD_OSS_CLIENT_ASYNCCALLERCONTEXT_H
#define ALIBABACLOUD_OSS_CLIENT_ASYNCCALLERCONTEXT_H

#include <string>

namespace AlibabaCloud {
namespace OSS {

class AsyncCallerContext {
public:
    AsyncCallerContext() : uuid_() {}
    explicit AsyncCallerContext(const std::string &uuid) : uuid_(uuid) {}
    virtual ~AsyncCallerContext() = default;

    const std::string &Uuid() const { return uuid_; }
    void setUuid(const std::string &uuid) { uuid_ = uuid; }

private:
    std::string uuid_;
};

}  // namespace OSS
}  // namespace AlibabaCloud

#endif  // ALIBABACLOUD_OSS_CLIENT_ASYNCCALLERCONTEXT_H
