/*
 * data.c - tables of records: CSV reading, building by hand, splitting.
 *
 * Invariant: x holds rows * nfeatures floats, row-major; label[r] is -1 or
 * a class index below nclasses.  Missing values are NaN.
 * Assumes CSV without newlines inside fields; a field may be quoted.
 */
#include "lrn_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lrn_data {
	size_t rows, cap, nfeatures, nclasses;
	char **features, **classes;
	float *x;
	int *label;
};

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void lrn_data_destroy(struct lrn_data *d)
{
	if (!d)
		return;
	free_names(d->features, d->nfeatures);
	free_names(d->classes, d->nclasses);
	free(d->x);
	free(d->label);
	free(d);
}

static int add_class(struct lrn_data *d, const char *name)
{
	if (d->nclasses >= LRN_MAX_CLASSES)
		return -E2BIG;
	char **v = realloc(d->classes, sizeof(char *) * (d->nclasses + 1));
	if (!v)
		return -ENOMEM;
	d->classes = v;
	if (!(v[d->nclasses] = strdup(name)))
		return -ENOMEM;
	return (int)d->nclasses++;
}

int lrn_data_create(size_t nfeatures, const char *const *feature_names, size_t nclasses,
		    const char *const *class_names, struct lrn_data **out)
{
	*out = NULL;
	if (nfeatures == 0 || nfeatures > LRN_MAX_FEATURES || nclasses > LRN_MAX_CLASSES)
		return lrn_err(-EINVAL, "a table needs 1..%d features and at most %d classes", LRN_MAX_FEATURES, LRN_MAX_CLASSES);
	struct lrn_data *d = calloc(1, sizeof(*d));
	if (!d || !(d->features = calloc(nfeatures, sizeof(char *))))
		goto nomem;
	d->nfeatures = nfeatures;
	for (size_t i = 0; i < nfeatures; i++) {
		char tmp[32];
		snprintf(tmp, sizeof(tmp), "f%zu", i);
		if (!(d->features[i] = strdup(feature_names ? feature_names[i] : tmp)))
			goto nomem;
	}
	for (size_t c = 0; c < nclasses; c++) {
		char tmp[32];
		snprintf(tmp, sizeof(tmp), "%zu", c);
		if (add_class(d, class_names ? class_names[c] : tmp) < 0)
			goto nomem;
	}
	*out = d;
	return 0;
nomem:
	lrn_data_destroy(d);
	return lrn_err(-ENOMEM, "out of memory creating a table");
}

static int grow(struct lrn_data *d)
{
	if (d->rows < d->cap)
		return 0;
	size_t cap = d->cap ? d->cap * 2 : 1024;
	float *x = realloc(d->x, sizeof(float) * cap * d->nfeatures);
	if (!x)
		return -ENOMEM;
	d->x = x;
	int *l = realloc(d->label, sizeof(int) * cap);
	if (!l)
		return -ENOMEM;
	d->label = l;
	d->cap = cap;
	return 0;
}

int lrn_data_add_row(struct lrn_data *d, const float *x, int label)
{
	if (label < -1 || (label >= 0 && (size_t)label >= d->nclasses))
		return lrn_err(-EINVAL, "label %d is not a class of this table (it has %zu)", label, d->nclasses);
	if (grow(d) < 0)
		return lrn_err(-ENOMEM, "out of memory adding row %zu", d->rows);
	memcpy(d->x + d->rows * d->nfeatures, x, sizeof(float) * d->nfeatures);
	d->label[d->rows++] = label;
	return 0;
}

/* Split line into fields in place; returns the count (at most max are
 * stored).  With f NULL only counts, leaving line intact. */
static size_t split_fields(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *p = line;
	for (;;) {
		char *start = p;
		if (*p == '"') {
			start = ++p;
			while (*p && *p != '"')
				p++;
			if (*p == '"' && f)
				*p = 0;
			if (*p || !f)
				p += *p != 0;
		}
		while (*p && *p != ',')
			p++;
		int more = *p == ',';
		if (f) {
			*p = 0;
			if (n < max)
				f[n] = start;
		}
		n++;
		if (!more)
			break;
		p++;
	}
	return n;
}

