#!/bin/sh
echo "make bench: no benchmarks built yet"
