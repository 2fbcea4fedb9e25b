#!/bin/sh
# Every dynamic symbol the shared library defines must start with qk_.
lib=$1 nm=$2
bad=$("$nm" -D --defined-only "$lib" | awk '{print $3}' | grep -v '^qk_' | grep -v '^_' )
total=$("$nm" -D --defined-only "$lib" | awk '{print $3}' | grep -c '^qk_')
if [ -n "$bad" ]; then
    echo "non-qk_ symbols exported:"; echo "$bad"; exit 1
fi
# Internal helpers (qk_json__*, qk_malloc ...) must stay hidden.
hidden=$("$nm" -D --defined-only "$lib" | awk '{print $3}' | grep -E '__|^qk_(malloc|calloc|realloc|strdup|strndup|grow_capacity)$')
if [ -n "$hidden" ]; then
    echo "internal symbols exported:"; echo "$hidden"; exit 1
fi
echo "1 passed, 0 failed: $total qk_ symbols exported, nothing else"
