/*
 * alibabacloud/oss/ServiceRequest.h - what every request carries: a response stream factory
 * (where GetObject writes the body) and a progress callback.
 */
#ifndef ALIBABACLOUD_OSS_SERVICEREQUEST_H
#define ALIBABACLOUD_OSS_SERVICEREQUEST_H

#include <iostream>
#include <memory>
#include <string>

#include <alibabacloud/oss/Types.h>

namespace AlibabaCloud {
namespace OSS {

class ServiceRequest {
public:
    virtual ~ServiceRequest() = default;

    int Flags() const { return flags_; }
    void setFlags(int flags) { flags_ = flags; }

    const IOStreamFactory &ResponseStreamFactory() const { return responseStreamFactory_; }
    void setResponseStreamFactory(const IOStreamFactory &factory) { responseStreamFactory_ = factory; }

    const AlibabaCloud::OSS::TransferProgress &TransferProgress() const { return transferProgress_; }
    void setTransferProgress(const AlibabaCloud::OSS::TransferProgress &arg) { transferProgress_ = arg; }

protected:
    ServiceRequest() : flags_(0), responseStreamFactory_(), transferProgress_() {
        transferProgress_.UserData = nullptr;
    }

private:
    int flags_;
    IOStreamFactory responseStreamFactory_;
    AlibabaCloud::OSS::TransferProgress transferProgress_;
};

}  // namespace OSS
}  // namespace AlibabaCloud

#endif  // ALIBABACLOUD_OSS_SERVICEREQUEST_H