static void chomp(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = 0;
}

static int is_missing(const char *s)
{
	return !*s || strcmp(s, "nan") == 0 || strcmp(s, "NaN") == 0 || strcmp(s, "NA") == 0;
}

/* All class names are "0".."K-1": renumber so class k is named "k". */
static void numeric_classes(struct lrn_data *d)
{
	size_t K = d->nclasses;
	int map[LRN_MAX_CLASSES];
	for (size_t c = 0; c < K; c++) {
		char *end;
		long v = strtol(d->classes[c], &end, 10);
		if (*end || end == d->classes[c] || v < 0 || (size_t)v >= K)
			return;
		map[c] = (int)v;
	}
	char *sorted[LRN_MAX_CLASSES];
	for (size_t c = 0; c < K; c++)
		sorted[map[c]] = d->classes[c];
	for (size_t c = 0; c < K; c++)
		d->classes[c] = sorted[c];
	for (size_t r = 0; r < d->rows; r++)
		if (d->label[r] >= 0)
			d->label[r] = map[d->label[r]];
}

int lrn_data_load_csv(const char *path, const char *label_col, struct lrn_data **out)
{
	*out = NULL;
	FILE *fp = fopen(path, "r");
	if (!fp)
		return lrn_err(-errno, "%s: cannot open: %s", path, strerror(errno));
	char *line = NULL, **f = NULL;
	size_t cap = 0, lineno = 1;
	struct lrn_data *d = NULL;
	int rc = 0, lab = -1;
	float *row = NULL;
	ssize_t len = getline(&line, &cap, fp);
	if (len < 0) {
		rc = lrn_err(-EINVAL, "%s: empty file, expected a header line of column names", path);
		goto out;
	}
	chomp(line);
	size_t ncol = split_fields(line, NULL, 0);
	f = calloc(ncol, sizeof(char *));
	if (!f) {
		rc = lrn_err(-ENOMEM, "%s: out of memory", path);
		goto out;
	}
	split_fields(line, f, ncol);
	for (size_t c = 0; c < ncol; c++) {
		if (label_col ? strcmp(f[c], label_col) == 0 : (strcmp(f[c], "tier") == 0 || (lab < 0 && strcmp(f[c], "label") == 0)))
			lab = (int)c;
		if (!*f[c]) {
			rc = lrn_err(-EINVAL, "%s:1: column %zu has an empty name", path, c + 1);
			goto out;
		}
	}
	if (label_col && lab < 0) {
		rc = lrn_err(-EINVAL, "%s:1: no column named \"%s\" for the label", path, label_col);
		goto out;
	}
	size_t nf = ncol - (lab >= 0);
	const char **fn = calloc(nf ? nf : 1, sizeof(char *));
	if (!fn) {
		rc = lrn_err(-ENOMEM, "%s: out of memory", path);
		goto out;
	}
	for (size_t c = 0, k = 0; c < ncol; c++)
		if ((int)c != lab)
			fn[k++] = f[c];
	rc = nf ? lrn_data_create(nf, fn, 0, NULL, &d) : lrn_err(-EINVAL, "%s:1: no feature columns", path);
	free(fn);
	if (rc < 0)
		goto out;
	row = malloc(sizeof(float) * nf);
	if (!row) {
		rc = lrn_err(-ENOMEM, "%s: out of memory", path);
		goto out;
	}
	while ((len = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		chomp(line);
		if (!*line)
			continue;
		size_t n = split_fields(line, f, ncol);
		if (n != ncol) {
			rc = lrn_err(-EINVAL, "%s:%zu: %zu fields, expected %zu as in the header", path, lineno, n, ncol);
			goto out;
		}
		int label = -1;
		for (size_t c = 0, k = 0; c < ncol; c++) {
			if ((int)c == lab) {
				if (is_missing(f[c]))
					continue;
				for (size_t j = 0; j < d->nclasses && label < 0; j++)
					if (strcmp(d->classes[j], f[c]) == 0)
						label = (int)j;
				if (label < 0 && (label = add_class(d, f[c])) < 0) {
					rc = lrn_err(label, "%s:%zu: label \"%s\": too many classes (at most %d)", path, lineno, f[c], LRN_MAX_CLASSES);
					goto out;
				}
				continue;
			}
			if (is_missing(f[c])) {
				row[k++] = NAN;
				continue;
			}
			char *end;
			errno = 0;
			float v = strtof(f[c], &end);
			if (end == f[c] || *end || !isfinite(v)) {
				rc = lrn_err(-EINVAL, "%s:%zu: column %s: \"%s\" is not a finite number", path, lineno, d->features[k], f[c]);
				goto out;
			}
			row[k++] = v;
		}
		if ((rc = lrn_data_add_row(d, row, label)) < 0)
			goto out;
	}
	numeric_classes(d);
out:
	fclose(fp);
	free(line);
	free(f);
	free(row);
	if (rc < 0) {
		lrn_data_destroy(d);
		d = NULL;
	}
	*out = d;
	return rc;
}

int lrn_data_split(const struct lrn_data *d, double fraction, uint64_t seed, struct lrn_data **first,
		   struct lrn_data **second)
{
	*first = *second = NULL;
	if (!(fraction >= 0 && fraction <= 1))
		return lrn_err(-EINVAL, "split fraction %g is not in 0..1", fraction);
	struct lrn_data *a = NULL, *b = NULL;
	size_t *idx = malloc(sizeof(size_t) * (d->rows ? d->rows : 1));
	uint8_t *to_b = calloc(d->rows ? d->rows : 1, 1);
	int rc = -ENOMEM;
	if (!idx || !to_b ||
	    lrn_data_create(d->nfeatures, (const char *const *)d->features, d->nclasses, (const char *const *)d->classes, &a) < 0 ||
	    lrn_data_create(d->nfeatures, (const char *const *)d->features, d->nclasses, (const char *const *)d->classes, &b) < 0)
		goto out;
	/* Per class (the unlabelled rows are one more group): shuffle the
	 * class's rows and send the first round(fraction * n) of them to b. */
	uint64_t s = seed;
	for (int c = -1; c < (int)d->nclasses; c++) {
		size_t n = 0;
		for (size_t r = 0; r < d->rows; r++)
			if (d->label[r] == c)
				idx[n++] = r;
		for (size_t i = n; i > 1; i--) {
			size_t j = (size_t)(lrn_splitmix64(&s) % i);
			size_t t = idx[i - 1];
			idx[i - 1] = idx[j];
			idx[j] = t;
		}
		size_t nb = (size_t)llround(fraction * (double)n);
		for (size_t i = 0; i < nb; i++)
			to_b[idx[i]] = 1;
	}
	/* Rows keep their order within each part. */
	for (size_t r = 0; r < d->rows; r++)
		if ((rc = lrn_data_add_row(to_b[r] ? b : a, lrn_data_row(d, r), d->label[r])) < 0)
			goto out;
	rc = 0;
out:
	free(idx);
	free(to_b);
	if (rc < 0) {
		lrn_data_destroy(a);
		lrn_data_destroy(b);
		return rc == -ENOMEM ? lrn_err(rc, "out of memory splitting %zu rows", d->rows) : rc;
	}
	*first = a;
	*second = b;
	return 0;
}

size_t lrn_data_rows(const struct lrn_data *d)
{
	return d->rows;
}

size_t lrn_data_nfeatures(const struct lrn_data *d)
{
	return d->nfeatures;
}

size_t lrn_data_nclasses(const struct lrn_data *d)
{
	return d->nclasses;
}

const char *lrn_data_feature_name(const struct lrn_data *d, size_t i)
{
	return i < d->nfeatures ? d->features[i] : NULL;
}

const char *lrn_data_class_name(const struct lrn_data *d, size_t c)
{
	return c < d->nclasses ? d->classes[c] : NULL;
}

const float *lrn_data_row(const struct lrn_data *d, size_t r)
{
	return d->x + r * d->nfeatures;
}

int lrn_data_label(const struct lrn_data *d, size_t r)
{
	return d->label[r];
}
