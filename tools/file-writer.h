/* SPDX-License-Identifier: MIT */
/*
 * qapi-gen's output files, written on a second thread: creating a few
 * hundred files is mostly kernel time, which then overlaps generating
 * the next ones. A file is rewritten only when its content changes (its
 * mtime tells make and ninja what to rebuild), as QEMU does.
 */
#ifndef QK_TOOLS_FILE_WRITER_H
#define QK_TOOLS_FILE_WRITER_H

#include <stddef.h>

typedef struct file_writer file_writer;

/* A writer into dir, or NULL when out of memory or threads. */
file_writer *file_writer_new(const char *dir);
/* qk_gen_write_fn: queues a copy of the file (names starting "../" are
 * skipped, as QEMU does). Returns 0, QK_ERR_NOMEM, or QK_ERR_IO once an
 * earlier file failed. */
int file_writer_put(void *writer, const char *name, const char *data,
                    size_t len);
/* Waits until everything queued is written, frees the writer; 0 or
 * QK_ERR_IO (each failure was reported on stderr). NULL: QK_ERR_NOMEM. */
int file_writer_finish(file_writer *w);

#endif
