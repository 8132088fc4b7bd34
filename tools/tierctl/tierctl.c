/*
 * tierctl.c - the tierfs control client: finds the daemon of the tierfs
 * mount that holds a path, sends it one JSON request over its control
 * socket (protocol in fs/ctl.h) and prints the reply as aligned text or,
 * with --json, as the daemon's JSON.
 *
 * Invariants: paths go to the daemon relative to the mount's root and
 * never leave it (they are resolved here first, the daemon checks again);
 * a request never exceeds TFS_CTL_MAX_REQUEST (where batches its paths);
 * exit status 0 = done, 1 = the request failed, 2 = usage error.
 * Assumes Linux: /proc/self/mountinfo, getxattr, SO_RCVTIMEO.
 */
#define _GNU_SOURCE
#include "commands.h"
#include "workflow.h"
#include "ctl.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef TIERFS_VERSION
#define TIERFS_VERSION "0"
#endif

#define EXIT_FAIL	1
#define EXIT_USAGE	2
#define REPLY_TIMEOUT_S 60
#define MAX_REPLY	(256u << 20)
#define WRAP		78
#define HELP_COL	28 /* where the help text of a command or option starts */

/* ------------------------------------------------------------------ */
/* Help, from the command table                                        */

/* Print text word-wrapped at WRAP columns, each line indented. */
static void wrap(FILE *out, const char *text, int indent, int first_col)
{
	int col = first_col;
	const char *s = text;
	if (col < indent) {
		fprintf(out, "%*s", indent - col, "");
		col = indent;
	}
	int line_start = 1;
	while (*s) {
		while (*s == ' ')
			s++;
		size_t w = strcspn(s, " ");
		if (!w)
			break;
		if (!line_start && col + 1 + (int)w > WRAP) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
			line_start = 1;
		}
		if (!line_start) {
			fputc(' ', out);
			col++;
		}
		fwrite(s, 1, w, out);
		col += (int)w;
		s += w;
		line_start = 0;
	}
	fputc('\n', out);
}

static const char *cmd_fullname(const struct tctl_command *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", c->group ? c->group : "", c->group ? " " : "", c->name);
	return buf;
}

/* "  lead      text wrapped in its column", the lead on a line of its
 * own when it reaches the column. */
static void hanging(FILE *out, const char *lead, const char *text)
{
	fputs(lead, out);
	int col = (int)strlen(lead);
	if (col >= HELP_COL) {
		fputc('\n', out);
		col = 0;
	}
	wrap(out, text, HELP_COL, col);
}

static void option_help(FILE *out, const struct tctl_option *o)
{
	char lead[64];
	snprintf(lead, sizeof(lead), "  %s%s%s%s%s", o->alias ? o->alias : "", o->alias ? ", " : "",
		 o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
	hanging(out, lead, o->help);
}

static void command_line(FILE *out, const struct tctl_command *c)
{
	char name[64], lead[96];
	snprintf(lead, sizeof(lead), "  %s%s%s", cmd_fullname(c, name, sizeof(name)),
		 c->args[0] ? " " : "", c->args);
	hanging(out, lead, c->summary);
}

static void usage_main(FILE *out)
{
	fputs("Usage: tierctl [--mount DIR] [--json] COMMAND [ARGS]\n\n", out);
	wrap(out, tctl_description, 0, 0);
	fputs("\nCommands:\n", out);
	for (size_t i = 0; i < TCTL_NCMDS; i++)
		command_line(out, &tctl_commands[i]);
	fputs("\nGlobal options (before or after the command):\n", out);
	for (const struct tctl_option *o = tctl_global_options; o->name; o++)
		option_help(out, o);
	fputs("\nExit status: ", out);
	wrap(out, tctl_exit_status, 0, (int)strlen("Exit status: "));
	fputs("Run 'tierctl COMMAND --help' for the options of a command; see tierctl(1).\n", out);
}

static void usage_group(FILE *out, const char *group)
{
	fprintf(out, "Usage: tierctl [--mount DIR] [--json] %s COMMAND [ARGS]\n\nCommands:\n",
		group);
	for (size_t i = 0; i < TCTL_NCMDS; i++)
		if (tctl_commands[i].group && !strcmp(tctl_commands[i].group, group))
			command_line(out, &tctl_commands[i]);
}

static void usage_command(FILE *out, const struct tctl_command *c)
{
	char name[64];
	fprintf(out, "Usage: tierctl [--mount DIR] [--json] %s",
		cmd_fullname(c, name, sizeof(name)));
	for (const struct tctl_option *o = c->options; o->name; o++)
		fprintf(out, " [%s%s%s]", o->alias ? o->alias : o->name, o->metavar ? " " : "",
			o->metavar ? o->metavar : "");
	fprintf(out, "%s%s\n\n", c->args[0] ? " " : "", c->args);
	wrap(out, c->description, 0, 0);
	if (c->options[0].name) {
		fputs("\nOptions:\n", out);
		for (const struct tctl_option *o = c->options; o->name; o++)
			option_help(out, o);
	}
	fputs("\nGlobal options:\n", out);
	for (const struct tctl_option *o = tctl_global_options; o->name; o++)
		option_help(out, o);
}

static void usage_error(const struct tctl_command *c, const char *fmt, ...)
{
	char name[64];
	va_list ap;
	fputs("tierctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (c)
		fprintf(stderr, "\nTry 'tierctl %s --help'.\n",
			cmd_fullname(c, name, sizeof(name)));
	else
		fputs("\nTry 'tierctl --help'.\n", stderr);
	exit(EXIT_USAGE);
}

/* ------------------------------------------------------------------ */
/* Command line                                                        */

struct cli {
	const char *mount; /* --mount DIR */
	int json, help, version;
	const char *group; /* "workflow" once seen */
	const struct tctl_command *cmd;
	const char *optval[TCTL_MAX_OPTIONS]; /* value, or "" for a flag given */
	char **pos;
	int npos;
};

static const struct tctl_command *find_command(const char *group, const char *name)
{
	for (size_t i = 0; i < TCTL_NCMDS; i++) {
		const struct tctl_command *c = &tctl_commands[i];
		if (!strcmp(c->name, name) &&
		    ((!group && !c->group) || (group && c->group && !strcmp(group, c->group))))
			return c;
	}
	return NULL;
}

/* Match "--name", "--name=value" or the alias; *val gets the value (from
 * the token or the next argument) for an option that takes one. */
static int match_option(const struct tctl_option *o, char **argv, int *i, int argc,
			const char **val, const struct tctl_command *c)
{
	const char *a = argv[*i];
	size_t n = strlen(o->name);
	int eq = !strncmp(a, o->name, n) && a[n] == '=';
	if (strcmp(a, o->name) && !(o->alias && !strcmp(a, o->alias)) && !eq)
		return 0;
	if (!o->metavar) {
		if (eq)
			usage_error(c, "option '%s' takes no value", o->name);
		*val = "";
		return 1;
	}
	if (eq) {
		*val = a + n + 1;
	} else {
		if (*i + 1 >= argc)
			usage_error(c, "option '%s' needs a value (%s)", a, o->metavar);
		*val = argv[++*i];
	}
	return 1;
}

static void parse_cli(int argc, char **argv, struct cli *cl)
{
	memset(cl, 0, sizeof(*cl));
	cl->pos = calloc((size_t)argc, sizeof(char *));
	if (!cl->pos) {
		fputs("tierctl: out of memory\n", stderr);
		exit(EXIT_FAIL);
	}
	int dashdash = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!dashdash && a[0] == '-' && a[1]) {
			const char *val;
			if (!strcmp(a, "--")) {
				dashdash = 1;
				continue;
			}
			if (match_option(&tctl_global_options[0], argv, &i, argc, &val, cl->cmd)) {
				cl->mount = val;
				continue;
			}
			if (match_option(&tctl_global_options[1], argv, &i, argc, &val, cl->cmd)) {
				cl->json = 1;
				continue;
			}
			if (match_option(&tctl_global_options[2], argv, &i, argc, &val, cl->cmd)) {
				cl->help = 1;
				continue;
			}
			if (match_option(&tctl_global_options[3], argv, &i, argc, &val, cl->cmd)) {
				cl->version = 1;
				continue;
			}
			int found = 0;
			for (int k = 0;
			     cl->cmd && k < TCTL_MAX_OPTIONS && cl->cmd->options[k].name && !found;
			     k++)
				if (match_option(&cl->cmd->options[k], argv, &i, argc, &val,
						 cl->cmd)) {
					cl->optval[k] = val;
					found = 1;
				}
			if (found)
				continue;
			if (cl->cmd)
				usage_error(cl->cmd, "unknown option '%s' for '%s%s%s'", a,
					    cl->group ? cl->group : "", cl->group ? " " : "",
					    cl->cmd->name);
			usage_error(NULL, "unknown option '%s'", a);
		}
		if (cl->cmd) {
			cl->pos[cl->npos++] = argv[i];
		} else if (cl->group) {
			cl->cmd = find_command(cl->group, a);
			if (!cl->cmd)
				usage_error(
				    NULL,
				    "unknown command '%s %s' (expected attach, detach or list)",
				    cl->group, a);
		} else if (!strcmp(a, "workflow")) {
			cl->group = "workflow";
		} else {
			cl->cmd = find_command(NULL, a);
			if (!cl->cmd)
				usage_error(NULL, "unknown command '%s'", a);
		}
	}
	if (cl->version) {
		printf("tierctl %s\n", TIERFS_VERSION);
		exit(0);
	}
	if (cl->help) {
		if (cl->cmd)
			usage_command(stdout, cl->cmd);
		else if (cl->group)
			usage_group(stdout, cl->group);
		else
			usage_main(stdout);
		exit(0);
	}
	if (!cl->cmd) {
		if (cl->group) {
			usage_group(stderr, cl->group);
			exit(EXIT_USAGE);
		}
		usage_main(stderr);
		exit(EXIT_USAGE);
	}
	const struct tctl_command *c = cl->cmd;
	if (cl->npos < c->min_args || (c->max_args >= 0 && cl->npos > c->max_args)) {
		char name[64];
		usage_error(c, "'%s' expects %s%s", cmd_fullname(c, name, sizeof(name)),
			    c->args[0] ? c->args : "no arguments",
			    cl->npos < c->min_args ? " (missing)" : " (too many arguments)");
	}
}

