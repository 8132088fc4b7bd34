/*
 * commands.h - the subcommands of tiertrain, one function each.
 * Each takes the arguments after its name (argv[0] is the command name)
 * and returns the process exit status: 0 done, 1 failed, 2 bad usage.
 */
#ifndef TIERFS_TRAINER_COMMANDS_H
#define TIERFS_TRAINER_COMMANDS_H

int tt_cmd_fit(int argc, char **argv);
int tt_cmd_predict(int argc, char **argv);
int tt_cmd_simulate(int argc, char **argv);
int tt_cmd_generate(int argc, char **argv);
/* `generate --learned GEN.json ...` (the trace generator's side of
 * generate; cmd_generate.c hands it the whole argument vector). */
int tt_cmd_generate_learned(int argc, char **argv);
int tt_cmd_label(int argc, char **argv);
int tt_cmd_eval(int argc, char **argv);
int tt_cmd_phases(int argc, char **argv);
int tt_cmd_tracegen(int argc, char **argv);

/* Shared by the subcommands (cmd_util.c). */
#include <stdint.h>
#include <stdio.h>
/* A whole number for option opt of command cmd; prints the error and
 * returns -1 when s is not one. */
int tt_parse_u32(const char *cmd, const char *opt, const char *s, uint32_t *out);
int tt_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *out);
int tt_parse_double(const char *cmd, const char *opt, const char *s, double lo, double *out);
/* The options label and eval share: the simulated cluster (--nodes,
 * --cores) and the genetic algorithm's budget (--population,
 * --generations, --patience).  TT_SIM_OPTIONS goes into a getopt_long
 * table; its codes start above every command's own. */
enum { TT_O_NODES = 1024, TT_O_CORES, TT_O_POP, TT_O_GEN, TT_O_PAT };
#define TT_SIM_OPTIONS                                      \
	{"nodes", required_argument, NULL, TT_O_NODES},     \
	{"cores", required_argument, NULL, TT_O_CORES},     \
	{"population", required_argument, NULL, TT_O_POP},  \
	{"generations", required_argument, NULL, TT_O_GEN}, \
	{"patience", required_argument, NULL, TT_O_PAT}
struct ga_params;
/* Option c (a TT_O_ code) with its argument: 0 stored, 1 refused (the
 * error printed, naming command cmd), -1 c is not one of these. */
int tt_sim_option(const char *cmd, int c, const char *arg, uint32_t *nodes, uint32_t *cores, struct ga_params *ga);
/* s as a JSON string literal. */
void tt_json_str(FILE *fp, const char *s);
/* Seconds since an arbitrary start (monotonic). */
double tt_now(void);
/* The project's etc/ (shipped model and configuration) for defaults. */
const char *tt_etc_path(const char *name, char *buf, size_t len);

#endif
