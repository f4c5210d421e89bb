//! One error type for the whole core. Each kind maps to a stable code that the binding exposes
//! to JavaScript as `err.code`, so callers can branch on the kind without parsing messages.
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A data file is malformed (bad row, missing header, wrong encoding).
    InvalidData,
    /// An option or argument is out of its allowed range.
    InvalidArgument,
    /// An id, title or file that does not exist.
    NotFound,
    /// The operating system refused a read or write.
    Io,
    /// A model file is damaged, truncated or of another format/version.
    BadModelFile,
    /// The caller cancelled the work.
    Aborted,
    /// A bug: a panic or a broken invariant.
    Internal,
}

impl ErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidData => "ALSREC_INVALID_DATA",
            ErrorKind::InvalidArgument => "ALSREC_INVALID_ARGUMENT",
            ErrorKind::NotFound => "ALSREC_NOT_FOUND",
            ErrorKind::Io => "ALSREC_IO",
            ErrorKind::BadModelFile => "ALSREC_BAD_MODEL_FILE",
            ErrorKind::Aborted => "ALSREC_ABORTED",
            ErrorKind::Internal => "ALSREC_INTERNAL",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }
    pub fn invalid_data(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidData, message)
    }
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    pub fn aborted() -> Self {
        Self::new(ErrorKind::Aborted, "the operation was aborted")
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
    /// An I/O error with the path it concerns, so the user knows which file failed.
    pub fn io(path: &std::path::Path, err: &std::io::Error) -> Self {
        let kind = if err.kind() == std::io::ErrorKind::NotFound {
            ErrorKind::NotFound
        } else {
            ErrorKind::Io
        };
        Self::new(kind, format!("{}: {}", path.display(), err))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
