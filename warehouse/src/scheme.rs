//! The scoring scheme (being written).
