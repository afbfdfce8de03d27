//! The one error type of the core: an OSS-style code string, a message, and the request context.
//!
//! `code` is exactly what the C++ SDK's `OssError::Code()` returns: the server's XML `Code`
//! (`NoSuchKey`, `AccessDenied`, ...), `ValidateError`, `ServerError:<status>` for a bodiless
//! failure, `ClientError:<n>` for transport failures (n = 200000 + the matching curl code, as the
//! C++ SDK does), `CrcCheckError`, `RenameError`, and ours: `Cancelled`, `ObjectChanged`,
//! `NotInitialized`, `FileLocked`, `IOError`.
//!
//! Messages never contain secrets: nothing in this crate formats a secret into a string.

use std::fmt;

/// A coarse classification for programmatic handling (mirrored by `oss_error_kind_t` in C).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A parameter was invalid (`ValidateError`); nothing was sent.
    InvalidArgument,
    /// A required pointer argument was NULL (FFI only; code `ValidateError`).
    NullArgument,
    /// A string argument was not valid UTF-8 (FFI only; code `ValidateError`).
    InvalidUtf8,
    /// The server answered with an error status.
    Server,
    /// Connecting, sending or receiving failed (after retries).
    Transport,
    /// No byte arrived within the configured timeout (after retries).
    Timeout,
    /// CRC64 of the downloaded bytes differs from the server's.
    CrcMismatch,
    /// The operation was cancelled (per download, client-wide or by SDK shutdown).
    Cancelled,
    /// A local file-system operation failed.
    Io,
    /// The object changed on the server while it was being downloaded.
    ObjectChanged,
    /// The SDK was not initialised or has been shut down.
    NotInitialized,
    /// Another download holds the destination.
    Busy,
    /// A panic was caught at the library boundary.
    Panic,
}

/// A stable, numbered detail of some errors, for callers that must tell them apart beyond kind and
/// code (the C++ layer gives them the official SDK's exact message): mirrored by
/// `oss_error_detail_t` in C. Callers map these, never the message text, which may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ErrorDetail {
    /// Nothing more than kind and code.
    #[default]
    None,
    /// The download's checkpoint directory does not exist or is not a directory
    /// (`ValidateError`).
    CheckpointDirMissing,
}

/// The error of every fallible core operation: a box, so `Result`s stay small; fields are
/// reached through `Deref` (`err.code`, `err.kind`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(Box<ErrorDetails>);

/// The fields of an [`Error`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDetails {
    pub kind: ErrorKind,
    pub code: String,
    pub message: String,
    pub request_id: String,
    pub host: String,
    /// HTTP status of the failing answer; 0 when there was none.
    pub http_status: u16,
    /// The server's `EC` error detail code, when present.
    pub ec: String,
    /// The bucket and key of the request that failed (empty when the error is not of a request
    /// for an object, or the request was a URL sent as it is).
    pub bucket: String,
    pub key: String,
    /// A stable detail beyond kind and code ([`ErrorDetail::None`] for most errors).
    pub detail: ErrorDetail,
}

pub type Result<T> = std::result::Result<T, Error>;

/// curl's code numbering, offset like the C++ SDK's `ClientError:<n>` codes.
pub const CLIENT_ERROR_BASE: u32 = 200_000;
pub mod curl {
    pub const COULDNT_RESOLVE_HOST: u32 = 6;
    pub const COULDNT_CONNECT: u32 = 7;
    pub const PARTIAL_FILE: u32 = 18;
    pub const WRITE_ERROR: u32 = 23;
    pub const OPERATION_TIMEDOUT: u32 = 28;
    pub const SSL_CONNECT_ERROR: u32 = 35;
    pub const ABORTED_BY_CALLBACK: u32 = 42;
    pub const SEND_ERROR: u32 = 55;
    pub const RECV_ERROR: u32 = 56;
    pub const PEER_FAILED_VERIFICATION: u32 = 60;
}

impl Error {
    /// The one place a kind is paired with a code: everything else uses the typed constructors
    /// below, so that kind and code cannot disagree (private to this module).
    fn new(kind: ErrorKind, code: impl Into<String>, message: impl Into<String>) -> Self {
        Error(Box::new(ErrorDetails {
            kind,
            code: code.into(),
            message: message.into(),
            request_id: String::new(),
            host: String::new(),
            http_status: 0,
            ec: String::new(),
            bucket: String::new(),
            key: String::new(),
            detail: ErrorDetail::None,
        }))
    }

    /// This error's request context (request id, host, HTTP status, EC) with the kind, code and
    /// message of `like`.
    pub fn reclassify(mut self, like: Error) -> Self {
        self.kind = like.kind;
        self.code = like.code.clone();
        self.message = like.message.clone();
        self.detail = like.detail;
        self
    }

