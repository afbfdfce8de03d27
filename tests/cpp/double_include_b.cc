// See double_include_a.cc.
#include <alibabacloud/oss/OssClient.h>
#include <alibabacloud/oss/OssClient.h>

int other_tu(void);

int other_tu(void)
{
    AlibabaCloud::OSS::OssError error("Code", "Message");
    AlibabaCloud::OSS::GetObjectOutcome outcome(error);
    AlibabaCloud::OSS::ObjectMetaData meta;
    meta.setETag("abc");
    return outcome.isSuccess() || meta.ETag() != "abc" ? 0 : 7;
}
