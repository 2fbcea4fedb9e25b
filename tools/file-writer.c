/* SPDX-License-Identifier: MIT */
/*
 * See file-writer.h. The queue holds copies of the files in generation
 * order and is bounded in bytes, so memory stays near what generating
 * costs anyway; the generator waits when the writer is that far behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file-writer.h"
#include "qmpkit/common.h"

#define QUEUE_BYTES (2u << 20) /* the generator waits above this */

typedef struct job {
    struct job *next;
    size_t len;
    char *path; /* points into data's allocation, after the content */
    char data[];
} job;

struct file_writer {
    const char *dir;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t more, room;
    job *head, *tail;
    size_t queued; /* bytes of content queued */
    bool done, failed;
};

/* mkdir -p for the directories of path */
static int make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        int r = mkdir(path, 0777);
        *p = '/';
        if (r && errno != EEXIST)
            return -1;
    }
    return 0;
}

/* Compares the file with data in chunks that stay in cache: true when
 * the file holds exactly data. */
static bool same_content(int fd, const char *data, size_t len)
{
    static char chunk[65536]; /* the writer thread's alone */
    size_t off = 0;
    for (;;) {
        size_t want = len - off < sizeof(chunk) ? len - off + 1 : sizeof(chunk);
        ssize_t n = pread(fd, chunk, want, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return off == len && n == 0;
        if ((size_t)n > len - off || memcmp(chunk, data + off, (size_t)n))
            return false;
        off += (size_t)n;
    }
}

static bool write_all(int fd, const char *data, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(fd, data + done, len - done, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += (size_t)n;
    }
    return true;
}

/*
 * Writes one file, leaving it alone (mtime included) when its content is
 * already right. One open for reading and writing; changed files are
 * overwritten in place and then cut to length if they were longer, never
 * truncated to zero first: on ext4 a truncation to zero frees (and,
 * mounted with discard, discards) every block and makes close() start
 * writeback (auto_da_alloc), which cost more than generating the text.
 */
static bool write_file(char *path, const char *data, size_t len)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0 && errno == ENOENT && !make_dirs(path))
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    struct stat st;
    bool ok = fd >= 0 && !fstat(fd, &st);
    size_t old = ok ? (size_t)st.st_size : 0;
    /* a new file, or one of another size, needs no reading; only a longer
     * one needs cutting (ftruncate costs a metadata update even then) */
    if (ok && !(old == len && same_content(fd, data, len)))
        ok = write_all(fd, data, len) &&
             (old <= len || !ftruncate(fd, (off_t)len));
    if (fd >= 0)
        ok &= close(fd) == 0;
    if (!ok)
        fprintf(stderr, "qapi-gen: %s: %s\n", path, strerror(errno));
    return ok;
}

static void *writer_main(void *arg)
{
    file_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->done)
            pthread_cond_wait(&w->more, &w->mu);
        job *j = w->head;
        if (!j)
            break; /* done and drained */
        w->head = j->next;
        if (!w->head)
            w->tail = NULL;
        pthread_mutex_unlock(&w->mu);
        bool ok = write_file(j->path, j->data, j->len);
        pthread_mutex_lock(&w->mu);
        w->failed |= !ok;
        w->queued -= j->len;
        pthread_cond_signal(&w->room);
        free(j);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

file_writer *file_writer_new(const char *dir)
{
    file_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->dir = dir;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->more, NULL);
    pthread_cond_init(&w->room, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->more);
        pthread_cond_destroy(&w->room);
        free(w);
        return NULL;
    }
    return w;
}

int file_writer_put(void *writer, const char *name, const char *data,
                    size_t len)
{
    file_writer *w = writer;
    if (!strncmp(name, "../", 3))
        return 0;
    size_t plen = strlen(w->dir) + 1 + strlen(name) + 1;
    job *j = malloc(sizeof *j + len + plen);
    if (!j)
        return QK_ERR_NOMEM;
    j->next = NULL;
    j->len = len;
    memcpy(j->data, data, len);
    j->path = j->data + len;
    snprintf(j->path, plen, "%s/%s", w->dir, name);
    pthread_mutex_lock(&w->mu);
    while (w->queued > QUEUE_BYTES && !w->failed)
        pthread_cond_wait(&w->room, &w->mu);
    bool failed = w->failed;
    if (!failed) {
        if (w->tail)
            w->tail->next = j;
        else
            w->head = j;
        w->tail = j;
        w->queued += len;
        pthread_cond_signal(&w->more);
    }
    pthread_mutex_unlock(&w->mu);
    if (failed) {
        free(j);
        return QK_ERR_IO;
    }
    return 0;
}

int file_writer_finish(file_writer *w)
{
    if (!w)
        return QK_ERR_NOMEM;
    pthread_mutex_lock(&w->mu);
    w->done = true;
    pthread_cond_signal(&w->more);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    bool failed = w->failed;
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->more);
    pthread_cond_destroy(&w->room);
    free(w);
    return failed ? QK_ERR_IO : 0;
}
