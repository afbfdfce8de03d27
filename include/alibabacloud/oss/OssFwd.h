/*
 * alibabacloud/oss/OssFwd.h - the request, result and Outcome types of OssClient.
 */
#ifndef ALIBABACLOUD_OSS_OSSFWD_H
#define ALIBABACLOUD_OSS_OSSFWD_H

#include <iostream>
#include <memory>
#include <string>

#include <alibabacloud/oss/Global.h>
#include <alibabacloud/oss/OssError.h>
#include <alibabacloud/oss/ServiceResult.h>
#include <alibabacloud/oss/Types.h>
#include <alibabacloud/oss/model/DownloadObjectRequest.h>
#include <alibabacloud/oss/model/GeneratePresignedUrlRequest.h>
#include <alibabacloud/oss/model/GetObjectByUrlRequest.h>
#include <alibabacloud/oss/model/GetObjectMetaRequest.h>
#include <alibabacloud/oss/model/GetObjectRequest.h>
#include <alibabacloud/oss/model/GetObjectResult.h>
#include <alibabacloud/oss/model/HeadObjectRequest.h>
#include <alibabacloud/oss/model/ObjectMetaData.h>
#include <alibabacloud/oss/model/VoidResult.h>
#include <alibabacloud/oss/utils/Outcome.h>

namespace AlibabaCloud {
namespace OSS {

typedef Outcome<OssError, ServiceResult> OssOutcome;
typedef Outcome<OssError, VoidResult> VoidOutcome;
typedef Outcome<OssError, std::string> StringOutcome;
typedef Outcome<OssError, GetObjectResult> GetObjectOutcome;
typedef Outcome<OssError, ObjectMetaData> ObjectMetaDataOutcome;

}  // namespace OSS
}  // namespace AlibabaCloud

#endif  // ALIBABACLOUD_OSS_OSSFWD_H
