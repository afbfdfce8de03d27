/*
 * alibabacloud/oss/ServiceResult.h - the raw answer of a request: request id and headers.
 */
#ifndef ALIBABACLOUD_OSS_SERVICERESULT_H
#define ALIBABACLOUD_OSS_SERVICERESULT_H

#include <string>

#include <alibabacloud/oss/Types.h>

namespace AlibabaCloud {
namespace OSS {

class ServiceResult {
public:
    ServiceResult() : responseCode_(0) {}
    virtual ~ServiceResult() = default;

    const std::string &RequestId() const { return requestId_; }
    const HeaderCollection &headerCollection() const { return headerCollection_; }
    int responseCode() const { return responseCode_; }

    void setRequestId(const std::string &value) { requestId_ = value; }
    void setHeaderCollection(const HeaderCollection &value) { headerCollection_ = value; }
    void setResponseCode(int value) { responseCode_ = value; }

private:
    std::string requestId_;
    HeaderCollection headerCollection_;
    int responseCode_;
};

}  // namespace OSS
}  // namespace AlibabaCloud

#endif  // ALIBABACLOUD_OSS_SERVICERESULT_H
