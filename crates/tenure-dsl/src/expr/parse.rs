//! Text → syntax tree, with pest for the grammar and its Pratt parser for precedence.

use std::ops::Range;
use std::sync::OnceLock;

use pest::Parser as _;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use tenure_plan::{BinaryOp, Duration, DurationUnit, UnaryOp};

use super::syntax::{Argument, Node, NodeKind};

#[derive(pest_derive::Parser)]
#[grammar = "expr/grammar.pest"]
struct ExprGrammar;

/// The longest expression accepted, in bytes.
pub const MAX_LENGTH: usize = 4096;
/// The deepest nesting of brackets and prefix operators accepted.
pub const MAX_NESTING: usize = 64;
/// The largest count of a duration literal (`100000d`).
pub const MAX_DURATION: u32 = 100_000;
/// The deepest syntax tree accepted.
pub const MAX_DEPTH: usize = 128;

/// Why an expression does not parse; spans are relative to the expression text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What is wrong.
    pub message: String,
    /// Where.
    pub span: Range<usize>,
    /// What was expected there.
    pub label: String,
    /// Whether the error is a size or nesting limit rather than a syntax error.
    pub too_complex: bool,
    /// The word found at the error position, if it is a word (for operator suggestions).
    pub found_word: Option<String>,
}

fn pratt() -> &'static PrattParser<Rule> {
    static PRATT: OnceLock<PrattParser<Rule>> = OnceLock::new();
    PRATT.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::op_or, Assoc::Left))
            .op(Op::infix(Rule::op_and, Assoc::Left))
            .op(Op::prefix(Rule::op_not))
            .op(Op::infix(Rule::op_eq, Assoc::Left)
                | Op::infix(Rule::op_ne, Assoc::Left)
                | Op::infix(Rule::op_lt, Assoc::Left)
                | Op::infix(Rule::op_le, Assoc::Left)
                | Op::infix(Rule::op_gt, Assoc::Left)
                | Op::infix(Rule::op_ge, Assoc::Left)
                | Op::infix(Rule::op_in, Assoc::Left)
                | Op::infix(Rule::op_contains, Assoc::Left)
                | Op::infix(Rule::op_matches, Assoc::Left))
            .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
            .op(Op::infix(Rule::op_mul, Assoc::Left)
                | Op::infix(Rule::op_div, Assoc::Left)
                | Op::infix(Rule::op_rem, Assoc::Left))
            .op(Op::prefix(Rule::op_neg))
    })
}

/// Parses one expression.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    check_limits(text)?;
    let mut pairs = ExprGrammar::parse(Rule::expression, text).map_err(|e| convert_error(text, e))?;
    let expression = pairs.next().expect("the expression rule always yields one pair");
    let expr = expression
        .into_inner()
        .next()
        .expect("an expression holds one expr");
    let node = build(expr.into_inner());
    if node.depth() > MAX_DEPTH {
        return Err(ParseError {
            message: format!("expression is nested more than {MAX_DEPTH} levels deep"),
            span: 0..text.len(),
            label: "simplify this expression".into(),
            too_complex: true,
            found_word: None,
        });
    }
    Ok(node)
}

/// Rejects hostile input before the recursive parser sees it.
fn check_limits(text: &str) -> Result<(), ParseError> {
    if text.len() > MAX_LENGTH {
        return Err(ParseError {
            message: format!(
                "expression is {} bytes long; the limit is {MAX_LENGTH}",
                text.len()
            ),
            span: 0..text.len().min(1),
            label: "expression starts here".into(),
            too_complex: true,
            found_word: None,
        });
    }
    let mut depth = 0usize;
    let mut prefix_run = 0usize;
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        match byte {
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth = depth.saturating_sub(1),
            b'-' => prefix_run += 1,
            b'n' if text[index..].starts_with("not") => prefix_run += 1,
            b' ' | b'\t' | b'\r' | b'\n' => {}
            _ if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'\'' || byte == b'"' => {
                prefix_run = 0
            }
            _ => {}
        }
        if depth > MAX_NESTING || prefix_run > MAX_NESTING {
            return Err(ParseError {
                message: format!("expression is nested more than {MAX_NESTING} levels deep"),
                span: index..index + 1,
                label: "nesting limit reached here".into(),
                too_complex: true,
                found_word: None,
            });
        }
        index += if byte == b'n' && text[index..].starts_with("not") {
            3
        } else {
            1
        };
    }
    Ok(())
}

