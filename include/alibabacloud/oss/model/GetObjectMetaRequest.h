/*
 * alibabacloud/oss/model/GetObjectMetaRequest.h - parameters of OssClient::GetObjectMeta.
 */
#ifndef ALIBABACLOUD_OSS_MODEL_GETOBJECTMETAREQUEST_H
#define ALIBABACLOUD_OSS_MODEL_GETOBJECTMETAREQUEST_H

#include <string>

#include <alibabacloud/oss/OssRequest.h>

namespace AlibabaCloud {
namespace OSS {

class GetObjectMetaRequest : public OssObjectRequest {
public:
    GetObjectMetaRequest(const std::string &bucket, const std::string &key) : OssObjectRequest(bucket, key) {}
};

}  // namespace OSS
}  // namespace AlibabaCloud

#endif  // ALIBABACLOUD_OSS_MODEL_GETOBJECTMETAREQUEST_H
