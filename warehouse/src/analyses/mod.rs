//! Analyses of the data contract (being written).
