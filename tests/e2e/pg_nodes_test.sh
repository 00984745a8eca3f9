#!/usr/bin/env bash
exec python3 "$(dirname "$0")/pg_nodes_test.py" -v
