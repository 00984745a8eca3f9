#!/usr/bin/env bash
exec python3 "$(dirname "$0")/upgrade_test.py" -v
