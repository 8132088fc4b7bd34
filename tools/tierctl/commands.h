/*
 * commands.h - the tierctl command table: names, arguments, options and
 * help text of every command, in one place, so `tierctl --help`,
 * `tierctl COMMAND --help` and the man page tierctl(1) (written by
 * tierctl-mangen at build time) cannot drift apart.
 *
 * The table is static data; nothing here allocates, prints or exits.
 */
#ifndef TIERCTL_COMMANDS_H
#define TIERCTL_COMMANDS_H

#include <stddef.h>

/* One option.  metavar NULL: a flag; else the option takes a value
 * ("--model FILE" or "--model=FILE"). */
struct tctl_option {
	const char *name;  /* "--model" */
	const char *alias; /* "-o", or NULL */
	const char *metavar;
	const char *help;
};

enum tctl_cmd_id {
	TCTL_STATUS,
	TCTL_WHERE,
	TCTL_MIGRATE,
	TCTL_PIN,
	TCTL_UNPIN,
	TCTL_STATS,
	TCTL_SERIES,
	TCTL_ATTACH,
	TCTL_DETACH,
	TCTL_LIST,
	TCTL_INSPECT,
	TCTL_RELOAD,
	TCTL_HELP,
	TCTL_NCMDS
};

#define TCTL_MAX_OPTIONS 4

struct tctl_command {
	enum tctl_cmd_id id;
	const char *group; /* "workflow" for "workflow attach", else NULL */
	const char *name;
	const char *args;	 /* synopsis of the positional arguments, "" for none */
	int min_args, max_args;	 /* max_args -1: no limit */
	const char *summary;	 /* one line, for the command list */
	const char *description; /* a paragraph; for COMMAND --help and the man page */
	struct tctl_option options[TCTL_MAX_OPTIONS]; /* ends at name NULL (zero-filled) */
};

/* Index i is the command with id i. */
extern const struct tctl_command tctl_commands[TCTL_NCMDS];
/* Options every command accepts, before or after its name; ends at name NULL. */
extern const struct tctl_option tctl_global_options[];

extern const char tctl_description[]; /* what tierctl does and how it finds the daemon */
extern const char tctl_exit_status[];

#endif
