// Linked with double_include_a.cc (the drop-in form, AlibabaCloud::OSS): this translation unit
// uses the coexistence form (OssFfi), so one program holds both; any definition that is not
// inline, or a name outside the namespaces, would be a link error or an ODR clash.
#include <oss_ffi/cxx/OssClient.h>
#include <oss_ffi/cxx/OssClient.h>

int other_tu(void);

int other_tu(void)
{
    OssFfi::OssError error("Code", "Message");
    OssFfi::GetObjectOutcome outcome(error);
    OssFfi::ObjectMetaData meta;
    meta.setETag("abc");
    OssFfi::DownloadObjectRequest request("bucket", "key", "file");
    return outcome.isSuccess() || meta.ETag() != "abc" || request.ThreadNum() != 3 ? 0 : 7;
}
