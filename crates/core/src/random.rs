//! Randomness is an argument: the workers pass the platform's CSPRNG, tests a seed.

/// A source of cryptographically secure random bytes.
pub trait RandomSource {
    fn fill(&mut self, buf: &mut [u8]);
}

impl<F: FnMut(&mut [u8])> RandomSource for F {
    fn fill(&mut self, buf: &mut [u8]) {
        self(buf)
    }
}

pub const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` uniformly random base62 characters (rejection sampling, so no modulo bias).
pub fn base62_string(rng: &mut dyn RandomSource, len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        rng.fill(&mut buf);
        for &byte in &buf {
            // 248 = 4 * 62: bytes at or above it would favour the first characters.
            if byte < 248 && out.len() < len {
                out.push(BASE62[usize::from(byte % 62)] as char);
            }
        }
    }
    out
}

pub fn is_base62(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A deterministic source for tests (xorshift), never for production keys.
#[cfg(test)]
pub(crate) fn seeded(seed: u64) -> impl FnMut(&mut [u8]) {
    let mut state = seed | 1;
    move |buf: &mut [u8]| {
        for byte in buf {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *byte = (state >> 24) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base62_strings_have_the_asked_length_and_only_base62_characters() {
        let mut rng = seeded(7);
        for len in [0, 1, 12, 32, 100] {
            let s = base62_string(&mut rng, len);
            assert_eq!(s.len(), len);
            assert!(is_base62(&s));
        }
    }

    #[test]
    fn base62_strings_use_the_whole_alphabet() {
        let mut rng = seeded(11);
        let s = base62_string(&mut rng, 5000);
        for c in BASE62 {
            assert!(s.as_bytes().contains(c), "{} never drawn", *c as char);
        }
    }
}