fn build(pairs: Pairs<'_, Rule>) -> Node {
    pratt()
        .map_primary(primary)
        .map_prefix(|op, operand| {
            let span = op.as_span().start()..operand.span.end;
            let op = if op.as_rule() == Rule::op_not {
                UnaryOp::Not
            } else {
                UnaryOp::Neg
            };
            Node {
                kind: NodeKind::Unary(op, Box::new(operand)),
                span,
            }
        })
        .map_infix(|left, op, right| {
            let span = left.span.start..right.span.end;
            let op = match op.as_rule() {
                Rule::op_or => BinaryOp::Or,
                Rule::op_and => BinaryOp::And,
                Rule::op_eq => BinaryOp::Eq,
                Rule::op_ne => BinaryOp::Ne,
                Rule::op_lt => BinaryOp::Lt,
                Rule::op_le => BinaryOp::Le,
                Rule::op_gt => BinaryOp::Gt,
                Rule::op_ge => BinaryOp::Ge,
                Rule::op_in => BinaryOp::In,
                Rule::op_contains => BinaryOp::Contains,
                Rule::op_matches => BinaryOp::Matches,
                Rule::op_add => BinaryOp::Add,
                Rule::op_sub => BinaryOp::Sub,
                Rule::op_mul => BinaryOp::Mul,
                Rule::op_div => BinaryOp::Div,
                _ => BinaryOp::Rem,
            };
            Node {
                kind: NodeKind::Binary(op, Box::new(left), Box::new(right)),
                span,
            }
        })
        .parse(pairs)
}

fn primary(pair: Pair<'_, Rule>) -> Node {
    let span = pair.as_span().start()..pair.as_span().end();
    let text = pair.as_str();
    let kind = match pair.as_rule() {
        Rule::expr => return build(pair.into_inner()),
        Rule::null => NodeKind::Null,
        Rule::boolean => NodeKind::Bool(text == "true"),
        // The grammar admits only digits, a dot and an exponent, which always parse.
        Rule::number => NodeKind::Number(text.parse().unwrap_or(f64::NAN)),
        Rule::date => NodeKind::Date(text.to_string()),
        Rule::duration => NodeKind::Duration(parse_duration_literal(text)),
        Rule::string => {
            let inner = pair.into_inner().next().map_or("", |p| p.as_str());
            NodeKind::String(unescape(inner))
        }
        Rule::name => NodeKind::Name(text.split('.').map(str::to_string).collect()),
        Rule::list => NodeKind::List(pair.into_inner().map(|p| build(p.into_inner())).collect()),
        Rule::call => {
            let mut inner = pair.into_inner();
            let name_pair = inner.next().expect("a call starts with its name");
            let name_span = name_pair.as_span().start()..name_pair.as_span().end();
            let args = inner.map(argument).collect();
            NodeKind::Call {
                name: name_pair.as_str().to_string(),
                name_span,
                args,
            }
        }
        _ => NodeKind::Null,
    };
    Node { kind, span }
}

fn argument(pair: Pair<'_, Rule>) -> Argument {
    let mut name = None;
    let mut value = None;
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::arg_name => {
                name = Some((
                    part.as_str().to_string(),
                    part.as_span().start()..part.as_span().end(),
                ))
            }
            _ => value = Some(build(part.into_inner())),
        }
    }
    Argument {
        name,
        value: value.unwrap_or(Node {
            kind: NodeKind::Null,
            span: 0..0,
        }),
    }
}

/// Parses the text of a duration token the grammar has already matched.
fn parse_duration_literal(text: &str) -> Duration {
    parse_duration(text).unwrap_or(Duration {
        count: 0,
        unit: DurationUnit::Day,
    })
}

/// Parses a duration such as `7d`, `12w`, `6mo` or `48h`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let digits_end = text.find(|c: char| !c.is_ascii_digit())?;
    let (digits, suffix) = text.split_at(digits_end);
    // Longer than about 270 years is a typo, and would overflow calendar arithmetic.
    let count: u32 = digits.parse().ok().filter(|c| *c <= MAX_DURATION)?;
    let unit = match suffix {
        "h" => DurationUnit::Hour,
        "d" => DurationUnit::Day,
        "w" => DurationUnit::Week,
        "mo" => DurationUnit::Month,
        _ => return None,
    };
    Some(Duration { count, unit })
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn describe(rule: &Rule) -> &'static str {
    match rule {
        Rule::op_or
        | Rule::op_and
        | Rule::op_eq
        | Rule::op_ne
        | Rule::op_lt
        | Rule::op_le
        | Rule::op_gt
        | Rule::op_ge
        | Rule::op_in
        | Rule::op_contains
        | Rule::op_matches
        | Rule::op_add
        | Rule::op_sub
        | Rule::op_mul
        | Rule::op_div
        | Rule::op_rem => "an operator",
        Rule::EOI => "end of expression",
        Rule::arg_name => "an argument",
        _ => "a value",
    }
}

