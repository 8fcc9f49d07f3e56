//! Helpers live in tests/.
