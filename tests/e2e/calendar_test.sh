#!/usr/bin/env bash
exec python3 "$(dirname "$0")/calendar_test.py" -v
