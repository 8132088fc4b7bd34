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

#endif
