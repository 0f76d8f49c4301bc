//! The syntax tree of an expression, with spans relative to the expression text.

use std::ops::Range;

use tenure_plan::{BinaryOp, Duration, UnaryOp};

/// A node of the syntax tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What the node is.
    pub kind: NodeKind,
    /// Byte range in the expression text.
    pub span: Range<usize>,
}

/// A call argument, optionally named (`at_least = 2`).
#[derive(Debug, Clone, PartialEq)]
pub struct Argument {
    /// The name before `=`, with its span.
    pub name: Option<(String, Range<usize>)>,
    /// The value.
    pub value: Node,
}

/// The kinds of syntax nodes.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number literal.
    Number(f64),
    /// A string literal, unescaped.
    String(String),
    /// A date literal as written (`2025-01-31`), validated during resolution.
    Date(String),
    /// A duration literal.
    Duration(Duration),
    /// `[a, b, …]`
    List(Vec<Node>),
    /// A dotted name: `event`, `props.plan`, `gross_margin`, `revenue.nrr`.
    Name(Vec<String>),
    /// A prefix operation.
    Unary(UnaryOp, Box<Node>),
    /// An infix operation.
    Binary(BinaryOp, Box<Node>, Box<Node>),
    /// `f(args)`
    Call {
        /// Function name.
        name: String,
        /// Span of the function name.
        name_span: Range<usize>,
        /// Arguments in order.
        args: Vec<Argument>,
    },
}

impl Node {
    /// The depth of the tree below and including this node.
    pub fn depth(&self) -> usize {
        1 + match &self.kind {
            NodeKind::List(items) => items.iter().map(Node::depth).max().unwrap_or(0),
            NodeKind::Unary(_, inner) => inner.depth(),
            NodeKind::Binary(_, left, right) => left.depth().max(right.depth()),
            NodeKind::Call { args, .. } => args.iter().map(|a| a.value.depth()).max().unwrap_or(0),
            _ => 0,
        }
    }
}
