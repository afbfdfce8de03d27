/*
 * oss_ffi/cxx/model/GetObjectRequest.h - parameters of OssClient::GetObject.
 */
#ifndef OSS_FFI_CXX_MODEL_GETOBJECTREQUEST_H
#define OSS_FFI_CXX_MODEL_GETOBJECTREQUEST_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <oss_ffi/cxx/OssRequest.h>
#include <oss_ffi/cxx/ServiceRequest.h>
#include <oss_ffi/cxx/Types.h>

OSS_FFI_CXX_NS_BEGIN

class GetObjectRequest : public OssObjectRequest {
public:
    GetObjectRequest(const std::string &bucket, const std::string &key)
        : OssObjectRequest(bucket, key), rangeIsSet_(false), trafficLimit_(0), rangeIsStandardMode_(false)
    {
        range_[0] = 0;
        range_[1] = -1;
        setFlags(Flags() | REQUEST_FLAG_CHECK_CRC64);
    }
    /* As the official SDK: conditions and response-* overrides given by name
     * ("response-content-type", "response-cache-control", ...; other names are ignored). */
    GetObjectRequest(const std::string &bucket, const std::string &key, const std::string &modifiedSince,
                     const std::string &unmodifiedSince, const std::vector<std::string> &matchingETags,
                     const std::vector<std::string> &nonmatchingETags,
                     const std::map<std::string, std::string> &responseHeaderParameters)
        : GetObjectRequest(bucket, key)
    {
        modifiedSince_ = modifiedSince;
        unmodifiedSince_ = unmodifiedSince;
        matchingETags_ = matchingETags;
        nonmatchingETags_ = nonmatchingETags;
        static const char *const names[] = {"response-content-type",        "response-content-language",
                                            "response-expires",             "response-cache-control",
                                            "response-content-disposition", "response-content-encoding"};
        for (std::map<std::string, std::string>::const_iterator it = responseHeaderParameters.begin();
             it != responseHeaderParameters.end(); ++it) {
            for (int i = 0; i < 6; ++i) {
                if (it->first == names[i]) {
                    responseHeaders_[static_cast<RequestResponseHeader>(i)] = it->second;
                }
            }
        }
    }
    /* `process` (x-oss-process) is not supported by this library: GetObject fails with
     * ValidateError when it is set. */
    GetObjectRequest(const std::string &bucket, const std::string &key, const std::string &process)
        : GetObjectRequest(bucket, key)
    {
        process_ = process;
    }

    /* Bytes start..end inclusive; end = -1: to the end of the object. */
    void setRange(int64_t start, int64_t end)
    {
        range_[0] = start;
        range_[1] = end;
        rangeIsSet_ = true;
        rangeIsStandardMode_ = false;
    }
    /* `standard` is accepted for compatibility: this library always sends
     * x-oss-range-behavior: standard (an invalid range is an error, never the whole object). */
    void setRange(int64_t start, int64_t end, bool standard)
    {
        setRange(start, end);
        rangeIsStandardMode_ = standard;
    }
    /* (start, end) when a range is set, else (-1, -1). */
    std::pair<int64_t, int64_t> Range() const
    {
        return rangeIsSet_ ? std::pair<int64_t, int64_t>(range_[0], range_[1]) : std::pair<int64_t, int64_t>(-1, -1);
    }
    void setModifiedSinceConstraint(const std::string &gmt) { modifiedSince_ = gmt; }
    void setUnmodifiedSinceConstraint(const std::string &gmt) { unmodifiedSince_ = gmt; }
    void setMatchingETagConstraints(const std::vector<std::string> &match) { matchingETags_ = match; }
    void addMatchingETagConstraint(const std::string &match) { matchingETags_.push_back(match); }
    void setNonmatchingETagConstraints(const std::vector<std::string> &match) { nonmatchingETags_ = match; }
    void addNonmatchingETagConstraint(const std::string &match) { nonmatchingETags_.push_back(match); }
    void setProcess(const std::string &process) { process_ = process; }
    void addResponseHeaders(RequestResponseHeader header, const std::string &value)
    {
        responseHeaders_[header] = value;
    }
    /* Server-side throttle in bit/s: 0 (none) or 245760 .. 838860800. */
    void setTrafficLimit(uint64_t value) { trafficLimit_ = value; }

    bool RangeIsSet() const { return rangeIsSet_; }
    /* What setRange(start, end, standard) was given (this layer's getter). */
    bool RangeIsStandardMode() const { return rangeIsStandardMode_; }
    int64_t RangeStart() const { return range_[0]; }
    int64_t RangeEnd() const { return range_[1]; }
    const std::string &ModifiedSinceConstraint() const { return modifiedSince_; }
    const std::string &UnmodifiedSinceConstraint() const { return unmodifiedSince_; }
    const std::vector<std::string> &MatchingETagsConstraint() const { return matchingETags_; }
    const std::vector<std::string> &NonmatchingETagsConstraint() const { return nonmatchingETags_; }
    const std::string &Process() const { return process_; }
    const std::map<RequestResponseHeader, std::string> &ResponseHeaders() const { return responseHeaders_; }
    uint64_t TrafficLimit() const { return trafficLimit_; }

private:
    int64_t range_[2];
    bool rangeIsSet_;
    std::string modifiedSince_;
    std::string unmodifiedSince_;
    std::vector<std::string> matchingETags_;
    std::vector<std::string> nonmatchingETags_;
    std::string process_;
    std::map<RequestResponseHeader, std::string> responseHeaders_;
    uint64_t trafficLimit_;
    bool rangeIsStandardMode_;
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_MODEL_GETOBJECTREQUEST_H
