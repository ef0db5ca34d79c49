//! The `alliance` binary and the store as processes: the command line, the demo, and
//! commits surviving SIGKILL. One test binary.

mod cli;
mod demo;
mod store_crash;
