//! The identifiers of outgoing webhooks: an endpoint (`we_` + 16 base62) and a message
//! (`msg_` + 24 base62, the `webhook-id` header, the same on every retry so that a
//! receiver can drop a message it has already handled).

use crate::error::Invalid;
use crate::random::{base62_string, is_base62, RandomSource};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A prefixed random identifier: a newtype whose value always passed `parse`, also when
/// it is read back with serde.
macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $len:literal, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;
            pub const RANDOM_LEN: usize = $len;

            pub fn generate(rng: &mut dyn RandomSource) -> Self {
                Self(format!("{}{}", Self::PREFIX, base62_string(rng, Self::RANDOM_LEN)))
            }

            pub fn parse(s: &str) -> Result<Self, Invalid> {
                match s.strip_prefix(Self::PREFIX) {
                    Some(rest) if rest.len() == Self::RANDOM_LEN && is_base62(rest) => {
                        Ok(Self(s.into()))
                    }
                    _ => Err(Invalid::new(concat!(
                        $field, " must be ", $prefix, " followed by ", $len, " letters or digits"
                    ))),
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = Invalid;
            fn try_from(s: String) -> Result<Self, Invalid> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

prefixed_id!(
    /// A developer's webhook endpoint: `we_` + 16 base62 characters.
    EndpointId,
    "we_",
    16,
    "a webhook endpoint id"
);

prefixed_id!(
    /// One message to one endpoint (`webhook-id`): `msg_` + 24 base62 characters.
    MessageId,
    "msg_",
    24,
    "messageId"
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::seeded;

    #[test]
    fn generated_endpoint_and_message_ids_parse_back_with_their_prefix_and_length() {
        let mut rng = seeded(5);
        for _ in 0..100 {
            let endpoint = EndpointId::generate(&mut rng);
            assert_eq!(endpoint.as_str().len(), 3 + 16);
            assert!(endpoint.as_str().starts_with("we_"));
            assert_eq!(EndpointId::parse(endpoint.as_str()), Ok(endpoint.clone()));
            let message = MessageId::generate(&mut rng);
            assert_eq!(message.as_str().len(), 4 + 24);
            assert!(message.as_str().starts_with("msg_"));
            assert_eq!(MessageId::parse(message.as_str()), Ok(message.clone()));
        }
    }

    #[test]
    fn ids_with_the_wrong_prefix_length_or_characters_are_refused_with_a_message() {
        for bad in ["", "we_", "we_0123456789abcde", "we_0123456789abcdef0", "wx_0123456789abcdef"]
        {
            assert!(EndpointId::parse(bad).is_err(), "{bad}");
        }
        assert!(EndpointId::parse("we_0123456789abcde-").is_err());
        assert_eq!(
            MessageId::parse("msg_short"),
            Err(Invalid::new("messageId must be msg_ followed by 24 letters or digits"))
        );
        assert!(MessageId::parse("msg_p5jXN8AQM9LWM0D4loKWxJek").is_ok());
        assert!(MessageId::parse("msg_27UH4WbU6Z5A5EzD8u03UvzRbpk").is_err());
    }

    #[test]
    fn ids_read_back_with_serde_are_checked() {
        let id: EndpointId = serde_json::from_str("\"we_0123456789abcdef\"").expect("valid");
        assert_eq!(serde_json::to_string(&id).expect("serialises"), "\"we_0123456789abcdef\"");
        assert!(serde_json::from_str::<EndpointId>("\"we_nope\"").is_err());
        assert!(serde_json::from_str::<MessageId>("\"we_0123456789abcdef\"").is_err());
    }
}
