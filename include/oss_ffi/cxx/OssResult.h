/*
 * oss_ffi/cxx/OssResult.h - base classes of the operation results.
 */
#ifndef OSS_FFI_CXX_OSSRESULT_H
#define OSS_FFI_CXX_OSSRESULT_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <string>
#include <vector>

#include <oss_ffi/cxx/Types.h>

OSS_FFI_CXX_NS_BEGIN

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

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_OSSRESULT_H
