/* tier_parser: the workflow report as JSON, the one `wfinfo inspect
 * --json` prints and `tierctl workflow inspect --json` is to print: an
 * object with `summary` (format, name, tasks, files, edges,
 * explicit_edges, implied_edges, levels, max_width, declared_bytes,
 * multi_producer_files, size_conflicts, repaired_sizes,
 * repaired_runtimes), then `tasks` in topological order and `files` with
 * every file's features (a distance with no consumer is null).
 * Kept apart from the loaders: only front ends need it.
 */
#include "wf_internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>

static void dist_json(cJSON *o, const char *key, uint32_t d)
{
	if (d == WF_DIST_NONE)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, d);
}

static cJSON *file_json(const struct wf_file_features *f)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", f->name);
	cJSON_AddNumberToObject(o, "size", (double)f->size);
	cJSON_AddNumberToObject(o, "producers", f->producers);
	if (f->producer_id) {
		cJSON_AddStringToObject(o, "producer", f->producer_id);
		cJSON_AddStringToObject(o, "producer_category", f->producer_category);
	} else {
		cJSON_AddNullToObject(o, "producer");
		cJSON_AddNullToObject(o, "producer_category");
	}
	cJSON_AddNumberToObject(o, "producer_input_bytes", (double)f->producer_input_bytes);
	cJSON_AddNumberToObject(o, "producer_level", f->producer_level);
	cJSON_AddNumberToObject(o, "producer_width", f->producer_width);
	cJSON_AddNumberToObject(o, "wf_tasks", f->wf_tasks);
	cJSON_AddNumberToObject(o, "wf_bytes", (double)f->wf_bytes);
	cJSON_AddNumberToObject(o, "consumers", f->consumers);
	dist_json(o, "next_use_distance", f->next_use_distance);
	dist_json(o, "last_use_distance", f->last_use_distance);
	return o;
}

int wf_report_json(const wf_graph *g, char **out)
{
	struct wf_summary sb, *s = &sb;
	wf_get_summary(g, s);
	*out = NULL;
	cJSON *root = cJSON_CreateObject(), *sum = cJSON_AddObjectToObject(root, "summary");
	cJSON_AddStringToObject(sum, "format", wf_format_name(s->format));
	cJSON_AddStringToObject(sum, "name", s->name);
	cJSON_AddNumberToObject(sum, "tasks", s->tasks);
	cJSON_AddNumberToObject(sum, "files", s->files);
	cJSON_AddNumberToObject(sum, "edges", (double)s->edges);
	cJSON_AddNumberToObject(sum, "explicit_edges", (double)s->explicit_edges);
	cJSON_AddNumberToObject(sum, "implied_edges", (double)s->implied_edges);
	cJSON_AddNumberToObject(sum, "levels", s->levels);
	cJSON_AddNumberToObject(sum, "max_width", s->max_width);
	cJSON_AddNumberToObject(sum, "declared_bytes", (double)s->declared_bytes);
	cJSON_AddNumberToObject(sum, "multi_producer_files", s->multi_producer_files);
	cJSON_AddNumberToObject(sum, "size_conflicts", s->size_conflicts);
	cJSON_AddNumberToObject(sum, "repaired_sizes", s->repaired_sizes);
	cJSON_AddNumberToObject(sum, "repaired_runtimes", s->repaired_runtimes);
	cJSON *tasks = cJSON_AddArrayToObject(root, "tasks");
	for (uint32_t i = 0; i < s->tasks; i++) {
		struct wf_task_info t;
		if (wf_task_topo(g, i, &t))
			break;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", t.id);
		cJSON_AddStringToObject(o, "category", t.category);
		cJSON_AddNumberToObject(o, "level", t.level);
		if (t.runtime >= 0)
			cJSON_AddNumberToObject(o, "runtime", t.runtime);
		else
			cJSON_AddNullToObject(o, "runtime");
		cJSON_AddNumberToObject(o, "input_bytes", (double)t.input_bytes);
		cJSON_AddNumberToObject(o, "output_bytes", (double)t.output_bytes);
		cJSON *par = cJSON_AddArrayToObject(o, "parents");
		for (uint32_t k = 0; k < t.n_parents; k++) {
			struct wf_task_info p;
			if (!wf_task_info(g, t.parents[k], &p))
				cJSON_AddItemToArray(par, cJSON_CreateString(p.id));
		}
		cJSON_AddItemToArray(tasks, o);
	}
	cJSON *files = cJSON_AddArrayToObject(root, "files");
	for (uint32_t i = 0; i < s->files; i++) {
		struct wf_file_features f;
		if (!wf_file_info(g, i, &f))
			cJSON_AddItemToArray(files, file_json(&f));
	}
	/* cJSON's adders fail silently on allocation failure; a
	 * partly built tree prints without the missing parts, so check the
	 * two arrays that carry the bulk */
	bool complete = cJSON_GetArraySize(tasks) == (int)s->tasks &&
			cJSON_GetArraySize(files) == (int)s->files;
	*out = complete ? cJSON_Print(root) : NULL;
	cJSON_Delete(root);
	return *out ? 0 : -ENOMEM;
}

