// Linked with double_include_b.cc: both include the whole C++ layer (twice), so any definition in
// a header that is not inline shows up as a multiple-definition link error.
#include <alibabacloud/oss/OssClient.h>
#include <alibabacloud/oss/OssClient.h>

#include <cstdio>

int other_tu(void);

int main()
{
    AlibabaCloud::OSS::ClientConfiguration conf;
    AlibabaCloud::OSS::DownloadObjectRequest request("bucket", "key", "file");
    uint64_t crc = AlibabaCloud::OSS::ComputeCRC64(0, "123456789", 9);
    if (crc != 0x995DC9BBDF1939FAULL || conf.maxConnections != 16 || request.ThreadNum() != 3) {
        return 1;
    }
    std::puts(other_tu() == 7 ? "double include ok" : "double include FAILED");
    return other_tu() == 7 ? 0 : 1;
}
