#!/usr/bin/env bash
exec python3 "$(dirname "$0")/quarter_test.py" -v
