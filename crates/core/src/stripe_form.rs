//! Stripe's request encoding: `application/x-www-form-urlencoded` with nesting written
//! into the keys, `a[b][0][c]=v`. Requests are built as JSON values and encoded here;
//! the Stripe stand-in decodes them back. And the `Idempotency-Key` of a Checkout
//! Session, derived from what it is created with ([`checkout_idempotency_key`]).

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// How long a repeated checkout request gets the session the first one created.
pub const CHECKOUT_IDEMPOTENCY_SECONDS: i64 = 60;

/// The `Idempotency-Key` for creating a Checkout Session for `buyer` (whoever pays:
/// `{platformId}:{userId}` for an end-user, the Clerk user id for a developer) with
/// `params`, at `now_seconds`. A retry of the same request within the same minute gets
/// the same key, so Stripe answers with the session it already created instead of a
/// second one; any other buyer, parameter or minute gets a new key (Stripe refuses a key
/// reused with other parameters, so the parameters must be part of it).
pub fn checkout_idempotency_key(buyer: &str, params: &Value, now_seconds: i64) -> String {
    let bucket = now_seconds.div_euclid(CHECKOUT_IDEMPOTENCY_SECONDS);
    let mut hash = Sha256::new();
    // The buyer's length keeps `a` + `b:c` apart from `a:b` + `c`.
    hash.update(format!("{}:{buyer}\n{bucket}\n", buyer.len()));
    hash.update(encode(params));
    format!("checkout:{}", hex::encode(hash.finalize()))
}

/// Encodes an object as Stripe form fields. Arrays become `[0]`, `[1]`, …; `null`
/// fields are left out; booleans and numbers are written as text.
pub fn encode(params: &Value) -> String {
    let mut pairs = Vec::new();
    if let Value::Object(map) = params {
        for (key, value) in map {
            flatten(key.clone(), value, &mut pairs);
        }
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn flatten(prefix: String, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Null => {}
        Value::Object(map) => {
            for (key, inner) in map {
                flatten(format!("{prefix}[{key}]"), inner, out);
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                flatten(format!("{prefix}[{i}]"), inner, out);
            }
        }
        Value::String(s) => out.push((prefix, s.clone())),
        other => out.push((prefix, other.to_string())),
    }
}

/// Decodes Stripe form fields into an object of strings: `a[0]` indexes become arrays,
/// other brackets objects. `None` when a key's brackets do not close or indexes skip.
pub fn decode(body: &str) -> Option<Value> {
    let mut root = Value::Object(Map::new());
    for pair in body.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(key)?;
        let value = percent_decode(value)?;
        let path = key_path(&key)?;
        insert(&mut root, &path, Value::String(value))?;
    }
    Some(arrays_from_indexes(root))
}

fn key_path(key: &str) -> Option<Vec<String>> {
    let (head, mut rest) = match key.find('[') {
        Some(i) => (&key[..i], &key[i..]),
        None => (key, ""),
    };
    if head.is_empty() {
        return None;
    }
    let mut path = vec![head.to_string()];
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let close = inner.find(']')?;
        path.push(inner[..close].to_string());
        rest = &inner[close + 1..];
    }
    Some(path)
}

fn insert(node: &mut Value, path: &[String], value: Value) -> Option<()> {
    let map = node.as_object_mut()?;
    match path {
        [last] => {
            map.insert(last.clone(), value);
            Some(())
        }
        [first, rest @ ..] => {
            let child = map.entry(first.clone()).or_insert_with(|| Value::Object(Map::new()));
            insert(child, rest, value)
        }
        [] => None,
    }
}

