//! Integer codecs, as heed's: `U8`, `I8`, and `U16`..`U128` / `I16`..`I128` generic over a
//! byte order from [`byteorder`](crate::byteorder).
//!
//! With [`BigEndian`](byteorder::BigEndian) unsigned integers sort numerically. Signed ones are
//! stored with their sign bit flipped, so that with `BigEndian` they sort numerically too
//! (-1 before 0); heed stores them unflipped, so negative numbers sort after positive ones there.

use std::borrow::Cow;
use std::marker::PhantomData;

use byteorder::ByteOrder;

use super::codec::{BytesDecode, BytesEncode};
use crate::error::BoxedError;

/// Returned when an integer codec decodes bytes of the wrong length.
#[derive(Debug)]
pub struct WrongLength {
    /// Bytes the integer takes.
    pub expected: usize,
    /// Bytes found.
    pub found: usize,
}

impl std::fmt::Display for WrongLength {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "expected {} bytes for an integer, found {}",
            self.expected, self.found
        )
    }
}

impl std::error::Error for WrongLength {}

fn exact<const N: usize>(bytes: &[u8]) -> Result<[u8; N], BoxedError> {
    bytes.try_into().map_err(|_| {
        Box::new(WrongLength {
            expected: N,
            found: bytes.len(),
        }) as BoxedError
    })
}

/// A `u8`, stored as one byte.
pub enum U8 {}

impl BytesEncode<'_> for U8 {
    type EItem = u8;

    fn bytes_encode(item: &u8) -> Result<Cow<'_, [u8]>, BoxedError> {
        Ok(Cow::Owned(vec![*item]))
    }
}

impl BytesDecode<'_> for U8 {
    type DItem = u8;

    fn bytes_decode(bytes: &[u8]) -> Result<u8, BoxedError> {
        Ok(exact::<1>(bytes)?[0])
    }
}

/// An `i8`, stored as one byte with the sign bit flipped (so it sorts numerically).
pub enum I8 {}

impl BytesEncode<'_> for I8 {
    type EItem = i8;

    fn bytes_encode(item: &i8) -> Result<Cow<'_, [u8]>, BoxedError> {
        Ok(Cow::Owned(vec![(*item as u8) ^ 0x80]))
    }
}

impl BytesDecode<'_> for I8 {
    type DItem = i8;

    fn bytes_decode(bytes: &[u8]) -> Result<i8, BoxedError> {
        Ok((exact::<1>(bytes)?[0] ^ 0x80) as i8)
    }
}

macro_rules! integer_codec {
    ($(#[$doc:meta])* $name:ident, $int:ty, $unsigned:ty, $bytes:expr, $write:ident, $read:ident, $sign_flip:expr) => {
        $(#[$doc])*
        pub struct $name<O>(PhantomData<O>);

        impl<O: ByteOrder> BytesEncode<'_> for $name<O> {
            type EItem = $int;

            fn bytes_encode(item: &$int) -> Result<Cow<'_, [u8]>, BoxedError> {
                let mut bytes = [0u8; $bytes];
                O::$write(&mut bytes, (*item as $unsigned) ^ $sign_flip);
                Ok(Cow::Owned(bytes.to_vec()))
            }
        }

        impl<O: ByteOrder> BytesDecode<'_> for $name<O> {
            type DItem = $int;

            fn bytes_decode(bytes: &[u8]) -> Result<$int, BoxedError> {
                let bytes = exact::<$bytes>(bytes)?;
                Ok((O::$read(&bytes) ^ $sign_flip) as $int)
            }
        }
    };
}

integer_codec! {
    /// A `u16` in byte order `O`.
    U16, u16, u16, 2, write_u16, read_u16, 0
}
integer_codec! {
    /// A `u32` in byte order `O`.
    U32, u32, u32, 4, write_u32, read_u32, 0
}
integer_codec! {
    /// A `u64` in byte order `O`.
    U64, u64, u64, 8, write_u64, read_u64, 0
}
integer_codec! {
    /// A `u128` in byte order `O`.
    U128, u128, u128, 16, write_u128, read_u128, 0
}
integer_codec! {
    /// An `i16` in byte order `O`, sign bit flipped.
    I16, i16, u16, 2, write_u16, read_u16, 1 << 15
}
integer_codec! {
    /// An `i32` in byte order `O`, sign bit flipped.
    I32, i32, u32, 4, write_u32, read_u32, 1 << 31
}
integer_codec! {
    /// An `i64` in byte order `O`, sign bit flipped.
    I64, i64, u64, 8, write_u64, read_u64, 1 << 63
}
integer_codec! {
    /// An `i128` in byte order `O`, sign bit flipped.
    I128, i128, u128, 16, write_u128, read_u128, 1 << 127
}

#[cfg(test)]
mod tests {
    use byteorder::{BigEndian, LittleEndian};

    use super::*;

    fn encoded<'a, C: BytesEncode<'a>>(item: &'a C::EItem) -> Vec<u8> {
        C::bytes_encode(item).unwrap().into_owned()
    }

    #[test]
    fn big_endian_integers_sort_numerically_signed_ones_too() {
        let signed = [i64::MIN, -300, -1, 0, 1, 255, 256, i64::MAX];
        let bytes: Vec<Vec<u8>> = signed.iter().map(encoded::<I64<BigEndian>>).collect();
        assert!(bytes.windows(2).all(|pair| pair[0] < pair[1]));
        let unsigned = [0u32, 1, 255, 256, 70_000, u32::MAX];
        let bytes: Vec<Vec<u8>> = unsigned.iter().map(encoded::<U32<BigEndian>>).collect();
        assert!(bytes.windows(2).all(|pair| pair[0] < pair[1]));
        let small: Vec<Vec<u8>> = [-128i8, -1, 0, 127].iter().map(encoded::<I8>).collect();
        assert!(small.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn integers_round_trip_in_both_orders_and_reject_wrong_lengths() {
        for n in [i32::MIN, -5, 0, 7, i32::MAX] {
            assert_eq!(
                I32::<BigEndian>::bytes_decode(&encoded::<I32<BigEndian>>(&n)).unwrap(),
                n
            );
            assert_eq!(
                I32::<LittleEndian>::bytes_decode(&encoded::<I32<LittleEndian>>(&n)).unwrap(),
                n
            );
        }
        assert_eq!(encoded::<U16<LittleEndian>>(&0x0102), vec![2, 1]);
        assert_eq!(
            U128::<BigEndian>::bytes_decode(&encoded::<U128<BigEndian>>(&u128::MAX)).unwrap(),
            u128::MAX
        );
        assert_eq!(U8::bytes_decode(&[9]).unwrap(), 9);
        assert!(U64::<BigEndian>::bytes_decode(&[1, 2, 3]).is_err());
        assert!(I16::<BigEndian>::bytes_decode(&[]).is_err());
    }
}
