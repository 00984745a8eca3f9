#!/usr/bin/env bash
exec python3 "$(dirname "$0")/backup_test.py" -v
