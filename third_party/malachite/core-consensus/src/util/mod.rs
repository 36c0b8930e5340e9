pub mod bounded_queue;
pub mod pretty;
