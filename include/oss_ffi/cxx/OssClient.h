/*
 * oss_ffi/cxx/OssClient.h - the OssClient of oss-ffi's header-only C++ layer (names as in the
 * Alibaba Cloud OSS C++ SDK 1.10), over the C ABI in oss_ffi.h. Link with -loss_ffi only. As
 * <oss_ffi/cxx/OssClient.h> its names are in namespace OssFfi (a program may also use the official
 * SDK); as <alibabacloud/oss/OssClient.h>, the drop-in form, in AlibabaCloud::OSS (see
 * detail/Namespace.h).
 *
 * One OssClient may be shared by many threads (copies share the same underlying client). Every
 * expected failure (404, network, CRC, cancellation, bad parameters) comes back as an Outcome
 * whose error() has Code(), Message(), RequestId() and Host(); no exception leaves these calls.
 *
 * Error codes as in the official SDK: a request refused or aborted by DisableRequest (or by
 * ShutdownSdk) is "ClientError:100002"; a CRC64 mismatch is "ClientError:100001" for GetObject and
 * GetObjectByUrl, "CrcCheckError" for ResumableDownloadObject. Deliberate differences (the README's
 * compatibility table has them all): the receive rate limit is the client's aggregate, not per
 * connection; GetObject ranges are always "standard"; GetObject to a file goes through
 * <file>.temp; GeneratePresignedUrl makes GET URLs only; each GetObjectAsync call has its own
 * thread; a resumable range's end past the object is clamped to its last byte.
 */
#ifndef OSS_FFI_CXX_OSSCLIENT_H
#define OSS_FFI_CXX_OSSCLIENT_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <oss_ffi.h>

#include <oss_ffi/cxx/Global.h>
#include <oss_ffi/cxx/OssError.h>
#include <oss_ffi/cxx/OssFwd.h>
#include <oss_ffi/cxx/Types.h>
#include <oss_ffi/cxx/auth/Credentials.h>
#include <oss_ffi/cxx/auth/CredentialsProvider.h>
#include <oss_ffi/cxx/auth/EnvironmentVariableCredentialsProvider.h>
#include <oss_ffi/cxx/auth/SimpleCredentialsProvider.h>
#include <oss_ffi/cxx/client/AsyncCallerContext.h>
#include <oss_ffi/cxx/client/ClientConfiguration.h>
#include <oss_ffi/cxx/client/RateLimiter.h>
#include <oss_ffi/cxx/client/RetryStrategy.h>
#include <oss_ffi/cxx/detail/Async.h>
#include <oss_ffi/cxx/detail/Bridge.h>
#include <oss_ffi/cxx/detail/Handle.h>
#include <oss_ffi/cxx/detail/Settings.h>
#include <oss_ffi/cxx/model/OssFfiDownloadObjects.h>

OSS_FFI_CXX_NS_BEGIN

class OssClient;
/* Called on a library-owned thread with a copy of the client GetObjectAsync was called on, alive
 * for the whole call (see OssClient::GetObjectAsync). */
typedef std::function<void(const OSS_FFI_CXX_NS::OssClient *, const GetObjectRequest &, const GetObjectOutcome &,
                           const std::shared_ptr<const AsyncCallerContext> &)>
    GetObjectAsyncHandler;
typedef std::future<GetObjectOutcome> GetObjectOutcomeCallable;

class OssClient {
public:
    OssClient(const std::string &endpoint, const std::string &accessKeyId, const std::string &accessKeySecret,
              const ClientConfiguration &configuration)
    {
        init(endpoint, Credentials(accessKeyId, accessKeySecret), configuration);
    }
    OssClient(const std::string &endpoint, const std::string &accessKeyId, const std::string &accessKeySecret,
              const std::string &securityToken, const ClientConfiguration &configuration)
    {
        init(endpoint, Credentials(accessKeyId, accessKeySecret, securityToken), configuration);
    }
    OssClient(const std::string &endpoint, const Credentials &credentials, const ClientConfiguration &configuration)
    {
        init(endpoint, credentials, configuration);
    }
    /* The provider is asked before every request (any subclass works, see CredentialsProvider.h). */
    OssClient(const std::string &endpoint, const std::shared_ptr<CredentialsProvider> &credentialsProvider,
              const ClientConfiguration &configuration)
    {
        if (!credentialsProvider) {
            setupError_ = std::make_shared<OssError>(detail::validateError("the credentials provider is null"));
            return;
        }
        oss_credentials_provider_t *raw = nullptr;
        OssError error;
        if (detail::failed(oss_credentials_provider_new_callback(detail::credentialsTrampoline,
                                                                 new detail::ProviderBox(credentialsProvider),
                                                                 detail::deleteProviderBox, &raw),
                           error)) {
            setupError_ = std::make_shared<OssError>(error);
            return;
        }
        connect(endpoint, detail::ProviderHandle(raw), configuration);
    }
    OssClient(const OssClient &) = default;
    OssClient(OssClient &&) = default;
    OssClient &operator=(const OssClient &) = default;
    OssClient &operator=(OssClient &&) = default;
    ~OssClient() = default;

