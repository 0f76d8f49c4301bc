//! ClickHouse over its HTTP interface: each statement is the body of a POST, the answer is
//! tab-separated text with a header line (`TabSeparatedWithNames`); the user, password and
//! database travel in ClickHouse's own request headers. Plain HTTP, as the server's port 8123.

use std::time::Duration;

use tenure_plan::Connection;
use tenure_sql::{Dialect, Rows};

use crate::{Session, WarehouseError};

pub(crate) struct ClickHouseSession {
    name: String,
    url: String,
    user: Option<String>,
    password: Option<String>,
    database: Option<String>,
    agent: ureq::Agent,
}

/// ClickHouse's exception codes that mean the credentials were refused.
const AUTHENTICATION_CODES: [&str; 2] = ["192", "516"];

impl ClickHouseSession {
    pub(crate) fn new(
        connection: &Connection,
        password: Option<&str>,
    ) -> Result<ClickHouseSession, WarehouseError> {
        let url = connection
            .url
            .clone()
            .unwrap_or_else(|| "http://localhost:8123".to_string());
        if !url.starts_with("http://") {
            return Err(WarehouseError::Connect {
                connection: connection.name.clone(),
                detail: format!("`url` {url} is not an http:// address (ClickHouse's HTTP interface)"),
            });
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .build()
            .new_agent();
        let session = ClickHouseSession {
            name: connection.name.clone(),
            url,
            user: connection.user.clone(),
            password: password.map(str::to_string),
            database: connection.database.clone(),
            agent,
        };
        // A first statement, so that a wrong address or password fails here, as a connection.
        session.send("SELECT 1").map_err(|failure| match failure {
            Failure::Unreachable(detail) | Failure::Refused(detail) => WarehouseError::Connect {
                connection: session.name.clone(),
                detail,
            },
            Failure::Statement(detail) => WarehouseError::Connect {
                connection: session.name.clone(),
                detail: format!("ClickHouse at {}: {detail}", session.url),
            },
        })?;
        Ok(session)
    }

    /// The answer's text, or why there is none.
    fn send(&self, sql: &str) -> Result<String, Failure> {
        let mut request = self
            .agent
            .post(&self.url)
            .header("X-ClickHouse-Format", "TabSeparatedWithNames");
        if let Some(user) = &self.user {
            request = request.header("X-ClickHouse-User", user);
        }
        if let Some(password) = &self.password {
            request = request.header("X-ClickHouse-Key", password);
        }
        if let Some(database) = &self.database {
            request = request.header("X-ClickHouse-Database", database);
        }
        let mut response = request
            .send(sql)
            .map_err(|e| Failure::Unreachable(format!("cannot reach ClickHouse at {}: {e}", self.url)))?;
        let code = response
            .headers()
            .get("X-ClickHouse-Exception-Code")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let status = response.status();
        let body = response
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_string()
            .map_err(|e| {
                Failure::Unreachable(format!("ClickHouse at {} broke off its answer: {e}", self.url))
            })?;
        if status.is_success() && code.is_none() {
            return Ok(body);
        }
        let message = first_line_of_exception(&body);
        if code.as_deref().is_some_and(|c| AUTHENTICATION_CODES.contains(&c)) {
            return Err(Failure::Refused(format!(
                "ClickHouse at {} refused the credentials: {message}",
                self.url
            )));
        }
        Err(Failure::Statement(message))
    }
}

/// Why a request has no answer.
enum Failure {
    /// No HTTP answer at all.
    Unreachable(String),
    /// The server refused the user or password.
    Refused(String),
    /// The server failed the statement, with its message.
    Statement(String),
}

/// ClickHouse's exception text without the stack trace and version suffix.
fn first_line_of_exception(body: &str) -> String {
    let line = body.lines().next().unwrap_or("").trim();
    let line = line.split(" (version ").next().unwrap_or(line);
    // The statement the server quotes back after the message is the one tenure sent.
    let line = line.split(" In scope ").next().unwrap_or(line).trim_end();
    if line.is_empty() {
        "the server answered with an error and no message".to_string()
    } else {
        line.to_string()
    }
}

/// A value of ClickHouse's tab-separated format: `\N` is NULL, backslash escapes are undone.
fn unescape(field: &str) -> Option<String> {
    if field == "\\N" {
        return None;
    }
    let mut text = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            text.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => text.push('\t'),
            Some('n') => text.push('\n'),
            Some('r') => text.push('\r'),
            Some('0') => text.push('\0'),
            Some(other) => text.push(other),
            None => text.push('\\'),
        }
    }
    Some(text)
}

fn parse_rows(body: &str) -> Rows {
    let mut lines = body.lines();
    let columns = lines
        .next()
        .map(|header| {
            header
                .split('\t')
                .map(|c| unescape(c).unwrap_or_default())
                .collect()
        })
        .unwrap_or_default();
    let values = lines
        .map(|line| line.split('\t').map(unescape).collect())
        .collect();
    Rows { columns, values }
}

impl Session for ClickHouseSession {
    fn query(&mut self, sql: &str, what: &str) -> Result<Rows, WarehouseError> {
        match self.send(sql) {
            Ok(body) => Ok(parse_rows(&body)),
            Err(Failure::Unreachable(detail) | Failure::Refused(detail)) => Err(WarehouseError::Connect {
                connection: self.name.clone(),
                detail,
            }),
            Err(Failure::Statement(detail)) => Err(WarehouseError::Query {
                connection: self.name.clone(),
                what: what.to_string(),
                detail,
            }),
        }
    }

    fn columns(&mut self, table: &str) -> Result<Vec<(String, String)>, WarehouseError> {
        let relation = tenure_sql::ClickHouse.table(table);
        let rows = self.query(
            &format!("DESCRIBE TABLE {relation}"),
            &format!("look-up of table {table}"),
        )?;
        Ok(rows
            .values
            .iter()
            .filter_map(|row| Some((row.first()?.clone()?, row.get(1)?.clone()?)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tab_separated_answers_are_read_with_nulls_and_escapes() {
        let rows = parse_rows("a\tb\n1\t\\N\nx\\ty\tback\\\\slash\n");
        assert_eq!(rows.columns, ["a", "b"]);
        assert_eq!(
            rows.values,
            vec![
                vec![Some("1".to_string()), None],
                vec![Some("x\ty".to_string()), Some("back\\slash".to_string())],
            ]
        );
    }

    #[test]
    fn an_exception_is_cut_to_its_message() {
        let body = "Code: 60. DB::Exception: Unknown table expression identifier 'nope'. (UNKNOWN_TABLE) (version 25.8.1.1)\n";
        assert_eq!(
            first_line_of_exception(body),
            "Code: 60. DB::Exception: Unknown table expression identifier 'nope'. (UNKNOWN_TABLE)"
        );
    }
}
