/* cmd_generate.c - `tiertrain generate`: being written this session. */
#include "commands.h"

#include <stdio.h>
#include <string.h>

int tt_cmd_generate(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--learned") == 0 || strncmp(argv[i], "--learned=", 10) == 0)
			return tt_cmd_generate_learned(argc, argv);
	fprintf(stderr, "tiertrain generate: not built yet\n");
	return 1;
}
