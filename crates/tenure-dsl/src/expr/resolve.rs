//! Syntax tree → plan expression: names resolved, constants folded, types checked.

use std::collections::BTreeMap;

use tenure_plan::{BinaryOp, Expr, Field, Function, Literal, UnaryOp};

use super::syntax::{Node, NodeKind};
use crate::diagnostic::{Code, Diagnostic};
use crate::suggest::closest;

/// Where an expression is used, which decides the names it may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// A value event's `where` or `amount`, or the `exclude` rule: one event row.
    Row,
    /// A cohort's `where`: the entity and its start event.
    Cohort,
    /// A formula metric: aggregates, constants and other metrics' scalars.
    Formula,
}

/// What a formula may name besides constants.
pub struct FormulaScope<'a> {
    /// Value events, by plan index.
    pub events: &'a [String],
    /// Value events that define `amount`.
    pub events_with_amount: &'a [String],
    /// Every metric and the scalars it exposes.
    pub metrics: &'a BTreeMap<String, Vec<String>>,
    /// Metrics declared but not valid themselves: what they expose is unknown, so a formula's
    /// reference to them is not checked (their own diagnostic says what is wrong).
    pub failed_metrics: &'a std::collections::BTreeSet<String>,
}

/// The static type of an expression, as far as it can be known before data is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// `true` / `false`.
    Bool,
    /// A number.
    Number,
    /// Text.
    Text,
    /// A calendar date.
    Date,
    /// An instant.
    Time,
    /// A duration.
    Duration,
    /// A list.
    List,
    /// The `null` literal.
    Null,
    /// Unknown until data is read (properties and attributes).
    Any,
}

impl Type {
    /// The type in words, for diagnostics ("a number", "text" …).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Type::Bool => "a boolean",
            Type::Number => "a number",
            Type::Text => "text",
            Type::Date => "a date",
            Type::Time => "a time",
            Type::Duration => "a duration",
            Type::List => "a list",
            Type::Null => "null",
            Type::Any => "a value",
        }
    }

    fn fits(self, wanted: Type) -> bool {
        self == wanted || matches!(self, Type::Any | Type::Null)
    }
}

/// Everything names in an expression may resolve to.
pub struct Scope<'a> {
    /// Where the expression is used.
    pub context: Context,
    /// `[constants]`.
    pub constants: &'a BTreeMap<String, f64>,
    /// Value events already resolved, usable by bare name inside a row `where`.
    pub events: Option<&'a BTreeMap<String, Expr>>,
    /// Every declared value event, resolved or not, for "did you mean" in a row `where`.
    pub event_names: &'a [String],
    /// Segment names that `segment.<name>` may use.
    pub segments: &'a [String],
    /// Names for formulas (with `Context::Formula`).
    pub formula: Option<FormulaScope<'a>>,
}

/// Resolves `node`; problems are appended to `errors` with spans relative to the expression.
pub fn resolve(node: &Node, scope: &Scope<'_>, errors: &mut Vec<Diagnostic>) -> Option<(Expr, Type)> {
    Resolver {
        scope,
        errors,
        comparing: false,
    }
    .node(node)
}

struct Resolver<'s, 'e> {
    scope: &'s Scope<'s>,
    errors: &'e mut Vec<Diagnostic>,
    /// Inside an operand of a comparison or `in`, where a bare word is most likely text whose
    /// quotes were forgotten.
    comparing: bool,
}

const RESERVED_ROOTS: [&str; 6] = ["event", "entity", "time", "props", "attr", "segment"];

impl Resolver<'_, '_> {
    fn error(&mut self, diagnostic: Diagnostic) -> Option<(Expr, Type)> {
        self.errors.push(diagnostic);
        None
    }

