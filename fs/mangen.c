/*
 * mangen.c - tierfs-mangen: writes the --help option text, tierfs(8) and
 * tierfs.conf(5) from the option table in config.c, so the keys in the
 * file, the -o options, --help and the man pages cannot drift apart.
 *
 * Usage: tierfs-mangen help|man8|man5 [OUTPUT] [--example CONF]
 * man5 appends CONF (default: the shipped etc/tierfs.conf) as its example,
 * without comment lines.  Output is deterministic (no date) so builds are
 * reproducible.
 */
#define _GNU_SOURCE
#include "tierfs_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TIERFS_VERSION
#define TIERFS_VERSION "0"
#endif

/* Text for troff (tcfg_roff in config.c, shared with tierctl's pages). */
static void roff(FILE *out, const char *s)
{
	tcfg_roff(out, s);
}

static void option_entry(FILE *out, const struct tcfg_option *o, const char *lead,
			 const char *sep)
{
	fputs(".TP\n.BI \"", out);
	roff(out, lead);
	roff(out, o->key);
	fputs(sep, out);
	fputs("\" \"", out);
	roff(out, o->metavar);
	fputs("\"\n", out);
	roff(out, o->help);
	fputc('\n', out);
	if (o->defval) {
		fputs("Default: ", out);
		roff(out, o->defval);
		fputs(".\n", out);
	}
}

static void man8(FILE *out)
{
	fprintf(out, ".TH TIERFS 8 \"\" \"tierfs %s\" \"System Administration\"\n.nh\n", TIERFS_VERSION);
	fputs(".SH NAME\n"
	      "tierfs \\- workflow\\-aware tiered storage for HPC, as a FUSE mount\n"
	      ".SH SYNOPSIS\n"
	      ".B tierfs\n"
	      ".I MOUNTPOINT\n"
	      ".BI \"\\-o config=\" FILE\n"
	      "[\\fB\\-f\\fR] [\\fB\\-d\\fR] [\\fB\\-o\\fR \\fIOPTION\\fR...]\n"
	      ".SH DESCRIPTION\n"
	      ".B tierfs\n"
	      "mounts one directory tree over several storage tiers of a compute node, "
	      "typically memory (tmpfs), the node\\-local SSD and the parallel filesystem. "
	      "Each file lives in exactly one tier, at the same relative path in that tier's "
	      "directory; directories are the union of all tiers. "
	      "When a file is created, a placement model (or, without one, the configured "
	      "placement policy) chooses its tier; when a tier fills up, files move on to "
	      "the next tier with room, so applications see ENOSPC only when every tier is "
	      "full. A file lives in one tier, so the largest tier's capacity is the largest "
	      "file size: truncate(2) beyond it fails with EFBIG.\n"
	      ".PP\n"
	      "The tiers and their limits are declared in a configuration file, see\n"
	      ".BR tierfs.conf (5).\n"
	      "Every key of its [global] section can also be given as a mount option, which "
	      "overrides the file. A bad configuration, a missing tier directory, tiers "
	      "inside one another or a mountpoint inside a tier stop the start with a "
	      "message naming the file, line and key.\n"
	      ".PP\n"
	      "tierfs runs as an ordinary user through\n"
	      ".BR fusermount3 (1);\n"
	      "unmount with\n"
	      ".B fusermount3 \\-u\n"
	      ".IR MOUNTPOINT .\n"
	      ".SH OPTIONS\n"
	      ".TP\n.B \\-f\nStay in the foreground; log to standard error.\n"
	      ".TP\n.B \\-d\nDebug: log every FUSE request; implies \\fB\\-f\\fR.\n"
	      ".TP\n.BR \\-h \", \" \\-\\-help\nPrint the options and exit.\n"
	      ".TP\n.BR \\-V \", \" \\-\\-version\nPrint the version and exit.\n"
	      ".TP\n.BI \"\\-o config=\" FILE\n"
	      "The configuration file, where the tiers are declared. Without this option, "
	      "tierfs reads $XDG_CONFIG_HOME/tierfs/tierfs.conf (~/.config/tierfs/tierfs.conf "
	      "when XDG_CONFIG_HOME is not set) if it exists, else /etc/tierfs/tierfs.conf.\n",
	      out);
	for (size_t i = 0; i < tcfg_noptions; i++)
		if (tcfg_options[i].mount_option)
			option_entry(out, &tcfg_options[i], "-o ", "=");
	fputs(".PP\n"
	      "The generic FUSE mount options (allow_other, default_permissions, ...) are "
	      "accepted as well; see\n"
	      ".BR fuse (8).\n"
	      ".SH FILES\n"
	      ".TP\n.I /etc/tierfs/tierfs.conf\n"
	      "The system\\-wide configuration file.\n"
	      ".TP\n.I ~/.config/tierfs/tierfs.conf\n"
	      "A user's configuration file (under $XDG_CONFIG_HOME when set); read first.\n"
	      ".TP\n.I $XDG_RUNTIME_DIR/tierfs\n"
	      "Default state directory (control socket); /tmp/tierfs\\-$USER when "
	      "XDG_RUNTIME_DIR is not set.\n"
	      ".SH EXAMPLES\n"
	      "Mount as an ordinary user, in the foreground:\n"
	      ".PP\n.RS\n.nf\n"
	      "tierfs $HOME/scratch \\-f \\-o config=$HOME/tierfs.conf\n"
	      ".fi\n.RE\n"
	      ".PP\n"
	      "Override the placement policy and the thread count:\n"
	      ".PP\n.RS\n.nf\n"
	      "tierfs /scratch \\-o config=/etc/tierfs/tierfs.conf,placement=most\\-free,threads=16\n"
	      ".fi\n.RE\n"
	      ".PP\n"
	      "An\n"
	      ".BR fstab (5)\n"
	      "line (the first field is ignored by tierfs):\n"
	      ".PP\n.RS\n.nf\n"
	      "tierfs /scratch fuse.tierfs config=/etc/tierfs/tierfs.conf 0 0\n"
	      ".fi\n.RE\n"
	      ".PP\n"
	      "With the systemd template unit shipped as tierfs@.service, mount on /scratch:\n"
	      ".PP\n.RS\n.nf\n"
	      "systemctl start tierfs@scratch\n"
	      ".fi\n.RE\n"
	      ".SH SEE ALSO\n"
	      ".BR tierfs.conf (5),\n"
	      ".BR tierctl (1),\n"
	      ".BR fuse (8),\n"
	      ".BR mount.fuse3 (8),\n"
	      ".BR fusermount3 (1)\n",
	      out);
}