    /* The V4 signing region, e.g. "cn-hangzhou". Call it before sharing the client. */
    void SetRegion(const std::string &region)
    {
        if (!client_) {
            return;
        }
        OssError error;
        if (!detail::noNul({{"region", &region}}, error) ||
            detail::failed(oss_client_set_region(client_.get(), region.c_str()), error)) {
            regionError_ = std::make_shared<OssError>(error);
        } else {
            regionError_.reset();
        }
    }

    /* Aborts every request of this client in flight (they fail with "Cancelled") and refuses new
     * ones until EnableRequest. */
    void DisableRequest() { oss_client_disable_requests(client_.get()); }
    /* Extension: every request of this client so far, added up (all zero unless
     * ClientConfiguration::requestMetrics is set; oss_client_request_stats). */
    oss_request_stats_t RequestStats() const
    {
        oss_request_stats_t stats = oss_request_stats_t();
        if (client_) {
            oss_error_t *err = oss_client_request_stats(client_.get(), &stats);
            if (err) {
                oss_error_free(err);
            }
        }
        return stats;
    }
    void EnableRequest() { oss_client_enable_requests(client_.get()); }

    /* --- GetObject: the body goes to a std::stringstream, a given stream or a file --- */

    GetObjectOutcome GetObject(const std::string &bucket, const std::string &key) const
    {
        return GetObject(GetObjectRequest(bucket, key));
    }
    GetObjectOutcome GetObject(const std::string &bucket, const std::string &key,
                               const std::shared_ptr<std::iostream> &content) const
    {
        try {
            return getToStream(GetObjectRequest(bucket, key), content);
        } catch (...) {
            return GetObjectOutcome(internalError());
        }
    }
    /* Written to fileToSave.temp and renamed over fileToSave when complete and verified;
     * result().Content() is the file, opened for reading and writing. */
    GetObjectOutcome GetObject(const std::string &bucket, const std::string &key, const std::string &fileToSave) const
    {
        try {
            return getToFile(GetObjectRequest(bucket, key), fileToSave);
        } catch (...) {
            return GetObjectOutcome(internalError());
        }
    }
    /* The body goes to request.ResponseStreamFactory()() when set, else to a std::stringstream. */
    GetObjectOutcome GetObject(const GetObjectRequest &request) const
    {
        try {
            std::shared_ptr<std::iostream> content;
            if (request.ResponseStreamFactory()) {
                content = request.ResponseStreamFactory()();
            } else {
                content = std::make_shared<std::stringstream>();
            }
            return getToStream(request, content);
        } catch (...) {
            return GetObjectOutcome(internalError());
        }
    }

    /* --- presigned URLs --- */

