#!/usr/bin/env bash
exec python3 "$(dirname "$0")/fault_test.py" -v
