//! Encoding into the ordered format (see the module documentation of `ordered`).

use serde::ser::{self, Serialize};

use super::{
    OrderedError, ELEMENT, ESCAPED_ZERO, SEQUENCE_END, SIGN_BIT_32, SIGN_BIT_64, STRING_END,
};

/// Appends the ordered encoding of `value` to `out`.
pub(crate) fn to_bytes<T: Serialize + ?Sized>(
    value: &T,
    out: &mut Vec<u8>,
) -> Result<(), OrderedError> {
    value.serialize(&mut Encoder {
        out,
        whole_key: true,
    })
}

/// The serializer. `whole_key` holds while the value being written is the whole key (the top
/// level, or a newtype struct around it): a string there needs no terminator.
struct Encoder<'o> {
    out: &'o mut Vec<u8>,
    whole_key: bool,
}

impl Encoder<'_> {
    /// Called on entering anything with parts: none of the parts is the whole key.
    fn enter_compound(&mut self) -> &mut Self {
        self.whole_key = false;
        self
    }

    fn write_string(&mut self, bytes: &[u8]) {
        if self.whole_key {
            self.out.extend_from_slice(bytes);
            return;
        }
        for &byte in bytes {
            self.out.push(byte);
            if byte == 0 {
                self.out.push(ESCAPED_ZERO);
            }
        }
        self.out.extend_from_slice(&[0, STRING_END]);
    }

    fn write_variant(&mut self, index: u32) {
        self.enter_compound();
        self.out.extend_from_slice(&index.to_be_bytes());
    }
}

/// An integer as big-endian bytes of its unsigned twin, with `$flip` applied (the sign bit
/// for signed types, so that negative numbers sort first).
macro_rules! encode_int {
    ($method:ident, $int:ty, $unsigned:ty, $flip:expr) => {
        fn $method(self, value: $int) -> Result<(), OrderedError> {
            #[allow(clippy::cast_sign_loss)]
            let bits = (value as $unsigned) ^ $flip;
            self.out.extend_from_slice(&bits.to_be_bytes());
            Ok(())
        }
    };
}

impl<'e, 'o> ser::Serializer for &'e mut Encoder<'o> {
    type Ok = ();
    type Error = OrderedError;
    type SerializeSeq = Sequence<'e, 'o>;
    type SerializeTuple = Fields<'e, 'o>;
    type SerializeTupleStruct = Fields<'e, 'o>;
    type SerializeTupleVariant = Fields<'e, 'o>;
    type SerializeMap = Sequence<'e, 'o>;
    type SerializeStruct = Fields<'e, 'o>;
    type SerializeStructVariant = Fields<'e, 'o>;

