/*
 * oss_ffi/cxx/model/DownloadObjectRequest.h - parameters of
 * OssClient::ResumableDownloadObject.
 *
 * Defaults: part size 8 MiB, 3 threads, no checkpoint (an empty checkpointDir means not
 * resumable). A range download writes only the range's bytes to the file.
 */
#ifndef OSS_FFI_CXX_MODEL_DOWNLOADOBJECTREQUEST_H
#define OSS_FFI_CXX_MODEL_DOWNLOADOBJECTREQUEST_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <oss_ffi/cxx/OssRequest.h>
#include <oss_ffi/cxx/Types.h>
#include <oss_ffi/cxx/model/ObjectMetaData.h>

OSS_FFI_CXX_NS_BEGIN

class DownloadObjectRequest : public OssResumableBaseRequest {
public:
    DownloadObjectRequest(const std::string &bucket, const std::string &key, const std::string &filePath)
        : DownloadObjectRequest(bucket, key, filePath, "", 8ULL * 1024 * 1024, 3)
    {
    }
    DownloadObjectRequest(const std::string &bucket, const std::string &key, const std::string &filePath,
                          const std::string &checkpointDir, const uint64_t partSize, const uint32_t threadNum)
        : OssResumableBaseRequest(bucket, key, checkpointDir, partSize, threadNum),
          rangeIsSet_(false),
          filePath_(filePath),
          verifyOnResume_(true),
          directIO_(true),
          throughputTarget_(0)
    {
        range_[0] = 0;
        range_[1] = -1;
        tempFilePath_ = filePath + ".temp";
    }
    DownloadObjectRequest(const std::string &bucket, const std::string &key, const std::string &filePath,
                          const std::string &checkpointDir)
        : DownloadObjectRequest(bucket, key, filePath, checkpointDir, 8ULL * 1024 * 1024, 3)
    {
    }

    /* Wide paths, as in the official SDK (FilePathW(), CheckpointDirW()); used as UTF-8. */
    DownloadObjectRequest(const std::string &bucket, const std::string &key, const std::wstring &filePath)
        : DownloadObjectRequest(bucket, key, filePath, std::wstring(), 8ULL * 1024 * 1024, 3)
    {
    }
    DownloadObjectRequest(const std::string &bucket, const std::string &key, const std::wstring &filePath,
                          const std::wstring &checkpointDir, const uint64_t partSize, const uint32_t threadNum)
        : OssResumableBaseRequest(bucket, key, checkpointDir, partSize, threadNum),
          rangeIsSet_(false),
          filePathW_(filePath),
          verifyOnResume_(true),
          directIO_(true),
          throughputTarget_(0)
    {
        range_[0] = 0;
        range_[1] = -1;
        tempFilePathW_ = filePath + L".temp";
    }
    DownloadObjectRequest(const std::string &bucket, const std::string &key, const std::wstring &filePath,
                          const std::wstring &checkpointDir)
        : DownloadObjectRequest(bucket, key, filePath, checkpointDir, 8ULL * 1024 * 1024, 3)
    {
    }

    std::shared_ptr<std::iostream> Content() { return content_; }
    const std::string &FilePath() const { return filePath_; }
    const std::string &TempFilePath() const { return tempFilePath_; }
    const std::wstring &FilePathW() const { return filePathW_; }
    const std::wstring &TempFilePathW() const { return tempFilePathW_; }

    bool RangeIsSet() const { return rangeIsSet_; }
    int64_t RangeStart() const { return range_[0]; }
    int64_t RangeEnd() const { return range_[1]; }
    const std::string &ModifiedSinceConstraint() const { return modifiedSince_; }
    const std::string &UnmodifiedSinceConstraint() const { return unmodifiedSince_; }
    const std::vector<std::string> &MatchingETagsConstraint() const { return matchingETags_; }
    const std::vector<std::string> &NonmatchingETagsConstraint() const { return nonmatchingETags_; }
    const std::map<RequestResponseHeader, std::string> &ResponseHeaders() const { return responseHeaders_; }

    /* Bytes start..end inclusive; end = -1: to the end of the object. */
    void setRange(int64_t start, int64_t end)
    {
        range_[0] = start;
        range_[1] = end;
        rangeIsSet_ = true;
    }
    void setModifiedSinceConstraint(const std::string &gmt) { modifiedSince_ = gmt; }
    void setUnmodifiedSinceConstraint(const std::string &gmt) { unmodifiedSince_ = gmt; }
    void setMatchingETagConstraints(const std::vector<std::string> &match) { matchingETags_ = match; }
    void setNonmatchingETagConstraints(const std::vector<std::string> &match) { nonmatchingETags_ = match; }
    void addResponseHeaders(RequestResponseHeader header, const std::string &value)
    {
        responseHeaders_[header] = value;
    }

    /* Extension (not in the original SDK): on resume, re-read the finished parts and check
     * them against their recorded CRC64 before trusting them. On by default (the final CRC64
     * check then covers every byte on disk); false trusts the recorded CRCs. */
    void setVerifyOnResume(bool verify) { verifyOnResume_ = verify; }
    bool VerifyOnResume() const { return verifyOnResume_; }

    /* Extension: write the temp file with direct I/O (O_DIRECT) where the file system allows
     * it. On by default (faster, and durability costs almost nothing); false: through the page
     * cache. The bytes and the guarantees are the same. */
    void setDirectIO(bool direct) { directIO_ = direct; }
    bool DirectIO() const { return directIO_; }

    /* Extension: instead of the thread count, a rate to reach in bytes per second
     * (ThroughputMax(): as fast as the link allows; 0, the default: the thread count decides).
     * Parts in flight start at what the target implies (64 for ThroughputMax()), double while
     * each step raises the rate measured over a few round trips by 10% or more, and shrink on a
     * capped link, within the client's memory budget (ClientConfiguration::memoryBudget). */
    void setThroughputTarget(uint64_t bytesPerSec) { throughputTarget_ = bytesPerSec; }
    uint64_t ThroughputTarget() const { return throughputTarget_; }
    static uint64_t ThroughputMax() { return UINT64_MAX; }

private:
    bool rangeIsSet_;
    int64_t range_[2];
    std::string modifiedSince_;
    std::string unmodifiedSince_;
    std::vector<std::string> matchingETags_;
    std::vector<std::string> nonmatchingETags_;
    std::string filePath_;
    std::string tempFilePath_;
    std::wstring filePathW_;
    std::wstring tempFilePathW_;
    std::shared_ptr<std::iostream> content_;
    std::map<RequestResponseHeader, std::string> responseHeaders_;
    bool verifyOnResume_;
    bool directIO_;
    uint64_t throughputTarget_;
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_MODEL_DOWNLOADOBJECTREQUEST_H
