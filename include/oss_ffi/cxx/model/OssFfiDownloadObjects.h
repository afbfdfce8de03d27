/*
 * oss_ffi/cxx/model/OssFfiDownloadObjects.h - an oss-ffi EXTENSION, not part of the official
 * Alibaba Cloud OSS C++ SDK (which has no batch download): the request, progress, per-object
 * outcome and report of OssClient::OssFfiDownloadObjects, over oss_client_download_objects in
 * oss_ffi.h. Every name carries "OssFfi" so that nobody takes it for an official call; code that
 * must also build against the official SDK should not use it.
 *
 * A batch downloads every object under a prefix (listed), or every key of a list, into one
 * directory, as one resumable, verified job: a journal of the finished objects (a re-run skips
 * them without fetching a byte), include/exclude patterns (as rclone's filters), size and
 * modification-time ranges, an overwrite and a failure policy, one memory budget for all its
 * objects (the client's). A key that would leave the directory or collide with another key's
 * file fails alone.
 */
#ifndef OSS_FFI_CXX_MODEL_OSSFFIDOWNLOADOBJECTS_H
#define OSS_FFI_CXX_MODEL_OSSFFIDOWNLOADOBJECTS_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <oss_ffi.h>

#include <oss_ffi/cxx/OssError.h>
#include <oss_ffi/cxx/detail/Bridge.h>
#include <oss_ffi/cxx/detail/Handle.h>
#include <oss_ffi/cxx/utils/Outcome.h>

OSS_FFI_CXX_NS_BEGIN

/* What the batch does with an existing file (oss_batch_overwrite_t). */
enum class OssFfiOverwrite { Always = 0, IfChanged = 1, Never = 2 };
/* What the batch does when an object fails (oss_batch_on_failure_t). */
enum class OssFfiOnFailure { Continue = 0, Stop = 1 };
/* What happened to one object (oss_batch_outcome_t). */
enum class OssFfiObjectOutcome {
    Downloaded = 0,
    SkippedUnchanged = 1,
    SkippedExists = 2,
    SkippedFiltered = 3,
    SkippedDirectoryMarker = 4,
    WouldDownload = 5,
    Failed = 6
};

/* A batch's counts (oss_batch_progress_t). */
struct OssFfiBatchProgress {
    uint64_t ObjectsListed = 0;
    uint64_t ObjectsDone = 0;
    uint64_t ObjectsSkipped = 0;
    uint64_t ObjectsFailed = 0;
    uint64_t BytesDone = 0;
    uint64_t BytesTotal = 0;
    uint64_t BytesPerSec = 0;
    bool ListingDone = false;
};

/* One object's outcome (copied out of oss_batch_object_t). */
struct OssFfiBatchObject {
    std::string Key;
    std::string Path; /* the local path; empty when the key has no safe one */
    uint64_t Size = 0;
    std::string ETag;
    OssFfiObjectOutcome Outcome = OssFfiObjectOutcome::Downloaded;
    OssError Error; /* a failed object's error */
};

/* Called on a library thread (calls serialised); an exception thrown there is swallowed. */
typedef std::function<void(const OssFfiBatchProgress &)> OssFfiBatchProgressHandler;
typedef std::function<void(const OssFfiBatchObject &)> OssFfiBatchObjectHandler;

/* The parameters of OssClient::OssFfiDownloadObjects. Defaults: overwrite IfChanged, failures
 * Continue, 64 objects in flight, part size 8 MiB and 4 threads per large object, the journal in
 * the destination directory. */
class OssFfiDownloadObjectsRequest {
public:
    /* Every object whose key starts with `prefix`; a key's file is destDir + the key minus the
     * prefix's directory part (prefix "logs/2026-12-0" puts "logs/2026-12-01/a.gz" at
     * destDir/2026-12-01/a.gz). */
    static OssFfiDownloadObjectsRequest ForPrefix(const std::string &bucket, const std::string &prefix,
                                                  const std::string &destDir)
    {
        OssFfiDownloadObjectsRequest r(bucket, destDir);
        r.prefix_ = prefix;
        return r;
    }
    /* The objects of `keys`, each to destDir/<key>. */
    static OssFfiDownloadObjectsRequest ForKeys(const std::string &bucket, const std::vector<std::string> &keys,
                                                const std::string &destDir)
    {
        OssFfiDownloadObjectsRequest r(bucket, destDir);
        r.keys_ = keys;
        r.byKeys_ = true;
        return r;
    }

