//! The configuration's sections before its metrics: project, constants, sources, quality, value
//! events, plugins, segments and cohorts.

use super::*;

impl Validator<'_> {
    pub(super) fn project(&mut self, entry: Option<Entry<'_>>) -> Option<plan::Project> {
        let config: ProjectConfig = match &entry {
            Some(entry) => self.decode(entry, "project")?,
            None => ProjectConfig::default(),
        };
        let timezone = match &config.timezone {
            None => Some(chrono_tz::UTC),
            Some(zone) => match zone.value.parse::<chrono_tz::Tz>() {
                Ok(tz) => Some(tz),
                Err(_) => {
                    let suggestion = closest(&zone.value, chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()));
                    self.push(
                        Diagnostic::new(
                            Code::InvalidTimeZone,
                            format!("unknown time zone `{}`", zone.value),
                            zone.span.clone(),
                        )
                        .with_label("expected an IANA time zone such as `Europe/Berlin`")
                        .with_suggestion(suggestion),
                    );
                    None
                }
            },
        };
        let as_of = match &config.as_of {
            None => Some(None),
            Some(text) => match chrono::NaiveDate::parse_from_str(&text.value, "%Y-%m-%d") {
                Ok(date) => Some(Some(date)),
                Err(_) => {
                    self.push(
                        Diagnostic::new(
                            Code::InvalidDate,
                            format!("`{}` is not a date", text.value),
                            text.span.clone(),
                        )
                        .with_label("expected YYYY-MM-DD"),
                    );
                    None
                }
            },
        };
        Some(plan::Project {
            name: config
                .name
                .map_or_else(|| "tenure project".to_string(), |n| n.value),
            timezone: timezone?,
            week_start: match config.week_start.map(|w| w.value) {
                Some(WeekStartConfig::Sunday) => plan::WeekStart::Sunday,
                _ => plan::WeekStart::Monday,
            },
            as_of: as_of?,
        })
    }

    pub(super) fn constants(&mut self, entry: Option<Entry<'_>>) -> BTreeMap<String, f64> {
        let mut constants = BTreeMap::new();
        for entry in self.entries(entry) {
            if !self.check_name(&entry, "constants") {
                continue;
            }
            let table = format!("constants.{}", entry.name);
            if let Some(value) = self.decode::<f64>(&entry, &table) {
                if value.is_finite() {
                    constants.insert(entry.name, value);
                } else {
                    self.push(
                        Diagnostic::new(
                            Code::InvalidValue,
                            format!("constant `{}` is not finite", entry.name),
                            entry.value.span(),
                        )
                        .with_label("expected a finite number"),
                    );
                }
            }
        }
        constants
    }

    /// The valid connections, and the names of all declared ones (a connection with a mistake
    /// stays known to the sources that name it).
    pub(super) fn connections(&mut self, entry: Option<Entry<'_>>) -> (Vec<plan::Connection>, Vec<String>) {
        let mut connections = Vec::new();
        let mut declared = Vec::new();
        for entry in self.entries(entry) {
            if !self.check_name(&entry, "connections") {
                continue;
            }
            declared.push(entry.name.clone());
            let table = format!("connections.{}", entry.name);
            if let DeValue::Table(fields) = entry.value.get_ref()
                && let Some((key, _)) = fields.iter().find(|(key, _)| key.get_ref() == "password")
            {
                self.push(
                    Diagnostic::new(
                        Code::UnknownKey,
                        format!("a password is never written in [{table}]"),
                        key.span(),
                    )
                    .with_label("the config is read by everyone who reads the repository")
                    .with_help("put the password in an environment variable and name it: `password_env = \"TENURE_DB_PASSWORD\"`"),
                );
                self.dropped.push((table.clone(), "password".to_string()));
                continue;
            }
            let Some(config) = self.decode::<ConnectionConfig>(&entry, &table) else {
                continue;
            };
            connections.push(plan::Connection {
                name: entry.name.clone(),
                kind: match config.kind.value {
                    ConnectionKindConfig::Clickhouse => plan::ConnectionKind::ClickHouse,
                    ConnectionKindConfig::Postgres => plan::ConnectionKind::Postgres,
                    ConnectionKindConfig::Spark => plan::ConnectionKind::Spark,
                    ConnectionKindConfig::Duckdb => plan::ConnectionKind::DuckDb,
                },
                url: config.url.map(|u| u.value),
                database: config.database.map(|d| d.value),
                user: config.user.map(|u| u.value),
                password_env: config.password_env.map(|p| p.value),
            });
        }
        (connections, declared)
    }

    pub(super) fn sources(
        &mut self,
        entry: Option<Entry<'_>>,
        base_dir: &Path,
        connections: &[String],
    ) -> (Vec<plan::Source>, Option<plan::Source>) {
        let mut events = Vec::new();
        let mut entities: Option<plan::Source> = None;
        for entry in self.entries(entry) {
            let table = format!("sources.{}", entry.name);
            let Some(config) = self.decode::<SourceConfig>(&entry, &table) else {
                continue;
            };
            let kind = match config.kind.as_ref().map(|k| k.value) {
                Some(SourceKindConfig::Entities) => plan::SourceKind::Entities,
                _ => plan::SourceKind::Events,
            };
            let relation = self.relation(&config, &entry, &table, base_dir, connections);
            let column = |key: &str, value: &Option<Spanned<String>>, this: &mut Self| -> String {
                match value {
                    Some(value) => value.value.clone(),
                    None => {
                        if kind == plan::SourceKind::Events && !this.was_dropped(&table, key) {
                            this.push(
                                Diagnostic::new(
                                    Code::MissingKey,
                                    format!("[{table}] is missing the required key `{key}`"),
                                    entry.name_span.clone(),
                                )
                                .with_label(format!(
                                    "an event source names its {key} column: `{key} = \"…\"`"
                                )),
                            );
                        }
                        String::new()
                    }
                }
            };
            let time_column = column("time", &config.time, self);
            let event_column = column("event", &config.event, self);
            let Some((relation, place_of_relation)) = relation else {
                continue;
            };
            let events_source = kind == plan::SourceKind::Events;
            let place = |value: &Option<Spanned<String>>| {
                value
                    .as_ref()
                    .filter(|_| events_source)
                    .map(|v| (v.value.clone(), v.span.clone()))
            };
            self.references.sources.push(SourceReference {
                name: entry.name.clone(),
                events: events_source,
                path: place_of_relation,
                entity: (config.entity.value.clone(), config.entity.span.clone()),
                time: place(&config.time),
                event: place(&config.event),
            });
            let source = plan::Source {
                name: entry.name.clone(),
                kind,
                relation,
                entity_column: config.entity.value.clone(),
                time_column,
                event_column,
                time_format: match config.time_format.map(|t| t.value) {
                    Some(TimeFormatConfig::EpochS) => plan::TimeFormat::EpochSeconds,
                    Some(TimeFormatConfig::EpochMs) => plan::TimeFormat::EpochMillis,
                    _ => plan::TimeFormat::Auto,
                },
            };
            match kind {
                plan::SourceKind::Events => events.push(source),
                plan::SourceKind::Entities if entities.is_some() => self.push(
                    Diagnostic::new(
                        Code::ConflictingKeys,
                        "only one entity-attribute source is allowed",
                        entry.name_span.clone(),
                    )
                    .with_label("a second `kind = \"entities\"` source"),
                ),
                plan::SourceKind::Entities => entities = Some(source),
            }
        }
        (events, entities)
    }

    /// Where a source's rows are — a file (`path`, `format`) or a table of a connection
    /// (`table`, `connection`) — and the span that names it.
    fn relation(
        &mut self,
        config: &SourceConfig,
        entry: &Entry<'_>,
        table: &str,
        base_dir: &Path,
        connections: &[String],
    ) -> Option<(plan::Relation, Range<usize>)> {
        match (&config.path, &config.table) {
            (Some(path), Some(name)) => {
                self.push(
                    Diagnostic::new(
                        Code::ConflictingKeys,
                        format!("[{table}] names both a file and a table"),
                        name.span.clone(),
                    )
                    .with_label("remove `table` or `path`")
                    .with_help(format!("`path = \"{}\"` reads a file", path.value)),
                );
                None
            }
            (None, None) => {
                if !self.was_dropped(table, "path") && !self.was_dropped(table, "table") {
                    self.push(
                        Diagnostic::new(
                            Code::MissingKey,
                            format!("[{table}] names no file and no table"),
                            entry.name_span.clone(),
                        )
                        .with_label("add `path = \"events.csv\"`, or `table = \"events\"` with a connection"),
                    );
                }
                None
            }
            (Some(path), None) => {
                if let Some(connection) = &config.connection {
                    self.push(
                        Diagnostic::new(
                            Code::ConflictingKeys,
                            "`connection` belongs to a source that names a `table`",
                            connection.span.clone(),
                        )
                        .with_label("a file is read where tenure runs"),
                    );
                    return None;
                }
                // A folder of Parquet parts, as Spark and Hive write them, is written with a
                // trailing `/` in the plan (docs/config.md, `path`).
                let mut resolved = base_dir.join(&path.value);
                let folder = path.value.ends_with('/') || resolved.is_dir();
                if folder && !path.value.ends_with('/') {
                    resolved.as_mut_os_string().push("/");
                }
                let format = self.file_format(config.format.as_ref(), path, folder)?;
                let relation = plan::Relation::File {
                    path: resolved,
                    format,
                };
                Some((relation, path.span.clone()))
            }
            (None, Some(name)) => {
                if let Some(format) = &config.format {
                    self.push(
                        Diagnostic::new(
                            Code::ConflictingKeys,
                            "`format` belongs to a source that names a file",
                            format.span.clone(),
                        )
                        .with_label("a table has its own column types"),
                    );
                    return None;
                }
                let connection = match &config.connection {
                    Some(connection) => {
                        let index =
                            self.reference(connection, connections, Code::UnknownConnection, "connection")?;
                        connections[index].clone()
                    }
                    None if connections.len() == 1 => connections[0].clone(),
                    None => {
                        self.push(
                            Diagnostic::new(
                                Code::MissingKey,
                                format!("[{table}] names a table but not its connection"),
                                name.span.clone(),
                            )
                            .with_label(if connections.is_empty() {
                                "define a [connections.<name>] table and name it here with `connection`"
                                    .to_string()
                            } else {
                                format!("add `connection = …`, one of: {}", connections.join(", "))
                            }),
                        );
                        return None;
                    }
                };
                let relation = plan::Relation::Table {
                    connection,
                    table: name.value.clone(),
                };
                Some((relation, name.span.clone()))
            }
        }
    }

    /// A file's format: as given, or from the file's extension; a folder holds Parquet parts.
    fn file_format(
        &mut self,
        format: Option<&Spanned<FormatConfig>>,
        path: &Spanned<String>,
        folder: bool,
    ) -> Option<plan::Format> {
        if folder {
            if format.is_some_and(|f| !matches!(f.value, FormatConfig::Parquet)) {
                self.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        "a folder is read as the Parquet files in it",
                        path.span.clone(),
                    )
                    .with_label("a folder of parts")
                    .with_help("name one file, or remove `format`"),
                );
                return None;
            }
            return Some(plan::Format::Parquet);
        }
        match format.map(|f| f.value) {
            Some(FormatConfig::Csv) => Some(plan::Format::Csv),
            Some(FormatConfig::Jsonl) => Some(plan::Format::JsonLines),
            Some(FormatConfig::Parquet) => Some(plan::Format::Parquet),
            Some(FormatConfig::Arrow) => Some(plan::Format::ArrowIpc),
            None => {
                let lower = path.value.to_ascii_lowercase();
                let inferred = if lower.ends_with(".csv") {
                    Some(plan::Format::Csv)
                } else if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
                    Some(plan::Format::JsonLines)
                } else if lower.ends_with(".parquet") {
                    Some(plan::Format::Parquet)
                } else if [".arrow", ".feather", ".ipc"].iter().any(|e| lower.ends_with(e)) {
                    Some(plan::Format::ArrowIpc)
                } else {
                    None
                };
                if inferred.is_none() {
                    self.push(
                        Diagnostic::new(
                            Code::InvalidValue,
                            "cannot tell the file format from its extension",
                            path.span.clone(),
                        )
                        .with_label("expected .csv, .jsonl, .ndjson, .parquet, .arrow or .feather")
                        .with_help("set `format = \"csv\"`, `\"jsonl\"`, `\"parquet\"` or `\"arrow\"`"),
                    );
                }
                inferred
            }
        }
    }

    pub(super) fn quality(
        &mut self,
        entry: Option<Entry<'_>>,
        constants: &BTreeMap<String, f64>,
    ) -> plan::Quality {
        let config: QualityConfig = match &entry {
            Some(entry) => self.decode(entry, "quality").unwrap_or_default(),
            None => QualityConfig::default(),
        };
        let scope = Scope {
            context: Context::Row,
            constants,
            events: None,
            event_names: &[],
            segments: &[],
            formula: None,
        };
        let exclude = config
            .exclude
            .as_ref()
            .and_then(|text| self.expression(text, &scope, Type::Bool));
        plan::Quality {
            dedupe: matches!(config.dedupe.map(|d| d.value), Some(DedupeConfig::Exact)),
            exclude,
            on_bad_row: match config.on_bad_row.map(|b| b.value) {
                Some(BadRowConfig::Fail) => plan::BadRowPolicy::Fail,
                _ => plan::BadRowPolicy::Skip,
            },
        }
    }

    pub(super) fn events(
        &mut self,
        entry: Option<Entry<'_>>,
        constants: &BTreeMap<String, f64>,
    ) -> Vec<plan::ValueEvent> {
        let mut configs: BTreeMap<String, EventConfig> = BTreeMap::new();
        for entry in self.entries(entry) {
            if !self.check_name(&entry, "events") {
                continue;
            }
            let table = format!("events.{}", entry.name);
            if let Some(config) = self.decode::<EventConfig>(&entry, &table) {
                configs.insert(entry.name, config);
            }
        }
        // What a value event is known by even when its own expressions fail: its name and
        // whether it declares `amount`. Checks that use it then report nothing more.
        let event_names: Vec<String> = configs.keys().cloned().collect();
        self.events_with_amount = configs
            .iter()
            .filter(|(_, config)| config.amount.is_some())
            .map(|(name, _)| name.clone())
            .collect();
        // Value events may name each other in `where`; resolve them in dependency order.
        let mut dependencies: BTreeMap<String, Vec<(String, Range<usize>)>> = BTreeMap::new();
        let mut compared: Vec<Range<usize>> = Vec::new();
        for (name, config) in &configs {
            let mut names = Vec::new();
            if let Ok(node) = crate::expr::parse(&config.filter.value) {
                resolve::bare_names(&node, &mut names);
            }
            let mapping = StringMapping::new(self.text, &config.filter);
            let mut deps = Vec::new();
            for bare in names.into_iter().filter(|b| configs.contains_key(&b.name)) {
                let span = mapping.map(bare.span);
                if bare.compared {
                    compared.push(span.clone());
                }
                deps.push((bare.name, span));
            }
            dependencies.insert(name.clone(), deps);
        }
        let order = self.dependency_order(&dependencies, "value events", &compared);
        let mut resolved: BTreeMap<String, Expr> = BTreeMap::new();
        let mut amounts: BTreeMap<String, Option<Expr>> = BTreeMap::new();
        let mut failed = false;
        for name in order {
            let config = &configs[&name];
            for (dep, _) in &dependencies[&name] {
                if !resolved.contains_key(dep) {
                    // It closes a loop, reported already. It stands in as an event that matches
                    // nothing, so that the rest of this expression is still checked.
                    failed = true;
                    resolved.insert(dep.clone(), placeholder_event(dep).filter);
                }
            }
            let scope = Scope {
                context: Context::Row,
                constants,
                events: Some(&resolved),
                event_names: &event_names,
                segments: &[],
                formula: None,
            };
            let filter = self.expression(&config.filter, &scope, Type::Bool);
            let amount_scope = Scope {
                context: Context::Row,
                constants,
                events: None,
                event_names: &[],
                segments: &[],
                formula: None,
            };
            let amount = config
                .amount
                .as_ref()
                .map(|text| self.expression(text, &amount_scope, Type::Number));
            match (filter, amount) {
                (Some(filter), Some(None)) => {
                    failed = true;
                    resolved.insert(name.clone(), filter);
                }
                (Some(filter), amount) => {
                    resolved.insert(name.clone(), filter);
                    amounts.insert(name.clone(), amount.flatten());
                }
                (None, _) => {
                    // Reported; events that use it are still checked, against a stand-in.
                    failed = true;
                    resolved.insert(name.clone(), placeholder_event(&name).filter);
                }
            }
        }
        if failed {
            return configs.keys().map(|name| placeholder_event(name)).collect();
        }
        configs
            .keys()
            .map(|name| match resolved.remove(name) {
                Some(filter) => plan::ValueEvent {
                    name: name.clone(),
                    filter,
                    amount: amounts.remove(name).flatten(),
                },
                None => placeholder_event(name),
            })
            .collect()
    }

    /// Topological order of named items (value events, metrics); reports each cycle once.
    /// A cycle closed by a reference in `compared` (a bare word compared with something, as in
    /// `event == signup`) gets the hint that text needs quotes.
    pub(super) fn dependency_order(
        &mut self,
        dependencies: &BTreeMap<String, Vec<(String, Range<usize>)>>,
        what: &str,
        compared: &[Range<usize>],
    ) -> Vec<String> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Open,
            Done,
        }
        let mut marks: BTreeMap<&str, Mark> = dependencies.keys().map(|k| (k.as_str(), Mark::New)).collect();
        let mut order = Vec::new();
        let mut cycles: Vec<(Vec<String>, Range<usize>)> = Vec::new();
        fn visit<'a>(
            name: &'a str,
            dependencies: &'a BTreeMap<String, Vec<(String, Range<usize>)>>,
            marks: &mut BTreeMap<&'a str, Mark>,
            path: &mut Vec<(&'a str, Range<usize>)>,
            order: &mut Vec<String>,
            cycles: &mut Vec<(Vec<String>, Range<usize>)>,
        ) {
            marks.insert(name, Mark::Open);
            for (dep, span) in &dependencies[name] {
                match marks[dep.as_str()] {
                    Mark::Done => {}
                    Mark::Open => {
                        let start = path.iter().position(|(n, _)| *n == dep.as_str()).unwrap_or(0);
                        let mut names: Vec<String> =
                            path[start..].iter().map(|(n, _)| n.to_string()).collect();
                        names.push(name.to_string());
                        names.push(dep.clone());
                        cycles.push((names, span.clone()));
                    }
                    Mark::New => {
                        path.push((name, span.clone()));
                        visit(dep, dependencies, marks, path, order, cycles);
                        path.pop();
                    }
                }
            }
            marks.insert(name, Mark::Done);
            order.push(name.to_string());
        }
        for name in dependencies.keys() {
            if marks[name.as_str()] == Mark::New {
                visit(
                    name,
                    dependencies,
                    &mut marks,
                    &mut Vec::new(),
                    &mut order,
                    &mut cycles,
                );
            }
        }
        for (names, span) in cycles {
            let chain: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            let mut diagnostic = Diagnostic::new(
                Code::Cycle,
                format!("{what} refer to each other in a loop: {}", chain.join(" → ")),
                span.clone(),
            )
            .with_label("this reference closes the loop");
            if compared.contains(&span)
                && let Some(word) = names.last()
            {
                diagnostic = diagnostic.with_help(resolve::quote_hint(word));
            }
            self.push(diagnostic);
        }
        order
    }

    pub(super) fn plugins(
        &mut self,
        entry: Option<Entry<'_>>,
        base_dir: &Path,
    ) -> BTreeMap<String, Option<plan::PluginDef>> {
        let mut plugins = BTreeMap::new();
        for entry in self.entries(entry) {
            let table = format!("plugins.{}", entry.name);
            let Some(config) = self.decode::<PluginConfig>(&entry, &table) else {
                plugins.insert(entry.name.clone(), None);
                continue;
            };
            // The file itself is the host's to check (`tenure validate` does, at this line).
            let path = Some(base_dir.join(&config.path.value));
            self.references.plugins.push((
                entry.name.clone(),
                config.path.value.clone(),
                config.path.span.clone(),
            ));
            let sha256 = match &config.sha256 {
                Some(pin) => {
                    let hex = pin.value.trim().to_ascii_lowercase();
                    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                        Some(hex)
                    } else {
                        self.push(
                            Diagnostic::new(
                                Code::InvalidValue,
                                "`sha256` must be 64 hexadecimal digits",
                                pin.span.clone(),
                            )
                            .with_label("the output of `sha256sum <library>`"),
                        );
                        None
                    }
                }
                None => None,
            };
            let def = path.map(|path| plan::PluginDef {
                name: entry.name.clone(),
                path,
                sha256,
            });
            plugins.insert(entry.name.clone(), def);
        }
        plugins
    }

    pub(super) fn segments(
        &mut self,
        entry: Option<Entry<'_>>,
        plugins: &BTreeMap<String, Option<plan::PluginDef>>,
        event_names: &[String],
    ) -> (Vec<plan::SegmentDef>, Vec<String>) {
        let mut segments = Vec::new();
        let mut declared = Vec::new();
        for entry in self.entries(entry) {
            if !self.check_name(&entry, "segments") {
                continue;
            }
            declared.push(entry.name.clone());
            let table = format!("segments.{}", entry.name);
            let Some(config) = self.decode::<SegmentConfig>(&entry, &table) else {
                continue;
            };
            let event = match &config.event {
                Some(name) => self
                    .reference(name, event_names, Code::UnknownEvent, "event")
                    .map(Some),
                None => Some(None),
            };
            let plugin = match plugins.get(&config.plugin.value) {
                Some(Some(def)) => Some(def.clone()),
                Some(None) => None,
                None => {
                    let suggestion = closest(&config.plugin.value, plugins.keys().map(String::as_str));
                    self.push(
                        Diagnostic::new(
                            Code::UnknownPlugin,
                            format!("unknown plugin `{}`", config.plugin.value),
                            config.plugin.span.clone(),
                        )
                        .with_label("no [plugins] entry has this name")
                        .with_suggestion(suggestion),
                    );
                    None
                }
            };
            let params = config
                .params
                .as_ref()
                .map_or_else(|| "{}".to_string(), |p| p.to_string());
            let at_period_start = config.as_of == Some(SegmentAsOfConfig::PeriodStart);
            if at_period_start {
                self.period_start_segments.push(entry.name.clone());
            }
            if let (Some(plugin), Some(event)) = (plugin, event) {
                segments.push(plan::SegmentDef {
                    name: entry.name.clone(),
                    plugin,
                    params,
                    event,
                    at_period_start,
                });
            }
        }
        (segments, declared)
    }

    /// `[benchmarks.<name>]`: norms of the config's own. A name may not be a built-in norm's;
    /// each band is a day offset with `0 ≤ low ≤ high ≤ 1`, one band per day.
    pub(super) fn benchmarks(&mut self, entry: Option<Entry<'_>>) -> Vec<tenure_plan::norms::Norm> {
        let mut norms = Vec::new();
        for entry in self.entries(entry) {
            if !self.check_name(&entry, "benchmarks") {
                continue;
            }
            let table = format!("benchmarks.{}", entry.name);
            let Some(config) = self.decode::<BenchmarkConfig>(&entry, &table) else {
                continue;
            };
            if tenure_plan::norms::built_in(&entry.name).is_some() {
                self.push(
                    Diagnostic::new(
                        Code::ConflictingKeys,
                        format!("`{}` is a built-in benchmark", entry.name),
                        entry.name_span.clone(),
                    )
                    .with_label("name your own norms differently"),
                );
                continue;
            }
            if config.bands.value.is_empty() {
                self.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        format!("[{table}] has no band"),
                        config.bands.span.clone(),
                    )
                    .with_label("expected at least one `{ day = 7, low = 0.4, high = 0.6 }`"),
                );
                continue;
            }
            let mut bands: Vec<tenure_plan::norms::Band> = Vec::new();
            let before = self.diagnostics.len();
            for band in &config.bands.value {
                let day = u32::try_from(band.day.value).ok();
                match day {
                    Some(day) if bands.iter().any(|b| b.day == day) => self.push(
                        Diagnostic::new(
                            Code::InvalidValue,
                            format!("day {day} has two bands"),
                            band.day.span.clone(),
                        )
                        .with_label("give each day one band"),
                    ),
                    Some(_) => {}
                    None => self.push(
                        Diagnostic::new(
                            Code::InvalidValue,
                            format!("`day = {}` is not a day offset", band.day.value),
                            band.day.span.clone(),
                        )
                        .with_label("expected a whole number of days, 0 or more"),
                    ),
                }
                for share in [&band.low, &band.high] {
                    if !(0.0..=1.0).contains(&share.value) {
                        self.push(
                            Diagnostic::new(
                                Code::InvalidValue,
                                format!("{} is not a share", share.value),
                                share.span.clone(),
                            )
                            .with_label("expected a rate from 0 to 1 (0.45 for 45 %)"),
                        );
                    }
                }
                if band.low.value > band.high.value {
                    self.push(
                        Diagnostic::new(
                            Code::InvalidValue,
                            format!("`low` {} is above `high` {}", band.low.value, band.high.value),
                            band.low.span.start..band.high.span.end,
                        )
                        .with_label("expected low ≤ high"),
                    );
                }
                if let Some(day) = day {
                    bands.push(tenure_plan::norms::Band {
                        day,
                        low: band.low.value,
                        high: band.high.value,
                    });
                }
            }
            if self.diagnostics.len() == before {
                bands.sort_by_key(|band| band.day);
                norms.push(tenure_plan::norms::Norm {
                    segment: config.segment.unwrap_or_else(|| entry.name.clone()),
                    name: entry.name.clone(),
                    bands,
                });
            }
        }
        norms
    }

    /// A `by` key: `<root>.<name>` with an allowed root, and a declared segment for `segment.*`;
    /// a segment labelled at each period's start only where `periods_label` (a cohort's rows, a
    /// revenue table's periods).
    pub(super) fn breakdown_key(
        &mut self,
        key: &Spanned<String>,
        segment_names: &[String],
        roots: &[&str],
        periods_label: bool,
    ) -> Option<Field> {
        let field = breakdown_field(&key.value);
        let root = key.value.split('.').next().unwrap_or("");
        match field {
            Some(Field::Segment(name)) if !periods_label && self.period_start_segments.contains(&name) => {
                self.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        format!("segment `{name}` is labelled at each period's start, which this metric cannot break down by"),
                        key.span.clone(),
                    )
                    .with_label("read here as one label per entity")
                    .with_help(
                        "a cohort's `by` and a revenue metric's `by` read labels at each period's start; \
                         here, use a segment labelled as of `as_of` (the default)",
                    ),
                );
                None
            }
            Some(Field::Segment(name)) if !segment_names.contains(&name) => {
                let suggestion = closest(&name, segment_names.iter().map(String::as_str));
                self.push(
                    Diagnostic::new(
                        Code::UnknownName,
                        format!("unknown segment `{name}`"),
                        key.span.clone(),
                    )
                    .with_label("no [segments] entry has this name")
                    .with_suggestion(suggestion),
                );
                None
            }
            Some(field) if roots.contains(&root) => {
                let place = |column: &String| (column.clone(), key.span.clone());
                match &field {
                    Field::Prop(column) => self.references.props.push(place(column)),
                    Field::Attr(column) => self.references.attrs.push(place(column)),
                    _ => {}
                }
                Some(field)
            }
            _ => {
                let expected: Vec<String> = roots.iter().map(|r| format!("`{r}.<name>`")).collect();
                self.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        format!("`{}` cannot split this table", key.value),
                        key.span.clone(),
                    )
                    .with_label(format!("expected {}", expected.join(", "))),
                );
                None
            }
        }
    }

    pub(super) fn cohorts(
        &mut self,
        entry: Option<Entry<'_>>,
        constants: &BTreeMap<String, f64>,
        event_names: &[String],
        segment_names: &[String],
    ) -> (Vec<plan::Cohort>, Vec<String>) {
        let mut cohorts = Vec::new();
        let mut declared = Vec::new();
        for entry in self.entries(entry) {
            if !self.check_name(&entry, "cohorts") {
                continue;
            }
            declared.push(entry.name.clone());
            let table = format!("cohorts.{}", entry.name);
            let Some(config) = self.decode::<CohortConfig>(&entry, &table) else {
                continue;
            };
            // `attr.<column>`: a date attribute starts the cohort; anything else names an event.
            let start = match config.start.value.strip_prefix("attr.") {
                Some(column) => {
                    self.references
                        .attrs
                        .push((column.to_string(), config.start.span.clone()));
                    Some(plan::CohortStart::Attribute(column.to_string()))
                }
                None => self
                    .reference(&config.start, event_names, Code::UnknownEvent, "event")
                    .map(plan::CohortStart::Event),
            };
            let scope = Scope {
                context: Context::Cohort,
                constants,
                events: None,
                event_names: &[],
                segments: segment_names,
                formula: None,
            };
            let filter = config
                .filter
                .as_ref()
                .map(|text| self.expression(text, &scope, Type::Bool));
            if let (Some(Some(filter)), Some(text)) = (&filter, &config.filter) {
                let mut labelled_later = Vec::new();
                filter.for_each_field(&mut |field| {
                    if let Field::Segment(name) = field
                        && self.period_start_segments.contains(name)
                        && !labelled_later.contains(name)
                    {
                        labelled_later.push(name.clone());
                    }
                });
                for name in labelled_later {
                    self.push(
                        Diagnostic::new(
                            Code::InvalidValue,
                            format!("segment `{name}` is labelled at each period's start, which a `where` cannot read"),
                            text.span.clone(),
                        )
                        .with_label("a filter keeps or drops an entity once, not per period")
                        .with_help("break the cohort down by it with `by`, or filter on a segment labelled as of `as_of`"),
                    );
                }
            }
            let mut by = Vec::new();
            let mut by_ok = true;
            for key in config.by.iter().flatten() {
                match self.breakdown_key(key, segment_names, &["attr", "props", "segment"], true) {
                    Some(field) => by.push(field),
                    None => by_ok = false,
                }
            }
            // Without a start event there is no row whose properties could be read.
            if matches!(start, Some(plan::CohortStart::Attribute(_))) {
                let mut props = Vec::new();
                if let Some(Some(filter)) = &filter {
                    filter.for_each_field(&mut |field| {
                        if let Field::Prop(name) = field {
                            props.push((
                                format!("props.{name}"),
                                config.filter.as_ref().map(|f| f.span.clone()),
                            ));
                        }
                    });
                }
                for (key, field) in config.by.iter().flatten().zip(&by) {
                    if matches!(field, Field::Prop(_)) {
                        props.push((key.value.clone(), Some(key.span.clone())));
                    }
                }
                for (name, span) in props {
                    self.push(
                        Diagnostic::new(
                            Code::InvalidValue,
                            format!("`{name}` cannot be read: this cohort starts at an attribute date, not at an event"),
                            span.unwrap_or(config.start.span.clone()),
                        )
                        .with_label("expected `attr.<column>` or `segment.<name>`"),
                    );
                    by_ok = false;
                }
            }
            let did = match (&config.did, &config.did_within) {
                (Some(event), Some(within)) => {
                    let event = self.reference(event, event_names, Code::UnknownEvent, "event");
                    let within = self.duration(within);
                    match event.zip(within) {
                        Some((event, within)) => {
                            by.push(Field::Did(event_names[event].clone()));
                            Some(plan::Did { event, within })
                        }
                        None => {
                            by_ok = false;
                            None
                        }
                    }
                }
                (Some(event), None) => {
                    self.push(
                        Diagnostic::new(
                            Code::MissingKey,
                            "`did` needs `did_within`, the time after the start it must come within",
                            event.span.clone(),
                        )
                        .with_label("add `did_within = \"7d\"` or similar"),
                    );
                    by_ok = false;
                    None
                }
                (None, Some(within)) => {
                    self.push(
                        Diagnostic::new(
                            Code::ConflictingKeys,
                            "`did_within` belongs to `did`",
                            within.span.clone(),
                        )
                        .with_label("add `did = \"<value event>\"`, or remove this key"),
                    );
                    by_ok = false;
                    None
                }
                (None, None) => None,
            };
            let recurring = config.recurring.as_ref().is_some_and(|r| r.value);
            if let Some(span) = config
                .recurring
                .as_ref()
                .filter(|r| r.value)
                .map(|r| r.span.clone())
            {
                let conflict = if matches!(start, Some(plan::CohortStart::Attribute(_))) {
                    Some((
                        Code::InvalidValue,
                        "a date attribute is one day per entity: only a cohort that starts at an event can recur",
                        "start at a value event, or remove `recurring`",
                    ))
                } else if config.did.is_some() {
                    Some((
                        Code::ConflictingKeys,
                        "`did` follows each member from one start, and a recurring cohort has one per period",
                        "remove `did` or `recurring`",
                    ))
                } else {
                    None
                };
                if let Some((code, message, label)) = conflict {
                    self.push(Diagnostic::new(code, message, span).with_label(label));
                    by_ok = false;
                }
            }
            if recurring {
                self.recurring_cohorts.insert(declared.len() - 1);
            }
            let grain = match config.grain.value {
                GrainConfig::Day => plan::Grain::Day,
                GrainConfig::Week => plan::Grain::Week,
                GrainConfig::Month => plan::Grain::Month,
                GrainConfig::Quarter => plan::Grain::Quarter,
                GrainConfig::Year => plan::Grain::Year,
            };
            if let (Some(start), true) = (start, by_ok) {
                match filter {
                    Some(None) => {}
                    filter => cohorts.push(plan::Cohort {
                        name: entry.name.clone(),
                        start,
                        grain,
                        filter: filter.flatten(),
                        by,
                        did,
                        recurring,
                    }),
                }
            }
        }
        (cohorts, declared)
    }
}
