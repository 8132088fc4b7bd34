/*
 * cmd_util.c - small helpers the subcommands share (commands.h): number
 * options, JSON strings, a clock, and where the shipped files are.
 */
#include "commands.h"
#include "ga.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int tt_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno) {
		fprintf(stderr, "tiertrain %s: %s \"%s\": expected a whole number\n", cmd, opt, s);
		return -1;
	}
	*out = v;
	return 0;
}

int tt_parse_u32(const char *cmd, const char *opt, const char *s, uint32_t *out)
{
	uint64_t v;
	if (tt_parse_u64(cmd, opt, s, &v))
		return -1;
	if (v > UINT32_MAX) {
		fprintf(stderr, "tiertrain %s: %s \"%s\": at most %u\n", cmd, opt, s, UINT32_MAX);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int tt_sim_option(const char *cmd, int c, const char *arg, uint32_t *nodes, uint32_t *cores, struct ga_params *ga)
{
	switch (c) {
	case TT_O_NODES:
	case TT_O_CORES: {
		const char *opt = c == TT_O_NODES ? "--nodes" : "--cores";
		uint32_t *v = c == TT_O_NODES ? nodes : cores;
		if (tt_parse_u32(cmd, opt, arg, v))
			return 1;
		if (*v == 0) {
			fprintf(stderr, "tiertrain %s: %s must be at least 1\n", cmd, opt);
			return 1;
		}
		return 0;
	}
	case TT_O_POP:
		return tt_parse_u32(cmd, "--population", arg, &ga->population) ? 1 : 0;
	case TT_O_GEN:
		return tt_parse_u32(cmd, "--generations", arg, &ga->max_generations) ? 1 : 0;
	case TT_O_PAT:
		return tt_parse_u32(cmd, "--patience", arg, &ga->patience) ? 1 : 0;
	}
	return -1;
}

int tt_parse_double(const char *cmd, const char *opt, const char *s, double lo, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || !isfinite(v) || v < lo) {
		fprintf(stderr, "tiertrain %s: %s \"%s\": expected a number >= %g\n", cmd, opt, s, lo);
		return -1;
	}
	*out = v;
	return 0;
}

void tt_json_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c < 0x20)
			fprintf(fp, "\\u%04x", c);
		else
			fputc(c, fp);
	}
	fputc('"', fp);
}

double tt_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *tt_etc_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", TIERFS_ETC_DIR, name);
	return buf;
}
