/*
 * alibabacloud/oss/OssResult.h - base classes of the operation results.
 */
#ifndef ALIBABACLOUD_OSS_OSSRESULT_H
#define ALIBABACLOUD_OSS_OSSRESULT_H

#include <string>
#include <vector>

#include <alibabacloud/oss/Types.h>

namespace AlibabaCloud {
namespace OSS {

typedef std::vector<std::string> CommonPrefixList;

class OssResult {
public:
    OssResult() : parseDone_(false) {}
    virtual ~OssResult() = default;
    const std::string &RequestId() const { return requestId_; }
    void setRequestId(const std::string &value) { requestId_ = value; }

protected:
    bool parseDone_;
    std::string requestId_;
};

class OssObjectResult : public OssResult {
public:
    OssObjectResult() = default;
    const std::string &VersionId() const { return versionId_; }
    void setVersionId(const std::string &value) { versionId_ = value; }

protected:
    std::string versionId_;
};

}  // namespace OSS
}  // namespace AlibabaCloud

#endif  // ALIBABACLOUD_OSS_OSSRESULT_H