/* ------------------------------------------------------------------ */
/* Finding the daemon                                                  */

struct mountent {
	char *point;
	char *fstype;
};

struct mounts {
	struct mountent *e;
	size_t n;
};

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static int read_mounts(struct mounts *m, char *err, size_t errlen)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f) {
		snprintf(err, errlen, "cannot read /proc/self/mountinfo: %s", strerror(errno));
		return -errno;
	}
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		/* id parent maj:min root MOUNTPOINT options [optional...] - FSTYPE source superopts
		 */
		char *save = NULL, *tok = strtok_r(line, " \n", &save);
		char *point = NULL, *fstype = NULL;
		for (int field = 0; tok; field++, tok = strtok_r(NULL, " \n", &save)) {
			if (field == 4)
				point = tok;
			if (field > 5 && !strcmp(tok, "-")) {
				fstype = strtok_r(NULL, " \n", &save);
				break;
			}
		}
		if (!point || !fstype)
			continue;
		struct mountent *ne = realloc(m->e, (m->n + 1) * sizeof(*ne));
		if (!ne)
			break;
		m->e = ne;
		unescape_octal(point);
		ne[m->n].point = strdup(point);
		ne[m->n].fstype = strdup(fstype);
		if (ne[m->n].point && ne[m->n].fstype)
			m->n++;
	}
	free(line);
	fclose(f);
	return 0;
}

/* The mount that holds the absolute, resolved path abs: the longest
 * mountpoint that is abs or a directory above it, the later of equal ones
 * (a mount over a mount).  Returns its index, or -1. */
static int mount_of(const struct mounts *m, const char *abs)
{
	int best = -1;
	size_t bestlen = 0;
	for (size_t i = 0; i < m->n; i++) {
		const char *p = m->e[i].point;
		size_t l = strlen(p);
		int inside =
		    !strcmp(p, "/") || (!strncmp(abs, p, l) && (abs[l] == '\0' || abs[l] == '/'));
		if (inside && (best < 0 || l >= bestlen)) {
			best = (int)i;
			bestlen = l;
		}
	}
	return best;
}

static int is_tierfs(const struct mountent *e)
{
	return !strcmp(e->fstype, "fuse.tierfs");
}

/* Why arg cannot be resolved.  Under a tierfs mount, EACCES usually means
 * another user's mount (FUSE lets only the user who mounted in, unless
 * the mount has allow_other) and ENOTCONN a daemon that died. */
static void path_error(const struct mounts *m, const char *arg, int e, char *err, size_t errlen)
{
	char abs[2 * PATH_MAX + 2] = "", cwd[PATH_MAX];
	int hint = e == EACCES || e == ENOTCONN;
	if (hint && arg[0] == '/')
		snprintf(abs, sizeof(abs), "%s", arg);
	else if (hint && getcwd(cwd, sizeof(cwd)))
		snprintf(abs, sizeof(abs), "%s/%s", cwd, arg);
	int i = abs[0] ? mount_of(m, abs) : -1;
	if (i >= 0 && is_tierfs(&m->e[i]) && e == EACCES)
		snprintf(err, errlen,
			 "%s: %s (the tierfs mount at %s lets in only the user who mounted it)",
			 arg, strerror(e), m->e[i].point);
	else if (i >= 0 && is_tierfs(&m->e[i]))
		snprintf(
		    err, errlen,
		    "%s: %s (the daemon of the tierfs mount at %s is gone; unmount it with fusermount3 -u)",
		    arg, strerror(e), m->e[i].point);
	else
		snprintf(err, errlen, "%s: %s", arg, strerror(e));
}

/* Resolve a command-line path to an absolute one without following its
 * last component (so "where LINK" shows the link, and a name that does
 * not exist yet still names its directory's mount). */
