/*
 * oss_ffi/cxx/OssRequest.h - base classes of the object requests.
 */
#ifndef OSS_FFI_CXX_OSSREQUEST_H
#define OSS_FFI_CXX_OSSREQUEST_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <cstdint>
#include <string>

#include <oss_ffi/cxx/ServiceRequest.h>
#include <oss_ffi/cxx/Types.h>

OSS_FFI_CXX_NS_BEGIN

class OssRequest : public ServiceRequest {
public:
    OssRequest() = default;
    virtual ~OssRequest() = default;

protected:
    OssRequest(const std::string &bucket, const std::string &key) : bucket_(bucket), key_(key) {}
    const std::string &bucket() const { return bucket_; }
    const std::string &key() const { return key_; }

    std::string bucket_;
    std::string key_;
};

class OssBucketRequest : public OssRequest {
public:
    explicit OssBucketRequest(const std::string &bucket) : OssRequest(bucket, "") {}
    void setBucket(const std::string &bucket) { bucket_ = bucket; }
    const std::string &Bucket() const { return bucket_; }
};

class OssObjectRequest : public OssRequest {
public:
    OssObjectRequest(const std::string &bucket, const std::string &key)
        : OssRequest(bucket, key), requestPayer_(OSS_FFI_CXX_NS::RequestPayer::NotSet), versionId_()
    {
    }
    void setBucket(const std::string &bucket) { bucket_ = bucket; }
    const std::string &Bucket() const { return bucket_; }
    void setKey(const std::string &key) { key_ = key; }
    const std::string &Key() const { return key_; }

    void setRequestPayer(OSS_FFI_CXX_NS::RequestPayer value) { requestPayer_ = value; }
    OSS_FFI_CXX_NS::RequestPayer RequestPayer() const { return requestPayer_; }
    void setVersionId(const std::string &versionId) { versionId_ = versionId; }
    const std::string &VersionId() const { return versionId_; }

protected:
    OSS_FFI_CXX_NS::RequestPayer requestPayer_;
    std::string versionId_;
};

/* Part size, threads and checkpoint directory of a resumable transfer. */
class OssResumableBaseRequest : public OssRequest {
public:
    OssResumableBaseRequest(const std::string &bucket, const std::string &key, const std::string &checkpointDir,
                            const uint64_t partSize, const uint32_t threadNum)
        : OssRequest(bucket, key),
          partSize_(partSize),
          objectSize_(0),
          threadNum_(threadNum == 0 ? 1 : threadNum),
          checkpointDir_(checkpointDir),
          requestPayer_(OSS_FFI_CXX_NS::RequestPayer::NotSet),
          trafficLimit_(0),
          versionId_()
    {
    }
    /* A wide checkpoint directory (CheckpointDirW()); it is used as UTF-8. */
    OssResumableBaseRequest(const std::string &bucket, const std::string &key, const std::wstring &checkpointDir,
                            const uint64_t partSize, const uint32_t threadNum)
        : OssResumableBaseRequest(bucket, key, std::string(), partSize, threadNum)
    {
        checkpointDirW_ = checkpointDir;
    }

    void setBucket(const std::string &bucket) { bucket_ = bucket; }
    const std::string &Bucket() const { return bucket_; }
    void setKey(const std::string &key) { key_ = key; }
    const std::string &Key() const { return key_; }

    /* 100 KiB .. 5 GiB (checked when the download starts). */
    void setPartSize(uint64_t partSize) { partSize_ = partSize; }
    uint64_t PartSize() const { return partSize_; }
    void setObjectSize(uint64_t objectSize) { objectSize_ = objectSize; }
    uint64_t ObjectSize() const { return objectSize_; }
    /* At least 1 (checked when the download starts). */
    void setThreadNum(uint32_t threadNum) { threadNum_ = threadNum; }
    uint32_t ThreadNum() const { return threadNum_; }
    /* An existing directory; empty: no checkpoint (not resumable). */
    void setCheckpointDir(const std::string &checkpointDir)
    {
        checkpointDir_ = checkpointDir;
        checkpointDirW_.clear();
    }
    void setCheckpointDir(const std::wstring &checkpointDir)
    {
        checkpointDirW_ = checkpointDir;
        checkpointDir_.clear();
    }
    const std::string &CheckpointDir() const { return checkpointDir_; }
    const std::wstring &CheckpointDirW() const { return checkpointDirW_; }
    bool hasCheckpointDir() const { return !checkpointDir_.empty() || !checkpointDirW_.empty(); }
    void setObjectMtime(const std::string &mtime) { mtime_ = mtime; }
    const std::string &ObjectMtime() const { return mtime_; }
    void setRequestPayer(OSS_FFI_CXX_NS::RequestPayer value) { requestPayer_ = value; }
    OSS_FFI_CXX_NS::RequestPayer RequestPayer() const { return requestPayer_; }
    /* Server-side throttle per request in bit/s: 0 (none) or 245760 .. 838860800. */
    void setTrafficLimit(uint64_t value) { trafficLimit_ = value; }
    uint64_t TrafficLimit() const { return trafficLimit_; }
    void setVersionId(const std::string &versionId) { versionId_ = versionId; }
    const std::string &VersionId() const { return versionId_; }

protected:
    uint64_t partSize_;
    uint64_t objectSize_;
    uint32_t threadNum_;
    std::string checkpointDir_;
    std::wstring checkpointDirW_;
    std::string mtime_;
    OSS_FFI_CXX_NS::RequestPayer requestPayer_;
    uint64_t trafficLimit_;
    std::string versionId_;
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_OSSREQUEST_H
