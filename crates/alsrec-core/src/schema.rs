//! What every option set shares: its list of keys is read from its `Deserialize` impl, so the
//! list cannot drift from the type (the binding, the TypeScript checks and the CLI all use it);
//! seeds arrive as signed JavaScript numbers and are checked in one place.
use crate::error::{Error, Result};

/// The field names of a struct (or the variant names of an enum) as its `Deserialize` impl
/// accepts them, aliases included, in declaration order. Read from the derived impl itself, so
/// an option set's list of keys is its type and cannot drift from it.
pub fn serde_names<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{self, Visitor};

    /// A deserializer that only records the names `deserialize_struct` / `deserialize_enum` is
    /// given, then stops.
    struct Probe<'a>(&'a mut &'static [&'static str]);

    impl<'de> de::Deserializer<'de> for Probe<'_> {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(
            self,
            _: V,
        ) -> std::result::Result<V::Value, Self::Error> {
            Err(de::Error::custom("names probe"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> std::result::Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("names probe"))
        }

        fn deserialize_enum<V: Visitor<'de>>(
            self,
            _: &'static str,
            variants: &'static [&'static str],
            _: V,
        ) -> std::result::Result<V::Value, Self::Error> {
            *self.0 = variants;
            Err(de::Error::custom("names probe"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map identifier ignored_any
        }
    }

    let mut names: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut names));
    names
}

/// A seed given as a signed integer (as JavaScript numbers arrive): refused when negative.
pub fn seed_from_signed(seed: i64) -> Result<u64> {
    u64::try_from(seed).map_err(|_| {
        Error::invalid_argument(format!("seed must be a whole number ≥ 0 (got {seed})"))
    })
}