static int resolve(const struct mounts *m, const char *arg, char *out, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s", arg) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%.200s...: the path is too long", arg);
		return -ENAMETOOLONG;
	}
	size_t l = strlen(tmp);
	while (l > 1 && tmp[l - 1] == '/')
		tmp[--l] = '\0';
	char *slash = strrchr(tmp, '/');
	const char *base = slash ? slash + 1 : tmp;
	if (!strcmp(base, ".") || !strcmp(base, "..") || !strcmp(tmp, "/") ||
	    arg[strlen(arg) - 1] == '/') {
		if (!realpath(tmp, out)) {
			int e = errno;
			path_error(m, arg, e, err, errlen);
			return -e;
		}
		return 0;
	}
	char dir[PATH_MAX];
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == tmp)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - tmp), tmp);
	char rdir[PATH_MAX];
	if (!realpath(dir, rdir)) {
		int e = errno;
		path_error(m, arg, e, err, errlen);
		return -e;
	}
	if (snprintf(out, PATH_MAX, "%s%s%s", rdir, strcmp(rdir, "/") ? "/" : "", base) >=
	    PATH_MAX) {
		snprintf(err, errlen, "%.200s...: the path is too long", arg);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* A daemon found: its mountpoint and socket. */
struct daemon {
	const char *mountpoint;
	char socket[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

struct ctx {
	struct cli cl;
	struct mounts mounts;
	struct daemon *daemons; /* one per tierfs mount met, by mounts index */
	int forced;		/* mounts index chosen by --mount, or -1 */
};

/* The daemon of the tierfs mount that holds abs; err names the path
 * given as arg when there is none. */
static struct daemon *daemon_for(struct ctx *x, const char *arg, const char *abs, char *err,
				 size_t errlen)
{
	int i = mount_of(&x->mounts, abs);
	if (i < 0 || !is_tierfs(&x->mounts.e[i])) {
		if (i >= 0 && strcmp(x->mounts.e[i].point, "/"))
			snprintf(err, errlen,
				 "%s is not inside a tierfs mount (it is on %s, mounted at %s)",
				 arg, x->mounts.e[i].fstype, x->mounts.e[i].point);
		else
			snprintf(err, errlen, "%s is not inside a tierfs mount", arg);
		return NULL;
	}
	if (x->forced >= 0 && i != x->forced) {
		snprintf(err, errlen, "%s is not inside the mount at %s (given with --mount)", arg,
			 x->mounts.e[x->forced].point);
		return NULL;
	}
	if (!x->daemons) {
		x->daemons = calloc(x->mounts.n, sizeof(*x->daemons));
		if (!x->daemons) {
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
	}
	struct daemon *d = &x->daemons[i];
	if (d->mountpoint)
		return d;
	const char *mp = x->mounts.e[i].point;
	ssize_t n = getxattr(mp, TFS_XATTR_SOCKET, d->socket, sizeof(d->socket) - 1);
	if (n < 0) {
		int e = errno;
		if (e == ENODATA || e == ENOTSUP)
			snprintf(
			    err, errlen,
			    "the tierfs mount at %s has no control socket (no %s attribute on its root; the daemon's log says why)",
			    mp, TFS_XATTR_SOCKET);
		else if (e == ERANGE)
			snprintf(
			    err, errlen,
			    "the tierfs mount at %s gives a socket path longer than a Unix socket allows",
			    mp);
		else if (e == EACCES)
			snprintf(
			    err, errlen,
			    "cannot read %s of the tierfs mount at %s: %s (the mount lets in only the user who mounted it)",
			    TFS_XATTR_SOCKET, mp, strerror(e));
		else if (e == ENOTCONN)
			snprintf(
			    err, errlen,
			    "cannot read %s of the tierfs mount at %s: %s (its daemon is gone; unmount it with fusermount3 -u)",
			    TFS_XATTR_SOCKET, mp, strerror(e));
		else
			snprintf(err, errlen, "cannot read %s of the tierfs mount at %s: %s",
				 TFS_XATTR_SOCKET, mp, strerror(e));
		return NULL;
	}
	d->socket[n] = '\0';
	d->mountpoint = mp;
	return d;
}

/* The daemon for a command that names no path: --mount DIR, else the cwd. */
static struct daemon *daemon_default(struct ctx *x)
{
	char abs[PATH_MAX], err[PATH_MAX + 256];
	const char *arg = x->cl.mount ? x->cl.mount : ".";
	if (!realpath(arg, abs)) {
		path_error(&x->mounts, arg, errno, err, sizeof(err));
		fprintf(stderr, "tierctl: %s\n", err);
		exit(EXIT_FAIL);
	}
	struct daemon *d = daemon_for(x, x->cl.mount ? x->cl.mount : abs, abs, err, sizeof(err));
	if (!d) {
		if (!x->cl.mount)
			fprintf(
			    stderr,
			    "tierctl: %s; run tierctl inside a tierfs mount or give --mount DIR\n",
			    err);
		else
			fprintf(stderr, "tierctl: %s\n", err);
		exit(EXIT_FAIL);
	}
	return d;
}

/* The path relative to the mount's root, as the daemon wants it. */
static const char *relative(const struct daemon *d, const char *abs)
{
	size_t l = strlen(d->mountpoint);
	if (!strcmp(d->mountpoint, "/"))
		l = 0;
	const char *r = abs + l;
	while (*r == '/')
		r++;
	return *r ? r : ".";
}

/* ------------------------------------------------------------------ */
/* Talking to the daemon                                               */

/* Send req, return the reply object (ok or not), or NULL with err set. */
static cJSON *request(const struct daemon *d, const cJSON *req, char *err, size_t errlen)
{
	cJSON *reply = NULL;
	char *buf = NULL;
	char *msg = cJSON_PrintUnformatted(req);
	int fd = -1;
	if (!msg) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	size_t ml = strlen(msg);
	if (ml + 1 > TFS_CTL_MAX_REQUEST) {
		snprintf(err, errlen, "the request is %zu bytes, more than the daemon accepts (%d)",
			 ml + 1, TFS_CTL_MAX_REQUEST);
		goto out;
	}
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		if (e == EACCES || e == EPERM)
			snprintf(
			    err, errlen,
			    "cannot connect to the daemon of %s at %s: %s (the socket is owner-only: run tierctl as the user who mounted)",
			    d->mountpoint, d->socket, strerror(e));
		else
			snprintf(err, errlen, "cannot connect to the daemon of %s at %s: %s",
				 d->mountpoint, d->socket, strerror(e));
		goto out;
	}
	struct timeval tv = {REPLY_TIMEOUT_S, 0};
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	msg[ml] = '\n'; /* the terminator replaces the NUL for the send */
	for (size_t off = 0; off < ml + 1;) {
		ssize_t w = send(fd, msg + off, ml + 1 - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
			break; /* it refused us before reading: its reply says why */
		if (w <= 0) {
			snprintf(err, errlen, "cannot send to the daemon of %s: %s", d->mountpoint,
				 strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	msg[ml] = '\0';
	size_t len = 0, cap = 65536;
	buf = malloc(cap);
	for (;;) {
		if (!buf) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		if (len + 1 == cap) {
			if (cap >= MAX_REPLY) {
				snprintf(err, errlen,
					 "the daemon of %s sent a reply larger than %u bytes",
					 d->mountpoint, MAX_REPLY);
				goto out;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				snprintf(err, errlen, "the daemon of %s did not answer within %d s",
					 d->mountpoint, REPLY_TIMEOUT_S);
			else
				snprintf(err, errlen,
					 "cannot read the reply of the daemon of %s: %s",
					 d->mountpoint, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	reply = cJSON_ParseWithLength(buf, len);
	if (!reply || !cJSON_IsObject(reply) ||
	    !cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(reply, "ok"))) {
		snprintf(err, errlen,
			 len ? "the daemon of %s sent a reply that is not a JSON object with \"ok\""
			     : "the daemon of %s closed the connection without a reply",
			 d->mountpoint);
		cJSON_Delete(reply);
		reply = NULL;
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	cJSON_free(msg);
	return reply;
}

static int reply_ok(const cJSON *r)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok"));
}

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int num_of(const cJSON *o, const char *key, double *v)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(n))
		return 0;
	*v = n->valuedouble;
	return 1;
}

/* A number of the reply, 0 when it is absent (an older daemon). */
static double num0(const cJSON *o, const char *key)
{
	double v = 0;
	num_of(o, key, &v);
	return v;
}

/* --json output of a command that makes several requests: {"ok": true,
 * "files": [...]}; *files gets the array. */
static cJSON *json_files(cJSON **files)
{
	cJSON *all = cJSON_CreateObject();
	cJSON_AddBoolToObject(all, "ok", 1);
	*files = cJSON_AddArrayToObject(all, "files");
	return all;
}

static void print_json(const cJSON *r)
{
	char *s = cJSON_Print(r);
	if (s)
		printf("%s\n", s);
	cJSON_free(s);
}

/* One request for a command that names no path, or exit 1 with why.  On
 * a refusal, --json still prints the reply (for scripts). */
static cJSON *call(struct ctx *x, const struct daemon *d, cJSON *req)
{
	char err[PATH_MAX + 512];
	cJSON *r = request(d, req, err, sizeof(err));
	cJSON_Delete(req);
	if (!r) {
		fprintf(stderr, "tierctl: %s\n", err);
		exit(EXIT_FAIL);
	}
	if (!reply_ok(r)) {
		if (x->cl.json)
			print_json(r);
		const char *e = str_of(r, "error");
		fprintf(stderr, "tierctl: %s\n",
			e ? e : "the daemon refused the request without saying why");
		cJSON_Delete(r);
		exit(EXIT_FAIL);
	}
	return r;
}

static cJSON *new_request(const char *cmd)
{
	cJSON *r = cJSON_CreateObject();
	if (!r || !cJSON_AddStringToObject(r, "cmd", cmd)) {
		fputs("tierctl: out of memory\n", stderr);
		exit(EXIT_FAIL);
	}
	return r;
}

/* ------------------------------------------------------------------ */
/* Human output                                                        */

/* Sizes in powers of 1024, as ls -h: "512B", "1.5K", "12M". */
static const char *hsize(double b, char *buf, size_t len)
{
	static const char units[] = "BKMGTPE";
	int u = 0;
	while (b >= 1023.5 && units[u + 1]) { /* 1023.9K shows as 1.0M, not 1024K */
		b /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0fB", b);
	else if (b < 9.95)
		snprintf(buf, len, "%.1f%c", b, units[u]);
	else
		snprintf(buf, len, "%.0f%c", b, units[u]);
	return buf;
}

static const char *hrate(double b, char *buf, size_t len)
{
	char s[24];
	/* hsize() gives a few characters; the precision bounds them for the compiler. */
	snprintf(buf, len, "%.12s/s", hsize(b, s, sizeof(s)));
	return buf;
}

/* A text table: cells are copied; control characters in them are shown
 * escaped so that one row stays one line.  Columns empty in every row are
 * left out. */
struct table {
	int ncols;
	const char *const *hdr;
	const char *align; /* 'l' or 'r' per column */
	char **cell;
	size_t nrows, cap;
};

static char *escaped(const char *s)
{
	size_t l = strlen(s);
	char *o = malloc(4 * l + 1), *p = o;
	if (!o)
		return NULL;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch < 0x20 || ch == 0x7f)
			p += sprintf(p, "\\x%02x", ch);
		else
			*p++ = (char)ch;
	}
	*p = '\0';
	return o;
}

static void table_row(struct table *t, ...)
{
	if (t->nrows == t->cap) {
		size_t nc = t->cap ? 2 * t->cap : 16;
		char **c = realloc(t->cell, nc * (size_t)t->ncols * sizeof(char *));
		if (!c) {
			fputs("tierctl: out of memory\n", stderr);
			exit(EXIT_FAIL);
		}
		t->cell = c;
		t->cap = nc;
	}
	va_list ap;
	va_start(ap, t);
	for (int i = 0; i < t->ncols; i++) {
		const char *s = va_arg(ap, const char *);
		char *e = escaped(s ? s : "");
		if (!e) {
			fputs("tierctl: out of memory\n", stderr);
			exit(EXIT_FAIL);
		}
		t->cell[t->nrows * (size_t)t->ncols + (size_t)i] = e;
	}
	va_end(ap);
	t->nrows++;
}

static void table_print(struct table *t, FILE *out, const char *indent)
{
	int w[16] = {0}, used[16] = {0}, last = -1;
	for (int i = 0; i < t->ncols && i < 16; i++) {
		if (t->hdr)
			w[i] = (int)strlen(t->hdr[i]);
		for (size_t r = 0; r < t->nrows; r++) {
			const char *s = t->cell[r * (size_t)t->ncols + (size_t)i];
			if (*s)
				used[i] = 1;
			if ((int)strlen(s) > w[i])
				w[i] = (int)strlen(s);
		}
		if (used[i])
			last = i;
	}
	for (long r = t->hdr ? -1 : 0; r < (long)t->nrows; r++) {
		fputs(indent, out);
		int first = 1;
		for (int i = 0; i <= last; i++) {
			if (!used[i])
				continue;
			const char *s =
			    r < 0 ? t->hdr[i] : t->cell[(size_t)r * (size_t)t->ncols + (size_t)i];
			if (!first)
				fputs("  ", out);
			first = 0;
			if (t->align[i] == 'r')
				fprintf(out, "%*s", w[i], s);
			else if (i == last)
				fputs(s, out);
			else
				fprintf(out, "%-*s", w[i], s);
		}
		fputc('\n', out);
	}
	for (size_t k = 0; k < t->nrows * (size_t)t->ncols; k++)
		free(t->cell[k]);
	free(t->cell);
	t->cell = NULL;
	t->nrows = t->cap = 0;
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */

static void workflows_table(const cJSON *list, const char *indent)
{
	static const char *const hdr[] = {"DIR", "NAME", "FORMAT", "TASKS", "FILES", "PLAN", "FILE"};
	struct table t = {7, hdr, "lllrrll", NULL, 0, 0};
	const cJSON *w;
	cJSON_ArrayForEach(w, list)
	{
		char ts[24], fs[24];
		snprintf(ts, sizeof(ts), "%.0f", num0(w, "tasks"));
		snprintf(fs, sizeof(fs), "%.0f", num0(w, "files"));
		const char *name = str_of(w, "name");
		const char *plan = str_of(w, "plan");
		table_row(&t, str_of(w, "dir"), name && *name ? name : "-", str_of(w, "format"), ts,
			  fs, plan && *plan ? plan : "-", str_of(w, "file"));
	}
	table_print(&t, stdout, indent);
	/* The plan's figures (or why the model stays), one line each. */
	cJSON_ArrayForEach(w, list)
	{
		const char *detail = str_of(w, "plan_detail");
		if (detail && *detail)
			printf("%s%s: %s\n", indent, str_of(w, "dir"), detail);
	}
}

/* One line on the load phase (status and stats), or 0 when the mount has
 * no phase model. */
static int phase_line(const cJSON *r, char *buf, size_t len)
{
	const cJSON *ph = cJSON_GetObjectItemCaseSensitive(r, "phase");
	if (!cJSON_IsObject(ph))
		return 0;
	int cur = (int)num0(ph, "current"), next = (int)num0(ph, "next");
	size_t n;
	if (cur < 0)
		n = (size_t)snprintf(buf, len, "warming up (%.0f phases known)", num0(ph, "phases"));
	else
		n = (size_t)snprintf(buf, len, "%d of %.0f for %.0f ticks, %.0f changes; next likely %d (%.0f%%)%s", cur,
				     num0(ph, "phases"), num0(ph, "ticks_in_phase"), num0(ph, "changes"), next,
				     100 * num0(ph, "next_prob"),
				     cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ph, "novel")) ? "; NOVEL load" : "");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ph, "proactive"))) {
		const cJSON *h;
		n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, "; proactive headroom");
		cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(ph, "headroom"))
		{
			char sz[16];
			n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, " %s %s", h->string,
					      hsize(cJSON_IsNumber(h) ? h->valuedouble : 0, sz, sizeof(sz)));
		}
	}
	return 1;
}