    void setInclude(const std::vector<std::string> &patterns) { include_ = patterns; }
    void setExclude(const std::vector<std::string> &patterns) { exclude_ = patterns; }
    /* Inclusive; 0 and UINT64_MAX: no bound. */
    void setSizeRange(uint64_t minSize, uint64_t maxSize)
    {
        minSize_ = minSize;
        maxSize_ = maxSize;
    }
    /* Unix seconds, inclusive; INT64_MIN and INT64_MAX: no bound. */
    void setModifiedRange(int64_t after, int64_t before)
    {
        after_ = after;
        before_ = before;
    }
    void setOverwrite(OssFfiOverwrite policy) { overwrite_ = policy; }
    void setOnFailure(OssFfiOnFailure policy) { onFailure_ = policy; }
    void setPartSize(uint64_t partSize) { partSize_ = partSize; }
    void setThreadNum(uint32_t threadNum) { threadNum_ = threadNum; }
    void setMaxObjectsInFlight(uint32_t n) { maxInFlight_ = n; }
    void setCheckpointDir(const std::string &dir) { checkpointDir_ = dir; }
    void setDryRun(bool dryRun) { dryRun_ = dryRun; }
    void setVerifyOnResume(bool verify) { verifyOnResume_ = verify; }
    void setDirectIO(bool directIO) { directIO_ = directIO; }
    void setProgressHandler(const OssFfiBatchProgressHandler &h) { progress_ = h; }
    void setObjectHandler(const OssFfiBatchObjectHandler &h) { object_ = h; }

    const std::string &Bucket() const { return bucket_; }
    const std::string &Prefix() const { return prefix_; }
    const std::vector<std::string> &Keys() const { return keys_; }
    bool ByKeys() const { return byKeys_; }
    const std::string &DestDir() const { return destDir_; }
    const std::vector<std::string> &Include() const { return include_; }
    const std::vector<std::string> &Exclude() const { return exclude_; }
    uint64_t MinSize() const { return minSize_; }
    uint64_t MaxSize() const { return maxSize_; }
    int64_t ModifiedAfter() const { return after_; }
    int64_t ModifiedBefore() const { return before_; }
    OssFfiOverwrite Overwrite() const { return overwrite_; }
    OssFfiOnFailure OnFailure() const { return onFailure_; }
    uint64_t PartSize() const { return partSize_; }
    uint32_t ThreadNum() const { return threadNum_; }
    uint32_t MaxObjectsInFlight() const { return maxInFlight_; }
    const std::string &CheckpointDir() const { return checkpointDir_; }
    bool DryRun() const { return dryRun_; }
    bool VerifyOnResume() const { return verifyOnResume_; }
    bool DirectIO() const { return directIO_; }
    const OssFfiBatchProgressHandler &ProgressHandler() const { return progress_; }
    const OssFfiBatchObjectHandler &ObjectHandler() const { return object_; }

private:
    OssFfiDownloadObjectsRequest(const std::string &bucket, const std::string &destDir)
        : bucket_(bucket), destDir_(destDir)
    {
    }

    std::string bucket_, prefix_, destDir_, checkpointDir_;
    std::vector<std::string> keys_, include_, exclude_;
    bool byKeys_ = false;
    uint64_t minSize_ = 0, maxSize_ = (std::numeric_limits<uint64_t>::max)();
    int64_t after_ = (std::numeric_limits<int64_t>::min)(), before_ = (std::numeric_limits<int64_t>::max)();
    OssFfiOverwrite overwrite_ = OssFfiOverwrite::IfChanged;
    OssFfiOnFailure onFailure_ = OssFfiOnFailure::Continue;
    uint64_t partSize_ = 8ULL * 1024 * 1024;
    uint32_t threadNum_ = 4, maxInFlight_ = 64;
    bool dryRun_ = false, verifyOnResume_ = true, directIO_ = true;
    OssFfiBatchProgressHandler progress_;
    OssFfiBatchObjectHandler object_;
};

