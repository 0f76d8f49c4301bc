//! The expression language: syntax tree, parser and resolution into plan expressions.

pub mod parse;
pub mod resolve;
pub mod syntax;

pub use parse::{ParseError, parse};
pub use syntax::{Node, NodeKind};
