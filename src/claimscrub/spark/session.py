"""A Spark session for claimscrub: the master the user named, else what spark-submit set."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from pyspark.sql import SparkSession


def spark_session(
    master: str | None = None,
    *,
    app_name: str = "claimscrub",
    conf: Mapping[str, str] | None = None,
) -> SparkSession:
    """Get or create the session.

    Under ``spark-submit`` the master, resources and Python come from its command line
    (pass ``master`` only to override them). Started from a plain ``claimscrub`` process
    without ``--master``, Spark runs in local mode on every core (``local[*]``); in local
    mode the Python workers run this very interpreter, so they import the same
    claimscrub.
    """
    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    under_submit = "PYSPARK_GATEWAY_PORT" in os.environ  # the driver was started by spark-submit
    if not under_submit and (master is None or master.startswith("local")):
        if "PYSPARK_PYTHON" not in os.environ:
            builder = builder.config("spark.pyspark.python", sys.executable)
    if not under_submit:  # a command line run: no progress bars drawn over the report
        builder = builder.config("spark.ui.showConsoleProgress", "false")
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