    fn node(&mut self, node: &Node) -> Option<(Expr, Type)> {
        let span = node.span.clone();
        match &node.kind {
            NodeKind::Null => Some((Expr::Literal(Literal::Null), Type::Null)),
            NodeKind::Bool(value) => Some((Expr::Literal(Literal::Bool(*value)), Type::Bool)),
            NodeKind::Number(value) => Some((Expr::Literal(Literal::Number(*value)), Type::Number)),
            NodeKind::String(value) => Some((Expr::Literal(Literal::String(value.clone())), Type::Text)),
            NodeKind::Duration(value) => Some((Expr::Literal(Literal::Duration(*value)), Type::Duration)),
            NodeKind::Date(text) => match chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                Ok(date) => Some((
                    Expr::Literal(Literal::Date(tenure_plan::time::days_from_date(date))),
                    Type::Date,
                )),
                Err(_) => self.error(
                    Diagnostic::new(
                        Code::InvalidDate,
                        format!("`{text}` is not a calendar date"),
                        span,
                    )
                    .with_label("expected a valid YYYY-MM-DD date"),
                ),
            },
            NodeKind::List(items) => {
                let mut resolved = Vec::with_capacity(items.len());
                for item in items {
                    resolved.push(self.node(item)?.0);
                }
                Some((Expr::List(resolved), Type::List))
            }
            NodeKind::Name(parts) => self.name(parts, span),
            NodeKind::Unary(op, inner) => {
                let (expr, ty) = self.node(inner)?;
                let wanted = if *op == UnaryOp::Not {
                    Type::Bool
                } else {
                    Type::Number
                };
                if !ty.fits(wanted) {
                    return self.mismatch(inner, ty, wanted);
                }
                Some((Expr::Unary(*op, Box::new(expr)), wanted))
            }
            NodeKind::Binary(op, left, right) => self.binary(*op, left, right),
            NodeKind::Call {
                name,
                name_span,
                args,
            } => self.call(name, name_span.clone(), args, span),
        }
    }

    fn mismatch(&mut self, node: &Node, found: Type, wanted: Type) -> Option<(Expr, Type)> {
        self.error(
            Diagnostic::new(
                Code::TypeMismatch,
                format!("expected {} here, found {}", wanted.name(), found.name()),
                node.span.clone(),
            )
            .with_label(format!("this is {}", found.name())),
        )
    }

    fn name(&mut self, parts: &[String], span: std::ops::Range<usize>) -> Option<(Expr, Type)> {
        if let Some(formula) = &self.scope.formula {
            return self.formula_name(formula, parts, span);
        }
        let root = parts[0].as_str();
        let field = |field| Some((Expr::Field(field), Type::Any));
        match (root, parts.len()) {
            ("event", 1) => Some((Expr::Field(Field::Event), Type::Text)),
            ("entity", 1) => Some((Expr::Field(Field::Entity), Type::Text)),
            ("time", 1) => Some((Expr::Field(Field::Time), Type::Time)),
            ("props", 2) => field(Field::Prop(parts[1].clone())),
            ("attr", 2) => field(Field::Attr(parts[1].clone())),
            ("segment", 2) => {
                if self.scope.context == Context::Row {
                    return self.error(
                        Diagnostic::new(
                            Code::FieldNotAllowed,
                            "segments are per entity and cannot be used in a row expression",
                            span,
                        )
                        .with_label("not available here")
                        .with_help("filter on segments in a cohort `where` instead"),
                    );
                }
                let name = &parts[1];
                if self.scope.segments.iter().any(|s| s == name) {
                    field(Field::Segment(name.clone()))
                } else {
                    let suggestion = closest(name, self.scope.segments.iter().map(String::as_str));
                    self.error(
                        Diagnostic::new(Code::UnknownName, format!("unknown segment `{name}`"), span)
                            .with_label("no [segments] entry has this name")
                            .with_suggestion(suggestion),
                    )
                }
            }
            ("props" | "attr" | "segment", _) => self.error(
                Diagnostic::new(
                    Code::UnknownName,
                    format!(
                        "`{}` must name one column, as in `{root}.column`",
                        parts.join(".")
                    ),
                    span,
                )
                .with_label(format!("expected `{root}.<column>`")),
            ),
            (_, 1) => {
                if let Some(value) = self.scope.constants.get(root) {
                    return Some((Expr::Literal(Literal::Number(*value)), Type::Number));
                }
                if let Some(events) = self.scope.events
                    && let Some(expr) = events.get(root)
                {
                    return Some((expr.clone(), Type::Bool));
                }
                let mut candidates: Vec<&str> = vec!["event", "entity", "time"];
                candidates.extend(self.scope.constants.keys().map(String::as_str));
                if self.scope.events.is_some() {
                    candidates.extend(self.scope.event_names.iter().map(String::as_str));
                }
                let suggestion = closest(root, candidates);
                let diagnostic = Diagnostic::new(Code::UnknownName, format!("unknown name `{root}`"), span)
                    .with_label("not a field, constant or value event");
                // A close name is the likelier mistake; failing that, a compared bare word
                // is text whose quotes were forgotten.
                let diagnostic = if self.comparing && suggestion.is_none() {
                    diagnostic.with_help(quote_hint(root))
                } else {
                    diagnostic.with_suggestion(suggestion).with_help_if_none(
                        "columns are read as `props.<column>`, attributes as `attr.<column>`",
                    )
                };
                self.error(diagnostic)
            }
            _ => {
                let suggestion = closest(root, RESERVED_ROOTS);
                self.error(
                    Diagnostic::new(
                        Code::UnknownName,
                        format!("unknown name `{}`", parts.join(".")),
                        span,
                    )
                    .with_label(format!("`{root}` is not `props`, `attr` or `segment`"))
                    .with_suggestion(suggestion),
                )
            }
        }
    }

    fn formula_name(
        &mut self,
        formula: &FormulaScope<'_>,
        parts: &[String],
        span: std::ops::Range<usize>,
    ) -> Option<(Expr, Type)> {
        let root = parts[0].as_str();
        if RESERVED_ROOTS.contains(&root) {
            return self.error(
                Diagnostic::new(
                    Code::FieldNotAllowed,
                    format!("a formula cannot read `{}` row by row", parts.join(".")),
                    span,
                )
                .with_label("formulas read aggregates, constants and other metrics' scalars")
                .with_help("aggregate a value event instead: count(e), entities(e), sum(e.amount)"),
            );
        }
        if parts.len() <= 2 && formula.failed_metrics.contains(root) {
            // The metric's own diagnostic says what is wrong; its scalars are unknown.
            return Some((Expr::Literal(Literal::Null), Type::Number));
        }
        if parts.len() == 1 {
            if let Some(value) = self.scope.constants.get(root) {
                return Some((Expr::Literal(Literal::Number(*value)), Type::Number));
            }
            let (message, label) = if formula.events.iter().any(|e| e == root) {
                (
                    format!("value event `{root}` needs an aggregate here"),
                    "write count(e), entities(e) or sum(e.amount)".to_string(),
                )
            } else if let Some(scalars) = formula.metrics.get(root) {
                (
                    format!("metric `{root}` needs a scalar here"),
                    format!("write `{root}.<scalar>`, one of: {}", scalars.join(", ")),
                )
            } else {
                let mut candidates: Vec<&str> = self.scope.constants.keys().map(String::as_str).collect();
                candidates.extend(formula.metrics.keys().map(String::as_str));
                let suggestion = closest(root, candidates);
                return self.error(
                    Diagnostic::new(Code::UnknownName, format!("unknown name `{root}`"), span)
                        .with_label("not a constant, an aggregate or a metric scalar")
                        .with_suggestion(suggestion),
                );
            };
            return self.error(Diagnostic::new(Code::UnknownName, message, span).with_label(label));
        }
        if parts.len() == 2 {
            if let Some(scalars) = formula.metrics.get(root) {
                let scalar = &parts[1];
                if scalars.contains(scalar) {
                    let reference = tenure_plan::ScalarRef {
                        metric: root.to_string(),
                        scalar: scalar.clone(),
                    };
                    return Some((Expr::Scalar(reference), Type::Number));
                }
                let suggestion = closest(scalar, scalars.iter().map(String::as_str));
                return self.error(
                    Diagnostic::new(
                        Code::UnknownScalar,
                        format!("metric `{root}` has no scalar `{scalar}`"),
                        span,
                    )
                    .with_label(format!("its scalars are: {}", scalars.join(", ")))
                    .with_suggestion(suggestion),
                );
            }
            if formula.events.iter().any(|e| e == root) && parts[1] == "amount" {
                return self.error(
                    Diagnostic::new(Code::UnknownName, format!("`{root}.amount` is per row"), span)
                        .with_label("use it inside sum(), avg(), min() or max()"),
                );
            }
        }
        let suggestion = closest(root, formula.metrics.keys().map(String::as_str));
        self.error(
            Diagnostic::new(
                Code::UnknownMetric,
                format!("unknown metric `{root}` in `{}`", parts.join(".")),
                span,
            )
            .with_label("expected a metric scalar such as `revenue.nrr`")
            .with_suggestion(suggestion),
        )
    }

    /// `count(e)`, `entities(e, at_least = n)`, `sum|avg|min|max(e.amount)` in formulas.
    fn aggregate(
        &mut self,
        formula: &FormulaScope<'_>,
        name: &str,
        args: &[super::syntax::Argument],
        span: std::ops::Range<usize>,
    ) -> Option<Option<(Expr, Type)>> {
        use tenure_plan::{Aggregate, AggregateKind};
        let on_amount = match name {
            "count" | "entities" => false,
            "sum" | "avg" => true,
            "min" | "max" => {
                // min(a, b) is the scalar function; min(e.amount) the aggregate.
                let is_amount = matches!(args, [arg] if arg.name.is_none()
                    && matches!(&arg.value.kind, NodeKind::Name(parts) if parts.len() == 2 && parts[1] == "amount"
                        && formula.events.contains(&parts[0])));
                if !is_amount {
                    return None;
                }
                true
            }
            _ => return None,
        };
        let usage = if on_amount {
            format!("{name}(event.amount)")
        } else if name == "entities" {
            "entities(event) or entities(event, at_least = n)".to_string()
        } else {
            format!("{name}(event)")
        };
        let Some(first) = args.first().filter(|a| a.name.is_none()) else {
            return Some(
                self.error(
                    Diagnostic::new(
                        Code::WrongArity,
                        format!("`{name}` aggregates one value event"),
                        span,
                    )
                    .with_label(format!("expected {usage}")),
                ),
            );
        };
        let (event_name, event_span) = match (&first.value.kind, on_amount) {
            (NodeKind::Name(parts), false) if parts.len() == 1 => {
                (parts[0].clone(), first.value.span.clone())
            }
            (NodeKind::Name(parts), true) if parts.len() == 2 && parts[1] == "amount" => {
                (parts[0].clone(), first.value.span.clone())
            }
            _ => {
                return Some(
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            format!("`{name}` takes a value event here"),
                            first.value.span.clone(),
                        )
                        .with_label(format!("expected {usage}")),
                    ),
                );
            }
        };
        let Some(event) = formula.events.iter().position(|e| *e == event_name) else {
            let suggestion = closest(&event_name, formula.events.iter().map(String::as_str));
            return Some(
                self.error(
                    Diagnostic::new(
                        Code::UnknownEvent,
                        format!("unknown event `{event_name}`"),
                        event_span,
                    )
                    .with_label("no [events] entry has this name")
                    .with_suggestion(suggestion),
                ),
            );
        };
        if on_amount && !formula.events_with_amount.contains(&event_name) {
            return Some(
                self.error(
                    Diagnostic::new(
                        Code::MissingAmount,
                        format!("value event `{event_name}` has no `amount`"),
                        event_span,
                    )
                    .with_label(format!("add `amount = …` to [events.{event_name}]")),
                ),
            );
        }
        let mut at_least = 1u32;
        for extra in &args[1..] {
            match (&extra.name, &extra.value.kind) {
                (Some((arg, _)), NodeKind::Number(n))
                    if name == "entities" && arg == "at_least" && *n >= 1.0 && n.fract() == 0.0 =>
                {
                    at_least = *n as u32
                }
                (Some((arg, _)), _) if name == "entities" && arg == "at_least" => {
                    return Some(
                        self.error(
                            Diagnostic::new(
                                Code::InvalidValue,
                                "`at_least` takes a whole number of 1 or more",
                                extra.value.span.clone(),
                            )
                            .with_label("expected 1, 2, 3, …"),
                        ),
                    );
                }
                _ => {
                    return Some(
                        self.error(
                            Diagnostic::new(
                                Code::WrongArity,
                                format!("unexpected argument to `{name}`"),
                                extra.value.span.clone(),
                            )
                            .with_label(format!("expected {usage}")),
                        ),
                    );
                }
            }
        }
        let kind = match name {
            "count" => AggregateKind::Count,
            "entities" => AggregateKind::Entities(at_least),
            "sum" => AggregateKind::Sum,
            "avg" => AggregateKind::Avg,
            "min" => AggregateKind::Min,
            _ => AggregateKind::Max,
        };
        Some(Some((Expr::Aggregate(Aggregate { kind, event }), Type::Number)))
    }

    fn binary(&mut self, op: BinaryOp, left: &Node, right: &Node) -> Option<(Expr, Type)> {
        let comparison = compares(op);
        let outer = std::mem::replace(&mut self.comparing, comparison);
        let resolved_left = self.node(left);
        let resolved_right = self.node(right);
        self.comparing = outer;
        let ((l, lt), (r, rt)) = (resolved_left?, resolved_right?);
        let result = match op {
            BinaryOp::Or | BinaryOp::And => {
                if !lt.fits(Type::Bool) {
                    return self.mismatch(left, lt, Type::Bool);
                }
                if !rt.fits(Type::Bool) {
                    return self.mismatch(right, rt, Type::Bool);
                }
                Type::Bool
            }
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                Type::Bool
            }
            BinaryOp::In => {
                if rt != Type::List {
                    return self.mismatch(right, rt, Type::List);
                }
                Type::Bool
            }
            BinaryOp::Contains | BinaryOp::Matches => {
                if !lt.fits(Type::Text) {
                    return self.mismatch(left, lt, Type::Text);
                }
                if !rt.fits(Type::Text) {
                    return self.mismatch(right, rt, Type::Text);
                }
                if op == BinaryOp::Matches {
                    match &r {
                        Expr::Literal(Literal::String(pattern)) => {
                            if let Err(error) = regex::Regex::new(pattern) {
                                let first_line = error.to_string();
                                let reason = first_line.lines().last().unwrap_or("invalid pattern");
                                return self.error(
                                    Diagnostic::new(
                                        Code::InvalidRegex,
                                        "invalid regular expression",
                                        right.span.clone(),
                                    )
                                    .with_label(reason.trim().to_string()),
                                );
                            }
                        }
                        _ => {
                            return self.error(
                                Diagnostic::new(
                                    Code::TypeMismatch,
                                    "the pattern of `matches` must be a string literal",
                                    right.span.clone(),
                                )
                                .with_label("expected a quoted regular expression"),
                            );
                        }
                    }
                }
                Type::Bool
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => {
                if !lt.fits(Type::Number) {
                    return self.mismatch(left, lt, Type::Number);
                }
                if !rt.fits(Type::Number) {
                    return self.mismatch(right, rt, Type::Number);
                }
                Type::Number
            }
        };
        Some((Expr::Binary(op, Box::new(l), Box::new(r)), result))
    }

    fn call(
        &mut self,
        name: &str,
        name_span: std::ops::Range<usize>,
        args: &[super::syntax::Argument],
        span: std::ops::Range<usize>,
    ) -> Option<(Expr, Type)> {
        if let Some(formula) = &self.scope.formula
            && let Some(resolved) = self.aggregate(formula, name, args, span.clone())
        {
            return resolved;
        }
        let Some(function) = Function::ALL.iter().copied().find(|f| f.name() == name) else {
            let suggestion = closest(name, Function::ALL.iter().map(|f| f.name()));
            let aggregate = ["count", "entities", "sum", "avg"].contains(&name);
            let diagnostic = Diagnostic::new(
                Code::UnknownFunction,
                format!("unknown function `{name}`"),
                name_span,
            )
            .with_label(if aggregate {
                "aggregates are only available in formula metrics"
            } else {
                "not a function of the expression language"
            })
            .with_suggestion(suggestion);
            return self.error(diagnostic);
        };
        let (min, max) = function.arity();
        if args.len() < min || args.len() > max {
            let expected = match (min, max) {
                (a, b) if a == b => format!("{a}"),
                (a, usize::MAX) => format!("at least {a}"),
                (a, b) => format!("{a} to {b}"),
            };
            return self.error(
                Diagnostic::new(
                    Code::WrongArity,
                    format!("`{name}` takes {expected} argument(s), found {}", args.len()),
                    span,
                )
                .with_label("wrong number of arguments"),
            );
        }
        let mut resolved = Vec::with_capacity(args.len());
        let mut types = Vec::with_capacity(args.len());
        let mut failed = false;
        for arg in args {
            if let Some((arg_name, arg_span)) = &arg.name {
                self.errors.push(
                    Diagnostic::new(
                        Code::UnknownName,
                        format!("`{name}` has no argument named `{arg_name}`"),
                        arg_span.clone(),
                    )
                    .with_label("pass this argument by position"),
                );
                failed = true;
                continue;
            }
            match self.node(&arg.value) {
                Some((expr, ty)) => {
                    resolved.push(expr);
                    types.push(ty);
                }
                None => failed = true,
            }
        }
        if failed {
            return None;
        }
        let numeric = |this: &mut Self, index: usize| -> bool {
            if types[index].fits(Type::Number) {
                true
            } else {
                this.mismatch(&args[index].value, types[index], Type::Number);
                false
            }
        };
        let result = match function {
            Function::Lower | Function::Upper => {
                if !types[0].fits(Type::Text) {
                    return self.mismatch(&args[0].value, types[0], Type::Text);
                }
                Type::Text
            }
            Function::Abs | Function::Round => {
                if !(0..args.len()).all(|i| numeric(self, i)) {
                    return None;
                }
                Type::Number
            }
            Function::Coalesce | Function::Min | Function::Max => {
                let known: Vec<Type> = types.iter().copied().filter(|t| *t != Type::Null).collect();
                match known.first() {
                    Some(first) if known.iter().all(|t| t == first) => *first,
                    _ => Type::Any,
                }
            }
            Function::Date => match types[0] {
                Type::Time | Type::Date | Type::Text | Type::Any | Type::Null => Type::Date,
                other => return self.mismatch(&args[0].value, other, Type::Time),
            },
            Function::If => {
                if self.scope.context == Context::Formula {
                    let diagnostic = Diagnostic::new(
                        Code::UnknownFunction,
                        "`if` chooses per row: it is not available in a formula",
                        name_span,
                    )
                    .with_label("use it in `where`, `amount` or `spread`");
                    return self.error(diagnostic);
                }
                if !types[0].fits(Type::Bool) {
                    return self.mismatch(&args[0].value, types[0], Type::Bool);
                }
                let known: Vec<Type> = types[1..].iter().copied().filter(|t| *t != Type::Null).collect();
                match known.first() {
                    Some(first) if known.iter().all(|t| t == first) => *first,
                    _ => Type::Any,
                }
            }
            Function::DaysBetween => {
                for (index, ty) in types.iter().enumerate() {
                    if !matches!(ty, Type::Time | Type::Date | Type::Any | Type::Null) {
                        return self.mismatch(&args[index].value, *ty, Type::Date);
                    }
                }
                Type::Number
            }
        };
        Some((Expr::Call(function, resolved), result))
    }
}

