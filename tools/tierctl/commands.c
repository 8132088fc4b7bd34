/*
 * commands.c - the tierctl command table (see commands.h).  Text here is
 * plain (no markup): tierctl wraps it for the terminal and tierctl-mangen
 * escapes it for troff.  Keep each entry's id equal to its index.
 */
#include "commands.h"

const struct tctl_option tctl_global_options[] = {
	{"--mount", NULL, "DIR",
	 "Talk to the tierfs mount that contains DIR; by default the mount is found from the paths a command is given, else from the current directory."},
	{"--json", NULL, NULL, "Print the daemon's reply as JSON (pretty-printed) instead of a table."},
	{"--help", "-h", NULL, "Print help (of the command, when one is given) and exit."},
	{"--version", "-V", NULL, "Print the version and exit."},
	{NULL, NULL, NULL, NULL},
};

const char tctl_description[] =
	"tierctl shows and steers a running tierfs daemon: where each file lives and why, how full and how busy each tier is, which workflows are attached, and it reloads the placement model. "
	"It finds the daemon from a path: it resolves the path, looks up the tierfs mount (file system type fuse.tierfs) that contains it in /proc/self/mountinfo, reads the control socket's path from the extended attribute user.tierfs.socket of the mount's root directory, and talks to the daemon over that Unix socket in JSON. "
	"The socket is mode 0600: only the user who mounted (and root) may use it. "
	"Paths on the command line are taken relative to the current directory, like any file argument, and sent to the daemon relative to the mount's root.";

const char tctl_exit_status[] =
	"0 on success; 1 when the daemon refuses or fails a request, a path is not inside a tierfs mount, or the daemon cannot be reached; 2 on a usage error.";

const struct tctl_command tctl_commands[TCTL_NCMDS] = {
	[TCTL_STATUS] = {TCTL_STATUS, NULL, "status", "", 0, 0,
			 "Show the tiers, the placement policy and model, and the attached workflows.",
			 "Show, per tier, the capacity, used and free bytes, the fill level, the high and low watermarks, the read and write throughput (moving averages) and the open files; then the placement policy, the model, kernel passthrough, and the workflows attached to directories of the mount.",
			 {{NULL, NULL, NULL, NULL}}},
	[TCTL_WHERE] = {TCTL_WHERE, NULL, "where", "PATH...", 1, -1,
			"Show the tier of each file and why it was placed there.",
			"Show, for each PATH, the tier that holds it, its size, the policy that placed it (learned, or the fallback policy), the reason (for example: the workflow does not name this file) and, for a learned decision, the model's probability of each tier. A directory is shown with every tier that holds part of it. The decision of a file created before the current mount is not known. Paths may lie in different tierfs mounts.",
			{{NULL, NULL, NULL, NULL}}},
	[TCTL_STATS] = {TCTL_STATS, NULL, "stats", "", 0, 0,
			"Show counters and gauges; --prometheus for scraping.",
			"Show the daemon's counters and gauges: uptime, creates and metadata operations, migration backlog, spills, and per tier the bytes and operations read and written, the fill rate and the open files. With --prometheus, print them in the Prometheus text exposition format, for a textfile collector or a scraper.",
			{{"--prometheus", NULL, NULL, "Print the Prometheus text exposition format."},
			 {NULL, NULL, NULL, NULL}}},
	[TCTL_SERIES] = {TCTL_SERIES, NULL, "series", "", 0, 0,
			 "Print the time series (one frame per second, last hour) as CSV.",
			 "Print the monitor's time series, one row per second for up to the last hour, as CSV with a header line, to standard output or to FILE.",
			 {{"--output", "-o", "FILE", "Write the CSV to FILE instead of standard output."},
			  {NULL, NULL, NULL, NULL}}},
	[TCTL_ATTACH] = {TCTL_ATTACH, "workflow", "attach", "DIR FILE", 2, 2,
			 "Attach the workflow description FILE to the directory DIR of the mount.",
			 "Attach the workflow description FILE (Pegasus DAX or WfCommons JSON) to DIR, a directory inside the mount (the mount's root for the whole mount). Files created under DIR afterwards are placed by their role in that workflow. FILE is read by the daemon, so it is sent as an absolute path and must be readable by the daemon's user. A directory may hold one workflow; attach another to a different directory.",
			 {{NULL, NULL, NULL, NULL}}},
	[TCTL_DETACH] = {TCTL_DETACH, "workflow", "detach", "DIR", 1, 1,
			 "Detach the workflow attached to DIR.",
			 "Detach the workflow attached to DIR; files created there afterwards follow the fallback policy (or a workflow attached to a directory above).",
			 {{NULL, NULL, NULL, NULL}}},
	[TCTL_LIST] = {TCTL_LIST, "workflow", "list", "", 0, 0,
		       "List the attached workflows.",
		       "List the attached workflows: the directory, the workflow's name, format, numbers of tasks and files, and its file.",
		       {{NULL, NULL, NULL, NULL}}},
	[TCTL_RELOAD] = {TCTL_RELOAD, NULL, "reload", "", 0, 0,
			 "Reload the placement model without unmounting.",
			 "Reload the placement model: the one the configuration names (model =), or FILE. A model that fails to load leaves the old one in place, and tierctl prints why and exits with status 1.",
			 {{"--model", NULL, "FILE", "Load this model file instead of the configured one."},
			  {NULL, NULL, NULL, NULL}}},
	[TCTL_HELP] = {TCTL_HELP, NULL, "help", "[COMMAND]", 0, 2,
		       "Show help on tierctl or on one command.",
		       "Show the list of commands, or the help of COMMAND (for example: tierctl help workflow attach).",
		       {{NULL, NULL, NULL, NULL}}},
};
