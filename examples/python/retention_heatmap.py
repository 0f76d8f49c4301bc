"""Runs the example project on polars DataFrames and draws its value retention as a heatmap.

    python examples/python/retention_heatmap.py [metrics.toml] [vrr.png]

The events and accounts are read into polars DataFrames (in a pipeline they would come from
anywhere) and handed to tenure in memory, through Arrow; the figures come back as a polars
DataFrame in the tidy form (one row per figure), and a pivot gives the cohort × period grid
that matplotlib draws.
"""
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # draw to a file, no window
import matplotlib.pyplot as plt
import polars as pl

import tenure

config = sys.argv[1] if len(sys.argv) > 1 else "metrics.toml"
out = sys.argv[2] if len(sys.argv) > 2 else "vrr.png"

project = tenure.Project(config)
folder = Path(config).resolve().parent
events = pl.read_csv(folder / "examples/saas/events.csv", try_parse_dates=True)
accounts = pl.read_csv(folder / "examples/saas/accounts.csv", try_parse_dates=True)
report = project.run(["vrr"], events=events, entities=accounts)
figures = report["vrr"].to_polars()

# The retained share per cohort (rows) and day (columns); null where nothing is observable yet.
rates = (
    figures.filter(pl.col("measure") == "rate")
    .with_columns(pl.col("period").cast(pl.Int64))
    .pivot(on="period", index="cohort", values="value")
    .sort("cohort")
)
periods = [c for c in rates.columns if c != "cohort"]
grid = rates.select(periods).to_numpy()

fig, ax = plt.subplots(figsize=(1.2 + 0.8 * len(periods), 0.3 * rates.height + 1.5))
image = ax.imshow(grid, cmap="cividis", vmin=0, vmax=1, aspect="auto")
ax.set_xticks(range(len(periods)), [f"d{p}" for p in periods])
ax.set_yticks(range(rates.height), rates["cohort"].to_list())
ax.set_title(f"{project.name}: value retention by weekly cohort\nas of {report.as_of} (last row: every cohort)", fontsize=10)
fig.colorbar(image, ax=ax, label="share retained")
fig.tight_layout()
fig.savefig(out, dpi=100)
print(f"{out}: {rates.height} rows (the cohorts, then the total) × {len(periods)} days")