static void keys_of(FILE *out, enum tcfg_scope scope)
{
	for (size_t i = 0; i < tcfg_noptions; i++) {
		const struct tcfg_option *o = &tcfg_options[i];
		if (o->scope != scope)
			continue;
		option_entry(out, o, "", " = ");
		fputs("Value: ", out);
		roff(out, tcfg_type_desc(o->type));
		fputs(".", out);
		if (o->mount_option)
			fputs(" Also a mount option.", out);
		fputc('\n', out);
	}
}

static int example(FILE *out, const char *conf)
{
	FILE *f = fopen(conf, "r");
	char *line = NULL;
	size_t cap = 0;
	int blank = 1;

	if (!f)
		return -errno;
	fputs(".SH EXAMPLE\n"
	      "The example shipped with tierfs, without its comments:\n"
	      ".PP\n.RS\n.nf\n",
	      out);
	while (getline(&line, &cap, f) >= 0) {
		char *s = line + strspn(line, " \t");
		if (*s == '#' || *s == ';')
			continue;
		s[strcspn(s, "\r\n")] = '\0';
		if (!*s) {
			if (!blank)
				fputs("\n", out);
			blank = 1;
			continue;
		}
		blank = 0;
		roff(out, s);
		fputc('\n', out);
	}
	fputs(".fi\n.RE\n", out);
	free(line);
	fclose(f);
	return 0;
}

