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
                    .and_then(|config| self.revenue(config, event_names, segment_names))
                    .map(|(kind, description)| (plan::MetricKind::Revenue(kind), description)),
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
                    .and_then(|config| self.survey(config, event_names, segment_names))
                    .map(|(kind, description)| (plan::MetricKind::Survey(kind), description)),
                "activation" => self
                    .decode::<ActivationConfig>(&entry, &table)
                    .and_then(|config| self.activation(config, event_names, cohort_names))
                    .map(|(kind, description)| (plan::MetricKind::Activation(kind), description)),
                _ => {
                    let grouped = matches!(entry.value.get_ref(), DeValue::Table(t)
                        if t.iter().any(|(k, _)| k.get_ref() == "grain" || k.get_ref() == "cohort"));
                    let exposed = if kind == "formula" && grouped {
                        "last"
                    } else {
                        "value"
                    };
                    scalars.insert(entry.name.clone(), vec![exposed.to_string()]);
                    derived.push((entry, table, kind));
                    continue;
                }
            };
            match metric {
                Some((kind, description)) => {
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
        match types.get(&name.value).map(String::as_str) {
            Some("revenue") => Some(name.value.clone()),
            // Declared with a bad or missing type: reported already.
            None if self.failed_metrics.contains(&name.value) => None,
            Some(other) => {
                self.push(
                    Diagnostic::new(
                        Code::UnknownMetric,
                        format!("metric `{}` is a {other} metric", name.value),
                        name.span.clone(),
                    )
                    .with_label("expected a metric with type = \"revenue\""),
                );
                None
            }
            None => {
                let revenue: Vec<&str> = types
                    .iter()
                    .filter(|(_, t)| *t == "revenue")
                    .map(|(n, _)| n.as_str())
                    .collect();
                let suggestion = closest(&name.value, revenue.iter().copied());
                self.push(
                    Diagnostic::new(
                        Code::UnknownMetric,
                        format!("unknown metric `{}`", name.value),
                        name.span.clone(),
                    )
                    .with_label("no revenue metric has this name")
                    .with_suggestion(suggestion),
                );
                None
            }
        }
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
            Some(name) => Some(self.reference(name, cohort_names, Code::UnknownCohort, "cohort")?),
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

    pub(super) fn retention(
        &mut self,
        config: RetentionConfig,
        event_names: &[String],
        cohort_names: &[String],
        table: &str,
        header: &Range<usize>,
    ) -> Option<(plan::Retention, Option<String>)> {
        let cohort = self.reference(&config.cohort, cohort_names, Code::UnknownCohort, "cohort");
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
        segment_names: &[String],
    ) -> Option<(plan::Revenue, Option<String>)> {
        let mut by = Vec::new();
        for key in config.by.iter().flatten() {
            by.push(self.breakdown_key(key, segment_names, &["attr", "segment"])?);
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
            Some(text) => {
                if !matches!(
                    grain,
                    plan::Grain::Month | plan::Grain::Quarter | plan::Grain::Year
                ) {
                    self.push(
                        Diagnostic::new(
                            Code::ConflictingKeys,
                            "`spread` needs `grain = \"month\"` or `\"quarter\"`",
                            text.span.clone(),
                        )
                        .with_label("payments are spread over calendar months"),
                    );
                    return None;
                }
                Some(self.row_number(text)?)
            }
            None => None,
        };
        Some((
            plan::Revenue {
                event: event?,
                grain,
                reactivation_within,
                spread,
                window_periods,
                window,
                by,
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
            by.push(self.breakdown_key(key, segment_names, &["attr", "segment"])?);
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
        segment_names: &[String],
    ) -> Option<(plan::Survey, Option<String>)> {
        let mut by = Vec::new();
        for key in config.by.iter().flatten() {
            by.push(self.breakdown_key(key, segment_names, &["attr", "segment"])?);
        }
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
        Some((
            plan::Survey {
                scale,
                response: response?,
                score: score?,
                asked: asked.map_or(Some(None), |asked| asked.map(Some))?,
                grain: config.grain.as_ref().map(|grain| grain_of(Some(grain))),
                by,
            },
            config.description,
        ))
    }

    pub(super) fn activation(
        &mut self,
        config: ActivationConfig,
        event_names: &[String],
        cohort_names: &[String],
    ) -> Option<(plan::Activation, Option<String>)> {
        let cohort = self.reference(&config.cohort, cohort_names, Code::UnknownCohort, "cohort");
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
