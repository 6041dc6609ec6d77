//! [`ScopedDbError`]: what a scoped operation can fail with.

use std::fmt;

use crate::error::{BoxedError, Error};

/// The error of the scope layer.
#[derive(Debug)]
pub enum ScopedDbError {
    /// An error of the storage engine. Named as in scoped-heed, so code that matches on it
    /// ports unchanged.
    Heed(Error),
    /// The empty string was used as a scope name (see [`Scope`](super::Scope)).
    EmptyScopeDisallowed,
    /// Two scope names hash to the same 4-byte prefix. The name registered first owns the
    /// prefix, and keeps it while it holds data even if it is unregistered; every operation
    /// by the other name fails with this error, reads included, so the two never see each
    /// other's data.
    HashCollision {
        /// The name the operation used.
        name: String,
        /// The name that owns the hash: registered for it, or owning data under it.
        registered: String,
        /// The shared hash.
        hash: u32,
    },
    /// Other invalid input (a missing database name, a hand-built scope whose hash does not
    /// match its name, keys under a hash that no name owns: see
    /// [`ScopedDb::claim_orphaned_data`](super::ScopedDb::claim_orphaned_data)).
    InvalidInput(String),
    /// A key or value could not be encoded.
    Encoding(String),
}

impl fmt::Display for ScopedDbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScopedDbError::Heed(error) => write!(f, "database error: {error}"),
            ScopedDbError::EmptyScopeDisallowed => write!(
                f,
                "the empty string is not a scope name; use Scope::Default (or None) for the \
                 default scope"
            ),
            ScopedDbError::HashCollision {
                name,
                registered,
                hash,
            } => write!(
                f,
                "scope {name:?} hashes to {hash:#010x}, which belongs to the scope \
                 {registered:?}; choose another name"
            ),
            ScopedDbError::InvalidInput(message) => write!(f, "invalid input: {message}"),
            ScopedDbError::Encoding(message) => write!(f, "encoding error: {message}"),
        }
    }
}

impl std::error::Error for ScopedDbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ScopedDbError::Heed(error) => Some(error),
            _ => None,
        }
    }
}

impl From<Error> for ScopedDbError {
    fn from(error: Error) -> ScopedDbError {
        ScopedDbError::Heed(error)
    }
}

impl From<BoxedError> for ScopedDbError {
    fn from(error: BoxedError) -> ScopedDbError {
        ScopedDbError::Encoding(error.to_string())
    }
}
