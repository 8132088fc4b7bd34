/*
 * helpers.h - shared by the learner tests: synthetic tables with a known
 * best accuracy, temporary files, accuracy of a model on a table.
 */
#ifndef TIERFS_TEST_LEARNER_HELPERS_H
#define TIERFS_TEST_LEARNER_HELPERS_H

#include <learner.h>

/* rows of 4 features; the class is a nonlinear function of the first three
 * (the fourth is noise), and a fraction `noise` of labels is redrawn
 * uniformly, so the best accuracy is 1 - noise * 2/3. */
struct lrn_data *synth(size_t rows, double noise, uint64_t seed);
double accuracy_on(const struct lrn_model *m, const struct lrn_data *d);
/* Write text to a new file in a fresh temporary directory; returns the path
 * (static buffer per call site is not needed: caller frees). */
char *write_temp(const char *name, const char *text, size_t len);
char *temp_dir(void);

#endif
