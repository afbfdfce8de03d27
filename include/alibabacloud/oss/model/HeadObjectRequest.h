/*
 * alibabacloud/oss/model/HeadObjectRequest.h - parameters of OssClient::HeadObject.
 */
#ifndef ALIBABACLOUD_OSS_MODEL_HEADOBJECTREQUEST_H
#define ALIBABACLOUD_OSS_MODEL_HEADOBJECTREQUEST_H

#include <string>
#include <vector>

#include <alibabacloud/oss/OssRequest.h>

namespace AlibabaCloud {
namespace OSS {

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

}  // namespace OSS
}  // namespace AlibabaCloud

#endif  // ALIBABACLOUD_OSS_MODEL_HEADOBJECTREQUEST_H