/* What a batch did (oss_batch_report_t, copied). */
class OssFfiBatchReport {
public:
    const OssFfiBatchProgress &Progress() const { return progress_; }
    uint64_t ElapsedMs() const { return elapsedMs_; }
    /* (key, error) of every object that failed, in the order they failed. */
    const std::vector<std::pair<std::string, OssError>> &Failures() const { return failures_; }
    /* Keys the journal knew that the listing no longer has (their files are left alone). */
    const std::vector<std::string> &Deleted() const { return deleted_; }
    /* Whether the batch stopped before its end (listing failed, cancelled, Stop policy). */
    bool Stopped() const { return stopped_; }
    const OssError &StopError() const { return stopError_; }
    const std::string &JournalPath() const { return journalPath_; }

    /* Copies a report out of C (not freed here). */
    static OssFfiBatchReport FromC(const oss_batch_report_t *r)
    {
        OssFfiBatchReport out;
        oss_batch_progress_t p;
        oss_error_free(oss_batch_report_progress(r, &p));
        out.progress_.ObjectsListed = p.objects_listed;
        out.progress_.ObjectsDone = p.objects_done;
        out.progress_.ObjectsSkipped = p.objects_skipped;
        out.progress_.ObjectsFailed = p.objects_failed;
        out.progress_.BytesDone = p.bytes_done;
        out.progress_.BytesTotal = p.bytes_total;
        out.progress_.BytesPerSec = p.bytes_per_sec;
        out.progress_.ListingDone = p.listing_done;
        out.elapsedMs_ = oss_batch_report_elapsed_ms(r);
        for (size_t i = 0, n = oss_batch_report_failure_count(r); i < n; ++i) {
            out.failures_.push_back(std::make_pair(std::string(oss_batch_report_failure_key(r, i)),
                                                   detail::toOssError(oss_batch_report_failure_error(r, i))));
        }
        for (size_t i = 0, n = oss_batch_report_deleted_count(r); i < n; ++i) {
            out.deleted_.push_back(oss_batch_report_deleted_key(r, i));
        }
        if (const oss_error_t *e = oss_batch_report_stopped(r)) {
            out.stopped_ = true;
            out.stopError_ = detail::toOssError(e);
        }
        out.journalPath_ = oss_batch_report_journal_path(r);
        return out;
    }

private:
    OssFfiBatchProgress progress_;
    uint64_t elapsedMs_ = 0;
    std::vector<std::pair<std::string, OssError>> failures_;
    std::vector<std::string> deleted_;
    bool stopped_ = false;
    OssError stopError_;
    std::string journalPath_;
};

/* Success when every object was downloaded, skipped or (dry run) would be; otherwise the error
 * (the batch's stop, or the first failure's). result() holds the report in both cases. */
typedef Outcome<OssError, OssFfiBatchReport> OssFfiDownloadObjectsOutcome;

