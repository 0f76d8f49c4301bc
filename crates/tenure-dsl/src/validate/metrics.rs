//! `[metrics.*]`: each metric type's keys checked and turned into its plan.

use super::*;

impl Validator<'_> {
    pub(super) fn metrics(
        &mut self,
        entry: Option<Entry<'_>>,
        event_names: &[String],
        cohort_names: &[String],
        segment_names: &[String],
    ) -> Vec<plan::Metric> {
        let mut metrics = Vec::new();
        // Formulas, LTV and payback read other metrics: they are resolved once every metric's
        // scalars are known.
        let mut derived: Vec<(Entry<'_>, String, String)> = Vec::new();
        let mut scalars: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut types: BTreeMap<String, String> = BTreeMap::new();
        // Metrics keep the order they are written in: that is the order people read them in.
        let mut entries = self.entries(entry);
        entries.sort_by_key(|entry| entry.name_span.start);
        let position: BTreeMap<String, usize> = entries
            .iter()
            .enumerate()
            .map(|(index, entry)| (entry.name.clone(), index))
            .collect();
        for entry in entries {
            if !self.check_name(&entry, "metrics") {
                continue;
            }
            self.references
                .metrics
                .push((entry.name.clone(), entry.name_span.clone()));
            let table = format!("metrics.{}", entry.name);
            let Some(kind) = self.metric_type(&entry, &table) else {
                self.failed_metrics.insert(entry.name.clone());
                continue;
            };
            types.insert(entry.name.clone(), kind.clone());
            let metric = match kind.as_str() {
                "retention" => self
                    .decode::<RetentionConfig>(&entry, &table)
                    .and_then(|config| {
                        self.retention(config, event_names, cohort_names, &table, &entry.name_span)
                    })
                    .map(|(kind, description)| (plan::MetricKind::Retention(kind), description)),
                "revenue" => self
                    .decode::<RevenueConfig>(&entry, &table)
                    .and_then(|config| self.revenue(config, event_names, cohort_names, segment_names)),
                "crr" => self
                    .decode::<CrrConfig>(&entry, &table)
                    .and_then(|config| self.crr(config, event_names))
                    .map(|(kind, description)| (plan::MetricKind::Crr(kind), description)),
                "lifecycle" => self
                    .decode::<LifecycleConfig>(&entry, &table)
                    .and_then(|config| self.lifecycle(config, event_names, segment_names))
                    .map(|(kind, description)| (plan::MetricKind::Lifecycle(kind), description)),
                "stickiness" => self
                    .decode::<StickinessConfig>(&entry, &table)
                    .and_then(|config| self.stickiness(config, event_names))
                    .map(|(kind, description)| (plan::MetricKind::Stickiness(kind), description)),
                "survey" => self
                    .decode::<SurveyConfig>(&entry, &table)
                    .and_then(|config| self.survey(config, event_names, cohort_names, segment_names))
                    .map(|(kind, description)| (plan::MetricKind::Survey(kind), description)),
                "health" => self
                    .decode::<HealthConfig>(&entry, &table)
                    .and_then(|config| self.health(config, event_names, segment_names))
                    .map(|(kind, description)| (plan::MetricKind::Health(kind), description)),
                "winback" => self
                    .decode::<WinbackConfig>(&entry, &table)
                    .and_then(|config| self.winback(config, event_names, segment_names))
                    .map(|(kind, description)| (plan::MetricKind::Winback(kind), description)),
                "funnel" => self
                    .decode::<FunnelConfig>(&entry, &table)
                    .and_then(|config| self.funnel(config, event_names, cohort_names))
                    .map(|(kind, description)| (plan::MetricKind::Funnel(kind), description)),
                "activation" => self
                    .decode::<ActivationConfig>(&entry, &table)
                    .and_then(|config| self.activation(config, event_names, cohort_names))
                    .map(|(kind, description)| (plan::MetricKind::Activation(kind), description)),
                _ => {
                    let grouped = matches!(entry.value.get_ref(), DeValue::Table(t)
                        if t.iter().any(|(k, _)| k.get_ref() == "grain" || k.get_ref() == "cohort"));
                    let exposed: &[&str] = if kind == "uplift" {
                        &plan::UPLIFT_SCALARS
                    } else if kind == "formula" && grouped {
                        &["last"]
                    } else {
                        &["value"]
                    };
                    scalars.insert(
                        entry.name.clone(),
                        exposed.iter().map(|name| name.to_string()).collect(),
                    );
                    derived.push((entry, table, kind));
                    continue;
                }
            };
            match metric {
                Some((kind, description)) => {
                    if let plan::MetricKind::CohortRevenue(_) = kind {
                        // Its table has no movements for LTV or payback to read.
                        types.insert(entry.name.clone(), "revenue-by-cohort".to_string());
                    }
                    scalars.insert(entry.name.clone(), kind.scalars());
                    metrics.push(plan::Metric {
                        name: entry.name.clone(),
                        description,
                        kind,
                    });
                }
                None => {
                    self.failed_metrics.insert(entry.name.clone());
                }
            }
        }
        let mut references: BTreeMap<String, Vec<(String, Range<usize>)>> = BTreeMap::new();
        for (entry, table, kind) in derived {
            let resolved = match kind.as_str() {
                "formula" => self
                    .decode::<FormulaConfig>(&entry, &table)
                    .and_then(|config| self.formula(config, event_names, cohort_names, &scalars))
                    .map(|(kind, description, refs)| {
                        references.insert(entry.name.clone(), refs);
                        (kind, description)
                    }),
                "ltv" => self
                    .decode::<LtvConfig>(&entry, &table)
                    .and_then(|config| self.ltv(config, event_names, &types)),
                "uplift" => self
                    .decode::<UpliftConfig>(&entry, &table)
                    .and_then(|config| self.uplift(config, event_names, &metrics, &types))
                    .map(|(kind, description)| (plan::MetricKind::Uplift(kind), description)),
                _ => self
                    .decode::<PaybackConfig>(&entry, &table)
                    .and_then(|config| self.payback(config, &types)),
            };
            if let Some((kind, description)) = resolved {
                metrics.push(plan::Metric {
                    name: entry.name.clone(),
                    description,
                    kind,
                });
            }
        }
        metrics.sort_by_key(|metric| position.get(&metric.name).copied());
        // Formulas that read each other in a loop cannot be evaluated.
        for name in scalars.keys() {
            references.entry(name.clone()).or_default();
        }
        self.dependency_order(&references, "metrics", &[]);
        metrics
    }

    pub(super) fn number_or_constant(&mut self, value: &Spanned<NumberOrConstant>) -> Option<f64> {
        match &value.value {
            NumberOrConstant::Number(number) => Some(*number),
            NumberOrConstant::Constant(name) => match self.constants.get(name) {
                Some(number) => Some(*number),
                None => {
                    let suggestion = closest(name, self.constants.keys().map(String::as_str));
                    self.push(
                        Diagnostic::new(
                            Code::UnknownName,
                            format!("unknown constant `{name}`"),
                            value.span.clone(),
                        )
                        .with_label("expected a number or a [constants] name")
                        .with_suggestion(suggestion),
                    );
                    None
                }
            },
        }
    }

    /// A reference to a metric of type `revenue`.
    pub(super) fn revenue_metric(
        &mut self,
        name: &Spanned<String>,
        types: &BTreeMap<String, String>,
    ) -> Option<String> {
        self.typed_metric(name, types, "revenue")
            .then(|| name.value.clone())
    }

    /// Whether `name` is a metric of type `wanted`; a diagnostic when it is of another type or
    /// unknown (none when it was declared with a mistake of its own, reported already).
    fn typed_metric(
        &mut self,
        name: &Spanned<String>,
        types: &BTreeMap<String, String>,
        wanted: &str,
    ) -> bool {
        match types.get(&name.value).map(String::as_str) {
            Some(kind) if kind == wanted => return true,
            None if self.failed_metrics.contains(&name.value) => {}
            Some(other) => self.push(
                Diagnostic::new(
                    Code::UnknownMetric,
                    format!("metric `{}` is a {other} metric", name.value),
                    name.span.clone(),
                )
                .with_label(if other == "revenue-by-cohort" {
                    format!(
                        "expected a metric with type = \"{wanted}\" and no `cohort`: its movements are read"
                    )
                } else {
                    format!("expected a metric with type = \"{wanted}\"")
                }),
            ),
            None => {
                let known = types
                    .iter()
                    .filter(|(_, t)| *t == wanted)
                    .map(|(n, _)| n.as_str());
                let suggestion = closest(&name.value, known);
                self.push(
                    Diagnostic::new(
                        Code::UnknownMetric,
                        format!("unknown metric `{}`", name.value),
                        name.span.clone(),
                    )
                    .with_label(format!("no {wanted} metric has this name"))
                    .with_suggestion(suggestion),
                );
            }
        }
        false
    }

    #[allow(clippy::type_complexity)]
    pub(super) fn formula(
        &mut self,
        config: FormulaConfig,
        event_names: &[String],
        cohort_names: &[String],
        scalars: &BTreeMap<String, Vec<String>>,
    ) -> Option<(plan::MetricKind, Option<String>, Vec<(String, Range<usize>)>)> {
        if let (Some(grain), Some(_)) = (&config.grain, &config.cohort) {
            self.push(
                Diagnostic::new(
                    Code::ConflictingKeys,
                    "a formula is evaluated per `grain` or per `cohort`, not both",
                    grain.span.clone(),
                )
                .with_label("remove `grain` or `cohort`"),
            );
            return None;
        }
        let cohort = match &config.cohort {
            Some(name) => {
                let index = self.reference(name, cohort_names, Code::UnknownCohort, "cohort");
                Some(self.one_start(
                    index,
                    &name.span,
                    "a formula per cohort sorts each entity's rows into its one cohort row",
                )?)
            }
            None => None,
        };
        let constants = self.constants.clone();
        let events_with_amount = self.events_with_amount.clone();
        let failed_metrics = self.failed_metrics.clone();
        let scope = Scope {
            context: Context::Formula,
            constants: &constants,
            events: None,
            event_names: &[],
            segments: &[],
            formula: Some(resolve::FormulaScope {
                events: event_names,
                events_with_amount: &events_with_amount,
                metrics: scalars,
                failed_metrics: &failed_metrics,
            }),
        };
        let expr = self.expression(&config.formula, &scope, Type::Number)?;
        let mapping = StringMapping::new(self.text, &config.formula);
        let mut references = Vec::new();
        if let Ok(node) = crate::expr::parse(&config.formula.value) {
            collect_metric_references(&node, scalars, &mut references);
        }
        let references = references
            .into_iter()
            .map(|(name, span)| (name, mapping.map(span)))
            .collect();
        let grain = config.grain.as_ref().map(|g| grain_of(Some(g)));
        Some((
            plan::MetricKind::Formula(plan::Formula {
                expr,
                grain,
                cohort,
                format: match config.format.map(|f| f.value) {
                    Some(ValueFormatConfig::Percent) => plan::ValueFormat::Percent,
                    Some(ValueFormatConfig::Money) => plan::ValueFormat::Money,
                    _ => plan::ValueFormat::Number,
                },
            }),
            config.description,
            references,
        ))
    }

    pub(super) fn ltv(
        &mut self,
        config: LtvConfig,
        event_names: &[String],
        types: &BTreeMap<String, String>,
    ) -> Option<(plan::MetricKind, Option<String>)> {
        let margin = self.number_or_constant(&config.margin);
        let form = match config.form.value {
            LtvFormConfig::Orders => {
                let Some(order) = &config.order else {
                    self.push(
                        Diagnostic::new(
                            Code::MissingKey,
                            "`form = \"orders\"` needs `order`",
                            config.form.span.clone(),
                        )
                        .with_label("add `order = \"<value event with amount>\"`"),
                    );
                    return None;
                };
                let order = self.amount_event(order, event_names);
                let cost_to_serve = match &config.cost_to_serve {
                    Some(value) => self.number_or_constant(value),
                    None => Some(0.0),
                };
                plan::LtvForm::Orders {
                    order: order?,
                    cost_to_serve: cost_to_serve?,
                }
            }
            LtvFormConfig::Subscription => {
                let Some(revenue) = &config.revenue else {
                    self.push(
                        Diagnostic::new(
                            Code::MissingKey,
                            "`form = \"subscription\"` needs `revenue`",
                            config.form.span.clone(),
                        )
                        .with_label("add `revenue = \"<revenue metric>\"`"),
                    );
                    return None;
                };
                let revenue = self.revenue_metric(revenue, types)?;
                let churn_window = config.churn_window.as_ref().map_or(3, |w| w.value).max(1);
                plan::LtvForm::Subscription {
                    revenue,
                    churn_window,
                }
            }
        };
        Some((
            plan::MetricKind::Ltv(plan::Ltv {
                form,
                margin: margin?,
            }),
            config.description,
        ))
    }

    pub(super) fn payback(
        &mut self,
        config: PaybackConfig,
        types: &BTreeMap<String, String>,
    ) -> Option<(plan::MetricKind, Option<String>)> {
        let revenue = self.revenue_metric(&config.revenue, types);
        let cac = self.number_or_constant(&config.cac);
        let margin = self.number_or_constant(&config.margin);
        Some((
            plan::MetricKind::Payback(plan::Payback {
                revenue: revenue?,
                cac: cac?,
                margin: margin?,
            }),
            config.description,
        ))
    }

    pub(super) fn metric_type(&mut self, entry: &Entry<'_>, table: &str) -> Option<String> {
        let DeValue::Table(fields) = entry.value.get_ref() else {
            self.push(
                Diagnostic::new(
                    Code::WrongType,
                    format!("[{table}] must be a table"),
                    entry.value.span(),
                )
                .with_label(format!("found {}", entry.value.get_ref().type_str())),
            );
            return None;
        };
        let Some((_, kind)) = fields.iter().find(|(key, _)| key.get_ref() == "type") else {
            self.push(
                Diagnostic::new(
                    Code::MissingKey,
                    format!("[{table}] is missing the required key `type`"),
                    entry.name_span.clone(),
                )
                .with_label(format!("add `type = …`, one of: {}", METRIC_TYPES.join(", "))),
            );
            return None;
        };
        let Some(name) = kind.get_ref().as_str() else {
            self.push(
                Diagnostic::new(
                    Code::WrongType,
                    format!("wrong type in [{table}]: expected a string"),
                    kind.span(),
                )
                .with_label(format!("found {}", kind.get_ref().type_str())),
            );
            return None;
        };
        if METRIC_TYPES.contains(&name) {
            return Some(name.to_string());
        }
        let suggestion = closest(name, METRIC_TYPES);
        self.push(
            Diagnostic::new(
                Code::UnknownMetricType,
                format!("unknown metric type `{name}`"),
                kind.span(),
            )
            .with_label(format!("expected one of: {}", METRIC_TYPES.join(", ")))
            .with_suggestion(suggestion),
        );
        None
    }

    /// Passes `cohort` on unless it is recurring, which `what` cannot read: it follows each
    /// member from one start (docs/config.md, `recurring`).
    fn one_start(&mut self, cohort: Option<usize>, span: &Range<usize>, what: &str) -> Option<usize> {
        let index = cohort?;
        if !self.recurring_cohorts.contains(&index) {
            return Some(index);
        }
        self.push(
            Diagnostic::new(
                Code::InvalidValue,
                format!("{what}, and this cohort is recurring: a member starts again in each period"),
                span.clone(),
            )
            .with_label("expected a cohort without `recurring`"),
        );
        None
    }

    pub(super) fn retention(
        &mut self,
        config: RetentionConfig,
        event_names: &[String],
        cohort_names: &[String],
        table: &str,
        header: &Range<usize>,
    ) -> Option<(plan::Retention, Option<String>)> {
        let mut cohort = self.reference(&config.cohort, cohort_names, Code::UnknownCohort, "cohort");
        if let Some(value) = &config.value {
            cohort = self.one_start(
                cohort,
                &value.span,
                "`value` sums each member's amounts from its one start",
            );
        }
        let return_event = self.reference(&config.return_event, event_names, Code::UnknownEvent, "event");
        let value = config
            .value
            .as_ref()
            .map(|name| self.amount_event(name, event_names));
        let mode = config.mode.as_ref().map_or(ModeConfig::NDay, |m| m.value);
        // A missing `periods` or `brackets` is reported at `mode`, or at the table's header
        // when the mode is the default.
        let mode_span = Some(config.mode.as_ref().map_or(header.clone(), |m| m.span.clone()));
        let mode = match mode {
            ModeConfig::NDay | ModeConfig::Unbounded => {
                if let Some(brackets) = &config.brackets {
                    self.push(
                        Diagnostic::new(
                            Code::ConflictingKeys,
                            "`brackets` belongs to `mode = \"bracket\"`",
                            brackets.span.clone(),
                        )
                        .with_label("use `periods` with this mode"),
                    );
                }
                let periods = self.periods(&config.periods, &mode_span, table)?;
                if matches!(mode, ModeConfig::NDay) {
                    plan::RetentionMode::NDay(periods)
                } else {
                    plan::RetentionMode::Unbounded(periods)
                }
            }
            ModeConfig::Bracket => {
                if let Some(periods) = &config.periods {
                    self.push(
                        Diagnostic::new(
                            Code::ConflictingKeys,
                            "`periods` does not apply to `mode = \"bracket\"`",
                            periods.span.clone(),
                        )
                        .with_label("use `brackets = [[a, b], …]` with this mode"),
                    );
                }
                plan::RetentionMode::Bracket(self.brackets(&config.brackets, &mode_span, table)?)
            }
        };
        let benchmark = match &config.benchmark {
            Some(name) => Some(self.benchmark(name, &mode, config.unit.as_ref().map(|u| u.value))?),
            None => None,
        };
        Some((
            plan::Retention {
                benchmark,
                cohort: cohort?,
                return_event: return_event?,
                mode,
                unit: match config.unit.map(|u| u.value) {
                    Some(UnitConfig::Week) => plan::Unit::Week,
                    Some(UnitConfig::Month) => plan::Unit::Month,
                    _ => plan::Unit::Day,
                },
                align: match config.align.map(|a| a.value) {
                    Some(AlignConfig::Calendar) => plan::Align::Calendar,
                    _ => plan::Align::Entity,
                },
                value: value.map(|event| event.ok_or(())).transpose().ok()?,
            },
            config.description,
        ))
    }

    pub(super) fn periods(
        &mut self,
        periods: &Option<Spanned<Vec<i64>>>,
        mode_span: &Option<Range<usize>>,
        table: &str,
    ) -> Option<Vec<u32>> {
        let key = "periods";
        let Some(periods) = periods else {
            if self.was_dropped(table, key) {
                return None;
            }
            let span = mode_span.clone().unwrap_or(0..0);
            self.push(
                Diagnostic::new(
                    Code::MissingKey,
                    format!("this retention metric needs `{key}`"),
                    span,
                )
                .with_label("add `periods = [0, 1, 7, 30]` or similar"),
            );
            return None;
        };
        let values = &periods.value;
        let valid = !values.is_empty()
            && values.iter().all(|k| (0..=MAX_PERIOD).contains(k))
            && values.windows(2).all(|w| w[0] < w[1]);
        if !valid {
            self.push(
                Diagnostic::new(
                    Code::InvalidPeriods,
                    "`periods` must be a non-empty ascending list of distinct offsets",
                    periods.span.clone(),
                )
                .with_label(format!(
                    "expected whole numbers from 0 to {MAX_PERIOD}, ascending"
                )),
            );
            return None;
        }
        Some(values.iter().map(|k| *k as u32).collect())
    }

    pub(super) fn brackets(
        &mut self,
        brackets: &Option<Spanned<Vec<Vec<i64>>>>,
        mode_span: &Option<Range<usize>>,
        table: &str,
    ) -> Option<Vec<(u32, u32)>> {
        let Some(brackets) = brackets else {
            if self.was_dropped(table, "brackets") {
                return None;
            }
            let span = mode_span.clone().unwrap_or(0..0);
            self.push(
                Diagnostic::new(Code::MissingKey, "`mode = \"bracket\"` needs `brackets`", span)
                    .with_label("add `brackets = [[1, 7], [8, 30]]` or similar"),
            );
            return None;
        };
        let pairs: Option<Vec<(u32, u32)>> = brackets
            .value
            .iter()
            .map(|pair| match pair.as_slice() {
                [a, b] if (0..=MAX_PERIOD).contains(a) && (*a..=MAX_PERIOD).contains(b) => {
                    Some((*a as u32, *b as u32))
                }
                _ => None,
            })
            .collect();
        match pairs {
            Some(pairs) if !pairs.is_empty() && pairs.windows(2).all(|w| w[0] < w[1]) => Some(pairs),
            _ => {
                self.push(
                    Diagnostic::new(
                        Code::InvalidPeriods,
                        "`brackets` must be ascending `[a, b]` pairs with a ≤ b",
                        brackets.span.clone(),
                    )
                    .with_label(format!("expected pairs of whole numbers from 0 to {MAX_PERIOD}")),
                );
                None
            }
        }
    }

    pub(super) fn duration(&mut self, text: &Spanned<String>) -> Option<tenure_plan::Duration> {
        let parsed = crate::expr::parse::parse_duration(&text.value);
        if parsed.is_none() {
            self.push(
                Diagnostic::new(
                    Code::InvalidDuration,
                    format!("`{}` is not a duration", text.value),
                    text.span.clone(),
                )
                .with_label("expected a count up to 100000 and a unit: `48h`, `7d`, `2w` or `1mo`")
                .with_suggestion(short_duration(&text.value).as_deref()),
            );
        }
        parsed
    }

    /// A value event that must define `amount`.
    pub(super) fn amount_event(&mut self, name: &Spanned<String>, event_names: &[String]) -> Option<usize> {
        let index = self.reference(name, event_names, Code::UnknownEvent, "event")?;
        if self.events_with_amount.contains(&name.value) {
            return Some(index);
        }
        self.push(
            Diagnostic::new(
                Code::MissingAmount,
                format!("value event `{}` has no `amount`", name.value),
                name.span.clone(),
            )
            .with_label("revenue is summed from the event's amount")
            .with_help(format!(
                "add `amount = \"props.<column>\"` to [events.{}]",
                name.value
            )),
        );
        None
    }

    pub(super) fn revenue(
        &mut self,
        config: RevenueConfig,
        event_names: &[String],
        cohort_names: &[String],
        segment_names: &[String],
    ) -> Option<(plan::MetricKind, Option<String>)> {
        if let Some(cohort) = &config.cohort {
            let cohort = cohort.clone();
            return self
                .cohort_revenue(config, &cohort, event_names, cohort_names)
                .map(|(kind, description)| (plan::MetricKind::CohortRevenue(kind), description));
        }
        let mut by = Vec::new();
        for key in config.by.iter().flatten() {
            by.push(self.breakdown_key(key, segment_names, &["attr", "segment"], true)?);
        }
        let event = self.amount_event(&config.amount, event_names);
        let grain = grain_of(config.grain.as_ref());
        let reactivation_within = match &config.reactivation_within {
            Some(text) => Some(self.duration(text)?),
            None => None,
        };
        let (window, window_periods) = match &config.window {
            Some(text) => {
                let duration = self.duration(text)?;
                match periods_in(duration, grain) {
                    Some(periods) => (Some(duration), Some(periods)),
                    None => {
                        self.push(
                            Diagnostic::new(
                                Code::InvalidDuration,
                                format!("`{}` is not a whole number of {}s", text.value, grain.as_str()),
                                text.span.clone(),
                            )
                            .with_label(format!(
                                "the window must span whole {}s of the table",
                                grain.as_str()
                            )),
                        );
                        return None;
                    }
                }
            }
            None => (None, None),
        };
        let spread = match &config.spread {
            Some(text) => Some(self.row_number(text)?),
            None => None,
        };
        Some((
            plan::MetricKind::Revenue(plan::Revenue {
                event: event?,
                grain,
                reactivation_within,
                spread,
                window_periods,
                window,
                by,
            }),
            config.description,
        ))
    }

    /// A revenue metric with `cohort`: its periods are the cohort's, its rows the cohort's rows
    /// (docs/config.md, "Revenue retention by cohort").
    fn cohort_revenue(
        &mut self,
        config: RevenueConfig,
        cohort: &Spanned<String>,
        event_names: &[String],
        cohort_names: &[String],
    ) -> Option<(plan::CohortRevenue, Option<String>)> {
        let mut valid = true;
        let keys: [(&str, Option<Range<usize>>, &str); 3] = [
            (
                "by",
                config
                    .by
                    .as_ref()
                    .and_then(|by| by.first())
                    .map(|key| key.span.clone()),
                "the rows are the cohort's: break it down with the cohort's own `by`",
            ),
            (
                "window",
                config.window.as_ref().map(|w| w.span.clone()),
                "every column of a cohort table is already a window from the cohort's start",
            ),
            (
                "reactivation_within",
                config.reactivation_within.as_ref().map(|w| w.span.clone()),
                "a cohort table does not sort revenue into movements",
            ),
        ];
        for (key, span, why) in keys {
            if let Some(span) = span {
                self.push(
                    Diagnostic::new(
                        Code::ConflictingKeys,
                        format!("`{key}` does not go with `cohort`"),
                        span,
                    )
                    .with_label(why),
                );
                valid = false;
            }
        }
        let event = self.amount_event(&config.amount, event_names);
        let index = self.reference(cohort, cohort_names, Code::UnknownCohort, "cohort");
        let index = self.one_start(
            index,
            &cohort.span,
            "revenue by cohort follows each member's MRR from its one start",
        )?;
        // A cohort declared with a mistake of its own has been reported already.
        let grain = *self.cohort_grains.get(&cohort.value)?;
        if let Some(written) = &config.grain
            && grain_of(Some(written)) != grain
        {
            self.push(
                Diagnostic::new(
                    Code::ConflictingKeys,
                    format!(
                        "`grain` differs from cohort `{}`'s grain, `{}`",
                        cohort.value,
                        grain.as_str()
                    ),
                    written.span.clone(),
                )
                .with_label("with `cohort`, the periods are the cohort's: remove `grain`"),
            );
            valid = false;
        }
        let spread = match &config.spread {
            Some(text) => Some(self.row_number(text)?),
            None => None,
        };
        let event = event?;
        valid.then_some((
            plan::CohortRevenue {
                cohort: index,
                event,
                spread,
            },
            config.description,
        ))
    }

    pub(super) fn crr(
        &mut self,
        config: CrrConfig,
        event_names: &[String],
    ) -> Option<(plan::Crr, Option<String>)> {
        let active = self.reference(&config.active, event_names, Code::UnknownEvent, "event")?;
        Some((
            plan::Crr {
                active,
                grain: grain_of(config.grain.as_ref()),
            },
            config.description,
        ))
    }

    pub(super) fn lifecycle(
        &mut self,
        config: LifecycleConfig,
        event_names: &[String],
        segment_names: &[String],
    ) -> Option<(plan::Lifecycle, Option<String>)> {
        let mut by = Vec::new();
        for key in config.by.iter().flatten() {
            by.push(self.breakdown_key(key, segment_names, &["attr", "segment"], false)?);
        }
        let active = self.reference(&config.active, event_names, Code::UnknownEvent, "event")?;
        let grain = grain_of(config.grain.as_ref());
        Some((plan::Lifecycle { active, grain, by }, config.description))
    }

    /// The norm `name` names (a `[benchmarks.<name>]` table, or a built-in one), if the metric
    /// has a day column it judges.
    fn benchmark(
        &mut self,
        name: &Spanned<String>,
        mode: &plan::RetentionMode,
        unit: Option<UnitConfig>,
    ) -> Option<tenure_plan::norms::Norm> {
        let own = self
            .benchmarks
            .iter()
            .find(|norm| norm.name == name.value)
            .cloned();
        let Some(norm) = own.or_else(|| tenure_plan::norms::built_in(&name.value)) else {
            let names: Vec<String> = self
                .benchmarks
                .iter()
                .map(|norm| norm.name.clone())
                .chain(tenure_plan::norms::built_in_names().map(str::to_string))
                .collect();
            let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            let suggestion = closest(&name.value, names.iter().map(String::as_str));
            self.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    format!("`{}` is not a benchmark", name.value),
                    name.span.clone(),
                )
                .with_label(format!(
                    "expected one of {}, or a [benchmarks.{}] table",
                    quoted.join(", "),
                    name.value
                ))
                .with_suggestion(suggestion),
            );
            return None;
        };
        let periods = match mode {
            plan::RetentionMode::NDay(periods) | plan::RetentionMode::Unbounded(periods)
                if !matches!(unit, Some(UnitConfig::Week | UnitConfig::Month)) =>
            {
                periods.as_slice()
            }
            _ => &[],
        };
        if norm.judged_columns(periods).is_empty() {
            let days: Vec<String> = norm.bands.iter().map(|band| band.day.to_string()).collect();
            self.push(
                Diagnostic::new(
                    Code::ConflictingKeys,
                    format!("benchmark `{}` has nothing to judge in this table", norm.name),
                    name.span.clone(),
                )
                .with_label(format!(
                    "its bands are day-{} rates: `unit = \"day\"` with one of those days in `periods`",
                    days.join(", day-")
                )),
            );
            return None;
        }
        Some(norm)
    }

    pub(super) fn stickiness(
        &mut self,
        config: StickinessConfig,
        event_names: &[String],
    ) -> Option<(plan::Stickiness, Option<String>)> {
        let active = self.reference(&config.active, event_names, Code::UnknownEvent, "event");
        let grain = match &config.grain {
            None => Some(plan::Grain::Week),
            Some(grain) => match grain.value {
                GrainConfig::Week => Some(plan::Grain::Week),
                GrainConfig::Month => Some(plan::Grain::Month),
                GrainConfig::Day | GrainConfig::Quarter | GrainConfig::Year => {
                    self.push(
                        Diagnostic::new(
                            Code::InvalidValue,
                            "stickiness counts the active days of a week or a month",
                            grain.span.clone(),
                        )
                        .with_label("expected `week` or `month`"),
                    );
                    None
                }
            },
        };
        // The longest period has 31 days (a week 7); checked against that when the grain is wrong.
        let days_in_grain = if grain == Some(plan::Grain::Week) { 7 } else { 31 };
        let at_least = match &config.at_least {
            Some(n) if n.value == 0 || n.value > days_in_grain => {
                let period = grain.map_or("month", plan::Grain::as_str);
                self.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        format!("`at_least = {}` is not a number of days in a {period}", n.value),
                        n.span.clone(),
                    )
                    .with_label(format!("expected 1 to {days_in_grain}")),
                );
                return None;
            }
            other => other.as_ref().map(|n| n.value),
        };
        let grain = grain?;
        Some((
            plan::Stickiness {
                active: active?,
                grain,
                at_least,
            },
            config.description,
        ))
    }

    /// A number expression over one event row (`spread`, a survey's `score`).
    fn row_number(&mut self, text: &Spanned<String>) -> Option<plan::Expr> {
        let constants = self.constants.clone();
        let scope = Scope {
            context: Context::Row,
            constants: &constants,
            events: None,
            event_names: &[],
            segments: &[],
            formula: None,
        };
        self.expression(text, &scope, Type::Number)
    }

    pub(super) fn survey(
        &mut self,
        config: SurveyConfig,
        event_names: &[String],
        cohort_names: &[String],
        segment_names: &[String],
    ) -> Option<(plan::Survey, Option<String>)> {
        let mut by = Vec::new();
        for key in config.by.iter().flatten() {
            by.push(self.breakdown_key(key, segment_names, &["attr", "segment"], false)?);
        }
        let cohort = config.cohort.as_ref().map(|name| {
            let index = self.reference(name, cohort_names, Code::UnknownCohort, "cohort");
            self.one_start(
                index,
                &name.span,
                "a survey per cohort puts each member in its one cohort row",
            )
        });
        let revenue_bands = self.revenue_bands(
            config.revenue.as_ref(),
            config.revenue_bands.as_ref(),
            event_names,
        );
        let response = self.reference(&config.response, event_names, Code::UnknownEvent, "event");
        let asked = config
            .asked
            .as_ref()
            .map(|name| self.reference(name, event_names, Code::UnknownEvent, "event"));
        let scale = match (config.scale.value, &config.max) {
            (ScaleConfig::Csat, Some(max)) if max.value < 5 => {
                self.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        format!(
                            "a CSAT scale of 1–{} has no room between its top and bottom two answers",
                            max.value
                        ),
                        max.span.clone(),
                    )
                    .with_label("expected 5 or more"),
                );
                return None;
            }
            (ScaleConfig::Csat, max) => plan::SurveyScale::Csat {
                max: max.as_ref().map_or(5, |max| max.value),
            },
            (_, Some(max)) => {
                self.push(
                    Diagnostic::new(
                        Code::ConflictingKeys,
                        "`max` sets the top of a CSAT scale",
                        max.span.clone(),
                    )
                    .with_label("NPS is 0–10 and CES 1–7: remove `max`"),
                );
                return None;
            }
            (ScaleConfig::Nps, None) => plan::SurveyScale::Nps,
            (ScaleConfig::Ces, None) => plan::SurveyScale::Ces,
        };
        let score = self.row_number(&config.score);
        let follow_up = match (&config.follow_up, &config.follow_up_within) {
            (Some(event), Some(within)) => {
                let event = self.reference(event, event_names, Code::UnknownEvent, "event");
                let hours = self.elapsed_hours(within);
                Some(event.zip(hours))
            }
            (Some(event), None) => {
                self.push(
                    Diagnostic::new(
                        Code::MissingKey,
                        "`follow_up` needs `follow_up_within`, the time a follow-up must come within",
                        event.span.clone(),
                    )
                    .with_label("add `follow_up_within = \"48h\"` or similar"),
                );
                return None;
            }
            (None, Some(within)) => {
                self.push(
                    Diagnostic::new(
                        Code::ConflictingKeys,
                        "`follow_up_within` belongs to `follow_up`",
                        within.span.clone(),
                    )
                    .with_label("add `follow_up = \"<value event>\"`, or remove this key"),
                );
                return None;
            }
            (None, None) => None,
        };
        let waves = config.waves.as_ref().is_some_and(|waves| waves.value);
        if let (Some(waves), None) = (&config.waves, &config.grain)
            && waves.value
        {
            self.push(
                Diagnostic::new(
                    Code::MissingKey,
                    "`waves` compares each period with the one before: it needs `grain`",
                    waves.span.clone(),
                )
                .with_label("add `grain = \"quarter\"` or similar"),
            );
            return None;
        }
        Some((
            plan::Survey {
                waves,
                follow_up: follow_up.map_or(Some(None), |f| f.map(Some))?,
                scale,
                response: response?,
                score: score?,
                asked: asked.map_or(Some(None), |asked| asked.map(Some))?,
                grain: config.grain.as_ref().map(|grain| grain_of(Some(grain))),
                by,
                cohort: cohort.map_or(Some(None), |cohort| cohort.map(Some))?,
                revenue_bands: revenue_bands?,
            },
            config.description,
        ))
    }

    /// A survey's `revenue` and `revenue_bands`, given together: the amount event and the
    /// bands' lower bounds (1 to 10 of them, above 0, ascending); `Some(None)` without them.
    fn revenue_bands(
        &mut self,
        revenue: Option<&Spanned<String>>,
        bands: Option<&Spanned<Vec<f64>>>,
        event_names: &[String],
    ) -> Option<Option<(usize, Vec<f64>)>> {
        match (revenue, bands) {
            (None, None) => Some(None),
            (Some(revenue), None) => {
                self.push(
                    Diagnostic::new(
                        Code::MissingKey,
                        "`revenue` needs `revenue_bands`, the bands to break the answers down by",
                        revenue.span.clone(),
                    )
                    .with_label("add `revenue_bands = [100, 1000]` or similar"),
                );
                None
            }
            (None, Some(bands)) => {
                self.push(
                    Diagnostic::new(
                        Code::MissingKey,
                        "`revenue_bands` needs `revenue`, the amount event the bands are of",
                        bands.span.clone(),
                    )
                    .with_label("add `revenue = \"<amount event>\"`"),
                );
                None
            }
            (Some(revenue), Some(bands)) => {
                let event = self.amount_event(revenue, event_names);
                let ascending = bands.value.windows(2).all(|pair| pair[0] < pair[1]);
                let valid = (1..=10).contains(&bands.value.len())
                    && ascending
                    && bands.value.iter().all(|b| b.is_finite() && *b > 0.0);
                if !valid {
                    self.push(
                        Diagnostic::new(
                            Code::InvalidValue,
                            "revenue bands must be 1 to 10 amounts above 0, ascending",
                            bands.span.clone(),
                        )
                        .with_label("expected e.g. `[100, 1000]`"),
                    );
                    return None;
                }
                Some(Some((event?, bands.value.clone())))
            }
        }
    }

    pub(super) fn uplift(
        &mut self,
        config: UpliftConfig,
        event_names: &[String],
        metrics: &[plan::Metric],
        types: &BTreeMap<String, String>,
    ) -> Option<(plan::Uplift, Option<String>)> {
        let retention = self
            .retention_metric(&config.retention, metrics, types)
            .filter(|retention| {
                self.one_start(
                    Some(retention.cohort),
                    &config.retention.span,
                    "an uplift puts each member in one group from its one start",
                )
                .is_some()
            });
        let cell = retention.and_then(|retention| self.uplift_cell(&config.period, retention));
        let groups = match (&config.group, &config.assignment, &config.variant) {
            (Some(group), None, None) => self
                .group_field(group, "attr", "an entity attribute")
                .map(plan::UpliftGroups::Attribute),
            (None, Some(event), Some(variant)) => {
                let event = self.reference(event, event_names, Code::UnknownEvent, "event");
                let variant = self.group_field(variant, "props", "a property of the assignment row");
                event
                    .zip(variant)
                    .map(|(event, variant)| plan::UpliftGroups::Assignment { event, variant })
            }
            (None, Some(event), None) => {
                self.push(
                    Diagnostic::new(
                        Code::MissingKey,
                        "`assignment` needs `variant`, the property that names the group",
                        event.span.clone(),
                    )
                    .with_label("add `variant = \"props.<column>\"`"),
                );
                None
            }
            (Some(group), Some(_), _) => {
                self.push(
                    Diagnostic::new(
                        Code::ConflictingKeys,
                        "an entity's group comes from `group` or from `assignment`, not both",
                        group.span.clone(),
                    )
                    .with_label("remove `group` or `assignment`"),
                );
                None
            }
            (Some(_), None, Some(variant)) | (None, None, Some(variant)) => {
                self.push(
                    Diagnostic::new(
                        Code::ConflictingKeys,
                        "`variant` belongs to `assignment`",
                        variant.span.clone(),
                    )
                    .with_label("add `assignment = \"<value event>\"`, or remove `variant`"),
                );
                None
            }
            (None, None, None) => {
                self.push(
                    Diagnostic::new(
                        Code::MissingKey,
                        "an uplift needs each entity's group",
                        config.treatment.span.clone(),
                    )
                    .with_label(
                        "add `group = \"attr.<column>\"`, or `assignment = \"<event>\"` with `variant = \"props.<column>\"`",
                    ),
                );
                None
            }
        };
        if config.treatment.value == config.control.value {
            self.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    format!("`{}` is both the treatment and the control", config.control.value),
                    config.control.span.clone(),
                )
                .with_label("expected two different group values"),
            );
            return None;
        }
        Some((
            plan::Uplift {
                retention: config.retention.value.clone(),
                cell: cell?,
                groups: groups?,
                treatment: config.treatment.value,
                control: config.control.value,
            },
            config.description,
        ))
    }

    /// An uplift's `group` (`root` = `attr`) or `variant` (`props`): a column under `root`.
    fn group_field(&mut self, key: &Spanned<String>, root: &str, what: &str) -> Option<Field> {
        if key.value.split('.').next() == Some(root) {
            return self.breakdown_key(key, &[], &[root], false);
        }
        let help = match root {
            "attr" => format!(
                "a group an event names: `assignment = \"<event>\"` with `variant = \"{}\"`",
                key.value
            ),
            _ => "a group an entity attribute names: `group = \"attr.<column>\"`, without `assignment`"
                .to_string(),
        };
        self.push(
            Diagnostic::new(
                Code::InvalidValue,
                format!("`{}` is not {what}", key.value),
                key.span.clone(),
            )
            .with_label(format!("expected `{root}.<column>`"))
            .with_help(help),
        );
        None
    }

    /// A reference to a metric of type `retention`, with its plan (`None` when that metric
    /// was declared with a mistake of its own, reported already).
    fn retention_metric<'m>(
        &mut self,
        name: &Spanned<String>,
        metrics: &'m [plan::Metric],
        types: &BTreeMap<String, String>,
    ) -> Option<&'m plan::Retention> {
        if !self.typed_metric(name, types, "retention") {
            return None;
        }
        metrics.iter().find_map(|metric| match &metric.kind {
            plan::MetricKind::Retention(retention) if metric.name == name.value => Some(retention),
            _ => None,
        })
    }

    /// The column of `retention` an uplift's `period` names.
    fn uplift_cell(&mut self, period: &Spanned<i64>, retention: &plan::Retention) -> Option<usize> {
        let firsts: Vec<i64> = match &retention.mode {
            plan::RetentionMode::NDay(periods) | plan::RetentionMode::Unbounded(periods) => {
                periods.iter().map(|k| i64::from(*k)).collect()
            }
            plan::RetentionMode::Bracket(brackets) => brackets.iter().map(|(a, _)| i64::from(*a)).collect(),
        };
        if let Some(cell) = firsts.iter().position(|k| *k == period.value) {
            return Some(cell);
        }
        let listed: Vec<String> = firsts.iter().map(i64::to_string).collect();
        self.push(
            Diagnostic::new(
                Code::InvalidPeriods,
                format!("the retention metric has no column at period {}", period.value),
                period.span.clone(),
            )
            .with_label(format!("expected one of: {}", listed.join(", "))),
        );
        None
    }

    pub(super) fn health(
        &mut self,
        config: HealthConfig,
        event_names: &[String],
        segment_names: &[String],
    ) -> Option<(plan::Health, Option<String>)> {
        let by = self.breakdown_keys(config.by.as_deref(), segment_names);
        let active = self.reference(&config.active, event_names, Code::UnknownEvent, "event");
        let days = |validator: &mut Self, text: &Option<Spanned<String>>, default: u32| match text {
            Some(text) => validator.whole_days(text),
            None => Some(default),
        };
        let population = days(self, &config.population, 90);
        let window = days(self, &config.window, 30);
        let backtest = config.backtest.as_ref().map(|text| self.whole_days(text));
        let history = self.health_history(config.history.as_ref(), config.history_periods.as_ref());
        let revenue = config
            .revenue
            .as_ref()
            .map(|name| self.amount_event(name, event_names));
        let bands = self.health_bands(config.bands.as_ref());
        // The at-risk band is looked up among the names written, even when the bands are wrong.
        let names: Vec<String> = match &config.bands {
            Some(bands) => bands.value.iter().map(|band| band.name.value.clone()).collect(),
            None => ["green", "yellow", "red"].map(String::from).to_vec(),
        };
        let at_risk = match &config.at_risk {
            Some(name) => {
                let found = names.iter().position(|known| *known == name.value);
                if found.is_none() {
                    let suggestion = closest(&name.value, names.iter().map(String::as_str));
                    self.push(
                        Diagnostic::new(
                            Code::UnknownName,
                            format!("unknown band `{}`", name.value),
                            name.span.clone(),
                        )
                        .with_label(format!("expected one of the bands: {}", names.join(", ")))
                        .with_suggestion(suggestion),
                    );
                }
                found
            }
            None => names.len().checked_sub(1),
        };
        let mut components = Vec::new();
        let mut failed = false;
        if config.components.value.is_empty() {
            self.push(
                Diagnostic::new(
                    Code::MissingKey,
                    "a health score needs at least one component",
                    config.components.span.clone(),
                )
                .with_label(
                    "add `[metrics.<name>.components.<component>]` with `signal`, `weight` and `scale`",
                ),
            );
            failed = true;
        }
        for (name, component) in config.components.value {
            match self.health_component(name, component, event_names) {
                Some(component) => components.push(component),
                None => failed = true,
            }
        }
        if failed {
            return None;
        }
        Some((
            plan::Health {
                active: active?,
                population_days: population?,
                window_days: window?,
                bands: bands?,
                at_risk: at_risk?,
                revenue: revenue.map_or(Some(None), |event| event.map(Some))?,
                backtest_days: backtest.map_or(Some(None), |days| days.map(Some))?,
                history: history?,
                by: by?,
                components,
            },
            config.description,
        ))
    }

    /// A health score's `history`: its grain and number of periods (6 unless `history_periods`
    /// says otherwise, 1 to 120); `Some(None)` without it, `None` after a mistake.
    fn health_history(
        &mut self,
        grain: Option<&Spanned<GrainConfig>>,
        periods: Option<&Spanned<i64>>,
    ) -> Option<Option<(plan::Grain, u32)>> {
        match (grain, periods) {
            (None, None) => Some(None),
            (None, Some(periods)) => {
                self.push(
                    Diagnostic::new(
                        Code::ConflictingKeys,
                        "`history_periods` belongs to `history`",
                        periods.span.clone(),
                    )
                    .with_label("add `history = \"month\"` or similar, or remove this key"),
                );
                None
            }
            (Some(grain), periods) => {
                let count = periods.map_or(6, |p| p.value);
                if !(1..=120).contains(&count) {
                    self.push(
                        Diagnostic::new(
                            Code::InvalidValue,
                            format!("{count} periods of history"),
                            periods.map_or(grain.span.clone(), |p| p.span.clone()),
                        )
                        .with_label("expected 1 to 120"),
                    );
                    return None;
                }
                Some(Some((grain_of(Some(grain)), count as u32)))
            }
        }
    }

    /// A health score's bands, best first, or the default green, yellow and red.
    fn health_bands(
        &mut self,
        bands: Option<&Spanned<Vec<HealthBandConfig>>>,
    ) -> Option<Vec<plan::HealthBand>> {
        let Some(bands) = bands else {
            let band = |name: &str, min: f64| plan::HealthBand {
                name: name.to_string(),
                min,
            };
            return Some(vec![band("green", 70.0), band("yellow", 40.0), band("red", 0.0)]);
        };
        let mut ok = !bands.value.is_empty();
        for (index, band) in bands.value.iter().enumerate() {
            let repeated = bands.value[..index]
                .iter()
                .any(|b| b.name.value == band.name.value);
            let out_of_order = index > 0 && band.min.value >= bands.value[index - 1].min.value;
            let (message, label) = if repeated {
                (
                    format!("band `{}` is named twice", band.name.value),
                    "expected a name of its own".to_string(),
                )
            } else if !(0.0..=100.0).contains(&band.min.value) {
                (
                    format!("a band from {} is off the 0–100 scale", band.min.value),
                    "expected 0 to 100".to_string(),
                )
            } else if out_of_order {
                (
                    format!(
                        "band `{}` does not start below the band before it",
                        band.name.value
                    ),
                    format!(
                        "expected less than {}: bands go from the best down",
                        bands.value[index - 1].min.value
                    ),
                )
            } else {
                continue;
            };
            let span = if repeated { &band.name.span } else { &band.min.span };
            self.push(Diagnostic::new(Code::InvalidValue, message, span.clone()).with_label(label));
            ok = false;
        }
        if ok && bands.value.last().is_some_and(|band| band.min.value != 0.0) {
            let last = bands.value.last().map_or(0..0, |band| band.min.span.clone());
            self.push(
                Diagnostic::new(Code::InvalidValue, "the last band must start at 0", last)
                    .with_label("expected `min = 0`, so that every score has a band"),
            );
            ok = false;
        } else if bands.value.is_empty() {
            self.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    "a health score needs at least one band",
                    bands.span.clone(),
                )
                .with_label("expected `[{ name = \"ok\", min = 0 }]` or more"),
            );
        }
        ok.then(|| {
            bands
                .value
                .iter()
                .map(|band| plan::HealthBand {
                    name: band.name.value.clone(),
                    min: band.min.value,
                })
                .collect()
        })
    }

    /// One component of a health score.
    fn health_component(
        &mut self,
        name: String,
        config: HealthComponentConfig,
        event_names: &[String],
    ) -> Option<plan::HealthComponent> {
        let signal_span = config.signal.span.clone();
        let needs = |validator: &mut Self, key: &str, hint: &str| {
            validator.push(
                Diagnostic::new(
                    Code::MissingKey,
                    format!("component `{name}` needs `{key}`"),
                    signal_span.clone(),
                )
                .with_label(hint.to_string()),
            );
        };
        let signal = match (config.signal.value, &config.event, &config.value) {
            (SignalConfig::Attribute, None, Some(value)) => self
                .group_field(value, "attr", "an entity attribute")
                .map(plan::Signal::Attribute),
            (SignalConfig::Attribute, None, None) => {
                needs(self, "value", "add `value = \"attr.<column>\"`");
                None
            }
            (SignalConfig::Attribute, Some(event), _) => {
                self.push(
                    Diagnostic::new(
                        Code::ConflictingKeys,
                        "an `attribute` signal reads the entity, not an event",
                        event.span.clone(),
                    )
                    .with_label("remove `event`"),
                );
                None
            }
            (_, None, _) => {
                needs(self, "event", "add `event = \"<value event>\"`");
                None
            }
            (SignalConfig::Latest, Some(event), Some(value)) => {
                let event = self.reference(event, event_names, Code::UnknownEvent, "event");
                let value = self.row_number(value);
                event
                    .zip(value)
                    .map(|(event, value)| plan::Signal::Latest { event, value })
            }
            (SignalConfig::Latest, Some(_), None) => {
                needs(
                    self,
                    "value",
                    "add `value = \"props.<column>\"`, the number each row gives",
                );
                None
            }
            (signal, Some(event), value) => {
                if let Some(value) = value {
                    self.push(
                        Diagnostic::new(
                            Code::ConflictingKeys,
                            "`value` belongs to the `latest` and `attribute` signals",
                            value.span.clone(),
                        )
                        .with_label("remove `value`"),
                    );
                    return None;
                }
                match signal {
                    SignalConfig::Amount | SignalConfig::Trend => self.amount_event(event, event_names),
                    _ => self.reference(event, event_names, Code::UnknownEvent, "event"),
                }
                .map(|event| match signal {
                    SignalConfig::Count => plan::Signal::Count(event),
                    SignalConfig::Recency => plan::Signal::Recency(event),
                    SignalConfig::FrequencyBreak => plan::Signal::FrequencyBreak(event),
                    SignalConfig::Amount => plan::Signal::Amount(event),
                    _ => plan::Signal::Trend(event),
                })
            }
        };
        let weight = config.weight.value;
        if !(weight.is_finite() && weight > 0.0) {
            self.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    format!("component `{name}` has weight {weight}"),
                    config.weight.span.clone(),
                )
                .with_label("expected a number above 0; weights are divided by their sum"),
            );
            return None;
        }
        let scoring = match (&config.scale, &config.percentile) {
            (Some(scale), None) => {
                match scale.value.as_slice() {
                    [worst, best] if worst != best && worst.is_finite() && best.is_finite() => {
                        Some(plan::Scoring::Scale {
                            worst: *worst,
                            best: *best,
                        })
                    }
                    _ => {
                        self.push(
                        Diagnostic::new(
                            Code::InvalidValue,
                            format!("component `{name}` has no scale to score on"),
                            scale.span.clone(),
                        )
                        .with_label("expected `[worst, best]`: two different numbers, the values scored 0 and 100"),
                    );
                        None
                    }
                }
            }
            (None, Some(better)) => Some(plan::Scoring::Percentile {
                higher_is_better: matches!(better.value, BetterConfig::Higher),
            }),
            (Some(scale), Some(_)) => {
                self.push(
                    Diagnostic::new(
                        Code::ConflictingKeys,
                        format!("component `{name}` is scored by `scale` or by `percentile`, not both"),
                        scale.span.clone(),
                    )
                    .with_label("remove `scale` or `percentile`"),
                );
                None
            }
            (None, None) => {
                needs(
                    self,
                    "scale",
                    "add `scale = [worst, best]`, or `percentile = \"higher\"` to score by rank",
                );
                None
            }
        };
        Some(plan::HealthComponent {
            name,
            signal: signal?,
            weight,
            scoring: scoring?,
        })
    }

    pub(super) fn winback(
        &mut self,
        config: WinbackConfig,
        event_names: &[String],
        segment_names: &[String],
    ) -> Option<(plan::Winback, Option<String>)> {
        let by = self.breakdown_keys(config.by.as_deref(), segment_names);
        let active = self.reference(&config.active, event_names, Code::UnknownEvent, "event");
        let dormant = self.whole_days(&config.dormant);
        let within = self.whole_days(&config.within);
        Some((
            plan::Winback {
                active: active?,
                dormant_days: dormant?,
                within_days: within?,
                grain: grain_of(config.grain.as_ref()),
                by: by?,
            },
            config.description,
        ))
    }

    /// Breakdown keys by entity (`attr.*`, `segment.*`), each checked; `None` when one is wrong.
    fn breakdown_keys(
        &mut self,
        keys: Option<&[Spanned<String>]>,
        segment_names: &[String],
    ) -> Option<Vec<Field>> {
        let fields: Vec<Option<Field>> = keys
            .unwrap_or_default()
            .iter()
            .map(|key| self.breakdown_key(key, segment_names, &["attr", "segment"], false))
            .collect();
        fields.into_iter().collect()
    }

    /// A duration in hours, days or weeks as elapsed hours (a day is 24 hours).
    fn elapsed_hours(&mut self, text: &Spanned<String>) -> Option<u32> {
        let duration = self.duration(text)?;
        let hours = match duration.unit {
            tenure_plan::DurationUnit::Hour => Some(duration.count),
            tenure_plan::DurationUnit::Day => Some(duration.count * 24),
            tenure_plan::DurationUnit::Week => Some(duration.count * 168),
            tenure_plan::DurationUnit::Month => None,
        };
        if hours.is_none() {
            self.push(
                Diagnostic::new(
                    Code::InvalidDuration,
                    format!("`{}` is not a fixed length of time", text.value),
                    text.span.clone(),
                )
                .with_label("expected hours, days or weeks: `48h`, `2d`, `1w`"),
            );
        }
        hours
    }

    /// A duration in days or weeks, as a number of days.
    fn whole_days(&mut self, text: &Spanned<String>) -> Option<u32> {
        let duration = self.duration(text)?;
        match duration.unit {
            _ if duration.count == 0 => {
                self.push(
                    Diagnostic::new(
                        Code::InvalidDuration,
                        format!("`{}` is no time at all", text.value),
                        text.span.clone(),
                    )
                    .with_label("expected at least one day"),
                );
                None
            }
            tenure_plan::DurationUnit::Day => Some(duration.count),
            tenure_plan::DurationUnit::Week => Some(duration.count * 7),
            _ => {
                self.push(
                    Diagnostic::new(
                        Code::InvalidDuration,
                        format!("`{}` is not a number of days", text.value),
                        text.span.clone(),
                    )
                    .with_label("expected days or weeks: `30d`, `8w`"),
                );
                None
            }
        }
    }

    pub(super) fn activation(
        &mut self,
        config: ActivationConfig,
        event_names: &[String],
        cohort_names: &[String],
    ) -> Option<(plan::Activation, Option<String>)> {
        let cohort = self.reference(&config.cohort, cohort_names, Code::UnknownCohort, "cohort");
        let cohort = self.one_start(
            cohort,
            &config.cohort.span,
            "activation follows each member from its one start",
        );
        let reached = self.reference(&config.reached, event_names, Code::UnknownEvent, "event");
        let within = self.duration(&config.within);
        Some((
            plan::Activation {
                cohort: cohort?,
                reached: reached?,
                within: within?,
            },
            config.description,
        ))
    }
}

