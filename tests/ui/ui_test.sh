#!/usr/bin/env bash
exec python3 "$(dirname "$0")/ui_test.py" -v
