//! OSS error answers: status, code, message, EC, extra XML fields.

use crate::encoding::xml_escape;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OssError {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// Emulator-specific error-centre code, sent as `<EC>` and `x-oss-ec`.
    pub ec: String,
    /// Extra elements appended after `HostId` (e.g. `StringToSign`, `ServerTime`, `Key`).
    pub extra: Vec<(String, String)>,
}

impl OssError {
    pub fn new(status: u16, code: &str, message: impl Into<String>, ec: &str) -> Self {
        OssError {
            status,
            code: code.to_string(),
            message: message.into(),
            ec: ec.to_string(),
            extra: Vec::new(),
        }
    }

    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.extra.push((name.to_string(), value.into()));
        self
    }

    pub fn no_such_key(key: &str) -> Self {
        Self::new(
            404,
            "NoSuchKey",
            "The specified key does not exist.",
            "0026-00000001",
        )
        .with("Key", key)
    }

    pub fn no_such_bucket(bucket: &str) -> Self {
        Self::new(
            404,
            "NoSuchBucket",
            "The specified bucket does not exist.",
            "0015-00000101",
        )
        .with("BucketName", bucket)
    }

    pub fn invalid_bucket_name(bucket: &str) -> Self {
        Self::new(
            400,
            "InvalidBucketName",
            "The specified bucket is not valid.",
            "0015-00000001",
        )
        .with("BucketName", bucket)
    }

    pub fn invalid_object_name(key: &str) -> Self {
        Self::new(
            400,
            "InvalidObjectName",
            "The specified object is not valid.",
            "0016-00000005",
        )
        .with("ObjectName", key)
    }

    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new(403, "AccessDenied", message, "0003-00000001")
    }

    pub fn invalid_access_key_id(ak: &str) -> Self {
        Self::new(
            403,
            "InvalidAccessKeyId",
            "The OSS Access Key Id you provided does not exist in our records.",
            "0002-00000902",
        )
        .with("OSSAccessKeyId", ak)
    }

    pub fn invalid_argument(message: impl Into<String>, name: &str, value: &str) -> Self {
        Self::new(400, "InvalidArgument", message, "0017-00000101")
            .with("ArgumentName", name)
            .with("ArgumentValue", value)
    }

    pub fn precondition_failed(condition: &str) -> Self {
        Self::new(
            412,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
            "0026-00000011",
        )
        .with("Condition", condition)
    }

    pub fn not_modified() -> Self {
        Self::new(304, "NotModified", "Not Modified", "0026-00000012")
    }

    pub fn invalid_range(range: &str, size: u64) -> Self {
        Self::new(
            416,
            "InvalidRange",
            "The requested range cannot be satisfied",
            "0026-00000004",
        )
        .with("RangeRequested", range)
        .with("ActualObjectSize", size.to_string())
    }

    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
            "0001-00000405",
        )
        .with("Method", method)
        .with("ResourceType", "Object")
    }

    pub fn internal(status: u16, code: &str) -> Self {
        let msg = if status == 503 {
            "Please reduce your request rate."
        } else {
            "We encountered an internal error. Please try again."
        };
        Self::new(status, code, msg, "0000-00000000")
    }

    /// The error document, as real OSS formats it.
    pub fn to_xml(&self, request_id: &str, host_id: &str) -> String {
        let mut s = String::with_capacity(512);
        s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n");
        let mut elem = |name: &str, value: &str| {
            s.push_str("  <");
            s.push_str(name);
            s.push('>');
            s.push_str(&xml_escape(value));
            s.push_str("</");
            s.push_str(name);
            s.push_str(">\n");
        };
        elem("Code", &self.code);
        elem("Message", &self.message);
        elem("RequestId", request_id);
        elem("HostId", host_id);
        for (k, v) in &self.extra {
            elem(k, v);
        }
        elem("EC", &self.ec);
        s.push_str("</Error>\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_shape() {
        let e = OssError::new(403, "SignatureDoesNotMatch", "bad", "0002-00000040")
            .with("StringToSign", "GET\n\n\nDate\n/b/k&<");
        let x = e.to_xml("RID", "b.localhost");
        assert_eq!(
            x,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>SignatureDoesNotMatch</Code>\n  <Message>bad</Message>\n  <RequestId>RID</RequestId>\n  <HostId>b.localhost</HostId>\n  <StringToSign>GET\n\n\nDate\n/b/k&amp;&lt;</StringToSign>\n  <EC>0002-00000040</EC>\n</Error>\n"
        );
        assert_eq!(OssError::no_such_key("k").status, 404);
        assert_eq!(OssError::invalid_range("bytes=9-", 3).status, 416);
    }
}