    fn serialize_bool(self, value: bool) -> Result<(), OrderedError> {
        self.out.push(u8::from(value));
        Ok(())
    }
    encode_int!(serialize_i8, i8, u8, 0x80);
    encode_int!(serialize_i16, i16, u16, 0x8000);
    encode_int!(serialize_i32, i32, u32, SIGN_BIT_32);
    encode_int!(serialize_i64, i64, u64, SIGN_BIT_64);
    encode_int!(serialize_i128, i128, u128, 1 << 127);
    encode_int!(serialize_u8, u8, u8, 0);
    encode_int!(serialize_u16, u16, u16, 0);
    encode_int!(serialize_u32, u32, u32, 0);
    encode_int!(serialize_u64, u64, u64, 0);
    encode_int!(serialize_u128, u128, u128, 0);
    fn serialize_f32(self, value: f32) -> Result<(), OrderedError> {
        let bits = value.to_bits();
        let flip = if bits & SIGN_BIT_32 != 0 {
            u32::MAX
        } else {
            SIGN_BIT_32
        };
        self.out.extend_from_slice(&(bits ^ flip).to_be_bytes());
        Ok(())
    }
    fn serialize_f64(self, value: f64) -> Result<(), OrderedError> {
        let bits = value.to_bits();
        let flip = if bits & SIGN_BIT_64 != 0 {
            u64::MAX
        } else {
            SIGN_BIT_64
        };
        self.out.extend_from_slice(&(bits ^ flip).to_be_bytes());
        Ok(())
    }
    fn serialize_char(self, value: char) -> Result<(), OrderedError> {
        self.serialize_u32(u32::from(value))
    }
    fn serialize_str(self, value: &str) -> Result<(), OrderedError> {
        self.write_string(value.as_bytes());
        Ok(())
    }
    fn serialize_bytes(self, value: &[u8]) -> Result<(), OrderedError> {
        self.write_string(value);
        Ok(())
    }
    fn serialize_none(self) -> Result<(), OrderedError> {
        self.out.push(0);
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), OrderedError> {
        self.enter_compound().out.push(1);
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), OrderedError> {
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), OrderedError> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
    ) -> Result<(), OrderedError> {
        self.write_variant(index);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), OrderedError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        value: &T,
    ) -> Result<(), OrderedError> {
        self.write_variant(index);
        value.serialize(self)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Sequence<'e, 'o>, OrderedError> {
        Ok(Sequence {
            encoder: self.enter_compound(),
        })
    }
    fn serialize_tuple(self, _len: usize) -> Result<Fields<'e, 'o>, OrderedError> {
        Ok(Fields {
            encoder: self.enter_compound(),
        })
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Fields<'e, 'o>, OrderedError> {
        Ok(Fields {
            encoder: self.enter_compound(),
        })
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Fields<'e, 'o>, OrderedError> {
        self.write_variant(index);
        Ok(Fields { encoder: self })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Sequence<'e, 'o>, OrderedError> {
        Ok(Sequence {
            encoder: self.enter_compound(),
        })
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Fields<'e, 'o>, OrderedError> {
        Ok(Fields {
            encoder: self.enter_compound(),
        })
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Fields<'e, 'o>, OrderedError> {
        self.write_variant(index);
        Ok(Fields { encoder: self })
    }
}

/// A sequence or map being written: a marker before each element, one at the end.
pub(super) struct Sequence<'e, 'o> {
    encoder: &'e mut Encoder<'o>,
}

impl Sequence<'_, '_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), OrderedError> {
        self.encoder.out.push(ELEMENT);
        value.serialize(&mut *self.encoder)
    }

    fn finish(self) -> Result<(), OrderedError> {
        self.encoder.out.push(SEQUENCE_END);
        Ok(())
    }
}

impl ser::SerializeSeq for Sequence<'_, '_> {
    type Ok = ();
    type Error = OrderedError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), OrderedError> {
        self.element(value)
    }
    fn end(self) -> Result<(), OrderedError> {
        self.finish()
    }
}

impl ser::SerializeMap for Sequence<'_, '_> {
    type Ok = ();
    type Error = OrderedError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), OrderedError> {
        self.element(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), OrderedError> {
        // The value belongs to the element its key opened: no marker of its own.
        value.serialize(&mut *self.encoder)
    }
    fn end(self) -> Result<(), OrderedError> {
        self.finish()
    }
}

/// Tuples, structs and their variants: the fields one after another.
pub(super) struct Fields<'e, 'o> {
    encoder: &'e mut Encoder<'o>,
}

impl Fields<'_, '_> {
    fn field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), OrderedError> {
        value.serialize(&mut *self.encoder)
    }
}

macro_rules! fields_impl {
    ($trait:ident, $method:ident $(, $key:ident)?) => {
        impl ser::$trait for Fields<'_, '_> {
            type Ok = ();
            type Error = OrderedError;
            fn $method<T: Serialize + ?Sized>(
                &mut self,
                $($key: &'static str,)?
                value: &T,
            ) -> Result<(), OrderedError> {
                self.field(value)
            }
            fn end(self) -> Result<(), OrderedError> {
                Ok(())
            }
        }
    };
}

fields_impl!(SerializeTuple, serialize_element);
fields_impl!(SerializeTupleStruct, serialize_field);
fields_impl!(SerializeTupleVariant, serialize_field);
fields_impl!(SerializeStruct, serialize_field, _key);
fields_impl!(SerializeStructVariant, serialize_field, _key);
