#!/usr/bin/env bash
exec python3 "$(dirname "$0")/errors_test.py" -v
