/*
 * alibabacloud/oss/model/VoidResult.h - the result of operations that return nothing.
 */
#ifndef ALIBABACLOUD_OSS_MODEL_VOIDRESULT_H
#define ALIBABACLOUD_OSS_MODEL_VOIDRESULT_H

#include <alibabacloud/oss/OssResult.h>

namespace AlibabaCloud {
namespace OSS {

class VoidResult : public OssResult {
public:
    VoidResult() = default;
};

}  // namespace OSS
}  // namespace AlibabaCloud

#endif  // ALIBABACLOUD_OSS_MODEL_VOIDRESULT_H
