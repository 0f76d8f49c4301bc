//! PostgreSQL over its wire protocol (the `postgres` crate), without TLS: for a server on the
//! same host or network, as `psql` would reach it with `sslmode=disable`.

use std::str::FromStr;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::{Client, NoTls, SimpleQueryMessage};
use tenure_plan::Connection;
use tenure_sql::{Dialect, Rows};

use crate::{Session, WarehouseError};

pub(crate) struct PostgresSession {
    name: String,
    client: Client,
}

impl PostgresSession {
    /// Connects with the connection's `url` (`postgres://host:port/database`, or `host=… port=…`),
    /// then its `database`, `user` and password, which take precedence over the url's.
    pub(crate) fn connect(
        connection: &Connection,
        password: Option<&str>,
    ) -> Result<PostgresSession, WarehouseError> {
        let name = connection.name.clone();
        let fail = |detail: String| WarehouseError::Connect {
            connection: name.clone(),
            detail,
        };
        let url = connection.url.as_deref().unwrap_or("postgres://localhost:5432");
        let mut config = postgres::Config::from_str(url)
            .map_err(|e| fail(format!("`url` is not a PostgreSQL address: {e}")))?;
        if let Some(database) = &connection.database {
            config.dbname(database);
        }
        if let Some(user) = &connection.user {
            config.user(user);
        }
        if let Some(password) = password {
            config.password(password);
        }
        config.connect_timeout(Duration::from_secs(10));
        config.application_name("tenure");
        let client = config.connect(NoTls).map_err(|e| {
            let detail = match e.code() {
                Some(code)
                    if *code == SqlState::INVALID_PASSWORD
                        || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
                {
                    format!(
                        "PostgreSQL at {url} refused the credentials: {}",
                        server_message(&e)
                    )
                }
                Some(code) if *code == SqlState::INVALID_CATALOG_NAME => {
                    format!("PostgreSQL at {url} has no such database: {}", server_message(&e))
                }
                Some(_) => format!("PostgreSQL at {url}: {}", server_message(&e)),
                None => format!("cannot reach PostgreSQL at {url}: {}", one_line(&e)),
            };
            fail(detail)
        })?;
        Ok(PostgresSession { name, client })
    }

    fn query_error(&self, what: &str, error: &postgres::Error) -> WarehouseError {
        WarehouseError::Query {
            connection: self.name.clone(),
            what: what.to_string(),
            detail: server_message(error),
        }
    }
}

/// The server's message of an error, or the client's.
fn server_message(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => db.message().to_string(),
        None => one_line(error),
    }
}

/// An error and its causes on one line.
fn one_line(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = cause_of(source);
    }
    text.replace('\n', " ")
}

fn cause_of<'a>(
    error: Option<&'a (dyn std::error::Error + 'static)>,
) -> Option<&'a (dyn std::error::Error + 'static)> {
    error.and_then(|e| e.source())
}

impl Session for PostgresSession {
    fn query(&mut self, sql: &str, what: &str) -> Result<Rows, WarehouseError> {
        // The simple protocol returns every value as text, as the results reader takes them.
        let messages = self
            .client
            .simple_query(sql)
            .map_err(|e| self.query_error(what, &e))?;
        let mut rows = Rows::default();
        for message in messages {
            match message {
                SimpleQueryMessage::RowDescription(columns) => {
                    rows.columns = columns.iter().map(|c| c.name().to_string()).collect();
                }
                SimpleQueryMessage::Row(row) => {
                    rows.values
                        .push((0..row.len()).map(|i| row.get(i).map(str::to_string)).collect());
                }
                _ => {}
            }
        }
        Ok(rows)
    }

    fn columns(&mut self, table: &str) -> Result<Vec<(String, String)>, WarehouseError> {
        let relation = tenure_sql::Postgres.table(table);
        let statement = self
            .client
            .prepare(&format!("SELECT * FROM {relation} LIMIT 0"))
            .map_err(|e| self.query_error(&format!("look-up of table {table}"), &e))?;
        Ok(statement
            .columns()
            .iter()
            .map(|c| (c.name().to_string(), c.type_().name().to_string()))
            .collect())
    }
}
