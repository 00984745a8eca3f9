#!/usr/bin/env bash
exec python3 "$(dirname "$0")/units_test.py" -v