impl Validator<'_> {
    /// A funnel: its cohort, at least one step, and the window (docs/config.md,
    /// `type = "funnel"`).
    fn funnel(
        &mut self,
        config: FunnelConfig,
        event_names: &[String],
        cohort_names: &[String],
    ) -> Option<(plan::Funnel, Option<String>)> {
        let cohort = self.reference(&config.cohort, cohort_names, Code::UnknownCohort, "cohort");
        let cohort = self.one_start(
            cohort,
            &config.cohort.span,
            "a funnel follows each member from its one start",
        );
        let mut steps = Some(Vec::new());
        for step in &config.steps.value {
            match (
                self.reference(step, event_names, Code::UnknownEvent, "event"),
                &mut steps,
            ) {
                (Some(event), Some(steps)) => steps.push(event),
                _ => steps = None,
            }
        }
        if config.steps.value.is_empty() {
            self.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    "a funnel needs at least one step",
                    config.steps.span.clone(),
                )
                .with_label("list the value events after the cohort's start, in order"),
            );
            steps = None;
        }
        let within = self.duration(&config.within);
        Some((
            plan::Funnel {
                cohort: cohort?,
                steps: steps?,
                within: within?,
            },
            config.description,
        ))
    }
}

/// The short form of a duration written out in words: `14 days` → `14d`, `3 months` → `3mo`.
fn short_duration(text: &str) -> Option<String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (count, unit) = text.split_at(split);
    let unit = unit.trim().to_ascii_lowercase();
    let letter = match unit.trim_end_matches('s') {
        "h" | "hr" | "hour" => "h",
        "d" | "day" => "d",
        "w" | "wk" | "week" => "w",
        "m" | "mon" | "month" => "mo",
        _ => return None,
    };
    let short = format!("{count}{letter}");
    (!count.is_empty() && crate::expr::parse::parse_duration(&short).is_some()).then_some(short)
}
