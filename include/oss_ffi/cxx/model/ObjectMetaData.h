/*
 * oss_ffi/cxx/model/ObjectMetaData.h - what the server said about an object: the HTTP
 * headers (case-insensitive names) and the user metadata (x-oss-meta-*, prefix removed).
 */
#ifndef OSS_FFI_CXX_MODEL_OBJECTMETADATA_H
#define OSS_FFI_CXX_MODEL_OBJECTMETADATA_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <oss_ffi/cxx/Types.h>

OSS_FFI_CXX_NS_BEGIN

class ObjectMetaData {
public:
    ObjectMetaData() = default;
    ObjectMetaData(const HeaderCollection &data) { *this = data; }
    ObjectMetaData &operator=(const HeaderCollection &data)
    {
        static const std::string prefix("x-oss-meta-");
        for (HeaderCollection::const_iterator it = data.begin(); it != data.end(); ++it) {
            if (it->first.size() > prefix.size() && caseInsensitiveEqualPrefix(it->first, prefix)) {
                userMetaData_[it->first.substr(prefix.size())] = it->second;
            } else {
                metaData_[it->first] = it->second;
            }
        }
        MetaData::iterator etag = metaData_.find("ETag");
        if (etag != metaData_.end()) {
            etag->second = trimQuotes(etag->second);
        }
        return *this;
    }

    const std::string &LastModified() const { return header("Last-Modified"); }
    const std::string &ExpirationTime() const { return header("Expires"); }
    /* Content-Length; -1 when unknown. */
    int64_t ContentLength() const
    {
        MetaData::const_iterator it = metaData_.find("Content-Length");
        return it == metaData_.end() ? -1 : static_cast<int64_t>(std::strtoll(it->second.c_str(), nullptr, 10));
    }
    const std::string &ContentType() const { return header("Content-Type"); }
    const std::string &ContentEncoding() const { return header("Content-Encoding"); }
    const std::string &CacheControl() const { return header("Cache-Control"); }
    const std::string &ContentDisposition() const { return header("Content-Disposition"); }
    /* The ETag without its quotes. */
    const std::string &ETag() const { return header("ETag"); }
    const std::string &ContentMd5() const { return header("Content-MD5"); }
    const std::string &ObjectType() const { return header("x-oss-object-type"); }
    const std::string &VersionId() const { return header("x-oss-version-id"); }
    /* x-oss-hash-crc64ecma; 0 when absent. */
    uint64_t CRC64() const
    {
        MetaData::const_iterator it = metaData_.find("x-oss-hash-crc64ecma");
        return it == metaData_.end() ? 0ULL : static_cast<uint64_t>(std::strtoull(it->second.c_str(), nullptr, 10));
    }

    /* Extension: whether the call that returned this metadata verified every byte it delivered
     * against the server's whole-object CRC64 (oss_object_meta_verified). False for HeadObject /
     * GetObjectMeta, ranges, enableCrc64 off, and servers that send no x-oss-hash-crc64ecma: the
     * bytes were then pinned to one ETag and length-checked, but not verified end to end. */
    bool Verified() const { return verified_; }
    void setVerified(bool value) { verified_ = value; }

    void setExpirationTime(const std::string &value) { metaData_["Expires"] = value; }
    void setContentLength(int64_t value) { metaData_["Content-Length"] = std::to_string(value); }
    void setContentType(const std::string &value) { metaData_["Content-Type"] = value; }
    void setContentEncoding(const std::string &value) { metaData_["Content-Encoding"] = value; }
    void setCacheControl(const std::string &value) { metaData_["Cache-Control"] = value; }
    void setContentDisposition(const std::string &value) { metaData_["Content-Disposition"] = value; }
    void setETag(const std::string &value) { metaData_["ETag"] = value; }
    void setContentMd5(const std::string &value) { metaData_["Content-MD5"] = value; }
    void setCrc64(uint64_t value) { metaData_["x-oss-hash-crc64ecma"] = std::to_string(value); }
    void addHeader(const std::string &key, const std::string &value) { metaData_[key] = value; }
    bool hasHeader(const std::string &key) const { return metaData_.find(key) != metaData_.end(); }
    void removeHeader(const std::string &key) { metaData_.erase(key); }
    void addUserHeader(const std::string &key, const std::string &value) { userMetaData_[key] = value; }
    bool hasUserHeader(const std::string &key) const { return userMetaData_.find(key) != userMetaData_.end(); }
    void removeUserHeader(const std::string &key) { userMetaData_.erase(key); }

    MetaData &HttpMetaData() { return metaData_; }
    MetaData &UserMetaData() { return userMetaData_; }
    const MetaData &HttpMetaData() const { return metaData_; }
    const MetaData &UserMetaData() const { return userMetaData_; }

    HeaderCollection toHeaderCollection() const
    {
        HeaderCollection headers(metaData_.begin(), metaData_.end());
        for (MetaData::const_iterator it = userMetaData_.begin(); it != userMetaData_.end(); ++it) {
            headers["x-oss-meta-" + it->first] = it->second;
        }
        return headers;
    }

private:
    const std::string &header(const char *name) const
    {
        static const std::string empty;
        MetaData::const_iterator it = metaData_.find(name);
        return it == metaData_.end() ? empty : it->second;
    }
    static bool caseInsensitiveEqualPrefix(const std::string &s, const std::string &prefix)
    {
        for (std::string::size_type i = 0; i < prefix.size(); ++i) {
            if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) {
                return false;
            }
        }
        return true;
    }
    static std::string trimQuotes(const std::string &s)
    {
        std::string::size_type b = 0, e = s.size();
        if (e > b && s[b] == '"') {
            ++b;
        }
        if (e > b && s[e - 1] == '"') {
            --e;
        }
        return s.substr(b, e - b);
    }

    MetaData userMetaData_;
    MetaData metaData_;
    bool verified_ = false;
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_MODEL_OBJECTMETADATA_H
