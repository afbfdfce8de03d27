#include <alibabacloud/oss/OssClient.h>
using namespace AlibabaCloud::OSS;
int main(void)
{
/* Set the endpoint for the region where your bucket is located.
For example, https://oss-cn-hangzhou.aliyuncs.com for China (Hangzhou). */
std::string Endpoint = "http://127.0.0.1:18600";
/* Set the region ID for your bucket.
For example, cn-hangzhou for China (Hangzhou). */
std::string Region = "cn-hangzhou";
/* The name of the bucket. */
std::string BucketName = "examplebucket";
/* The full path of the object in OSS, excluding the bucket name. */
std::string ObjectName = "exampledir/exampleobject.txt";
/* The full local path for the downloaded file.
If the file exists, it is overwritten. If it does not exist, it is created. */
std::string DownloadFilePath = "/tmp/oss-ffi-example/examplefile.txt";
/* The directory for the checkpoint file.
This directory must already exist. The checkpoint file records progress and
is deleted automatically after the download completes. */
std::string CheckpointFilePath = "/tmp/oss-ffi-example";
/* Initialize network resources. */
InitializeSdk();
ClientConfiguration conf;
conf.signatureVersion = SignatureVersionType::V4;
/* Load credentials from environment variables OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET. */
auto credentialsProvider = std::make_shared<EnvironmentVariableCredentialsProvider>();
OssClient client(Endpoint, credentialsProvider, conf);
client.SetRegion(Region);
/* Perform a resumable download. */
DownloadObjectRequest request(BucketName, ObjectName, DownloadFilePath, CheckpointFilePath);
auto outcome = client.ResumableDownloadObject(request);
if (!outcome.isSuccess()) {
std::cout << "ResumableDownloadObject fail" <<
",code:" << outcome.error().Code() <<
",message:" << outcome.error().Message() <<
",requestId:" << outcome.error().RequestId() << std::endl;
return -1;
}
/* Release network resources. */
ShutdownSdk();
return 0;
}
