#!/usr/bin/env bash
exec python3 "$(dirname "$0")/config_test.py" -v
