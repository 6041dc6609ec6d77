//! [`LazyDecode`]: postpone decoding a value until (and unless) it is needed.

use std::borrow::Cow;
use std::marker::PhantomData;

use super::codec::{BytesDecode, BytesEncode};
use crate::error::BoxedError;

/// Wraps a codec so that decoding returns a [`Lazy`] holding the raw bytes; call
/// [`Lazy::decode`] to decode them. Encoding passes through to `C`.
pub struct LazyDecode<C>(PhantomData<C>);

impl<'a, C: BytesEncode<'a>> BytesEncode<'a> for LazyDecode<C> {
    type EItem = C::EItem;

    fn bytes_encode(item: &'a C::EItem) -> Result<Cow<'a, [u8]>, BoxedError> {
        C::bytes_encode(item)
    }
}

impl<'a, C: 'static> BytesDecode<'a> for LazyDecode<C> {
    type DItem = Lazy<'a, C>;

    fn bytes_decode(bytes: &'a [u8]) -> Result<Lazy<'a, C>, BoxedError> {
        Ok(Lazy {
            bytes,
            codec: PhantomData,
        })
    }
}

/// Undecoded bytes from the database and the codec to decode them with.
#[derive(Clone, Copy)]
pub struct Lazy<'a, C> {
    bytes: &'a [u8],
    codec: PhantomData<C>,
}

impl<'a, C: BytesDecode<'a>> Lazy<'a, C> {
    /// Decodes the bytes.
    pub fn decode(&self) -> Result<C::DItem, BoxedError> {
        C::bytes_decode(self.bytes)
    }
}

impl<'a, C> Lazy<'a, C> {
    /// The raw bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

impl<C> std::fmt::Debug for Lazy<'_, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lazy")
            .field("len", &self.bytes.len())
            .finish()
    }
}