    /* A GET URL signed locally with the client's credentials and signature version (V1, or V4
     * with SetRegion), valid until request's expiry (Unix seconds; default now + 15 minutes).
     * See model/GeneratePresignedUrlRequest.h for what is supported. */
    StringOutcome GeneratePresignedUrl(const GeneratePresignedUrlRequest &request) const
    {
        try {
            OssError error;
            if (!usable(error)) {
                return StringOutcome(error);
            }
            if (request.Method() != Http::Get) {
                return StringOutcome(detail::validateError("only GET URLs can be presigned by this library"));
            }
            std::string unsupported = request.Unsupported();
            if (!unsupported.empty()) {
                return StringOutcome(detail::validateError(unsupported));
            }
            if (!detail::noNul({{"bucket", &request.Bucket()}, {"key", &request.Key()}, {"version id", &request.VersionId()}},
                               error) ||
                !detail::responseHeadersNoNul(request.ResponseHeaders(), error)) {
                return StringOutcome(error);
            }
            oss_get_object_request_t *raw = nullptr;
            if (detail::failed(oss_get_object_request_new(request.Bucket().c_str(), request.Key().c_str(), &raw),
                               error)) {
                return StringOutcome(error);
            }
            detail::GetRequestHandle req(raw);
            if (detail::failed(oss_get_object_request_set_version_id(raw, detail::optional(request.VersionId())),
                               error) ||
                detail::failed(oss_get_object_request_set_request_payer(
                                   raw, request.RequestPayer() == OSS_FFI_CXX_NS::RequestPayer::Requester),
                               error) ||
                detail::failed(oss_get_object_request_set_traffic_limit(raw, request.TrafficLimit()), error)) {
                return StringOutcome(error);
            }
            const std::map<RequestResponseHeader, std::string> &headers = request.ResponseHeaders();
            for (std::map<RequestResponseHeader, std::string>::const_iterator it = headers.begin();
                 it != headers.end(); ++it) {
                if (detail::failed(oss_get_object_request_set_response_header(raw, static_cast<uint32_t>(it->first),
                                                                              it->second.c_str()),
                                   error)) {
                    return StringOutcome(error);
                }
            }
            char *url = nullptr;
            if (detail::failed(oss_client_presign_get_object(client_.get(), raw, request.Expires(), &url), error)) {
                return StringOutcome(error);
            }
            std::string out(url);
            oss_string_free(url);
            return StringOutcome(out);
        } catch (...) {
            return StringOutcome(internalError());
        }
    }
    StringOutcome GeneratePresignedUrl(const std::string &bucket, const std::string &key) const
    {
        return GeneratePresignedUrl(GeneratePresignedUrlRequest(bucket, key));
    }
    StringOutcome GeneratePresignedUrl(const std::string &bucket, const std::string &key, int64_t expires) const
    {
        GeneratePresignedUrlRequest request(bucket, key);
        request.setExpires(expires);
        return GeneratePresignedUrl(request);
    }
    StringOutcome GeneratePresignedUrl(const std::string &bucket, const std::string &key, int64_t expires,
                                       Http::Method method) const
    {
        GeneratePresignedUrlRequest request(bucket, key, method);
        request.setExpires(expires);
        return GeneratePresignedUrl(request);
    }

    /* GET of a complete (presigned) URL, unsigned; the answer is checked as any GetObject's. The
     * body goes to request.ResponseStreamFactory()() when set, else to a std::stringstream. */
    GetObjectOutcome GetObjectByUrl(const GetObjectByUrlRequest &request) const
    {
        try {
            std::shared_ptr<std::iostream> content =
                request.ResponseStreamFactory() ? request.ResponseStreamFactory()()
                                                : std::shared_ptr<std::iostream>(std::make_shared<std::stringstream>());
            return byUrl(request, content, std::string());
        } catch (...) {
            return GetObjectOutcome(internalError());
        }
    }
    GetObjectOutcome GetObjectByUrl(const std::string &url) const { return GetObjectByUrl(GetObjectByUrlRequest(url)); }
    /* Written to file.temp and renamed over file when complete and verified (the official SDK
     * writes the file in place); result().Content() is the file. */
    GetObjectOutcome GetObjectByUrl(const std::string &url, const std::string &file) const
    {
        try {
            return byUrl(GetObjectByUrlRequest(url), std::shared_ptr<std::iostream>(), file);
        } catch (...) {
            return GetObjectOutcome(internalError());
        }
    }

    /* --- asynchronous GetObject --- */

