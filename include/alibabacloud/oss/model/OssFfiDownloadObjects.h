/* alibabacloud/oss/model/OssFfiDownloadObjects.h - the drop-in form (namespace AlibabaCloud::OSS) of
 * <oss_ffi/cxx/model/OssFfiDownloadObjects.h>, the one copy of this header; see oss_ffi/cxx/detail/Namespace.h. */
#include <oss_ffi/cxx/detail/DropIn.h>
#include <oss_ffi/cxx/model/OssFfiDownloadObjects.h>
