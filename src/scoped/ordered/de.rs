//! Decoding from the ordered format (see the module documentation of `ordered`).

use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

use super::{
    OrderedError, ELEMENT, ESCAPED_ZERO, SEQUENCE_END, SIGN_BIT_32, SIGN_BIT_64, STRING_END,
};

/// Decodes a whole key; bytes left over are an error.
pub(crate) fn from_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, OrderedError> {
    let mut decoder = Decoder {
        input: bytes,
        whole_key: true,
    };
    let value = T::deserialize(&mut decoder)?;
    if !decoder.input.is_empty() {
        return Err(OrderedError(format!(
            "{} bytes left over after the key",
            decoder.input.len()
        )));
    }
    Ok(value)
}

/// The deserializer; `whole_key` mirrors the encoder's.
struct Decoder<'de> {
    input: &'de [u8],
    whole_key: bool,
}

fn truncated() -> OrderedError {
    OrderedError("the key ends in the middle of a value".into())
}

impl<'de> Decoder<'de> {
    fn enter_compound(&mut self) -> &mut Self {
        self.whole_key = false;
        self
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], OrderedError> {
        let (head, rest) = self.input.split_first_chunk::<N>().ok_or_else(truncated)?;
        self.input = rest;
        Ok(*head)
    }

    fn byte(&mut self) -> Result<u8, OrderedError> {
        Ok(self.take::<1>()?[0])
    }

    /// A string's bytes: the rest of the input for the whole key, else up to the terminator
    /// with escapes undone.
    fn string(&mut self) -> Result<Vec<u8>, OrderedError> {
        if self.whole_key {
            let all = self.input.to_vec();
            self.input = &[];
            return Ok(all);
        }
        let mut bytes = Vec::new();
        loop {
            match self.byte()? {
                0 => match self.byte()? {
                    STRING_END => return Ok(bytes),
                    ESCAPED_ZERO => bytes.push(0),
                    other => {
                        return Err(OrderedError(format!(
                            "byte {other:#04x} after 0x00 inside a string"
                        )))
                    }
                },
                byte => bytes.push(byte),
            }
        }
    }

    /// A marker before a sequence element (true) or at its end (false).
    fn element_follows(&mut self) -> Result<bool, OrderedError> {
        match self.byte()? {
            ELEMENT => Ok(true),
            SEQUENCE_END => Ok(false),
            other => Err(OrderedError(format!(
                "{other:#04x} is not a sequence marker"
            ))),
        }
    }
}

fn utf8(bytes: Vec<u8>) -> Result<String, OrderedError> {
    String::from_utf8(bytes).map_err(|error| OrderedError(error.to_string()))
}

macro_rules! decode_int {
    ($method:ident, $visit:ident, $unsigned:ty, $width:literal, $flip:expr) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, OrderedError> {
            let bits = <$unsigned>::from_be_bytes(self.take::<$width>()?) ^ $flip;
            #[allow(clippy::cast_possible_wrap)]
            visitor.$visit(bits as _)
        }
    };
}