/// Objects whose keys are exactly 0..n become arrays (Stripe's `[0]` notation).
fn arrays_from_indexes(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let is_array =
                !map.is_empty() && (0..map.len()).all(|i| map.contains_key(&i.to_string()));
            if is_array {
                let mut map = map;
                Value::Array(
                    (0..map.len())
                        .map(|i| {
                            arrays_from_indexes(map.remove(&i.to_string()).unwrap_or_default())
                        })
                        .collect(),
                )
            } else {
                Value::Object(map.into_iter().map(|(k, v)| (k, arrays_from_indexes(v))).collect())
            }
        }
        other => other,
    }
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes one form-encoded key or value: `+` is a space, then `%XX` escapes.
fn percent_decode(s: &str) -> Option<String> {
    crate::routing::percent_decode(&s.replace('+', " "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn nested_objects_and_arrays_are_written_in_brackets() {
        let encoded = encode(&json!({
            "mode": "subscription",
            "line_items": [{"price": "price_1", "quantity": 1}],
            "metadata": {"platformId": "plt_1", "userId": "a b"},
            "skip": null,
        }));
        assert_eq!(
            encoded,
            "line_items%5B0%5D%5Bprice%5D=price_1&line_items%5B0%5D%5Bquantity%5D=1&metadata%5BplatformId%5D=plt_1&metadata%5BuserId%5D=a%20b&mode=subscription"
        );
    }

    #[test]
    fn decoding_reads_brackets_with_or_without_percent_encoding() {
        let decoded = decode("line_items[0][price]=price_1&line_items[0][quantity]=1&metadata[k]=a+b&success_url=http%3A%2F%2Fx")
            .expect("valid");
        assert_eq!(
            decoded,
            json!({"line_items": [{"price": "price_1", "quantity": "1"}], "metadata": {"k": "a b"}, "success_url": "http://x"})
        );
    }

    #[test]
    fn unclosed_brackets_and_bad_escapes_are_refused() {
        assert_eq!(decode("a[b=1"), None);
        assert_eq!(decode("[x]=1"), None);
        assert_eq!(decode("a=%zz"), None);
    }

    fn leaf() -> impl Strategy<Value = Value> {
        "[ -~]{0,12}".prop_map(Value::String)
    }

    fn tree() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 1..4).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z_]{1,6}", inner, 1..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Stripe's form encoding cannot say "empty object" or "empty string array",
        /// so trees here have no empty containers; strings survive any printable text.
        #[test]
        fn decoding_undoes_encoding(map in proptest::collection::btree_map("[a-z_]{1,6}", tree(), 1..4)) {
            let value = Value::Object(map.into_iter().collect());
            prop_assert_eq!(decode(&encode(&value)), Some(value));
        }
    }

    fn checkout() -> Value {
        json!({
            "mode": "subscription",
            "line_items": [{ "price": "price_pro", "quantity": 1 }],
            "success_url": "https://app.example.com/paid",
            "cancel_url": "https://app.example.com/",
            "metadata": { "platformId": "plt_0123456789ab", "userId": "u1", "tierId": "pro" },
        })
    }

    const BUYER: &str = "plt_0123456789ab:u1";
    /// The start of a minute (a multiple of 60 s).
    const MINUTE: i64 = 1_764_000_000;

    #[test]
    fn a_retried_identical_checkout_within_the_minute_gets_the_same_idempotency_key() {
        let first = checkout_idempotency_key(BUYER, &checkout(), MINUTE);
        assert_eq!(checkout_idempotency_key(BUYER, &checkout(), MINUTE + 59), first);
        assert_ne!(
            checkout_idempotency_key(BUYER, &checkout(), MINUTE + 60),
            first,
            "the next minute starts a new session"
        );
    }

    #[test]
    fn a_checkout_for_another_buyer_price_or_return_url_gets_another_idempotency_key() {
        let first = checkout_idempotency_key(BUYER, &checkout(), MINUTE);
        assert_ne!(checkout_idempotency_key("plt_0123456789ab:u2", &checkout(), MINUTE), first);
        let mut other_price = checkout();
        other_price["line_items"][0]["price"] = json!("price_team");
        assert_ne!(checkout_idempotency_key(BUYER, &other_price, MINUTE), first);
        let mut other_success = checkout();
        other_success["success_url"] = json!("https://app.example.com/thanks");
        assert_ne!(checkout_idempotency_key(BUYER, &other_success, MINUTE), first);
        let mut other_cancel = checkout();
        other_cancel["cancel_url"] = json!("https://app.example.com/back");
        assert_ne!(checkout_idempotency_key(BUYER, &other_cancel, MINUTE), first);
    }

    #[test]
    fn a_checkout_idempotency_key_is_named_and_fits_stripes_255_characters() {
        let key = checkout_idempotency_key(BUYER, &checkout(), MINUTE);
        assert!(key.starts_with("checkout:"), "{key}");
        assert_eq!(key.len(), "checkout:".len() + 64);
        assert!(key.len() <= 255);
        assert!(key["checkout:".len()..].bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn the_buyer_and_the_parameters_cannot_be_shifted_into_each_other() {
        let a = checkout_idempotency_key("a", &json!({"b:c": "d"}), MINUTE);
        let b = checkout_idempotency_key("a:b", &json!({"c": "d"}), MINUTE);
        assert_ne!(a, b);
    }
}
