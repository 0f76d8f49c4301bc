#!/usr/bin/env python3
"""Writes EVENTS.csv as a folder of Parquet parts the way Spark writes a table (part files, a
`_SUCCESS` marker, checksum files), with `ts` a timestamp and `amount` a double. Dictionaries
are limited to 8 KiB per column chunk and pages to 2 KiB, so that the account ids fall back to
plain pages after the first few hundred, as they do in a large table; the script checks that
they did, in parquet-mr's encodings.

usage: spark_parts.py EVENTS.csv FOLDER
"""
import sys

from pyspark.sql import SparkSession

events_csv, folder = sys.argv[1:3]
spark = SparkSession.builder.master("local[2]").appName("tenure-parts").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
rows = spark.read.csv(events_csv, header=True, escape='"')
rows = rows.withColumn("ts", rows.ts.cast("timestamp")).withColumn("amount", rows.amount.cast("double"))
rows.repartition(4).write.mode("overwrite").option("parquet.dictionary.page.size", 8192).option("parquet.page.size", 2048).parquet(folder)
spark.stop()

import duckdb

encodings = duckdb.connect().execute(
    f"SELECT encodings FROM parquet_metadata('{folder}/part-*.parquet') "
    "WHERE path_in_schema = 'account_id' LIMIT 1").fetchone()[0]
# parquet-mr names BIT_PACKED for the levels no page of a column without repetition stores.
if not all(name in encodings for name in ("PLAIN_DICTIONARY", "PLAIN", "BIT_PACKED")):
    sys.exit(f"the account ids of Spark's parts are not in the expected encodings: {encodings}")