    /// A local file-system failure without an `io::Error` to quote (`IOError`).
    pub fn io_failure(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Io, "IOError", message)
    }

    /// The final rename failed or was refused (`RenameError`).
    pub fn rename(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Io, "RenameError", message)
    }

    /// The object changed on the server (`ObjectChanged`).
    pub fn object_changed(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ObjectChanged, "ObjectChanged", message)
    }

    /// The CRC64 of the bytes differs from the server's (`CrcCheckError`).
    pub fn crc_mismatch(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::CrcMismatch, "CrcCheckError", message)
    }

    /// A panic caught at a boundary (`Panic`).
    pub fn panic(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Panic, "Panic", message)
    }

    /// Another download holds the destination (`FileLocked`).
    pub fn file_locked(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Busy, "FileLocked", message)
    }

    /// A required pointer argument was NULL (`ValidateError`).
    pub fn null_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NullArgument, "ValidateError", message)
    }

    /// A string argument was not UTF-8 (`ValidateError`).
    pub fn invalid_utf8(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidUtf8, "ValidateError", message)
    }

    /// Credentials that cannot sign (`InvalidCredentials`).
    pub fn invalid_credentials(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, "InvalidCredentials", message)
    }

    /// The SDK's runtime could not be started (`InitializeError`).
    pub fn initialize(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Io, "InitializeError", message)
    }

    /// An error answer of the server (kind `Server`): its own code (`NoSuchKey`...), or
    /// `ServerError:<status>` for one without a usable body.
    pub(crate) fn server(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Server, code, message)
    }

    /// A parameter error (`ValidateError`).
    pub fn validate(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, "ValidateError", message)
    }

    /// A batch's key that cannot be a local path inside the destination (`UnsafeKey`; kind
    /// `InvalidArgument`): `message` names the key and the rule it breaks.
    pub fn unsafe_key(key: &str, message: impl Into<String>) -> Self {
        let mut e = Self::new(ErrorKind::InvalidArgument, "UnsafeKey", message);
        e.key = key.to_string();
        e
    }

    /// A batch's key whose local path collides with another key's (`KeyCollision`; kind
    /// `InvalidArgument`): `message` names both keys.
    pub fn key_collision(key: &str, message: impl Into<String>) -> Self {
        let mut e = Self::new(ErrorKind::InvalidArgument, "KeyCollision", message);
        e.key = key.to_string();
        e
    }

    /// The checkpoint directory does not exist or is not a directory (`ValidateError`, detail
    /// [`ErrorDetail::CheckpointDirMissing`]).
    pub fn checkpoint_dir_missing(message: impl Into<String>) -> Self {
        let mut e = Self::validate(message);
        e.detail = ErrorDetail::CheckpointDirMissing;
        e
    }

    /// A transport failure with the C++ SDK's `ClientError:<200000 + curl code>` code.
    pub fn client(kind: ErrorKind, curl_code: u32, message: impl Into<String>) -> Self {
        Self::new(
            kind,
            format!("ClientError:{}", CLIENT_ERROR_BASE + curl_code),
            message,
        )
    }

    pub fn cancelled(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Cancelled, "Cancelled", message)
    }

    pub fn not_initialized() -> Self {
        Self::not_initialized_because(
            "the SDK is not initialised (call oss_initialize_sdk / InitializeSdk first) or has been shut down",
        )
    }

    /// `NotInitialized` with a reason of its own.
    pub fn not_initialized_because(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotInitialized, "NotInitialized", message)
    }

    /// A local I/O failure, with what was being done and on which path.
    pub fn io(what: &str, path: &std::path::Path, err: &std::io::Error) -> Self {
        Self::new(
            ErrorKind::Io,
            "IOError",
            format!("{what} '{}': {err}", path.display()),
        )
    }

    pub fn with_host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = id.into();
        self
    }

    /// Whether the official SDKs would retry this failure (docs/oss-protocol.md, "Retries"): 5xx, 408, 429,
    /// RequestTimeTooSkewed, and transport failures or timeouts.
    pub fn is_retryable(&self) -> bool {
        match self.kind {
            // A certificate that fails verification will fail again.
            ErrorKind::Transport => {
                self.code
                    != format!(
                        "ClientError:{}",
                        CLIENT_ERROR_BASE + curl::PEER_FAILED_VERIFICATION
                    )
            }
            ErrorKind::Timeout => true,
            ErrorKind::Server => {
                self.http_status >= 500
                    || self.http_status == 408
                    || self.http_status == 429
                    || self.code == "RequestTimeTooSkewed"
            }
            _ => false,
        }
    }
}

impl std::ops::Deref for Error {
    type Target = ErrorDetails;
    fn deref(&self) -> &ErrorDetails {
        &self.0
    }
}

impl std::ops::DerefMut for Error {
    fn deref_mut(&mut self) -> &mut ErrorDetails {
        &mut self.0
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if self.http_status != 0 {
            write!(f, " (HTTP {})", self.http_status)?;
        }
        if !self.request_id.is_empty() {
            write!(f, " [request id {}]", self.request_id)?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}
