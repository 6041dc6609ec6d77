//! Codecs for common types, as `heed::types`.
//!
//! ```
//! use arbordb::byteorder::BigEndian;
//! use arbordb::types::{Bytes, LazyDecode, SerdeJson, Str, I32};
//! # fn main() -> Result<(), arbordb::Error> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let env = unsafe { arbordb::EnvOpenOptions::new().open(dir.path())? };
//! let mut wtxn = env.write_txn()?;
//! // Big-endian integer keys sort numerically, negative ones first.
//! let temperatures = env.create_database::<I32<BigEndian>, Str>(&mut wtxn, Some("temperatures"))?;
//! temperatures.put(&mut wtxn, &-5, "cold")?;
//! temperatures.put(&mut wtxn, &20, "mild")?;
//! assert_eq!(temperatures.first(&wtxn)?, Some((-5, "cold")));
//!
//! // Serde values; decoding can be postponed with LazyDecode.
//! let tags = env.create_database::<Str, SerdeJson<Vec<String>>>(&mut wtxn, Some("tags"))?;
//! tags.put(&mut wtxn, "rust", &vec!["systems".to_string()])?;
//! let lazy = tags.remap_data_type::<LazyDecode<SerdeJson<Vec<String>>>>();
//! let value = lazy.get(&wtxn, "rust")?.unwrap();
//! assert_eq!(value.decode().map_err(arbordb::Error::Decoding)?, vec!["systems".to_string()]);
//!
//! // Bytes borrow straight from the transaction.
//! let raw = tags.remap_types::<Bytes, Bytes>();
//! assert_eq!(raw.get(&wtxn, b"rust")?, Some(&br#"["systems"]"#[..]));
//! # Ok(()) }
//! ```

pub use super::integer::{WrongLength, I128, I16, I32, I64, I8, U128, U16, U32, U64, U8};
pub use super::lazy::{Lazy, LazyDecode};
#[cfg(feature = "serde-bincode")]
pub use super::serde::SerdeBincode;
#[cfg(feature = "serde-json")]
pub use super::serde::SerdeJson;
#[cfg(feature = "serde-rmp")]
pub use super::serde::SerdeRmp;

use std::borrow::Cow;
use std::fmt;

use super::codec::{BytesDecode, BytesEncode};
use crate::error::BoxedError;

/// Raw bytes, stored as they are; decoding borrows from the transaction (zero-copy).
pub enum Bytes {}

impl<'a> BytesEncode<'a> for Bytes {
    type EItem = [u8];

    fn bytes_encode(item: &'a [u8]) -> Result<Cow<'a, [u8]>, BoxedError> {
        Ok(Cow::Borrowed(item))
    }
}

impl<'a> BytesDecode<'a> for Bytes {
    type DItem = &'a [u8];

    fn bytes_decode(bytes: &'a [u8]) -> Result<&'a [u8], BoxedError> {
        Ok(bytes)
    }
}

/// UTF-8 strings, stored as their bytes; decoding borrows and checks UTF-8.
pub enum Str {}

impl<'a> BytesEncode<'a> for Str {
    type EItem = str;

    fn bytes_encode(item: &'a str) -> Result<Cow<'a, [u8]>, BoxedError> {
        Ok(Cow::Borrowed(item.as_bytes()))
    }
}

impl<'a> BytesDecode<'a> for Str {
    type DItem = &'a str;

    fn bytes_decode(bytes: &'a [u8]) -> Result<&'a str, BoxedError> {
        Ok(std::str::from_utf8(bytes)?)
    }
}

/// The unit type, stored as zero bytes; decoding fails on anything else.
pub enum Unit {}

/// Returned when [`Unit`] decodes bytes that are not empty.
#[derive(Debug)]
pub struct NonEmptyUnit {
    /// How many bytes there were.
    pub len: usize,
}

impl fmt::Display for NonEmptyUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected no bytes for a unit value, found {}", self.len)
    }
}

impl std::error::Error for NonEmptyUnit {}

impl BytesEncode<'_> for Unit {
    type EItem = ();

    fn bytes_encode(_item: &()) -> Result<Cow<'_, [u8]>, BoxedError> {
        Ok(Cow::Borrowed(&[]))
    }
}

impl BytesDecode<'_> for Unit {
    type DItem = ();

    fn bytes_decode(bytes: &[u8]) -> Result<(), BoxedError> {
        if bytes.is_empty() {
            Ok(())
        } else {
            Err(Box::new(NonEmptyUnit { len: bytes.len() }))
        }
    }
}

/// Decodes anything to `()` without looking at it (to skip decoding values).
pub enum DecodeIgnore {}

impl BytesDecode<'_> for DecodeIgnore {
    type DItem = ();

    fn bytes_decode(_bytes: &[u8]) -> Result<(), BoxedError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codecs_round_trip_and_reject_bad_bytes() {
        assert_eq!(&*Str::bytes_encode("héllo").unwrap(), "héllo".as_bytes());
        assert_eq!(Str::bytes_decode("héllo".as_bytes()).unwrap(), "héllo");
        assert!(Str::bytes_decode(&[0xff, 0xfe]).is_err());
        assert!(Unit::bytes_decode(&[]).is_ok());
        assert!(Unit::bytes_decode(&[1]).is_err());
        assert_eq!(Bytes::bytes_decode(b"raw").unwrap(), b"raw");
        DecodeIgnore::bytes_decode(b"anything").unwrap();
    }
}