static int cmd_status(struct ctx *x)
{
	struct daemon *d = daemon_default(x);
	cJSON *r = call(x, d, new_request("status"));
	if (x->cl.json) {
		print_json(r);
		cJSON_Delete(r);
		return 0;
	}
	static const char *const hdr[] = {"TIER", "USED", "CAPACITY", "FREE", "USE%",	  "HIGH",
					  "LOW",  "READ", "WRITE",    "OPEN", "DIRECTORY"};
	struct table t = {11, hdr, "lrrrrrrrrrl", NULL, 0, 0};
	const cJSON *tier;
	int emulated = 0;
	cJSON_ArrayForEach(tier, cJSON_GetObjectItemCaseSensitive(r, "tiers"))
	{
		double used = num0(tier, "used"), cap = num0(tier, "capacity"), rd, wr, open;
		char su[16], sc[16], sf[16], pct[16], shi[16], slo[16], srd[24] = "-",
									swr[24] = "-", so[24] = "-";
		char name[80];
		if (cap > 0)
			snprintf(pct, sizeof(pct), "%.0f%%", 100.0 * used / cap);
		else
			snprintf(pct, sizeof(pct), "-");
		snprintf(shi, sizeof(shi), "%.0f%%", 100.0 * num0(tier, "high_watermark"));
		snprintf(slo, sizeof(slo), "%.0f%%", 100.0 * num0(tier, "low_watermark"));
		if (num_of(tier, "read_Bps", &rd))
			hrate(rd, srd, sizeof(srd));
		if (num_of(tier, "write_Bps", &wr))
			hrate(wr, swr, sizeof(swr));
		if (num_of(tier, "open_files", &open))
			snprintf(so, sizeof(so), "%.0f", open);
		int em = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(tier, "emulated"));
		emulated |= em;
		snprintf(name, sizeof(name), "%s%s",
			 str_of(tier, "name") ? str_of(tier, "name") : "?", em ? "*" : "");
		table_row(&t, name, hsize(used, su, sizeof(su)), hsize(cap, sc, sizeof(sc)),
			  hsize(num0(tier, "free"), sf, sizeof(sf)), pct, shi, slo, srd, swr, so,
			  str_of(tier, "path"));
	}
	printf("mount %s\n\n", d->mountpoint);
	table_print(&t, stdout, "");
	if (emulated)
		puts("* bandwidth or latency emulated (config)");
	putchar('\n');

	const char *model = str_of(r, "model");
	char policy[128], spills[32];
	const char *pol = str_of(r, "policy"), *fb = str_of(r, "fallback");
	if (pol && fb && strcmp(pol, fb))
		snprintf(policy, sizeof(policy), "%s (fallback %s)", pol, fb);
	else
		snprintf(policy, sizeof(policy), "%s", pol ? pol : "?");
	snprintf(spills, sizeof(spills), "%.0f", num0(r, "spills"));
	struct table kv = {2, NULL, "ll", NULL, 0, 0};
	table_row(&kv, "policy", policy);
	table_row(&kv, "model", model ? model : "none");
	table_row(&kv, "passthrough", str_of(r, "passthrough"));
	table_row(&kv, "io_uring", str_of(r, "io_uring"));
	table_row(&kv, "spliced reads", str_of(r, "spliced_reads") ? str_of(r, "spliced_reads") : "?");
	const cJSON *lo = cJSON_GetObjectItemCaseSensitive(r, "loop");
	if (cJSON_IsObject(lo)) {
		char line[256];
		snprintf(line, sizeof(line),
			 "now %s (spin %.0f us); requests read by one leader %.0f, by all threads %.0f; "
			 "%.0f switches; %.0f slow requests handed over",
			 str_of(lo, "mode") ? str_of(lo, "mode") : "?", num0(lo, "spin_us"), num0(lo, "by_leader"),
			 num0(lo, "by_all"), num0(lo, "switches"), num0(lo, "takeovers"));
		table_row(&kv, "request loop", line);
	}
	table_row(&kv, "writeback cache",
		  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "writeback_cache")) ? "on"
										       : "off");
	table_row(&kv, "spills", spills);
	char phase[512];
	if (phase_line(r, phase, sizeof(phase)))
		table_row(&kv, "phase", phase);
	const cJSON *mig = cJSON_GetObjectItemCaseSensitive(r, "migration");
	if (cJSON_IsObject(mig)) {
		char smb[16], sdb[16], spb[16], line[256];
		snprintf(
		    line, sizeof(line),
		    "%s; %.0f moves (%s); demoted %.0f files (%s), promoted %.0f (%s); %.0f failed",
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(mig, "running")) ? "running"
										   : "off",
		    num0(mig, "moves_total"),
		    hsize(num0(mig, "moved_bytes_total"), smb, sizeof(smb)),
		    num0(mig, "demoted_files"), hsize(num0(mig, "demoted_bytes"), sdb, sizeof(sdb)),
		    num0(mig, "promoted_files"),
		    hsize(num0(mig, "promoted_bytes"), spb, sizeof(spb)), num0(mig, "failed"));
		table_row(&kv, "migrator", line);
	}
	table_row(&kv, "config", str_of(r, "config"));
	table_row(&kv, "state dir", str_of(r, "state_dir"));
	const cJSON *wfs = cJSON_GetObjectItemCaseSensitive(r, "workflows");
	char nwf[32];
	snprintf(nwf, sizeof(nwf), "%d attached", cJSON_GetArraySize(wfs));
	table_row(&kv, "workflows", cJSON_GetArraySize(wfs) ? nwf : "none");
	table_print(&kv, stdout, "");
	if (cJSON_GetArraySize(wfs)) {
		putchar('\n');
		workflows_table(wfs, "");
	}
	cJSON_Delete(r);
	return 0;
}

