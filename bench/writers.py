#!/usr/bin/env python3
"""Rewrites the Parquet file `tenure gen` wrote as another common writer writes the same rows.

usage: writers.py WRITER SOURCE.parquet TARGET

| writer | what it writes |
| --- | --- |
| pyarrow | `pyarrow.parquet.write_table` with its defaults; timestamps in ms with zone UTC |
| pyarrow-plain | the same with `use_dictionary=False`; timestamps in ns without a zone |
| duckdb | DuckDB's `COPY … TO` with its defaults; timestamps in µs with zone UTC |
| polars | Polars' `write_parquet` with its defaults; timestamps in ms without a zone |
| spark | Spark (local mode, 2 cores) writing a folder of 8 parts with its defaults |

The instants are the same in every file; a timestamp without a zone holds the UTC wall time.
"""
import sys

writer, source, target = sys.argv[1:4]
if writer in ("pyarrow", "pyarrow-plain"):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(source)
    unit = pa.timestamp("ms", tz="UTC") if writer == "pyarrow" else pa.timestamp("ns")
    table = table.set_column(table.schema.get_field_index("ts"), "ts", table["ts"].cast(unit))
    pq.write_table(table, target, use_dictionary=writer == "pyarrow")
elif writer == "duckdb":
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"COPY (SELECT * FROM read_parquet('{source}')) TO '{target}' (FORMAT parquet)")
elif writer == "polars":
    import polars as pl

    frame = pl.read_parquet(source)
    frame = frame.with_columns(pl.col("ts").dt.replace_time_zone(None).dt.cast_time_unit("ms"))
    frame.write_parquet(target)
elif writer == "spark":
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").appName("tenure-bench")
             .config("spark.driver.memory", "4g").config("spark.sql.session.timeZone", "UTC").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    spark.read.parquet(source).repartition(8).write.mode("overwrite").parquet(target)
    spark.stop()
else:
    sys.exit(f"unknown writer `{writer}`")
