//! Serde codecs, each behind its feature: [`SerdeBincode`] (`serde-bincode`),
//! [`SerdeJson`] (`serde-json`) and `SerdeRmp` (`serde-rmp`, MessagePack), as heed's.
//!
//! Neither format preserves order: use them for values, or for keys only where order does not
//! matter.

use std::borrow::Cow;
use std::marker::PhantomData;

use super::codec::{BytesDecode, BytesEncode};
use crate::error::BoxedError;

/// Any serde type, stored with bincode 1.
#[cfg(feature = "serde-bincode")]
pub struct SerdeBincode<T>(PhantomData<T>);

#[cfg(feature = "serde-bincode")]
impl<'a, T: serde::Serialize + 'a> BytesEncode<'a> for SerdeBincode<T> {
    type EItem = T;

    fn bytes_encode(item: &'a T) -> Result<Cow<'a, [u8]>, BoxedError> {
        Ok(Cow::Owned(bincode::serialize(item)?))
    }
}

#[cfg(feature = "serde-bincode")]
impl<'a, T: serde::Deserialize<'a> + 'a> BytesDecode<'a> for SerdeBincode<T> {
    type DItem = T;

    fn bytes_decode(bytes: &'a [u8]) -> Result<T, BoxedError> {
        Ok(bincode::deserialize(bytes)?)
    }
}

/// Any serde type, stored as JSON.
#[cfg(feature = "serde-json")]
pub struct SerdeJson<T>(PhantomData<T>);

#[cfg(feature = "serde-json")]
impl<'a, T: serde::Serialize + 'a> BytesEncode<'a> for SerdeJson<T> {
    type EItem = T;

    fn bytes_encode(item: &'a T) -> Result<Cow<'a, [u8]>, BoxedError> {
        Ok(Cow::Owned(serde_json::to_vec(item)?))
    }
}

#[cfg(feature = "serde-json")]
impl<'a, T: serde::Deserialize<'a> + 'a> BytesDecode<'a> for SerdeJson<T> {
    type DItem = T;

    fn bytes_decode(bytes: &'a [u8]) -> Result<T, BoxedError> {
        Ok(serde_json::from_slice(bytes)?)
    }
}

/// Any serde type, stored as MessagePack (rmp-serde's compact form: structs as arrays).
#[cfg(feature = "serde-rmp")]
pub struct SerdeRmp<T>(PhantomData<T>);

#[cfg(feature = "serde-rmp")]
impl<'a, T: serde::Serialize + 'a> BytesEncode<'a> for SerdeRmp<T> {
    type EItem = T;

    fn bytes_encode(item: &'a T) -> Result<Cow<'a, [u8]>, BoxedError> {
        Ok(Cow::Owned(rmp_serde::to_vec(item)?))
    }
}

#[cfg(feature = "serde-rmp")]
impl<'a, T: serde::Deserialize<'a> + 'a> BytesDecode<'a> for SerdeRmp<T> {
    type DItem = T;

    fn bytes_decode(bytes: &'a [u8]) -> Result<T, BoxedError> {
        Ok(rmp_serde::from_slice(bytes)?)
    }
}