/* where: one row per path, in the order given; the paths of one mount go
 * in batches that keep each request under the daemon's limit. */
struct where_arg {
	const char *arg;
	char abs[PATH_MAX];
	struct daemon *d;
	char *error; /* set when the path could not be asked about */
	cJSON *file; /* the daemon's answer */
};

static void where_flush(struct where_arg *w, size_t from, size_t to)
{
	if (from == to)
		return;
	cJSON *req = new_request("where");
	cJSON *paths = cJSON_AddArrayToObject(req, "paths");
	for (size_t i = from; i < to; i++)
		cJSON_AddItemToArray(paths, cJSON_CreateString(relative(w[from].d, w[i].abs)));
	char err[PATH_MAX + 512];
	cJSON *r = request(w[from].d, req, err, sizeof(err));
	cJSON_Delete(req);
	const char *why = r ? (reply_ok(r) ? NULL : str_of(r, "error")) : err;
	if (r && !reply_ok(r) && !why)
		why = "the daemon refused the request without saying why";
	cJSON *files = r ? cJSON_DetachItemFromObjectCaseSensitive(r, "files") : NULL;
	for (size_t i = from; i < to; i++) {
		cJSON *f = !why && files ? cJSON_DetachItemFromArray(files, 0) : NULL;
		if (f)
			w[i].file = f;
		else
			w[i].error =
			    strdup(why ? why : "the daemon's reply names fewer files than asked");
	}
	cJSON_Delete(files);
	cJSON_Delete(r);
}

