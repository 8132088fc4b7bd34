/*
 * testconf.h - load a tierfs.conf a unit test has written: the test fails
 * with the loader's message if it does not load.  Header-only; include it
 * after <criterion/criterion.h>.
 */
#ifndef TIERFS_TESTS_TESTCONF_H
#define TIERFS_TESTS_TESTCONF_H

#include <stdlib.h>

#include "tierfs_config.h"

/* Load the config file at path (malloc'ed; freed here). */
static inline struct tcfg *testconf_load(char *path)
{
	struct tcfg *c;
	char err[TCFG_ERRLEN];
	int rc = tcfg_load(path, &c, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s: %s", path, err);
	free(path);
	return c;
}

#endif