    /* Runs GetObject(request) on another thread, then handler(client, request, outcome, context).
     * `client` is a copy of this client (same underlying client and settings) owned by the call,
     * alive until the handler returns whichever copies are destroyed meanwhile; it is not `this`
     * (the official SDK passes `this`, which a caller may have destroyed by then). A
     * GetObjectAsync made on `client` inside the handler runs on the handler's thread. The
     * client (the last of its copies) waits for running calls when it is destroyed. */
    void GetObjectAsync(const GetObjectRequest &request, const GetObjectAsyncHandler &handler,
                        const std::shared_ptr<const AsyncCallerContext> &context = nullptr) const
    {
        OssClient worker(*this);
        worker.async_.reset();
        std::function<void()> task = [worker, request, handler, context]() {
            try {
                GetObjectOutcome outcome = worker.GetObject(request);
                if (handler) {
                    handler(&worker, request, outcome, context);
                }
            } catch (...) {
                /* an exception of the handler ends its thread quietly */
            }
        };
        if (!async_) {
            task();
            return;
        }
        try {
            async_->run(task);
        } catch (...) {
            task();
        }
    }
    /* GetObject(request) on another thread, made on a copy of this client that the call owns (so
     * destroying this copy meanwhile is fine); the future holds the outcome. */
    GetObjectOutcomeCallable GetObjectCallable(const GetObjectRequest &request) const
    {
        OssClient worker(*this);
        worker.async_.reset();
        return std::async(std::launch::async, [worker, request]() { return worker.GetObject(request); });
    }

    /* --- metadata --- */

    /* As the official SDK: whether GetObjectMeta succeeds (any error, not only 404, is false). */
    bool DoesObjectExist(const std::string &bucket, const std::string &key) const
    {
        return GetObjectMeta(bucket, key).isSuccess();
    }


    ObjectMetaDataOutcome HeadObject(const std::string &bucket, const std::string &key) const
    {
        return HeadObject(HeadObjectRequest(bucket, key));
    }
    ObjectMetaDataOutcome HeadObject(const HeadObjectRequest &request) const
    {
        try {
            OssError error;
            detail::GetRequestHandle req;
            if (!prepare(request, req, error) || !detail::conditions(req.get(), request, error)) {
                return ObjectMetaDataOutcome(error);
            }
            oss_object_meta_t *raw = nullptr;
            if (detail::failed(oss_client_head_object(client_.get(), req.get(), &raw), error)) {
                return ObjectMetaDataOutcome(error);
            }
            detail::MetaHandle meta(raw);
            return ObjectMetaDataOutcome(detail::toMetaData(meta.get()));
        } catch (...) {
            return ObjectMetaDataOutcome(internalError());
        }
    }
    ObjectMetaDataOutcome GetObjectMeta(const std::string &bucket, const std::string &key) const
    {
        return GetObjectMeta(GetObjectMetaRequest(bucket, key));
    }
    ObjectMetaDataOutcome GetObjectMeta(const GetObjectMetaRequest &request) const
    {
        try {
            OssError error;
            detail::GetRequestHandle req;
            if (!prepare(request, req, error)) {
                return ObjectMetaDataOutcome(error);
            }
            oss_object_meta_t *raw = nullptr;
            if (detail::failed(oss_client_get_object_meta(client_.get(), req.get(), &raw), error)) {
                return ObjectMetaDataOutcome(error);
            }
            detail::MetaHandle meta(raw);
            return ObjectMetaDataOutcome(detail::toMetaData(meta.get()));
        } catch (...) {
            return ObjectMetaDataOutcome(internalError());
        }
    }

    /* --- resumable download --- */

    /* Downloads in parts with request.ThreadNum() threads; with a checkpoint directory an
     * interrupted download resumes where it stopped (the checkpoint records the object's ETag,
     * size and Last-Modified, so a changed object is downloaded afresh, never mixed). On success
     * the file holds exactly the object's (or range's) bytes, CRC64-verified; result().Content()
     * is null and result().Metadata() describes the object as a part GET does (response-*
     * overrides applied; for a range, Content-Length is the range's and Content-Range is set). */
    GetObjectOutcome ResumableDownloadObject(const DownloadObjectRequest &request) const
    {
        try {
            OssError error;
            if (!usable(error)) {
                return GetObjectOutcome(error);
            }
            /* As the official SDK: an empty path is an error (never a default from the key). */
            std::string filePath = request.FilePath();
            if (filePath.empty() &&
                !detail::wideToUtf8(request.FilePathW(), "path of file download to", filePath, error)) {
                return GetObjectOutcome(error);
            }
            if (filePath.empty()) {
                return GetObjectOutcome(detail::validateError("The path of file download to is empty"));
            }
            if (!detail::noNul({{"bucket", &request.Bucket()}, {"key", &request.Key()},
                                {"path of file download to", &filePath}},
                               error)) {
                return GetObjectOutcome(error);
            }
            oss_download_request_t *raw = nullptr;
            if (detail::failed(oss_download_request_new(request.Bucket().c_str(), request.Key().c_str(),
                                                        filePath.c_str(), &raw),
                               error)) {
                return GetObjectOutcome(error);
            }
            detail::DownloadRequestHandle req(raw);
            if (!detail::downloadSettings(req.get(), request, error)) {
                return GetObjectOutcome(error);
            }
            oss_object_meta_t *metaRaw = nullptr;
            if (detail::failed(oss_client_resumable_download_object(client_.get(), req.get(), &metaRaw), error)) {
                return GetObjectOutcome(error);
            }
            detail::MetaHandle meta(metaRaw);
            return GetObjectOutcome(
                GetObjectResult(request.Bucket(), request.Key(), detail::downloadMetaData(meta.get(), request)));
        } catch (...) {
            return GetObjectOutcome(internalError());
        }
    }

