/*
 * oss_ffi/cxx/model/GetObjectResult.h - the result of GetObject and
 * ResumableDownloadObject: metadata, request id and (GetObject only) the content stream.
 */
#ifndef OSS_FFI_CXX_MODEL_GETOBJECTRESULT_H
#define OSS_FFI_CXX_MODEL_GETOBJECTRESULT_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <iostream>
#include <memory>
#include <string>

#include <oss_ffi/cxx/OssResult.h>
#include <oss_ffi/cxx/model/ObjectMetaData.h>

OSS_FFI_CXX_NS_BEGIN

class GetObjectResult : public OssObjectResult {
public:
    GetObjectResult() = default;
    GetObjectResult(const std::string &bucket, const std::string &key, const std::shared_ptr<std::iostream> &content,
                    const HeaderCollection &headers)
        : bucket_(bucket), key_(key), metaData_(headers), content_(content)
    {
        versionId_ = metaData_.VersionId();
        HeaderCollection::const_iterator it = headers.find("x-oss-request-id");
        if (it != headers.end()) {
            requestId_ = it->second;
        }
    }
    /* As the official SDK: the metadata given, no content stream. */
    GetObjectResult(const std::string &bucket, const std::string &key, const ObjectMetaData &metaData)
        : bucket_(bucket), key_(key), metaData_(metaData), content_()
    {
        versionId_ = metaData_.VersionId();
        MetaData::const_iterator it = metaData_.HttpMetaData().find("x-oss-request-id");
        if (it != metaData_.HttpMetaData().end()) {
            requestId_ = it->second;
        }
    }
    const std::string &Bucket() const { return bucket_; }
    const std::string &Key() const { return key_; }
    const ObjectMetaData &Metadata() const { return metaData_; }
    ObjectMetaData &Metadata() { return metaData_; }
    /* GetObject: the stream holding the body (a std::stringstream unless a response stream
     * factory, stream or file was given). ResumableDownloadObject: null (the data is in the file). */
    const std::shared_ptr<std::iostream> &Content() const { return content_; }
    void setContent(const std::shared_ptr<std::iostream> &content) { content_ = content; }
    void setMetadata(const ObjectMetaData &meta) { metaData_ = meta; }
    /* The official SDK's spelling. */
    void setMetaData(const ObjectMetaData &meta) { metaData_ = meta; }

private:
    std::string bucket_;
    std::string key_;
    ObjectMetaData metaData_;
    std::shared_ptr<std::iostream> content_;
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_MODEL_GETOBJECTRESULT_H
