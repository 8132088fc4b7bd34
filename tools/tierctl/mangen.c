/*
 * mangen.c - tierctl-mangen: writes the man page tierctl(1) from the
 * command table in commands.c, the same table `tierctl --help` prints,
 * so the two cannot drift apart.
 *
 * Usage: tierctl-mangen OUTPUT.  Output is deterministic (no date) so
 * builds are reproducible.
 */
#include "commands.h"
#include "tierfs_config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifndef TIERFS_VERSION
#define TIERFS_VERSION "0"
#endif

/* Text for troff, escaped as tierfs's own pages are (tier_config). */
static void roff(FILE *out, const char *s)
{
	tcfg_roff(out, s);
}

/* Inline font switches, so that a .TP tag stays one line. */
static void font(FILE *out, char f, const char *s)
{
	fprintf(out, "\\f%c", f);
	roff(out, s);
	fputs("\\fR", out);
}

/* "-o FILE" (short form) or "-o, --output FILE" (both). */
static void option_words(FILE *out, const struct tctl_option *o, int both)
{
	if (o->alias) {
		font(out, 'B', o->alias);
		if (both)
			fputs(", ", out);
	}
	if (both || !o->alias)
		font(out, 'B', o->name);
	if (o->metavar) {
		fputc(' ', out);
		font(out, 'I', o->metavar);
	}
}

static void option_entry(FILE *out, const struct tctl_option *o)
{
	fputs(".TP\n", out);
	option_words(out, o, 1);
	fputc('\n', out);
	roff(out, o->help);
	fputc('\n', out);
}

/* "workflow attach DIR FILE", bold then italic. */
static void command_words(FILE *out, const struct tctl_command *c)
{
	char name[64];
	snprintf(name, sizeof(name), "%s%s%s", c->group ? c->group : "", c->group ? " " : "",
		 c->name);
	font(out, 'B', name);
	if (c->args[0]) {
		fputc(' ', out);
		font(out, 'I', c->args);
	}
}

static void man1(FILE *out)
{
	fprintf(out, ".TH TIERCTL 1 \"\" \"tierfs %s\" \"User Commands\"\n.nh\n", TIERFS_VERSION);
	fputs(".SH NAME\ntierctl \\- show and steer a running tierfs mount\n.SH SYNOPSIS\n", out);
	for (size_t i = 0; i < TCTL_NCMDS; i++) {
		const struct tctl_command *c = &tctl_commands[i];
		fputs("\\fBtierctl\\fR [\\fB\\-\\-mount\\fR \\fIDIR\\fR] [\\fB\\-\\-json\\fR] ",
		      out);
		command_words(out, c);
		for (const struct tctl_option *o = c->options; o->name; o++) {
			fputs(" [", out);
			option_words(out, o, 0);
			fputc(']', out);
		}
		fputs("\n.br\n", out);
	}
	fputs(".SH DESCRIPTION\n", out);
	roff(out, tctl_description);
	fputs("\n.SH COMMANDS\n", out);
	for (size_t i = 0; i < TCTL_NCMDS; i++) {
		const struct tctl_command *c = &tctl_commands[i];
		fputs(".TP\n", out);
		command_words(out, c);
		fputc('\n', out);
		roff(out, c->description);
		fputc('\n', out);
		if (c->options[0].name) {
			fputs(".RS\n", out);
			for (const struct tctl_option *o = c->options; o->name; o++)
				option_entry(out, o);
			fputs(".RE\n", out);
		}
	}
	fputs(".SH OPTIONS\nThese options are accepted before or after the command.\n", out);
	for (const struct tctl_option *o = tctl_global_options; o->name; o++)
		option_entry(out, o);
	fputs(".SH EXIT STATUS\n", out);
	roff(out, tctl_exit_status);
	fputs(
	    "\n.SH EXAMPLES\n"
	    "Where did the files of a run go, and why:\n"
	    ".PP\n.RS\n.nf\n"
	    "tierctl where /scratch/run1/out.dat /scratch/run1/*.fits\n"
	    ".fi\n.RE\n"
	    ".PP\n"
	    "Attach a workflow to a run directory before starting it:\n"
	    ".PP\n.RS\n.nf\n"
	    "tierctl workflow attach /scratch/run1 montage.dax\n"
	    ".fi\n.RE\n"
	    ".PP\n"
	    "Export the gauges for the Prometheus node exporter's textfile collector:\n"
	    ".PP\n.RS\n.nf\n"
	    "tierctl \\-\\-mount /scratch stats \\-\\-prometheus > /var/lib/node_exporter/tierfs.prom\n"
	    ".fi\n.RE\n"
	    ".SH SEE ALSO\n"
	    ".BR tierfs (8),\n"
	    ".BR tierfs.conf (5),\n"
	    ".BR getfattr (1)\n",
	    out);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fputs("usage: tierctl-mangen OUTPUT\n", stderr);
		return 2;
	}
	FILE *out = fopen(argv[1], "w");
	if (!out) {
		fprintf(stderr, "tierctl-mangen: cannot write %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	man1(out);
	if (fclose(out) != 0) {
		fprintf(stderr, "tierctl-mangen: cannot write %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	return 0;
}
