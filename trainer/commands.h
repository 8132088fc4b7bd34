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

#endif
