/* cmd_label.c - `tiertrain label`: being written this session; fails until then. */
#include "commands.h"

#include <stdio.h>

int tt_cmd_label(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "tiertrain label: not built yet\n");
	return 1;
}