static void where_row(struct table *t, const struct where_arg *w)
{
	const cJSON *f = w->file;
	double size;
	char ssize[16] = "-", tiers[256] = "", proba[256] = "", reason[512];
	const char *tier = str_of(f, "tier");
	if (!tier) {
		const cJSON *s;
		size_t o = 0;
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(
					  f, "tiers")) if (cJSON_IsString(s) && o < sizeof(tiers))
		    o += (size_t)snprintf(tiers + o, sizeof(tiers) - o, "%s%s", o ? "," : "",
					  s->valuestring);
		tier = tiers[0] ? tiers : "-";
	}
	if (num_of(f, "size", &size))
		hsize(size, ssize, sizeof(ssize));
	const cJSON *p;
	size_t o = 0;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(
				  f, "probabilities")) if (cJSON_IsNumber(p) && o < sizeof(proba))
	    o += (size_t)snprintf(proba + o, sizeof(proba) - o, "%s%s=%.2f", o ? " " : "",
				  p->string, p->valuedouble);
	const char *type = str_of(f, "type"), *policy = str_of(f, "policy");
	const char *why = str_of(f, "reason") ? str_of(f, "reason") : str_of(f, "why");
	if (!why)
		why = type && !strcmp(type, "directory")
			  ? "a directory: in every tier that holds part of it"
		      : policy && !strcmp(policy, "learned")
			  ? "the model's most probable tier with room"
			  : "-";
	snprintf(reason, sizeof(reason), "%s%s%s", why, str_of(f, "note") ? "; " : "",
		 str_of(f, "note") ? str_of(f, "note") : "");
	const char *wf = str_of(f, "workflow");
	table_row(t, w->arg, tier, ssize, policy ? policy : "-", wf ? wf : "", proba, reason);
}

/* Bytes a path takes in the request: cJSON writes control characters as
 * \uXXXX and escapes quotes and backslashes; then quotes and a comma. */
static size_t json_cost(const char *s)
{
	size_t n = 3;
	for (; *s; s++)
		n += (unsigned char)*s < 0x20 ? 6 : (*s == '"' || *s == '\\') ? 2 : 1;
	return n;
}

static int cmd_where(struct ctx *x)
{
	int n = x->cl.npos, rc = 0;
	struct where_arg *w = calloc((size_t)n, sizeof(*w));
	if (!w) {
		fputs("tierctl: out of memory\n", stderr);
		return EXIT_FAIL;
	}
	size_t from = 0, bytes = 0;
	for (int i = 0; i < n; i++) {
		char err[PATH_MAX + 512];
		w[i].arg = x->cl.pos[i];
		if (resolve(&x->mounts, w[i].arg, w[i].abs, err, sizeof(err)) == 0)
			w[i].d = daemon_for(x, w[i].arg, w[i].abs, err, sizeof(err));
		if (!w[i].d)
			w[i].error = strdup(err);
		/* A batch ends at a path of another mount (or none) and before
		 * the request would pass the limit. */
		size_t cost = w[i].d ? json_cost(relative(w[i].d, w[i].abs)) : 0;
		if (w[from].d != w[i].d || bytes + cost > TFS_CTL_MAX_REQUEST - 256) {
			if (w[from].d)
				where_flush(w, from, (size_t)i);
			from = (size_t)i;
			bytes = 0;
		}
		bytes += cost;
	}
	if (w[from].d)
		where_flush(w, from, (size_t)n);

	cJSON *files = NULL; /* --json: the replies of all batches as one */
	cJSON *all = x->cl.json ? json_files(&files) : NULL;
	static const char *const hdr[] = {"PATH",     "TIER",	       "SIZE",	"POLICY",
					  "WORKFLOW", "PROBABILITIES", "REASON"};
	struct table t = {7, hdr, "llrllll", NULL, 0, 0};
	for (int i = 0; i < n; i++) {
		const char *e = w[i].error ? w[i].error : str_of(w[i].file, "error");
		if (e) {
			rc = EXIT_FAIL;
			if (w[i].error)
				fprintf(stderr, "tierctl: %s\n", e);
			else
				fprintf(stderr, "tierctl: %s: %s\n", w[i].arg, e);
		}
		if (all) {
			cJSON *f = w[i].file ? w[i].file : cJSON_CreateObject();
			if (!w[i].file) {
				cJSON_AddStringToObject(f, "path", w[i].arg);
				cJSON_AddStringToObject(f, "error", w[i].error);
			}
			w[i].file = NULL;
			cJSON_AddItemToArray(files, f);
		} else if (!e) {
			where_row(&t, &w[i]);
		}
		cJSON_Delete(w[i].file);
		free(w[i].error);
	}
	if (all) {
		print_json(all);
		cJSON_Delete(all);
	} else if (t.nrows) {
		table_print(&t, stdout, "");
	}
	free(w);
	return rc;
}