    /* --- oss-ffi EXTENSION (not in the official SDK): many objects into a directory --- */

    /* Downloads every object under request.Prefix() (or every key of request.Keys()) into
     * request.DestDir() as one resumable, verified job (oss_client_download_objects; see
     * model/OssFfiDownloadObjects.h). Blocks until it ended. The outcome is a success when every
     * object was downloaded, skipped or (dry run) would be; otherwise its error is the batch's
     * stop or the first failure's, and result() still holds the report (every failed key with
     * its error). Handlers run on library threads. */
    OssFfiDownloadObjectsOutcome OssFfiDownloadObjects(const OssFfiDownloadObjectsRequest &request) const
    {
        try {
            OssError error;
            if (!usable(error)) {
                return OssFfiDownloadObjectsOutcome(error);
            }
            detail::BatchRequestHandle req;
            if (!detail::batchRequest(request, req, error)) {
                return OssFfiDownloadObjectsOutcome(error);
            }
            oss_batch_report_t *raw = nullptr;
            bool bad = detail::failed(oss_client_download_objects(client_.get(), req.get(), &raw), error);
            detail::BatchReportHandle report(raw);
            if (!bad) {
                return OssFfiDownloadObjectsOutcome(OssFfiBatchReport::FromC(report.get()));
            }
            OssFfiDownloadObjectsOutcome outcome(error);
            if (report) {
                outcome.result() = OssFfiBatchReport::FromC(report.get());
            }
            return outcome;
        } catch (...) {
            return OssFfiDownloadObjectsOutcome(internalError());
        }
    }
    /* Extension (not in the official SDK): the C client this client shares, borrowed (valid while
     * this OssClient lives; NULL when it could not be set up), for oss-ffi's own extensions
     * (OssFfiObjectStream) and for calling the C API (oss_ffi.h) with the same client. */
    const oss_client_t *OssFfiClientHandle() const noexcept { return setupError_ ? nullptr : client_.get(); }

private:
    void init(const std::string &endpoint, const Credentials &credentials, const ClientConfiguration &configuration)
    {
        oss_credentials_provider_t *raw = nullptr;
        OssError error;
        if (!detail::noNul({{"access key id", &credentials.AccessKeyId()},
                            {"access key secret", &credentials.AccessKeySecret()},
                            {"security token", &credentials.SessionToken()}},
                           error)) {
            setupError_ = std::make_shared<OssError>(error);
            return;
        }
        if (detail::failed(oss_credentials_provider_new_static(credentials.AccessKeyId().c_str(),
                                                               credentials.AccessKeySecret().c_str(),
                                                               detail::optional(credentials.SessionToken()), &raw),
                           error)) {
            setupError_ = std::make_shared<OssError>(error);
            return;
        }
        connect(endpoint, detail::ProviderHandle(raw), configuration);
    }

    void connect(const std::string &endpoint, detail::ProviderHandle provider, const ClientConfiguration &conf)
    {
        detail::ConfigHandle config(oss_config_new());
        OssError error;
        if (!detail::configure(config.get(), conf, error)) {
            setupError_ = std::make_shared<OssError>(error);
            return;
        }
        const oss_client_t *raw = nullptr;
        if (!detail::noNul({{"endpoint", &endpoint}}, error) ||
            detail::failed(oss_client_new(endpoint.c_str(), provider.get(), config.get(), &raw), error)) {
            setupError_ = std::make_shared<OssError>(error);
            return;
        }
        client_ = detail::SharedClient(raw);
    }

