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
    "tierctl shows and steers a running tierfs daemon: where each file lives and why, how full and how busy each tier is, which workflows are attached; it moves and pins files and reloads the placement model. "
    "It finds the daemon from a path: it resolves the path, looks up the tierfs mount (file system type fuse.tierfs) that contains it in /proc/self/mountinfo, reads the control socket's path from the extended attribute user.tierfs.socket of the mount's root directory, and talks to the daemon over that Unix socket in JSON. "
    "The socket is mode 0600: only the user who mounted (and root) may use it. "
    "Paths on the command line are taken relative to the current directory, like any file argument, and sent to the daemon relative to the mount's root.";

const char tctl_exit_status[] =
    "0 on success; 1 when the daemon refuses or fails a request, a path is not inside a tierfs mount, or the daemon cannot be reached; 2 on a usage error.";

const struct tctl_command tctl_commands[TCTL_NCMDS] = {
    [TCTL_STATUS] =
	{
	    .id = TCTL_STATUS,
	    .name = "status",
	    .args = "",
	    .min_args = 0,
	    .max_args = 0,
	    .summary =
		"Show the tiers, the placement policy and model, and the attached workflows.",
	    .description =
		"Show, per tier, the capacity, used and free bytes, the fill level, the high and low watermarks, the read and write throughput (moving averages) and the open files; then the placement policy, the model, kernel passthrough, io_uring, spliced READ replies (how many, or why off), the request loop (who reads /dev/fuse: one leader or all threads, and how often it switched), and the workflows attached to directories of the mount with the plan check's plan for each (the model, or the tier that takes all its files) and its simulated figures.",
	},
    [TCTL_WHERE] =
	{
	    .id = TCTL_WHERE,
	    .name = "where",
	    .args = "PATH...",
	    .min_args = 1,
	    .max_args = -1,
	    .summary = "Show the tier of each file and why it was placed there.",
	    .description =
		"Show, for each PATH, the tier that holds it, its size, the policy that placed it (learned, or the fallback policy), the reason (for example: the workflow does not name this file) and, for a learned decision, the model's probability of each tier. A directory is shown with every tier that holds part of it. The decision of a file created before the current mount is not known. Paths may lie in different tierfs mounts.",
	},
    [TCTL_MIGRATE] =
	{
	    .id = TCTL_MIGRATE,
	    .name = "migrate",
	    .args = "TIER PATH...",
	    .min_args = 2,
	    .max_args = -1,
	    .summary = "Move files to TIER now.",
	    .description =
		"Move each PATH, a regular file, to the tier named TIER now, the way the migrator moves files: copied under a temporary name, synced, renamed into place, then the source removed. A file already in TIER is left as it is. A file with more than one hard link is never moved, and a file written during the copy stays where it was (try again). The migrator may move the file again later; pin it to keep it in TIER.",
	},
    [TCTL_PIN] =
	{
	    .id = TCTL_PIN,
	    .name = "pin",
	    .args = "TIER PATH...",
	    .min_args = 2,
	    .max_args = -1,
	    .summary = "Pin files to TIER: move them there and keep them there.",
	    .description =
		"Pin each PATH to the tier named TIER: the file moves there now and the migrator leaves it there until it is unpinned. The same as setting the extended attribute user.tierfs.pin to TIER.",
	},
    [TCTL_UNPIN] =
	{
	    .id = TCTL_UNPIN,
	    .name = "unpin",
	    .args = "PATH...",
	    .min_args = 1,
	    .max_args = -1,
	    .summary = "Unpin files: the migrator may move them again.",
	    .description =
		"Remove the pin of each PATH; the file stays where it is until the migrator moves it. Unpinning a file that is not pinned does nothing.",
	},
    [TCTL_STATS] =
	{
	    .id = TCTL_STATS,
	    .name = "stats",
	    .args = "",
	    .min_args = 0,
	    .max_args = 0,
	    .summary = "Show counters and gauges; --prometheus for scraping.",
	    .description =
		"Show the daemon's counters and gauges: uptime, creates and metadata operations, migration backlog, spills, and per tier the bytes and operations read and written, the fill rate and the open files. With --prometheus, print them in the Prometheus text exposition format, for a textfile collector or a scraper.",
	    .options = {{"--prometheus", NULL, NULL,
			 "Print the Prometheus text exposition format."}},
	},
    [TCTL_SERIES] =
	{
	    .id = TCTL_SERIES,
	    .name = "series",
	    .args = "",
	    .min_args = 0,
	    .max_args = 0,
	    .summary = "Print the time series (one frame per second, last hour) as CSV.",
	    .description =
		"Print the monitor's time series, one row per second for up to the last hour, as CSV with a header line, to standard output or to FILE.",
	    .options = {{"--output", "-o", "FILE",
			 "Write the CSV to FILE instead of standard output."}},
	},
    [TCTL_ATTACH] =
	{
	    .id = TCTL_ATTACH,
	    .group = "workflow",
	    .name = "attach",
	    .args = "DIR FILE",
	    .min_args = 2,
	    .max_args = 2,
	    .summary = "Attach the workflow description FILE to the directory DIR of the mount.",
	    .description =
		"Attach the workflow description FILE (Pegasus DAX or WfCommons JSON) to DIR, a directory inside the mount (the mount's root for the whole mount). Files created under DIR afterwards are placed by their role in that workflow. FILE is read by the daemon, so it is sent as an absolute path and must be readable by the daemon's user. A directory may hold one workflow; attach another to a different directory.",
	},
    [TCTL_DETACH] =
	{
	    .id = TCTL_DETACH,
	    .group = "workflow",
	    .name = "detach",
	    .args = "DIR",
	    .min_args = 1,
	    .max_args = 1,
	    .summary = "Detach the workflow attached to DIR.",
	    .description =
		"Detach the workflow attached to DIR; files created there afterwards follow the fallback policy (or a workflow attached to a directory above).",
	},
    [TCTL_LIST] =
	{
	    .id = TCTL_LIST,
	    .group = "workflow",
	    .name = "list",
	    .args = "",
	    .min_args = 0,
	    .max_args = 0,
	    .summary = "List the attached workflows.",
	    .description =
		"List the attached workflows: the directory, the workflow's name, format, numbers of tasks and files, the plan check's plan (model, or the tier that takes all its files), and its file; then each plan's simulated figures, or why the model stays.",
	},
    [TCTL_INSPECT] =
	{
	    .id = TCTL_INSPECT,
	    .group = "workflow",
	    .name = "inspect",
	    .args = "FILE",
	    .min_args = 1,
	    .max_args = 1,
	    .summary = "Show what tierfs reads from the workflow description FILE (no daemon needed).",
	    .description =
		"Parse FILE (Pegasus DAX 2.1/3.x, Pegasus 5 YAML or WfCommons WfFormat JSON, told apart by content) and show the format, the numbers of tasks and files, explicit, file-implied and total dependencies, levels and the widest level, declared bytes, files with several producers, and repaired values. With --json: an object whose summary holds format, tasks, files, edges, explicit_edges, implied_edges, levels, max_width, declared_bytes and multi_producer_files, followed by the tasks and files arrays with every file's features (V1-V7, declared size, producer).",
	},
    [TCTL_RELOAD] =
	{
	    .id = TCTL_RELOAD,
	    .name = "reload",
	    .args = "",
	    .min_args = 0,
	    .max_args = 0,
	    .summary = "Reload the placement model without unmounting.",
	    .description =
		"Reload the placement model: the one the configuration names (model =), or FILE. A model that fails to load leaves the old one in place, and tierctl prints why and exits with status 1.",
	    .options = {{"--model", NULL, "FILE",
			 "Load this model file instead of the configured one."}},
	},
    [TCTL_HELP] =
	{
	    .id = TCTL_HELP,
	    .name = "help",
	    .args = "[COMMAND]",
	    .min_args = 0,
	    .max_args = 2,
	    .summary = "Show help on tierctl or on one command.",
	    .description =
		"Show the list of commands, or the help of COMMAND (for example: tierctl help workflow attach).",
	},
};
