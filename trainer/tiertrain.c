/*
 * tiertrain.c - the offline trainer's front end: picks a subcommand from
 * the table and runs it.  A new subcommand is one line in the table and a
 * function in its own file (see commands.h).
 */
#include "commands.h"

#include <stdio.h>
#include <string.h>

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"fit", tt_cmd_fit, "fit RECORDS.csv -o MODEL.json [--param k=v ...]: train a boosted-tree model"},
	{"predict", tt_cmd_predict, "predict MODEL.json RECORDS.csv [--json]: predict records, report accuracy and speed"},
	{"simulate", tt_cmd_simulate, "simulate WORKFLOW -c tierfs.conf [--policy P | --model M | --placement CSV]: simulate a workflow on the tiers"},
	{"generate", tt_cmd_generate, "generate KIND [--scale N] [--seed S] -o OUT.json | --learned GEN.json --count N: synthetic workflows (WfFormat)"},
	{"label", tt_cmd_label, "label WORKFLOWS... --tiers CONF [--vary mem=A..B] -o RECORDS.csv: best placement by genetic algorithm"},
	{"eval", tt_cmd_eval, "eval [--model M] [--tiers CONF] [--json] WORKFLOW...: every policy over scale and memory sweeps"},
	{"phases", tt_cmd_phases, "phases SERIES.csv... -o PHASES.json: learn the phases of tier load (CRBM + k-means)"},
	{"tracegen", tt_cmd_tracegen, "tracegen fit RECORDS... -o GEN.json: learn a trace generator from recorded runs"},
};

static void usage(FILE *fp)
{
	fprintf(fp, "usage: tiertrain COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(fp, "  %s\n", commands[i].summary);
	fprintf(fp, "\n'tiertrain COMMAND --help' describes a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "tiertrain: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