impl Diagnostic {
    fn with_help_if_none(mut self, help: &str) -> Self {
        if self.help.is_none() {
            self.help = Some(help.to_string());
        }
        self
    }
}

/// Whether `op` compares its operands (where a bare word is more likely forgotten quotes).
fn compares(op: BinaryOp) -> bool {
    use BinaryOp::*;
    matches!(op, Eq | Ne | Lt | Le | Gt | Ge | In)
}

/// The help for a bare word compared with something: text needs quotes.
pub(crate) fn quote_hint(word: &str) -> String {
    format!("text is written in quotes: `'{word}'`")
}

/// A bare name in a syntax tree (for dependency analysis between value events).
pub struct BareName {
    /// The name.
    pub name: String,
    /// Where it is, relative to the expression.
    pub span: std::ops::Range<usize>,
    /// Whether it is an operand of a comparison or `in`, where text is expected more often
    /// than another value event.
    pub compared: bool,
}

/// The bare names a syntax tree uses.
pub fn bare_names(node: &Node, out: &mut Vec<BareName>) {
    collect_bare_names(node, false, out)
}

fn collect_bare_names(node: &Node, compared: bool, out: &mut Vec<BareName>) {
    match &node.kind {
        NodeKind::Name(parts) if parts.len() == 1 => out.push(BareName {
            name: parts[0].clone(),
            span: node.span.clone(),
            compared,
        }),
        NodeKind::List(items) => items
            .iter()
            .for_each(|item| collect_bare_names(item, compared, out)),
        NodeKind::Unary(_, inner) => collect_bare_names(inner, false, out),
        NodeKind::Binary(op, left, right) => {
            let comparison = compares(*op);
            collect_bare_names(left, comparison, out);
            collect_bare_names(right, comparison, out);
        }
        NodeKind::Call { args, .. } => args
            .iter()
            .for_each(|arg| collect_bare_names(&arg.value, false, out)),
        _ => {}
    }
}
