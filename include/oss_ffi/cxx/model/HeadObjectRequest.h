/*
 * oss_ffi/cxx/model/HeadObjectRequest.h - parameters of OssClient::HeadObject.
 */
#ifndef OSS_FFI_CXX_MODEL_HEADOBJECTREQUEST_H
#define OSS_FFI_CXX_MODEL_HEADOBJECTREQUEST_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <string>
#include <vector>

#include <oss_ffi/cxx/OssRequest.h>

OSS_FFI_CXX_NS_BEGIN

class HeadObjectRequest : public OssObjectRequest {
public:
    HeadObjectRequest(const std::string &bucket, const std::string &key) : OssObjectRequest(bucket, key) {}

    void setModifiedSinceConstraint(const std::string &gmt) { modifiedSince_ = gmt; }
    void setUnmodifiedSinceConstraint(const std::string &gmt) { unmodifiedSince_ = gmt; }
    void setMatchingETagConstraints(const std::vector<std::string> &match) { matchingETags_ = match; }
    void addMatchingETagConstraint(const std::string &match) { matchingETags_.push_back(match); }
    void setNonmatchingETagConstraints(const std::vector<std::string> &match) { nonmatchingETags_ = match; }
    void addNonmatchingETagConstraint(const std::string &match) { nonmatchingETags_.push_back(match); }

    const std::string &ModifiedSinceConstraint() const { return modifiedSince_; }
    const std::string &UnmodifiedSinceConstraint() const { return unmodifiedSince_; }
    const std::vector<std::string> &MatchingETagsConstraint() const { return matchingETags_; }
    const std::vector<std::string> &NonmatchingETagsConstraint() const { return nonmatchingETags_; }

private:
    std::string modifiedSince_;
    std::string unmodifiedSince_;
    std::vector<std::string> matchingETags_;
    std::vector<std::string> nonmatchingETags_;
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_MODEL_HEADOBJECTREQUEST_H
