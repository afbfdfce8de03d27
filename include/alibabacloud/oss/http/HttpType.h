/*
 * alibabacloud/oss/http/HttpType.h - HTTP scheme names used by ClientConfiguration.
 */
#ifndef ALIBABACLOUD_OSS_HTTP_HTTPTYPE_H
#define ALIBABACLOUD_OSS_HTTP_HTTPTYPE_H

namespace AlibabaCloud {
namespace OSS {
namespace Http {

enum Scheme { HTTP, HTTPS };

enum Method { Get, Head, Post, Put, Delete, Connect, Options, Patch, Trace };

}  // namespace Http
}  // namespace OSS
}  // namespace AlibabaCloud

#endif  // ALIBABACLOUD_OSS_HTTP_HTTPTYPE_H
