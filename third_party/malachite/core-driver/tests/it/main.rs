pub mod basic;
pub mod extra;

mod utils;
