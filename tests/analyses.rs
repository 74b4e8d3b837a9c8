//! Analyses against hand-computed figures (being written).
