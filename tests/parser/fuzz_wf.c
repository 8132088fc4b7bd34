/* Fuzzing harness for tier_parser, one per format: FUZZ_FORMAT selects
 * which leading bytes the input is given ('<' DAX, '{' JSON, a YAML
 * comment line; an input that already starts with '<' or '{' is kept as
 * is), so each harness explores one reader instead of the format
 * detector. On a successful load every query is exercised too.
 *
 * Built two ways: with clang -fsanitize=fuzzer (-DTIERFS_FUZZ=ON, see
 * tests/parser/CMakeLists.txt) as a libFuzzer target, and always as a
 * plain program (FUZZ_REPLAY) that runs the harness over files and
 * directories given on the command line, so the harness compiles and the
 * seed corpus replays in every build.
 */
#include "workflow.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef FUZZ_FORMAT
#define FUZZ_FORMAT 0
#endif

static const char *prefix(void)
{
	switch (FUZZ_FORMAT) {
	case 1: return "<";
	case 2: return "{";
	case 3: return "#fuzz\n";
	default: return "";
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *pre = prefix();
	size_t pl = strlen(pre);
	/* seeds are whole files that already start right */
	if (pl == 1 && size && data[0] == (uint8_t)pre[0])
		pl = 0;
	char *buf = malloc(pl + size + 1);
	if (!buf)
		return 0;
	memcpy(buf, pre, pl);
	memcpy(buf + pl, data, size);
	buf[pl + size] = '\0';
	char err[256];
	wf_graph *g = NULL;
	if (wf_load_buffer(buf, pl + size, "fuzz", NULL, &g, err, sizeof(err)) == 0) {
		struct wf_summary s;
		wf_get_summary(g, &s);
		for (uint32_t i = 0; i < s.tasks; i++) {
			struct wf_task_info t;
			if (wf_task_topo(g, i, &t) == 0 && t.n_inputs)
				(void)t.inputs[t.n_inputs - 1];
		}
		for (uint32_t f = 0; f < s.files; f++) {
			struct wf_file_features a, b;
			if (wf_file_info(g, f, &a) == 0 && wf_file_features(g, a.name, &b) != 0 &&
			    a.name[0] == '\0')
				abort(); /* empty names are refused at load */
		}
		wf_destroy(g);
	}
	free(buf);
	return 0;
}

#ifdef FUZZ_REPLAY
static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return 1;
	}
	size_t cap = 1 << 16, n = 0, r;
	uint8_t *buf = malloc(cap);
	while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			uint8_t *nb = realloc(buf, cap *= 2);
			if (!nb)
				break;
			buf = nb;
		}
	}
	fclose(f);
	if (!buf)
		return 1;
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int bad = 0, runs = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *de;
			while (d && (de = readdir(d))) {
				if (de->d_name[0] == '.')
					continue;
				char p[4096];
				snprintf(p, sizeof(p), "%s/%s", argv[i], de->d_name);
				bad |= run_file(p);
				runs++;
			}
			if (d)
				closedir(d);
		} else {
			bad |= run_file(argv[i]);
			runs++;
		}
	}
	printf("replayed %d inputs\n", runs);
	return bad || runs == 0;
}
#endif
