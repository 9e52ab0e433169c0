/*
 * spool-ceiling: the spool protocol's file operations with no judging, to measure the most
 * posts/s the disk allows for Warden's protocol (docs/DESIGN.md, docs/DAEMON.md "The spool").
 * `make bench-daemon` runs it on the same disk, in the same run, as `warden run`, and reports
 * the daemon as a share of it.
 *
 *   spool-ceiling SPOOL COUNT [BATCH]
 *
 * SPOOL has inbox/ processing/ outbox/ done/ (created if missing). Until COUNT posts are in
 * done/, it lists inbox/ and, per batch of at most BATCH (default 2048, the daemon's
 * max_batch) posts: claims each by rename into processing/, reads it, writes an action
 * file for one post in ten as outbox/.NAME.tmp, appends one log line per post to
 * decisions.jsonl, makes all of it durable with one syncfs, then publishes the action
 * files (rename to outbox/NAME) and moves the posts to done/. Those renames are made
 * durable by the next batch's syncfs (and a final one), as the daemon's committer does.
 *
 * Single-threaded: it is the cost of the system calls, without the daemon's overlap of
 * judging, flushing and finishing on separate threads, so a daemon can in principle beat
 * it slightly; a share near 100% means judging is no longer what limits the daemon.
 * C rather than a Swift target: it builds in a second with the system compiler, needs no
 * part of the Swift toolchain, and what it measures is the kernel's work, not a language's.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int dir_fd(const char *root, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, name);
    mkdir(path, 0755);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) { perror(path); exit(2); }
    return fd;
}

static void die(const char *what, const char *name) {
    fprintf(stderr, "spool-ceiling: %s %s: %s\n", what, name, strerror(errno));
    exit(2);
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: spool-ceiling SPOOL COUNT [BATCH]\n"); return 2; }
    const char *root = argv[1];
    long want = atol(argv[2]);
    long max_batch = argc > 3 ? atol(argv[3]) : 2048;
    int inbox = dir_fd(root, "inbox"), processing = dir_fd(root, "processing");
    int outbox = dir_fd(root, "outbox"), done = dir_fd(root, "done");
    char path[4096];
    snprintf(path, sizeof path, "%s/decisions.jsonl", root);
    int log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log < 0) die("open", path);

    char (*names)[256] = malloc(sizeof(*names) * max_batch);
    int *acts = malloc(sizeof(int) * max_batch);
    char *logbuf = malloc(max_batch * 160 + 1);
    static char post[1 << 20];
    long finished = 0, batches = 0, seen = 0;
    while (finished < want) {
        /* Collect a batch from inbox/ (a fresh listing each time, as a rescan would). */
        DIR *d = fdopendir(dup(inbox));
        if (!d) die("opendir", "inbox");
        rewinddir(d);
        long n = 0;
        struct dirent *e;
        while (n < max_batch && (e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            snprintf(names[n], 256, "%s", e->d_name);
            n++;
        }
        closedir(d);
        if (n == 0) { struct timespec t = {0, 1000000}; nanosleep(&t, NULL); continue; }
        size_t loglen = 0;
        long claimed = 0;
        for (long i = 0; i < n; i++) {
            if (renameat2(inbox, names[i], processing, names[i], RENAME_NOREPLACE) != 0) {
                if (errno == ENOENT) continue;
                die("claim", names[i]);
            }
            if (claimed != i) memcpy(names[claimed], names[i], 256);
            int fd = openat(processing, names[claimed], O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
            if (fd < 0) die("open", names[claimed]);
            struct stat st;
            if (fstat(fd, &st) != 0) die("fstat", names[claimed]);
            ssize_t got = read(fd, post, sizeof post);
            if (got < 0) die("read", names[claimed]);
            close(fd);
            acts[claimed] = (seen++ % 10) == 0; /* one post in ten gets an action file */
            if (acts[claimed]) {
                char tmp[300];
                snprintf(tmp, sizeof tmp, ".%s.tmp", names[claimed]);
                int out = openat(outbox, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (out < 0) die("create", tmp);
                char body[512];
                int len = snprintf(body, sizeof body,
                    "{\"post_id\":\"%s\",\"action\":\"route\",\"guidelines\":[\"complaints\"],\"route_to\":\"customer-care\"}\n", names[claimed]);
                if (write(out, body, len) != len) die("write", tmp);
                close(out);
            }
            loglen += snprintf(logbuf + loglen, 160, "{\"post_id\":\"%.100s\",\"action\":\"%s\"}\n", names[claimed], acts[claimed] ? "route" : "allow");
            claimed++;
        }
        if (loglen && write(log, logbuf, loglen) != (ssize_t)loglen) die("write", "decisions.jsonl");
        if (syncfs(log) != 0) die("syncfs", root);
        batches++;
        for (long i = 0; i < claimed; i++) {
            if (acts[i]) {
                char tmp[300], final[300];
                snprintf(tmp, sizeof tmp, ".%s.tmp", names[i]);
                snprintf(final, sizeof final, "%s", names[i]);
                if (renameat(outbox, tmp, outbox, final) != 0) die("publish", tmp);
            }
            if (renameat(processing, names[i], done, names[i]) != 0) die("finish", names[i]);
        }
        finished += claimed;
    }
    if (syncfs(log) != 0) die("syncfs", root);
    printf("spool-ceiling: %ld posts in %ld batches\n", finished, batches);
    return 0;
}