fn convert_error(text: &str, error: pest::error::Error<Rule>) -> ParseError {
    let position = match error.location {
        pest::error::InputLocation::Pos(pos) => pos,
        pest::error::InputLocation::Span((start, _)) => start,
    };
    let mut expected: Vec<&str> = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => positives.iter().map(describe).collect(),
        pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
    };
    expected.sort_unstable();
    expected.dedup();
    let rest = &text[position.min(text.len())..];
    let found = match rest.chars().next() {
        None => "the expression ends".to_string(),
        Some(_) => {
            let token: String = rest.chars().take_while(|c| !c.is_whitespace()).take(12).collect();
            format!("found `{token}`")
        }
    };
    let expected_text = match expected.len() {
        0 => "a valid expression".to_string(),
        1 => expected[0].to_string(),
        _ => {
            let (last, head) = expected.split_last().expect("len ≥ 2");
            format!("{} or {last}", head.join(", "))
        }
    };
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let end = if word.is_empty() {
        position + rest.chars().next().map_or(0, char::len_utf8)
    } else {
        position + word.len()
    };
    ParseError {
        found_word: (!word.is_empty()).then_some(word),
        message: format!("expression does not parse: expected {expected_text}"),
        span: position..end,
        label: format!("{found} here"),
        too_complex: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(node: &Node) -> String {
        match &node.kind {
            NodeKind::Binary(op, l, r) => format!("({} {} {})", show(l), op.symbol(), show(r)),
            NodeKind::Unary(UnaryOp::Not, inner) => format!("(not {})", show(inner)),
            NodeKind::Unary(UnaryOp::Neg, inner) => format!("(-{})", show(inner)),
            NodeKind::Name(parts) => parts.join("."),
            NodeKind::Number(n) => n.to_string(),
            NodeKind::String(s) => format!("'{s}'"),
            NodeKind::List(items) => {
                format!("[{}]", items.iter().map(show).collect::<Vec<_>>().join(", "))
            }
            NodeKind::Call { name, args, .. } => format!(
                "{name}({})",
                args.iter().map(|a| show(&a.value)).collect::<Vec<_>>().join(", ")
            ),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn precedence_follows_the_spec() {
        let node = parse("a or b and not c == 1 + 2 * -3").unwrap();
        assert_eq!(show(&node), "(a or (b and (not (c == (1 + (2 * (-3)))))))");
        let node = parse("event in ['a', 'b'] and lower(props.ua) contains 'bot'").unwrap();
        assert_eq!(
            show(&node),
            "((event in ['a', 'b']) and (lower(props.ua) contains 'bot'))"
        );
        assert_eq!(show(&parse("10 - 4 - 3").unwrap()), "((10 - 4) - 3)");
    }

    #[test]
    fn keywords_need_word_boundaries() {
        assert_eq!(show(&parse("order_count > 1").unwrap()), "(order_count > 1)");
        assert_eq!(show(&parse("notes == 'x'").unwrap()), "(notes == 'x')");
        assert_eq!(show(&parse("index in [1]").unwrap()), "(index in [1])");
    }

    #[test]
    fn literals() {
        assert!(matches!(parse("2025-01-31").unwrap().kind, NodeKind::Date(_)));
        assert_eq!(
            parse("6mo").unwrap().kind,
            NodeKind::Duration(Duration {
                count: 6,
                unit: DurationUnit::Month
            })
        );
        assert_eq!(parse("'it\\'s'").unwrap().kind, NodeKind::String("it's".into()));
        assert_eq!(parse("1.5e3").unwrap().kind, NodeKind::Number(1500.0));
    }

    #[test]
    fn errors_point_at_the_problem() {
        let error = parse("event == ").unwrap_err();
        assert_eq!(error.span.start, 9);
        let error = parse("event = 'x'").unwrap_err();
        assert_eq!(error.span.start, 6);
        assert!(error.label.contains("`="), "{error:?}");
    }

    #[test]
    fn durations_are_bounded() {
        assert_eq!(
            parse_duration("100000d"),
            Some(Duration {
                count: 100_000,
                unit: DurationUnit::Day
            })
        );
        assert_eq!(parse_duration("100001d"), None);
        assert_eq!(parse_duration("99999999999999999999mo"), None);
        assert_eq!(parse_duration("7 days"), None);
    }

    #[test]
    fn hostile_input_is_rejected_quickly() {
        let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse(&deep).unwrap_err().too_complex);
        let deep = format!("{}1", "- ".repeat(1000));
        assert!(
            parse(&deep[..MAX_LENGTH.min(deep.len())])
                .unwrap_err()
                .too_complex
        );
        let long = "1 + ".repeat(100_000) + "1";
        assert!(parse(&long).unwrap_err().too_complex);
        let chain = "a + ".repeat(200) + "a";
        assert!(parse(&chain).unwrap_err().too_complex);
        assert!(parse(&("not ".repeat(60) + "a")).is_ok());
    }
}
