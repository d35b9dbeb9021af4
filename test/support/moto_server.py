"""Starts moto's server with one fix for the tests: CodeBuild build timestamps as epoch seconds.

moto 5 writes build `startTime`/`endTime` as ISO strings where the AWS JSON protocol has epoch
numbers, and SDK v3 then fails to read StartBuild and BatchGetBuilds answers. The real service
sends numbers, so the harness does too; product code is left as it would run against AWS.
"""
import datetime
import sys

import moto.codebuild.models as codebuild_models
from moto.core.utils import unix_time
from moto.server import main

_EPOCH = datetime.datetime(1970, 1, 1)


def _epoch_seconds(dt=None):
    return unix_time(dt) if dt is not None else unix_time()


def _parse_epoch(value):
    return _EPOCH + datetime.timedelta(seconds=float(value))


codebuild_models.iso_8601_datetime_with_milliseconds = _epoch_seconds
codebuild_models.default_timestamp_parser = _parse_epoch

if __name__ == "__main__":
    main(sys.argv[1:])