namespace detail {

inline void batchProgressTrampoline(const oss_batch_progress_t *p, void *userData) noexcept
{
    try {
        const OssFfiBatchProgressHandler &h = *static_cast<const OssFfiBatchProgressHandler *>(userData);
        if (h && p) {
            OssFfiBatchProgress v;
            v.ObjectsListed = p->objects_listed;
            v.ObjectsDone = p->objects_done;
            v.ObjectsSkipped = p->objects_skipped;
            v.ObjectsFailed = p->objects_failed;
            v.BytesDone = p->bytes_done;
            v.BytesTotal = p->bytes_total;
            v.BytesPerSec = p->bytes_per_sec;
            v.ListingDone = p->listing_done;
            h(v);
        }
    } catch (...) {
        /* never unwind into the library */
    }
}

inline void deleteBatchProgressBox(void *userData) noexcept
{
    delete static_cast<OssFfiBatchProgressHandler *>(userData);
}

inline void batchObjectTrampoline(const oss_batch_object_t *o, void *userData) noexcept
{
    try {
        const OssFfiBatchObjectHandler &h = *static_cast<const OssFfiBatchObjectHandler *>(userData);
        if (h && o) {
            OssFfiBatchObject v;
            v.Key = o->key ? o->key : "";
            v.Path = o->path ? o->path : "";
            v.Size = o->size;
            v.ETag = o->etag ? o->etag : "";
            v.Outcome = static_cast<OssFfiObjectOutcome>(o->outcome);
            if (o->error) {
                v.Error = toOssError(o->error);
            }
            h(v);
        }
    } catch (...) {
        /* never unwind into the library */
    }
}

inline void deleteBatchObjectBox(void *userData) noexcept { delete static_cast<OssFfiBatchObjectHandler *>(userData); }

typedef Handle<oss_batch_request_t, oss_batch_request_free> BatchRequestHandle;
typedef Handle<oss_batch_report_t, oss_batch_report_free> BatchReportHandle;

/* A C batch request with every setting of `request`; false with `error` when one is refused. */
inline bool batchRequest(const OssFfiDownloadObjectsRequest &request, BatchRequestHandle &out, OssError &error)
{
    if (!noNul({{"bucket", &request.Bucket()}, {"prefix", &request.Prefix()}, {"destination directory", &request.DestDir()},
                {"checkpoint directory", &request.CheckpointDir()}},
               error) ||
        !noNul("key", request.Keys(), error) || !noNul("include pattern", request.Include(), error) ||
        !noNul("exclude pattern", request.Exclude(), error)) {
        return false;
    }
    oss_batch_request_t *raw = nullptr;
    if (request.ByKeys()) {
        std::vector<const char *> keys;
        for (size_t i = 0; i < request.Keys().size(); ++i) {
            keys.push_back(request.Keys()[i].c_str());
        }
        if (failed(oss_batch_request_new_keys(request.Bucket().c_str(), keys.empty() ? nullptr : &keys[0], keys.size(),
                                              request.DestDir().c_str(), &raw),
                   error)) {
            return false;
        }
    } else if (failed(oss_batch_request_new_prefix(request.Bucket().c_str(), request.Prefix().c_str(),
                                                   request.DestDir().c_str(), &raw),
                      error)) {
        return false;
    }
    out.reset(raw);
    std::vector<const char *> inc, exc;
    for (size_t i = 0; i < request.Include().size(); ++i) {
        inc.push_back(request.Include()[i].c_str());
    }
    for (size_t i = 0; i < request.Exclude().size(); ++i) {
        exc.push_back(request.Exclude()[i].c_str());
    }
    oss_batch_request_t *r = out.get();
    if (failed(oss_batch_request_set_include(r, inc.empty() ? nullptr : &inc[0], inc.size()), error) ||
        failed(oss_batch_request_set_exclude(r, exc.empty() ? nullptr : &exc[0], exc.size()), error) ||
        failed(oss_batch_request_set_size_range(r, request.MinSize(), request.MaxSize()), error) ||
        failed(oss_batch_request_set_modified_range(r, request.ModifiedAfter(), request.ModifiedBefore()), error) ||
        failed(oss_batch_request_set_overwrite(r, static_cast<uint32_t>(request.Overwrite())), error) ||
        failed(oss_batch_request_set_on_failure(r, static_cast<uint32_t>(request.OnFailure())), error) ||
        failed(oss_batch_request_set_part_size(r, request.PartSize()), error) ||
        failed(oss_batch_request_set_thread_num(r, request.ThreadNum()), error) ||
        failed(oss_batch_request_set_max_objects_in_flight(r, request.MaxObjectsInFlight()), error) ||
        failed(oss_batch_request_set_checkpoint_dir(r, request.CheckpointDir().c_str()), error) ||
        failed(oss_batch_request_set_dry_run(r, request.DryRun()), error) ||
        failed(oss_batch_request_set_verify_on_resume(r, request.VerifyOnResume()), error) ||
        failed(oss_batch_request_set_direct_io(r, request.DirectIO()), error)) {
        return false;
    }
    if (request.ProgressHandler() &&
        failed(oss_batch_request_set_progress_callback(r, batchProgressTrampoline,
                                                       new OssFfiBatchProgressHandler(request.ProgressHandler()),
                                                       deleteBatchProgressBox),
               error)) {
        return false;
    }
    if (request.ObjectHandler() &&
        failed(oss_batch_request_set_object_callback(r, batchObjectTrampoline,
                                                     new OssFfiBatchObjectHandler(request.ObjectHandler()),
                                                     deleteBatchObjectBox),
               error)) {
        return false;
    }
    return true;
}

}  // namespace detail

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_MODEL_OSSFFIDOWNLOADOBJECTS_H
