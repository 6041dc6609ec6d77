//! heed's `lmdb_version()`, answered with arbordb's own version: there is no LMDB library in
//! arbordb to report on.

/// A library version in heed's shape ([`lmdb_version`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LmdbVersion {
    /// The version as text: `"arbordb MAJOR.MINOR.PATCH"`.
    pub string: &'static str,
    /// The major version number.
    pub major: i32,
    /// The minor version number.
    pub minor: i32,
    /// The patch version number.
    pub patch: i32,
}

/// arbordb's version (heed's `lmdb_version` reports the LMDB library linked in; arbordb
/// links none, so this is the version of arbordb itself).
///
/// ```
/// let version = arbordb::lmdb_version();
/// assert!(version.string.starts_with("arbordb "));
/// assert_eq!(version.string, format!("arbordb {}.{}.{}", version.major, version.minor, version.patch));
/// ```
pub fn lmdb_version() -> LmdbVersion {
    LmdbVersion {
        string: concat!("arbordb ", env!("CARGO_PKG_VERSION")),
        major: number(env!("CARGO_PKG_VERSION_MAJOR")),
        minor: number(env!("CARGO_PKG_VERSION_MINOR")),
        patch: number(env!("CARGO_PKG_VERSION_PATCH")),
    }
}

/// A version component as Cargo gives it (always decimal digits).
fn number(digits: &str) -> i32 {
    digits.parse().unwrap_or(0)
}
