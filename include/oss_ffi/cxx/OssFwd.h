/*
 * oss_ffi/cxx/OssFwd.h - the request, result and Outcome types of OssClient.
 */
#ifndef OSS_FFI_CXX_OSSFWD_H
#define OSS_FFI_CXX_OSSFWD_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <iostream>
#include <memory>
#include <string>

#include <oss_ffi/cxx/Global.h>
#include <oss_ffi/cxx/OssError.h>
#include <oss_ffi/cxx/ServiceResult.h>
#include <oss_ffi/cxx/Types.h>
#include <oss_ffi/cxx/model/DownloadObjectRequest.h>
#include <oss_ffi/cxx/model/GeneratePresignedUrlRequest.h>
#include <oss_ffi/cxx/model/GetObjectByUrlRequest.h>
#include <oss_ffi/cxx/model/GetObjectMetaRequest.h>
#include <oss_ffi/cxx/model/GetObjectRequest.h>
#include <oss_ffi/cxx/model/GetObjectResult.h>
#include <oss_ffi/cxx/model/HeadObjectRequest.h>
#include <oss_ffi/cxx/model/ObjectMetaData.h>
#include <oss_ffi/cxx/model/VoidResult.h>
#include <oss_ffi/cxx/utils/Outcome.h>

OSS_FFI_CXX_NS_BEGIN

typedef Outcome<OssError, ServiceResult> OssOutcome;
typedef Outcome<OssError, VoidResult> VoidOutcome;
typedef Outcome<OssError, std::string> StringOutcome;
typedef Outcome<OssError, GetObjectResult> GetObjectOutcome;
typedef Outcome<OssError, ObjectMetaData> ObjectMetaDataOutcome;

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_OSSFWD_H
