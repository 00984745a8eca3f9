#!/usr/bin/env bash
exec python3 "$(dirname "$0")/cert_test.py" -v