impl<'de> de::Deserializer<'de> for &mut Decoder<'de> {
    type Error = OrderedError;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, OrderedError> {
        Err(OrderedError(
            "the ordered key encoding is not self-describing: the key type must name its fields"
                .into(),
        ))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, OrderedError> {
        match self.byte()? {
            0 => visitor.visit_bool(false),
            1 => visitor.visit_bool(true),
            other => Err(OrderedError(format!("{other:#04x} is not a bool"))),
        }
    }

    decode_int!(deserialize_i8, visit_i8, u8, 1, 0x80);
    decode_int!(deserialize_i16, visit_i16, u16, 2, 0x8000);
    decode_int!(deserialize_i32, visit_i32, u32, 4, SIGN_BIT_32);
    decode_int!(deserialize_i64, visit_i64, u64, 8, SIGN_BIT_64);
    decode_int!(deserialize_i128, visit_i128, u128, 16, 1 << 127);
    decode_int!(deserialize_u8, visit_u8, u8, 1, 0);
    decode_int!(deserialize_u16, visit_u16, u16, 2, 0);
    decode_int!(deserialize_u32, visit_u32, u32, 4, 0);
    decode_int!(deserialize_u64, visit_u64, u64, 8, 0);
    decode_int!(deserialize_u128, visit_u128, u128, 16, 0);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, OrderedError> {
        let ordered = u32::from_be_bytes(self.take::<4>()?);
        let bits = if ordered & SIGN_BIT_32 != 0 {
            ordered ^ SIGN_BIT_32
        } else {
            !ordered
        };
        visitor.visit_f32(f32::from_bits(bits))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, OrderedError> {
        let ordered = u64::from_be_bytes(self.take::<8>()?);
        let bits = if ordered & SIGN_BIT_64 != 0 {
            ordered ^ SIGN_BIT_64
        } else {
            !ordered
        };
        visitor.visit_f64(f64::from_bits(bits))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, OrderedError> {
        let code = u32::from_be_bytes(self.take::<4>()?);
        let value =
            char::from_u32(code).ok_or_else(|| OrderedError(format!("{code:#x} is not a char")))?;
        visitor.visit_char(value)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, OrderedError> {
        visitor.visit_string(utf8(self.string()?)?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, OrderedError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, OrderedError> {
        visitor.visit_byte_buf(self.string()?)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, OrderedError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, OrderedError> {
        match self.enter_compound().byte()? {
            0 => visitor.visit_none(),
            1 => visitor.visit_some(self),
            other => Err(OrderedError(format!("{other:#04x} is not an Option tag"))),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, OrderedError> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, OrderedError> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, OrderedError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, OrderedError> {
        visitor.visit_seq(Elements {
            decoder: self.enter_compound(),
        })
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, OrderedError> {
        visitor.visit_seq(FixedFields {
            decoder: self.enter_compound(),
            left: len,
        })
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, OrderedError> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, OrderedError> {
        visitor.visit_map(Elements {
            decoder: self.enter_compound(),
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, OrderedError> {
        self.deserialize_tuple(fields.len(), visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, OrderedError> {
        visitor.visit_enum(self.enter_compound())
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, OrderedError> {
        self.deserialize_u32(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, OrderedError> {
        self.deserialize_any(visitor)
    }

    fn is_human_readable(&self) -> bool {
        false
    }
}

/// A sequence or map: elements until the end marker.
struct Elements<'d, 'de> {
    decoder: &'d mut Decoder<'de>,
}

impl<'de> de::SeqAccess<'de> for Elements<'_, 'de> {
    type Error = OrderedError;
    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, OrderedError> {
        if !self.decoder.element_follows()? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.decoder).map(Some)
    }
}

impl<'de> de::MapAccess<'de> for Elements<'_, 'de> {
    type Error = OrderedError;
    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, OrderedError> {
        if !self.decoder.element_follows()? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.decoder).map(Some)
    }
    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, OrderedError> {
        seed.deserialize(&mut *self.decoder)
    }
}

/// Tuples and structs: a known number of fields, no markers.
struct FixedFields<'d, 'de> {
    decoder: &'d mut Decoder<'de>,
    left: usize,
}

impl<'de> de::SeqAccess<'de> for FixedFields<'_, 'de> {
    type Error = OrderedError;
    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, OrderedError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.decoder).map(Some)
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

impl<'de> de::EnumAccess<'de> for &mut Decoder<'de> {
    type Error = OrderedError;
    type Variant = Self;
    fn variant_seed<V: de::DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), OrderedError> {
        let index = u32::from_be_bytes(self.take::<4>()?);
        let variant = seed.deserialize(index.into_deserializer())?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for &mut Decoder<'de> {
    type Error = OrderedError;
    fn unit_variant(self) -> Result<(), OrderedError> {
        Ok(())
    }
    fn newtype_variant_seed<T: de::DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, OrderedError> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, OrderedError> {
        de::Deserializer::deserialize_tuple(self, len, visitor)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, OrderedError> {
        de::Deserializer::deserialize_tuple(self, fields.len(), visitor)
    }
}
