/* cmd_eval.c - `tiertrain eval`: being written this session; fails until then. */
#include "commands.h"

#include <stdio.h>

int tt_cmd_eval(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "tiertrain eval: not built yet\n");
	return 1;
}
