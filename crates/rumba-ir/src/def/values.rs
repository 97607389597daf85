//! The small value types of the user-level graph and their JSON forms: node references,
//! operands (a reference or an inline number), numbers that may be non-finite, slice starts.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// A reference to a node's output: `id`, or `id.name` for a named output of a multi-output
/// node (`env.min`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ref {
    /// The node id.
    pub node: String,
    /// The output name, if any.
    pub output: Option<String>,
}

impl Ref {
    /// Parses `id` or `id.name`.
    #[must_use]
    pub fn parse(text: &str) -> Ref {
        match text.split_once('.') {
            Some((node, output)) => Ref {
                node: node.to_owned(),
                output: Some(output.to_owned()),
            },
            None => Ref {
                node: text.to_owned(),
                output: None,
            },
        }
    }
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.output {
            Some(o) => write!(f, "{}.{o}", self.node),
            None => f.write_str(&self.node),
        }
    }
}

impl Serialize for Ref {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ref {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ref, D::Error> {
        let text = String::deserialize(d)?;
        Ok(Ref::parse(&text))
    }
}

/// An operand: a node reference (a JSON string) or an inline scalar constant (a JSON number,
/// weak like every scalar).
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// Another node's output.
    Ref(Ref),
    /// A scalar constant.
    Scalar(f64),
}

impl From<f64> for Operand {
    fn from(v: f64) -> Operand {
        Operand::Scalar(v)
    }
}

impl Serialize for Operand {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Operand::Ref(r) => r.serialize(s),
            Operand::Scalar(v) => Number(*v).serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Operand {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Operand, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Operand;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a node reference (string) or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Operand, E> {
                Ok(Operand::Ref(Ref::parse(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Operand, E> {
                Ok(Operand::Scalar(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Operand, E> {
                Ok(Operand::Scalar(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Operand, E> {
                Ok(Operand::Scalar(v as f64))
            }
        }
        d.deserialize_any(V)
    }
}

/// An f64 that JSON can carry even when it is not finite: a number, or `"nan"`, `"inf"`,
/// `"-inf"`.
#[derive(Clone, Copy, Debug)]
pub struct Number(pub f64);

impl PartialEq for Number {
    fn eq(&self, other: &Number) -> bool {
        self.0.to_bits() == other.0.to_bits() || self.0 == other.0
    }
}

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        if v.is_nan() {
            s.serialize_str("nan")
        } else if v.is_infinite() {
            s.serialize_str(if v > 0.0 { "inf" } else { "-inf" })
        } else if v.fract() == 0.0 && v.abs() < 9.0e15 {
            s.serialize_i64(v as i64)
        } else {
            s.serialize_f64(v)
        }
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Number, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or one of \"nan\", \"inf\", \"-inf\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Number, E> {
                match v {
                    "nan" => Ok(Number(f64::NAN)),
                    "inf" => Ok(Number(f64::INFINITY)),
                    "-inf" => Ok(Number(f64::NEG_INFINITY)),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Number, E> {
                Ok(Number(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
        }
        d.deserialize_any(V)
    }
}

/// The start of a slice: a fixed index or a param (then `len` is required).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SliceStart {
    /// A fixed index (negative counts from the end).
    Index(i64),
    /// A param node giving the index at run time.
    Param(Ref),
}