    static OssError internalError()
    {
        return OssError("ClientError:Internal", "an exception was thrown inside the OSS C++ layer");
    }

    bool usable(OssError &error) const
    {
        if (setupError_ || regionError_) {
            error = setupError_ ? *setupError_ : *regionError_;
            return false;
        }
        if (!client_) {
            error = OssError("ClientError:Internal", "the client was moved from");
            return false;
        }
        return true;
    }

    /* A C request for bucket/key with the version id and request payer of `request`. */
    bool prepare(const OssObjectRequest &request, detail::GetRequestHandle &out, OssError &error) const
    {
        if (!usable(error)) {
            return false;
        }
        if (!detail::noNul({{"bucket", &request.Bucket()}, {"key", &request.Key()}, {"version id", &request.VersionId()}},
                           error)) {
            return false;
        }
        oss_get_object_request_t *raw = nullptr;
        if (detail::failed(oss_get_object_request_new(request.Bucket().c_str(), request.Key().c_str(), &raw), error)) {
            return false;
        }
        out = detail::GetRequestHandle(raw);
        return !detail::failed(oss_get_object_request_set_version_id(raw, detail::optional(request.VersionId())), error) &&
               !detail::failed(oss_get_object_request_set_request_payer(
                                   raw, request.RequestPayer() == OSS_FFI_CXX_NS::RequestPayer::Requester),
                               error);
    }

    bool getSettings(const GetObjectRequest &request, detail::GetRequestHandle &req, OssError &error) const
    {
        if (!prepare(request, req, error) || !detail::conditions(req.get(), request, error)) {
            return false;
        }
        if (!request.Process().empty()) {
            error = detail::validateError("x-oss-process (image processing) is not supported by this library");
            return false;
        }
        if (request.RangeIsSet() &&
            (request.RangeStart() < 0 || request.RangeEnd() < -1 ||
             (request.RangeEnd() > -1 && request.RangeEnd() < request.RangeStart()))) {
            error = detail::validateError("The range is invalid. The start should not be less than 0 or less then "
                                          "the end. The end could be -1 to get the rest of the data.");
            return false;
        }
        if (request.RangeIsSet() &&
            detail::failed(oss_get_object_request_set_range(req.get(), request.RangeStart(), request.RangeEnd()), error)) {
            return false;
        }
        const std::map<RequestResponseHeader, std::string> &headers = request.ResponseHeaders();
        if (!detail::responseHeadersNoNul(headers, error)) {
            return false;
        }
        for (std::map<RequestResponseHeader, std::string>::const_iterator it = headers.begin(); it != headers.end();
             ++it) {
            if (detail::failed(oss_get_object_request_set_response_header(req.get(), static_cast<uint32_t>(it->first),
                                                                          it->second.c_str()),
                               error)) {
                return false;
            }
        }
        if (detail::failed(oss_get_object_request_set_traffic_limit(req.get(), request.TrafficLimit()), error)) {
            return false;
        }
        if (request.TransferProgress().Handler) {
            if (detail::failed(oss_get_object_request_set_progress(req.get(), detail::progressTrampoline,
                                                                   new TransferProgress(request.TransferProgress()),
                                                                   detail::deleteProgressBox),
                               error)) {
                return false;
            }
        }
        return true;
    }

