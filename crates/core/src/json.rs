//! Request bodies: how much of one is read ([`BodyCap`]), and a JSON object read field
//! by field, so every rejection names the field and says what it accepts. Unknown
//! fields are ignored; `null` means absent.

use crate::error::Invalid;
use serde_json::{Map, Value};

/// The most of a request body that is read: 64 KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Whether to go on reading a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyRead {
    Continue,
    /// A declared `Content-Length` within the cap: HTTP's framing bounds the body to
    /// it, so it can be read whole, at once.
    Fits,
    /// Over the cap: stop reading and answer `413 payload_too_large`.
    TooLarge,
}

/// The running total of a body read chunk by chunk. A declared `Content-Length` can lie
/// or be missing (chunked bodies), so the cap is checked as each chunk arrives, before
/// it is kept: at most the cap plus one chunk is ever read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyCap {
    limit: usize,
    read: usize,
}

impl Default for BodyCap {
    fn default() -> Self {
        Self::new(MAX_BODY_BYTES)
    }
}

impl BodyCap {
    pub fn new(limit: usize) -> Self {
        Self { limit, read: 0 }
    }

    /// Before reading anything: a `Content-Length` over the cap is refused outright. One
    /// that is not a number says nothing, and the running total decides.
    pub fn declared(&self, content_length: Option<&str>) -> BodyRead {
        let Some(digits) = content_length.map(str::trim) else { return BodyRead::Continue };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return BodyRead::Continue;
        }
        // Too many digits for a u64 is certainly over the cap.
        match digits.parse::<u64>() {
            Ok(n) if n <= self.limit as u64 => BodyRead::Fits,
            _ => BodyRead::TooLarge,
        }
    }

    /// Counts a chunk of `len` bytes; once the total passes the cap, every answer is
    /// `TooLarge`.
    pub fn take(&mut self, len: usize) -> BodyRead {
        self.read = self.read.saturating_add(len);
        if self.read > self.limit {
            BodyRead::TooLarge
        } else {
            BodyRead::Continue
        }
    }

    /// Bytes counted so far.
    pub fn read(&self) -> usize {
        self.read
    }
}

#[derive(Debug, Clone)]
pub struct JsonObject(Map<String, Value>);

impl JsonObject {
    pub fn parse(bytes: &[u8]) -> Result<Self, Invalid> {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(Invalid::new("the request body must be a JSON object")),
            Err(e) => Err(Invalid::new(format!("the request body is not valid JSON ({e})"))),
        }
    }

    pub fn from_map(map: Map<String, Value>) -> Self {
        Self(map)
    }

    /// An empty body reads as `{}`, for routes whose fields are all optional.
    pub fn parse_or_empty(bytes: &[u8]) -> Result<Self, Invalid> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            Ok(Self(Map::new()))
        } else {
            Self::parse(bytes)
        }
    }

    pub fn get(&self, field: &str) -> Option<&Value> {
        self.0.get(field).filter(|v| !v.is_null())
    }

    pub fn required_str(&self, field: &str) -> Result<&str, Invalid> {
        self.optional_str(field)?.ok_or_else(|| Invalid::new(format!("{field} is required")))
    }

    pub fn optional_str(&self, field: &str) -> Result<Option<&str>, Invalid> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Invalid::new(format!("{field} must be a string"))),
        }
    }

    pub fn optional_bool(&self, field: &str) -> Result<Option<bool>, Invalid> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(Invalid::new(format!("{field} must be true or false"))),
        }
    }

    /// An integer in `min..=max`. As JSON Schema counts them, `5.0` and `5e0` are the
    /// integer 5 (a client's JSON encoder may write whole numbers so); `5.5` and `"5"` are
    /// not integers.
    pub fn optional_int(&self, field: &str, min: u64, max: u64) -> Result<Option<u64>, Invalid> {
        match self.get(field) {
            None => Ok(None),
            Some(v) => match whole_number(v) {
                Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(Invalid::new(format!("{field} must be an integer from {min} to {max}"))),
            },
        }
    }

    pub fn required_array(&self, field: &str) -> Result<&Vec<Value>, Invalid> {
        match self.get(field) {
            None => Err(Invalid::new(format!("{field} is required"))),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(Invalid::new(format!("{field} must be an array"))),
        }
    }
}