static int man5(FILE *out, const char *conf)
{
	fprintf(out, ".TH TIERFS.CONF 5 \"\" \"tierfs %s\" \"File Formats\"\n.nh\n", TIERFS_VERSION);
	fputs(".SH NAME\n"
	      "tierfs.conf \\- configuration file of tierfs(8)\n"
	      ".SH SYNOPSIS\n"
	      ".I /etc/tierfs/tierfs.conf\n"
	      ".SH DESCRIPTION\n"
	      "An INI file: \\fB[section]\\fR headers, \\fIkey\\fR = \\fIvalue\\fR lines, "
	      "comments on lines starting with # or ;, and after a value when the # or ; "
	      "follows a space. Values are not quoted. Two kinds of sections exist: one "
	      "\\fB[global]\\fR and one \\fB[tier\\ \\fINAME\\fB]\\fR per tier, at most 8. "
	      "Tiers are listed fastest first: their order is the order of the tiers "
	      "everywhere (placement policy \\fBfirst\\fR, spilling to the next tier). A tier "
	      "name is letters, digits, _, \\- and ., and is not a policy name.\n"
	      ".PP\n"
	      "Every key is checked: an unknown section or key, a key given twice in one "
	      "section, a bad value, a tier without \\fBpath\\fR or a file without tiers is "
	      "an error, reported on one line as\n"
	      ".PP\n.RS\n"
	      "FILE:LINE: [tier NAME] key 'KEY': what is wrong (expected ...)\n"
	      ".RE\n.PP\n"
	      "and tierfs does not start. At mount time every tier directory must exist "
	      "and tiers must not lie inside one another.\n"
	      ".SH UNITS\n"
	      ".TP\n.B Sizes\n",
	      out);
	roff(out, tcfg_type_desc(TCFG_T_SIZE));
	fputs(". Suffixes are case\\-insensitive and may be followed by B or iB: "
	      "64K, 64KiB and 65536 are the same.\n"
	      ".TP\n.B Capacities\n",
	      out);
	roff(out, tcfg_type_desc(TCFG_T_CAPACITY));
	fputs("; the percentage is of the size of the filesystem holding the tier "
	      "directory, taken at mount time.\n"
	      ".TP\n.B Rates\n",
	      out);
	roff(out, tcfg_type_desc(TCFG_T_RATE));
	fputs(".\n.TP\n.B Times\n", out);
	roff(out, tcfg_type_desc(TCFG_T_DURATION));
	fputs("; the units are ns, us, ms and s.\n.TP\n.B Timeouts\n", out);
	roff(out, tcfg_type_desc(TCFG_T_SECONDS));
	fputs("; a bare number is seconds, at most one day.\n.TP\n.B Fractions\n", out);
	roff(out, tcfg_type_desc(TCFG_T_FRACTION));
	fputs(".\n.TP\n.B Booleans\n", out);
	roff(out, tcfg_type_desc(TCFG_T_BOOL));
	fputs(".\n.TP\n.B Paths\n", out);
	roff(out, tcfg_type_desc(TCFG_T_PATH));
	fputs(" from the environment of the daemon; an unset variable is an error. A "
	      "relative path is relative to the directory of the configuration file (of "
	      "the working directory for a mount option).\n"
	      ".SH [global] KEYS\n"
	      "All optional. Each can be overridden at mount time with \\fB\\-o\\fR "
	      "\\fIkey\\fR=\\fIvalue\\fR.\n",
	      out);
	keys_of(out, TCFG_SCOPE_GLOBAL);
	fputs(".SH [tier NAME] KEYS\n", out);
	keys_of(out, TCFG_SCOPE_TIER);
	if (conf && example(out, conf) != 0)
		return -1;
	fputs(".SH SEE ALSO\n.BR tierfs (8),\n.BR tierctl (1)\n", out);
	return 0;
}

int main(int argc, char **argv)
{
	const char *what = NULL, *output = NULL;
	const char *conf = TIERFS_SOURCE_DIR "/etc/tierfs.conf";
	FILE *out = stdout;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--example") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (!what)
			what = argv[i];
		else if (!output)
			output = argv[i];
		else
			what = NULL, i = argc;
	}
	if (!what || (strcmp(what, "help") && strcmp(what, "man8") && strcmp(what, "man5"))) {
		fprintf(stderr, "usage: tierfs-mangen help|man8|man5 [OUTPUT] [--example CONF]\n");
		return 2;
	}
	if (output && !(out = fopen(output, "w"))) {
		fprintf(stderr, "tierfs-mangen: %s: %s\n", output, strerror(errno));
		return 1;
	}
	if (strcmp(what, "help") == 0)
		tcfg_print_help(out);
	else if (strcmp(what, "man8") == 0)
		man8(out);
	else if (man5(out, conf) != 0) {
		fprintf(stderr, "tierfs-mangen: %s: %s\n", conf, strerror(errno));
		rc = 1;
	}
	if (out != stdout ? fclose(out) != 0 : fflush(out) != 0) {
		fprintf(stderr, "tierfs-mangen: %s: %s\n", output ? output : "stdout",
			strerror(errno));
		rc = 1;
	}
	if (rc && output)
		remove(output);
	return rc;
}