/* migrate, pin, unpin: one request per path (the protocol takes one). */
static int cmd_move(struct ctx *x)
{
	enum tctl_cmd_id id = x->cl.cmd->id;
	const char *tier = id == TCTL_UNPIN ? NULL : x->cl.pos[0];
	int rc = 0;
	cJSON *files = NULL; /* --json: one entry per path */
	cJSON *all = x->cl.json ? json_files(&files) : NULL;
	for (int i = tier ? 1 : 0; i < x->cl.npos; i++) {
		const char *arg = x->cl.pos[i];
		char abs[PATH_MAX], err[PATH_MAX + 512];
		struct daemon *d = NULL;
		cJSON *r = NULL;
		if (resolve(&x->mounts, arg, abs, err, sizeof(err)) == 0)
			d = daemon_for(x, arg, abs, err, sizeof(err));
		if (d) {
			cJSON *req = new_request(x->cl.cmd->name); /* the protocol's names */
			cJSON_AddStringToObject(req, "path", relative(d, abs));
			if (tier)
				cJSON_AddStringToObject(req, "tier", tier);
			r = request(d, req, err, sizeof(err));
			cJSON_Delete(req);
		}
		const char *e = !r ? err : reply_ok(r) ? NULL : str_of(r, "error");
		if (r && !reply_ok(r) && !e)
			e = "the daemon refused the request without saying why";
		if (e) {
			rc = EXIT_FAIL;
			/* resolve() and daemon_for() name the path themselves */
			fprintf(stderr, "tierctl: %s%s%s\n", d ? arg : "", d ? ": " : "", e);
		} else if (!all) {
			if (id == TCTL_UNPIN)
				printf("unpinned %s\n", arg);
			else
				printf("%s %s to %s\n", id == TCTL_PIN ? "pinned" : "moved", arg,
				       tier);
		}
		if (all) {
			cJSON *f = cJSON_CreateObject();
			cJSON_AddStringToObject(f, "path", arg);
			cJSON_AddBoolToObject(f, "ok", !e);
			if (e)
				cJSON_AddStringToObject(f, "error", e);
			cJSON_AddItemToArray(files, f);
		}
		cJSON_Delete(r);
	}
	if (all) {
		cJSON_ReplaceItemInObjectCaseSensitive(all, "ok", cJSON_CreateBool(!rc));
		print_json(all);
		cJSON_Delete(all);
	}
	return rc;
}

static int cmd_stats(struct ctx *x)
{
	int prom = x->cl.optval[0] != NULL;
	if (prom && x->cl.json)
		usage_error(x->cl.cmd, "--json and --prometheus exclude each other");
	struct daemon *d = daemon_default(x);
	cJSON *req = new_request("stats");
	if (prom)
		cJSON_AddStringToObject(req, "format", "prometheus");
	cJSON *r = call(x, d, req);
	if (x->cl.json) {
		print_json(r);
	} else if (prom) {
		const char *text = str_of(r, "text");
		fputs(text ? text : "", stdout);
	} else {
		char a[64], b[64], c[64], dd[16], e[64];
		snprintf(a, sizeof(a), "%.0f s", num0(r, "uptime_s"));
		snprintf(b, sizeof(b), "%.0f (%.1f/s)", num0(r, "creates_total"),
			 num0(r, "creates_per_s"));
		snprintf(c, sizeof(c), "%.0f (%.1f/s)", num0(r, "meta_ops_total"),
			 num0(r, "meta_per_s"));
		hsize(num0(r, "migration_backlog_bytes"), dd, sizeof(dd));
		snprintf(e, sizeof(e), "%.0f", num0(r, "spills_total"));
		struct table kv = {2, NULL, "ll", NULL, 0, 0};
		table_row(&kv, "uptime", a);
		table_row(&kv, "creates", b);
		table_row(&kv, "metadata ops", c);
		table_row(&kv, "migration backlog", dd);
		table_row(&kv, "spills", e);
		char phase[512];
		if (phase_line(r, phase, sizeof(phase)))
			table_row(&kv, "phase", phase);
		table_print(&kv, stdout, "");
		putchar('\n');
		static const char *const hdr[] = {
		    "TIER",  "USED",   "USE%",	  "READ",   "WRITTEN", "READS",	      "WRITES",
		    "OPENS", "READ/S", "WRITE/S", "FILL/S", "OPEN",    "BACKING FREE"};
		struct table t = {13, hdr, "lrrrrrrrrrrrr", NULL, 0, 0};
		const cJSON *tier;
		int short_fs = 0;
		cJSON_ArrayForEach(tier, cJSON_GetObjectItemCaseSensitive(r, "tiers"))
		{
			double v[12] = {0};
			static const char *const keys[] = {
			    "used",	   "used_frac",	   "read_bytes_total", "write_bytes_total",
			    "reads_total", "writes_total", "opens_total",      "read_Bps",
			    "write_Bps",   "fill_Bps",	   "open_files",       "backing_avail"};
			char cells[12][32];
			for (int k = 0; k < 12; k++) {
				int have = num_of(tier, keys[k], &v[k]);
				if (!have)
					snprintf(cells[k], sizeof(cells[k]), "-");
				else if (k == 0 || k == 2 || k == 3 || k == 11)
					hsize(v[k], cells[k], sizeof(cells[k]));
				else if (k == 1)
					snprintf(cells[k], sizeof(cells[k]), "%.0f%%", 100 * v[k]);
				else if (k >= 7 && k <= 9)
					hrate(v[k], cells[k], sizeof(cells[k]));
				else
					snprintf(cells[k], sizeof(cells[k]), "%.0f", v[k]);
			}
			if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(tier, "backing_short"))) {
				strcat(cells[11], "!");
				short_fs = 1;
			}
			table_row(&t, str_of(tier, "name"), cells[0], cells[1], cells[2], cells[3],
				  cells[4], cells[5], cells[6], cells[7], cells[8], cells[9],
				  cells[10], cells[11]);
		}
		table_print(&t, stdout, "");
		if (short_fs)
			puts(
			    "! the backing filesystem has less room than the tier's free capacity");
	}
	cJSON_Delete(r);
	return 0;
}

static int cmd_series(struct ctx *x)
{
	struct daemon *d = daemon_default(x);
	cJSON *r = call(x, d, new_request("series"));
	const char *out = x->cl.optval[0];
	int rc = 0;
	if (x->cl.json && !out) {
		print_json(r);
	} else {
		const char *csv = str_of(r, "csv");
		FILE *f = out ? fopen(out, "we") : stdout;
		if (!f) {
			fprintf(stderr, "tierctl: cannot write %s: %s\n", out, strerror(errno));
			rc = EXIT_FAIL;
		} else {
			fputs(csv ? csv : "", f);
			if ((out ? fclose(f) : fflush(f)) != 0) {
				fprintf(stderr, "tierctl: cannot write %s: %s\n",
					out ? out : "standard output", strerror(errno));
				rc = EXIT_FAIL;
			}
		}
	}
	cJSON_Delete(r);
	return rc;
}

/* DIR of attach/detach: a directory inside a tierfs mount. */
static struct daemon *dir_arg(struct ctx *x, const char *arg, char *abs)
{
	char err[PATH_MAX + 512];
	if (!realpath(arg, abs)) {
		path_error(&x->mounts, arg, errno, err, sizeof(err));
		fprintf(stderr, "tierctl: %s\n", err);
		exit(EXIT_FAIL);
	}
	struct daemon *d = daemon_for(x, arg, abs, err, sizeof(err));
	if (!d) {
		fprintf(stderr, "tierctl: %s\n", err);
		exit(EXIT_FAIL);
	}
	return d;
}

