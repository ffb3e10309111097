//! serde (in progress)
