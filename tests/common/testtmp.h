/*
 * testtmp.h - temporary directories of unit tests, removed when the test
 * process exits (Criterion runs each test in its own process, so each one
 * cleans what it made).  Header-only: tests include it directly.
 */
#ifndef TIERFS_TESTS_TESTTMP_H
#define TIERFS_TESTS_TESTTMP_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TESTTMP_MAX 64

static char *testtmp_dirs[TESTTMP_MAX];
static int testtmp_n;

/* Remove name in directory at and everything under it (no symlink followed). */
static void testtmp_rm(int at, const char *name)
{
	if (unlinkat(at, name, 0) == 0)
		return;
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			testtmp_rm(dirfd(d), e->d_name);
	closedir(d);
	unlinkat(at, name, AT_REMOVEDIR);
}

static void testtmp_cleanup(void)
{
	for (int i = 0; i < testtmp_n; i++) {
		testtmp_rm(AT_FDCWD, testtmp_dirs[i]);
		free(testtmp_dirs[i]);
	}
	testtmp_n = 0;
}

/* mkdtemp(tmpl) and remember it for removal at exit; NULL on failure. */
static inline char *testtmp_make(char *tmpl)
{
	char *dir = mkdtemp(tmpl);
	if (!dir)
		return NULL;
	if (testtmp_n == 0)
		atexit(testtmp_cleanup);
	if (testtmp_n < TESTTMP_MAX)
		testtmp_dirs[testtmp_n++] = strdup(dir);
	return dir;
}

/* Write text to dir/name, making dir from tmpl (mkdtemp pattern, removed
 * at exit) the first time, while dir[0] is 0.  Returns the path (malloc'd)
 * or NULL. */
static inline char *testtmp_write(char *dir, const char *tmpl, const char *name, const char *text)
{
	if (!dir[0]) {
		strcpy(dir, tmpl);
		if (!testtmp_make(dir)) {
			dir[0] = '\0';
			return NULL;
		}
	}
	size_t len = strlen(dir) + strlen(name) + 2;
	char *path = malloc(len);
	if (!path)
		return NULL;
	snprintf(path, len, "%s/%s", dir, name);
	FILE *fp = fopen(path, "w");
	if (!fp || fputs(text, fp) < 0 || fclose(fp) != 0) {
		free(path);
		return NULL;
	}
	return path;
}

#endif
