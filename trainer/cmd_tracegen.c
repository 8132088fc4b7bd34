/* cmd_tracegen.c - `tiertrain tracegen`: being written this session; fails until then. */
#include "commands.h"

#include <stdio.h>

int tt_cmd_tracegen(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "tiertrain tracegen: not built yet\n");
	return 1;
}

int tt_cmd_generate_learned(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "tiertrain generate --learned: not built yet\n");
	return 1;
}
