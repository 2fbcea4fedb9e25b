/* SPDX-License-Identifier: MIT */
/* The libFuzzer entry point every target in fuzz/ defines. */
#ifndef QK_FUZZ_H
#define QK_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