static int cmd_attach(struct ctx *x)
{
	char dir[PATH_MAX], file[PATH_MAX];
	struct daemon *d = dir_arg(x, x->cl.pos[0], dir);
	if (!realpath(x->cl.pos[1], file)) {
		fprintf(stderr, "tierctl: %s: %s\n", x->cl.pos[1], strerror(errno));
		return EXIT_FAIL;
	}
	cJSON *req = new_request("attach");
	cJSON_AddStringToObject(req, "dir", relative(d, dir));
	cJSON_AddStringToObject(req, "workflow", file);
	cJSON *r = call(x, d, req);
	if (x->cl.json)
		print_json(r);
	else
		printf("attached %s to %s in %s\n", file, relative(d, dir), d->mountpoint);
	cJSON_Delete(r);
	return 0;
}

static int cmd_detach(struct ctx *x)
{
	char dir[PATH_MAX];
	struct daemon *d = dir_arg(x, x->cl.pos[0], dir);
	cJSON *req = new_request("detach");
	cJSON_AddStringToObject(req, "dir", relative(d, dir));
	cJSON *r = call(x, d, req);
	if (x->cl.json)
		print_json(r);
	else
		printf("detached the workflow of %s in %s\n", relative(d, dir), d->mountpoint);
	cJSON_Delete(r);
	return 0;
}

static int cmd_list(struct ctx *x)
{
	struct daemon *d = daemon_default(x);
	cJSON *r = call(x, d, new_request("list"));
	const cJSON *wfs = cJSON_GetObjectItemCaseSensitive(r, "workflows");
	if (x->cl.json)
		print_json(r);
	else if (!cJSON_GetArraySize(wfs))
		printf("no workflow attached in %s\n", d->mountpoint);
	else
		workflows_table(wfs, "");
	cJSON_Delete(r);
	return 0;
}

/* workflow inspect: the parser's own report; no daemon involved. */
static int cmd_inspect(struct ctx *x)
{
	char err[1024];
	wf_graph *g = NULL;
	int rc = wf_load(x->cl.pos[0], NULL, &g, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "tierctl: %s\n", err);
		return EXIT_FAIL;
	}
	if (x->cl.json) {
		char *json = NULL;
		rc = wf_report_json(g, &json);
		if (rc == 0)
			printf("%s\n", json);
		free(json);
		wf_destroy(g);
		if (rc)
			fprintf(stderr, "tierctl: out of memory\n");
		return rc ? EXIT_FAIL : 0;
	}
	struct wf_summary s;
	wf_get_summary(g, &s);
	printf("file                  %s\n", x->cl.pos[0]);
	printf("format                %s\n", wf_format_name(s.format));
	printf("name                  %s\n", s.name && s.name[0] ? s.name : "-");
	printf("tasks                 %u\n", s.tasks);
	printf("files                 %u\n", s.files);
	printf("dependencies          %llu (explicit %llu, implied by files %llu)\n", (unsigned long long)s.edges,
	       (unsigned long long)s.explicit_edges, (unsigned long long)s.implied_edges);
	printf("levels                %u (widest %u task%s)\n", s.levels, s.max_width, s.max_width == 1 ? "" : "s");
	printf("declared bytes        %llu\n", (unsigned long long)s.declared_bytes);
	printf("multi-producer files  %u\n", s.multi_producer_files);
	printf("size conflicts        %u\n", s.size_conflicts);
	printf("repaired              %u sizes, %u runtimes\n", s.repaired_sizes, s.repaired_runtimes);
	wf_destroy(g);
	return 0;
}

static int cmd_reload(struct ctx *x)
{
	const char *model = x->cl.optval[0];
	char abs[PATH_MAX];
	if (model && !realpath(model, abs)) {
		fprintf(stderr, "tierctl: %s: %s\n", model, strerror(errno));
		return EXIT_FAIL;
	}
	struct daemon *d = daemon_default(x);
	cJSON *req = new_request("reload");
	if (model)
		cJSON_AddStringToObject(req, "model", abs);
	cJSON *r = call(x, d, req);
	if (x->cl.json)
		print_json(r);
	else
		printf("model reloaded from %s\n", str_of(r, "model") ? str_of(r, "model") : "?");
	cJSON_Delete(r);
	return 0;
}

static int cmd_help(struct ctx *x)
{
	const struct tctl_command *c = NULL;
	if (x->cl.npos == 0) {
		usage_main(stdout);
		return 0;
	}
	if (x->cl.npos == 1 && !strcmp(x->cl.pos[0], "workflow")) {
		usage_group(stdout, "workflow");
		return 0;
	}
	c = x->cl.npos == 2 ? find_command(x->cl.pos[0], x->cl.pos[1])
			    : find_command(NULL, x->cl.pos[0]);
	if (!c)
		usage_error(NULL, "no command '%s%s%s'", x->cl.pos[0], x->cl.npos == 2 ? " " : "",
			    x->cl.npos == 2 ? x->cl.pos[1] : "");
	usage_command(stdout, c);
	return 0;
}

static int (*const handlers[TCTL_NCMDS])(struct ctx *) = {
    [TCTL_STATUS] = cmd_status, [TCTL_WHERE] = cmd_where,   [TCTL_STATS] = cmd_stats,
    [TCTL_MIGRATE] = cmd_move,	[TCTL_PIN] = cmd_move,	    [TCTL_UNPIN] = cmd_move,
    [TCTL_SERIES] = cmd_series, [TCTL_ATTACH] = cmd_attach, [TCTL_DETACH] = cmd_detach,
    [TCTL_LIST] = cmd_list,	[TCTL_RELOAD] = cmd_reload, [TCTL_HELP] = cmd_help,
    [TCTL_INSPECT] = cmd_inspect,
};

int main(int argc, char **argv)
{
	struct ctx x = {.forced = -1};
	char err[PATH_MAX + 512];
	parse_cli(argc, argv, &x.cl);
	int rc = 0;
	if (x.cl.cmd->id != TCTL_HELP && x.cl.cmd->id != TCTL_INSPECT) {
		if (read_mounts(&x.mounts, err, sizeof(err)) != 0) {
			fprintf(stderr, "tierctl: %s\n", err);
			return EXIT_FAIL;
		}
		if (x.cl.mount) {
			char abs[PATH_MAX];
			if (!realpath(x.cl.mount, abs)) {
				path_error(&x.mounts, x.cl.mount, errno, err, sizeof(err));
				fprintf(stderr, "tierctl: --mount %s\n", err);
				return EXIT_FAIL;
			}
			if (!daemon_for(&x, x.cl.mount, abs, err, sizeof(err))) {
				fprintf(stderr, "tierctl: --mount: %s\n", err);
				return EXIT_FAIL;
			}
			x.forced = mount_of(&x.mounts, abs);
		}
	}
	rc = handlers[x.cl.cmd->id](&x);
	if (fflush(stdout) != 0 && !rc) {
		fprintf(stderr, "tierctl: cannot write to standard output: %s\n", strerror(errno));
		rc = EXIT_FAIL;
	}
	for (size_t i = 0; i < x.mounts.n; i++) {
		free(x.mounts.e[i].point);
		free(x.mounts.e[i].fstype);
	}
	free(x.mounts.e);
	free(x.daemons);
	free(x.cl.pos);
	return rc;
}
