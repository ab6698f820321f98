//! Admin commands other than `serve`/`migrate`, one file each, so `main.rs` only dispatches.
//! Each prints its result as the last line of stdout (scripts take `tail -n1`).

pub mod clients;
pub mod prune;
pub mod rotate;
pub mod token;