/// A JSON number that is a whole number ≥ 0 (written `5`, `5.0` or `5e0`), as
/// JSON Schema's `integer` counts them; `None` for fractions, negatives, and numbers
/// past 2^53, where a float no longer holds every integer.
pub fn whole_number(v: &Value) -> Option<u64> {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    v.as_u64().or_else(|| {
        let f = v.as_f64()?;
        (f.fract() == 0.0 && (0.0..=EXACT).contains(&f)).then_some(f as u64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(s: &str) -> JsonObject {
        JsonObject::parse(s.as_bytes()).expect("object")
    }

    #[test]
    fn non_objects_and_broken_json_are_rejected_with_a_message() {
        assert!(JsonObject::parse(b"[1]").is_err());
        assert!(JsonObject::parse(b"\"x\"").is_err());
        assert!(JsonObject::parse(b"{\"a\":").unwrap_err().0.contains("not valid JSON"));
        assert!(JsonObject::parse(b"").is_err());
        assert!(JsonObject::parse_or_empty(b"  ").is_ok());
    }

    #[test]
    fn strings_must_be_strings_and_required_ones_present() {
        let o = obj(r#"{"a": "x", "b": 1, "c": null}"#);
        assert_eq!(o.required_str("a"), Ok("x"));
        assert_eq!(o.required_str("b").unwrap_err().0, "b must be a string");
        assert_eq!(o.required_str("c").unwrap_err().0, "c is required");
        assert_eq!(o.optional_str("missing"), Ok(None));
    }

    #[test]
    fn integers_must_be_whole_and_in_range() {
        let o = obj(
            r#"{"a": 5, "b": 1.5, "c": -1, "d": "5", "e": 1e3, "f": 245.0, "g": -0.0, "h": 1e300}"#,
        );
        assert_eq!(o.optional_int("a", 1, 10), Ok(Some(5)));
        assert_eq!(o.optional_int("e", 0, 10_000), Ok(Some(1000)));
        assert_eq!(o.optional_int("f", 0, 10_000), Ok(Some(245)));
        assert_eq!(o.optional_int("g", 0, 10), Ok(Some(0)));
        for field in ["b", "c", "d", "h"] {
            assert!(o.optional_int(field, 0, 10_000).is_err(), "{field}");
        }
        assert_eq!(o.optional_int("a", 6, 10).unwrap_err().0, "a must be an integer from 6 to 10");
    }

    #[test]
    fn a_chunked_body_over_64_kib_is_refused_before_it_is_read_whole() {
        let mut cap = BodyCap::default();
        let chunk = 16 * 1024;
        for _ in 0..4 {
            assert_eq!(cap.take(chunk), BodyRead::Continue);
        }
        assert_eq!(cap.read(), MAX_BODY_BYTES, "exactly 64 KiB is allowed");
        assert_eq!(cap.take(chunk), BodyRead::TooLarge);
        assert_eq!(cap.read(), MAX_BODY_BYTES + chunk, "no more than the cap and one chunk");
    }

    #[test]
    fn one_byte_over_64_kib_is_too_large() {
        let mut cap = BodyCap::default();
        assert_eq!(cap.take(MAX_BODY_BYTES), BodyRead::Continue);
        assert_eq!(cap.take(0), BodyRead::Continue, "an empty chunk changes nothing");
        assert_eq!(cap.take(1), BodyRead::TooLarge);
        assert_eq!(cap.take(0), BodyRead::TooLarge, "once over, it stays over");
    }

    #[test]
    fn a_single_chunk_larger_than_the_cap_is_refused_at_once() {
        assert_eq!(BodyCap::default().take(MAX_BODY_BYTES + 1), BodyRead::TooLarge);
        assert_eq!(BodyCap::default().take(usize::MAX), BodyRead::TooLarge);
    }

    #[test]
    fn a_declared_length_over_64_kib_is_refused_without_reading() {
        let cap = BodyCap::default();
        assert_eq!(cap.declared(Some("65537")), BodyRead::TooLarge);
        assert_eq!(cap.declared(Some(" 99999999999999999999999 ")), BodyRead::TooLarge);
        assert_eq!(cap.declared(Some("65536")), BodyRead::Fits);
        assert_eq!(cap.declared(Some("0")), BodyRead::Fits);
        assert_eq!(cap.declared(Some("abc")), BodyRead::Continue);
        assert_eq!(cap.declared(None), BodyRead::Continue, "chunked: the stream decides");
    }
}
