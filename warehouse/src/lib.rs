//! warehouse
