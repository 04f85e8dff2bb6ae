//! JSON in and out. Answers: [`created`]. Request bodies are read strictly where JSON is ambiguous
//! (a key given twice is refused, not "the last one wins", so that a proxy
//! reading the first and the server reading the last cannot disagree), and
//! as JSON Schema reads numbers (`110.0` is the integer 110).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use warp::Reply;
use warp::http::StatusCode;
use warp::reply::Response;

/// A 201 answer with the made thing as JSON.
pub fn created(value: &impl serde::Serialize) -> Response {
    warp::reply::with_status(warp::reply::json(value), StatusCode::CREATED).into_response()
}

/// A JSON document read with those rules.
pub struct Document(pub Value);

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DocumentVisitor).map(Document)
    }
}

struct DocumentVisitor;

/// Floats are exact up to 2^53: a whole number within that is the integer.
const EXACT: f64 = 9_007_199_254_740_992.0;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        if v.fract() == 0.0 && v.abs() <= EXACT {
            Ok(Value::from(v as i64))
        } else {
            Ok(Value::from(v))
        }
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Value, A::Error> {
        let mut values = Vec::new();
        while let Some(Document(value)) = items.next_element()? {
            values.push(value);
        }
        Ok(Value::Array(values))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = entries.next_key::<String>()? {
            let Document(value) = entries.next_value()?;
            if map.insert(key.clone(), value).is_some() {
                return Err(de::Error::custom(format!("duplicate key `{key}`")));
            }
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Value, serde_json::Error> {
        serde_json::from_str::<Document>(text).map(|d| d.0)
    }

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        assert!(read(r#"{"a": 1, "a": 2}"#).is_err());
        assert!(read(r#"{"x": [{"b": 1, "b": 1}]}"#).is_err());
        assert_eq!(
            read(r#"{"a": 1, "b": {"a": 2}}"#).expect("json"),
            serde_json::json!({"a": 1, "b": {"a": 2}})
        );
    }

    #[test]
    fn whole_floats_are_integers_and_others_stay_floats() {
        let value = read(r#"{"n": 110.0, "m": -3.0, "f": 2.5, "big": 1e300}"#).expect("json");
        assert!(value["n"].is_i64() && value["n"] == 110);
        assert!(value["m"].is_i64() && value["m"] == -3);
        assert!(value["f"].is_f64());
        assert!(value["big"].is_f64());
    }
}
