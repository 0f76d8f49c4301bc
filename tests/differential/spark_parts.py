#!/usr/bin/env python3
"""Writes EVENTS.csv as a folder of Parquet parts the way Spark writes a table (part files, a
`_SUCCESS` marker, checksum files), with `ts` a timestamp and `amount` a double.

usage: spark_parts.py EVENTS.csv FOLDER
"""
import sys

from pyspark.sql import SparkSession

events_csv, folder = sys.argv[1:3]
spark = SparkSession.builder.master("local[2]").appName("tenure-parts").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
rows = spark.read.csv(events_csv, header=True, escape='"')
rows = rows.withColumn("ts", rows.ts.cast("timestamp")).withColumn("amount", rows.amount.cast("double"))
rows.repartition(4).write.mode("overwrite").parquet(folder)
spark.stop()
