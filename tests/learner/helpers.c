/*
 * helpers.c - synthetic data and temporary files for the learner tests.
 * The data generator is deliberately independent of the trainer's code.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../common/testtmp.h"

static double unif(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

struct lrn_data *synth(size_t rows, double noise, uint64_t seed)
{
	static const char *feat[] = {"a", "b", "c", "junk"};
	static const char *cls[] = {"mem", "ssd", "pfs"};
	struct lrn_data *d;
	cr_assert_eq(lrn_data_create(4, feat, 3, cls, &d), 0, "%s", lrn_last_error());
	uint64_t s = seed;
	for (size_t r = 0; r < rows; r++) {
		float x[4];
		for (int f = 0; f < 4; f++)
			x[f] = (float)(unif(&s) * 10);
		int y;
		if (x[0] < 3 && x[1] > 4)
			y = 0;
		else if (x[0] * x[2] > 30)
			y = 1;
		else
			y = 2;
		if (unif(&s) < noise)
			y = (int)(unif(&s) * 3);
		cr_assert_eq(lrn_data_add_row(d, x, y), 0);
	}
	return d;
}

double accuracy_on(const struct lrn_model *m, const struct lrn_data *d)
{
	size_t ok = 0, n = lrn_data_rows(d);
	float p[LRN_MAX_CLASSES];
	for (size_t r = 0; r < n; r++)
		ok += lrn_model_predict(m, lrn_data_row(d, r), p) == lrn_data_label(d, r);
	return n ? (double)ok / (double)n : 0;
}

char *temp_dir(void)
{
	char tmpl[] = "/tmp/lrn-test-XXXXXX";
	char *dir = testtmp_make(tmpl);
	cr_assert_not_null(dir);
	return strdup(dir);
}

char *write_temp(const char *name, const char *text, size_t len)
{
	char *dir = temp_dir();
	char *path = malloc(strlen(dir) + strlen(name) + 2);
	sprintf(path, "%s/%s", dir, name);
	free(dir);
	FILE *fp = fopen(path, "w");
	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(text, 1, len, fp), len);
	fclose(fp);
	return path;
}