    GetObjectOutcome byUrl(const GetObjectByUrlRequest &request, const std::shared_ptr<std::iostream> &content,
                           const std::string &file) const
    {
        OssError error;
        if (!usable(error)) {
            return GetObjectOutcome(error);
        }
        if (!detail::noNul({{"URL", &request.Url()}, {"file path", &file}}, error)) {
            return GetObjectOutcome(error);
        }
        oss_get_object_request_t *raw = nullptr;
        if (detail::failed(oss_get_object_request_new_url(request.Url().c_str(), &raw), error)) {
            return GetObjectOutcome(error);
        }
        detail::GetRequestHandle req(raw);
        if (request.TransferProgress().Handler &&
            detail::failed(oss_get_object_request_set_progress(raw, detail::progressTrampoline,
                                                               new TransferProgress(request.TransferProgress()),
                                                               detail::deleteProgressBox),
                           error)) {
            return GetObjectOutcome(error);
        }
        oss_object_meta_t *metaRaw = nullptr;
        if (!file.empty()) {
            if (detail::failed(oss_client_get_object_to_file(client_.get(), raw, file.c_str(), &metaRaw), error)) {
                return GetObjectOutcome(detail::getObjectError(error));
            }
            detail::MetaHandle meta(metaRaw);
            std::shared_ptr<std::iostream> f = std::make_shared<std::fstream>(
                file.c_str(), std::ios_base::in | std::ios_base::out | std::ios_base::binary);
            GetObjectResult result("", "", f, detail::toHeaders(meta.get()));
            result.Metadata().setVerified(oss_object_meta_verified(meta.get()));
            return GetObjectOutcome(result);
        }
        if (!content) {
            return GetObjectOutcome(detail::validateError("the response stream is null"));
        }
        detail::StreamSink sink(content.get(), false);
        if (detail::failed(oss_client_get_object(client_.get(), raw, detail::sinkTrampoline, &sink, &metaRaw), error)) {
            return GetObjectOutcome(detail::getObjectError(error));
        }
        detail::MetaHandle meta(metaRaw);
        content->flush();
        GetObjectResult result("", "", content, detail::toHeaders(meta.get()));
        result.Metadata().setVerified(oss_object_meta_verified(meta.get()));
        return GetObjectOutcome(result);
    }

    GetObjectOutcome getToStream(const GetObjectRequest &request, const std::shared_ptr<std::iostream> &content) const
    {
        OssError error;
        detail::GetRequestHandle req;
        if (!getSettings(request, req, error)) {
            return GetObjectOutcome(error);
        }
        if (!content) {
            error = detail::validateError("the response stream is null");
            return GetObjectOutcome(error);
        }
        oss_object_meta_t *raw = nullptr;
        detail::StreamSink sink(content.get(), detail::saveClientCrc(request));
        if (detail::failed(oss_client_get_object(client_.get(), req.get(), detail::sinkTrampoline, &sink, &raw),
                           error)) {
            return GetObjectOutcome(detail::getObjectError(error));
        }
        detail::MetaHandle meta(raw);
        content->flush();
        HeaderCollection headers = detail::toHeaders(meta.get());
        if (sink.computeCrc) {
            headers["x-oss-hash-crc64ecma-by-client"] = std::to_string(static_cast<unsigned long long>(sink.crc));
        }
        GetObjectResult result(request.Bucket(), request.Key(), content, headers);
        result.Metadata().setVerified(oss_object_meta_verified(meta.get()));
        return GetObjectOutcome(result);
    }

    GetObjectOutcome getToFile(const GetObjectRequest &request, const std::string &path) const
    {
        OssError error;
        detail::GetRequestHandle req;
        if (!getSettings(request, req, error) || !detail::noNul({{"file path", &path}}, error)) {
            return GetObjectOutcome(error);
        }
        oss_object_meta_t *raw = nullptr;
        if (detail::failed(oss_client_get_object_to_file(client_.get(), req.get(), path.c_str(), &raw), error)) {
            return GetObjectOutcome(detail::getObjectError(error));
        }
        detail::MetaHandle meta(raw);
        std::shared_ptr<std::iostream> file =
            std::make_shared<std::fstream>(path.c_str(), std::ios_base::in | std::ios_base::out | std::ios_base::binary);
        HeaderCollection headers = detail::toHeaders(meta.get());
        if (detail::saveClientCrc(request)) {
            uint64_t crc = 0;
            char buf[65536];
            while (*file) {
                file->read(buf, sizeof buf);
                crc = oss_crc64(crc, reinterpret_cast<const uint8_t *>(buf), static_cast<size_t>(file->gcount()));
            }
            file->clear();
            file->seekg(0);
            headers["x-oss-hash-crc64ecma-by-client"] = std::to_string(static_cast<unsigned long long>(crc));
        }
        GetObjectResult result(request.Bucket(), request.Key(), file, headers);
        result.Metadata().setVerified(oss_object_meta_verified(meta.get()));
        return GetObjectOutcome(result);
    }

    detail::SharedClient client_;
    /* GetObjectAsync's threads, shared by the copies. */
    std::shared_ptr<detail::AsyncRunner> async_ = std::make_shared<detail::AsyncRunner>();
    /* Why the client could not be made / why the last SetRegion failed: returned by every call. */
    std::shared_ptr<OssError> setupError_;
    std::shared_ptr<OssError> regionError_;
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_OSSCLIENT_H
