/* cmd_phases.c - `tiertrain phases`: being written this session; fails until then. */
#include "commands.h"

#include <stdio.h>

int tt_cmd_phases(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "tiertrain phases: not built yet\n");
	return 1;
}
