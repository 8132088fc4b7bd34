/* tier_parser: WfCommons WfFormat JSON reader (cJSON), versions 1.0-1.5.
 *
 * Layout is detected from what is present, not from schemaVersion (real
 * files carry keys their declared version does not have):
 * workflow.specification -> 1.5, workflow.tasks -> 1.3/1.4,
 * workflow.jobs -> 1.0-1.2. Unknown keys are ignored.
 * Up to 1.4 `parents` hold task names (1.0 has no ids; Nextflow 1.4 has
 * non-unique names, so its tasks are keyed by id); a file's identity is
 * path + name where `path` is present. In 1.5 all references are ids.
 * cJSON has no line numbers, so semantic errors name the JSON path
 * (workflow.tasks[12]) and the task; syntax errors give line and column.
 * cJSON bounds nesting at CJSON_NESTING_LIMIT (1000).
 */
#include "wf_internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* command.program of a WfFormat task, NULL if absent. */
static const char *program_of(const cJSON *t)
{
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(t, "command");
	return cJSON_IsObject(cmd) ? str(cmd, "program") : NULL;
}

/* A number, or a string holding one (some generators quote sizes). */
static int num(struct wf_builder *b, const cJSON *o, const char *key,
	       const char *where, bool *has, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	*has = false;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsNumber(v))
		*out = v->valuedouble;
	else if (!cJSON_IsString(v) || !wf_parse_number(v->valuestring, out))
		return wfb_error(b, 0, "%s: '%s' is not a number", where, key);
	*has = true;
	return 0;
}

static void syntax_error_pos(const char *buf, size_t len, const char *end,
			     unsigned *line, unsigned *col)
{
	size_t pos = end && end >= buf ? (size_t)(end - buf) : 0;
	if (pos > len)
		pos = len;
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < pos; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static int parse_link(struct wf_builder *b, const char *link, const char *where, int *out)
{
	if (!link)
		return wfb_error(b, 0, "%s: missing 'link' (expected \"input\" or \"output\")", where);
	if (strcmp(link, "input") == 0)
		*out = WFB_IN;
	else if (strcmp(link, "output") == 0)
		*out = WFB_OUT;
	else if (strcmp(link, "inout") == 0)
		*out = WFB_IN | WFB_OUT;
	else
		return wfb_error(b, 0, "%s: link \"%.40s\" (expected \"input\" or \"output\")", where, link);
	return 0;
}

/* WfFormat 1.0-1.4: tasks (or jobs) with embedded files, parents by name. */
static int read_flat(struct wf_builder *b, const cJSON *tasks, const char *list)
{
	char where[160];
	int rc, i = 0;
	const cJSON *t;
	cJSON_ArrayForEach(t, tasks) {
		snprintf(where, sizeof(where), "workflow.%s[%d]", list, i);
		if (!cJSON_IsObject(t))
			return wfb_error(b, 0, "%s: expected an object", where);
		const char *name = str(t, "name"), *id = str(t, "id");
		if (!name)
			return wfb_error(b, 0, "%s: missing string 'name'", where);
		uint32_t ti;
		if ((rc = wfb_task(b, 0, id ? id : name, name, str(t, "category"), &ti)))
			return rc;
		if ((rc = wfb_task_program(b, ti, program_of(t))))
			return rc;
		snprintf(where, sizeof(where), "workflow.%s[%d] ('%.80s')", list, i, name);
		bool has;
		double rt;
		if ((rc = num(b, t, "runtimeInSeconds", where, &has, &rt)))
			return rc;
		if (!has && (rc = num(b, t, "runtime", where, &has, &rt)))
			return rc;
		if (has && (rc = wfb_task_runtime(b, ti, 0, rt)))
			return rc;
		const cJSON *files = cJSON_GetObjectItemCaseSensitive(t, "files"), *f;
		if (files && !cJSON_IsArray(files))
			return wfb_error(b, 0, "%s: 'files' is not an array", where);
		int k = 0;
		cJSON_ArrayForEach(f, files) {
			char fw[200];
			snprintf(fw, sizeof(fw), "%s.files[%d]", where, k++);
			const char *fname = str(f, "name"), *path = str(f, "path");
			if (!fname || !*fname)
				return wfb_error(b, 0, "%s: missing string 'name'", fw);
			int link = 0;
			double size = 0;
			if ((rc = parse_link(b, str(f, "link"), fw, &link)) ||
			    (rc = num(b, f, "sizeInBytes", fw, &has, &size)))
				return rc;
			if (!has && (rc = num(b, f, "size", fw, &has, &size)))
				return rc;
			char *key = NULL;
			if (path && *path) {
				size_t pl = strlen(path);
				if (asprintf(&key, "%s%s%s", path, path[pl - 1] == '/' ? "" : "/", fname) < 0)
					return wfb_error_code(b, -ENOMEM, 0, "out of memory");
			}
			rc = wfb_use(b, ti, 0, key ? key : fname, link, has, size);
			free(key);
			if (rc)
				return rc;
		}
		static const char *const rel[] = { "parents", "children" };
		for (int r = 0; r < 2; r++) {
			const cJSON *arr = cJSON_GetObjectItemCaseSensitive(t, rel[r]), *p;
			if (arr && !cJSON_IsArray(arr))
				return wfb_error(b, 0, "%s: '%s' is not an array", where, rel[r]);
			cJSON_ArrayForEach(p, arr) {
				if (!cJSON_IsString(p))
					return wfb_error(b, 0, "%s: '%s' holds a non-string", where, rel[r]);
				rc = r == 0 ? wfb_edge_ix(b, 0, WFB_NOIDX, p->valuestring, ti, NULL, WFB_REF_NAME)
					    : wfb_edge_ix(b, 0, ti, NULL, WFB_NOIDX, p->valuestring, WFB_REF_NAME);
				if (rc)
					return rc;
			}
		}
		i++;
	}
	return 0;
}

static int id_list(struct wf_builder *b, const cJSON *t, const char *key,
		   const char *where, const cJSON **out)
{
	*out = cJSON_GetObjectItemCaseSensitive(t, key);
	if (*out && !cJSON_IsArray(*out))
		return wfb_error(b, 0, "%s: '%s' is not an array", where, key);
	const cJSON *e;
	cJSON_ArrayForEach(e, *out) {
		if (!cJSON_IsString(e) || !*e->valuestring)
			return wfb_error(b, 0, "%s: '%s' holds something other than an id string", where, key);
	}
	return 0;
}

/* WfFormat 1.5: specification (tasks, files) joined with execution. */
static int read_spec(struct wf_builder *b, const cJSON *wf, const cJSON *spec)
{
	const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(spec, "tasks");
	const cJSON *files = cJSON_GetObjectItemCaseSensitive(spec, "files");
	const cJSON *t, *f;
	struct wf_smap sizes = { 0 };
	double *sz = NULL;
	int rc = 0, i = 0, nfiles = 0;
	char where[160];

	if (!cJSON_IsArray(tasks))
		return wfb_error(b, 0, "workflow.specification: missing array 'tasks'");
	if (files && !cJSON_IsArray(files))
		return wfb_error(b, 0, "workflow.specification: 'files' is not an array");
	nfiles = cJSON_GetArraySize(files);
	sz = calloc((size_t)nfiles + 1, sizeof(*sz));
	if (!sz)
		return wfb_error_code(b, -ENOMEM, 0, "out of memory");
	cJSON_ArrayForEach(f, files) {
		snprintf(where, sizeof(where), "workflow.specification.files[%d]", i);
		const char *id = str(f, "id");
		bool has;
		if (!id || !*id) {
			rc = wfb_error(b, 0, "%s: missing string 'id'", where);
			goto out;
		}
		if ((rc = num(b, f, "sizeInBytes", where, &has, &sz[i])))
			goto out;
		if (!has)
			sz[i] = NAN;
		rc = wf_smap_put(&sizes, id, (uint32_t)i, NULL);
		if (rc == -EEXIST) {
			rc = wfb_error(b, 0, "%s: duplicate file id '%s'", where, id);
			goto out;
		}
		if (rc) {
			rc = wfb_error_code(b, rc, 0, "out of memory");
			goto out;
		}
		i++;
	}
	i = 0;
	cJSON_ArrayForEach(t, tasks) {
		snprintf(where, sizeof(where), "workflow.specification.tasks[%d]", i);
		const char *id = str(t, "id"), *name = str(t, "name");
		if (!id) {
			rc = wfb_error(b, 0, "%s: missing string 'id'", where);
			goto out;
		}
		uint32_t ti;
		if ((rc = wfb_task(b, 0, id, name, str(t, "category"), &ti)))
			goto out;
		snprintf(where, sizeof(where), "workflow.specification.tasks[%d] ('%.80s')", i, id);
		static const char *const io[] = { "inputFiles", "outputFiles" };
		for (int k = 0; k < 2; k++) {
			const cJSON *arr, *e;
			if ((rc = id_list(b, t, io[k], where, &arr)))
				goto out;
			cJSON_ArrayForEach(e, arr) {
				const char *fid = e->valuestring;
				size_t n = strlen(fid);
				uint32_t fi;
				bool known = wf_smap_get(&sizes, fid, n, wf_hash(fid, n), &fi);
				if (!known)
					wfb_warn(b, 0, "%s: %s names '%s', which specification.files does not list; size unknown",
						 where, io[k], fid);
				bool has = known && !isnan(sz[fi]);
				rc = wfb_use(b, ti, 0, fid, k ? WFB_OUT : WFB_IN, has, has ? sz[fi] : 0);
				if (rc)
					goto out;
			}
		}
		static const char *const rel[] = { "parents", "children" };
		for (int r = 0; r < 2; r++) {
			const cJSON *arr, *p;
			if ((rc = id_list(b, t, rel[r], where, &arr)))
				goto out;
			cJSON_ArrayForEach(p, arr) {
				rc = r == 0 ? wfb_edge_ix(b, 0, WFB_NOIDX, p->valuestring, ti, NULL, WFB_REF_ID)
					    : wfb_edge_ix(b, 0, ti, NULL, WFB_NOIDX, p->valuestring, WFB_REF_ID);
				if (rc)
					goto out;
			}
		}
		i++;
	}
	const cJSON *exec = cJSON_GetObjectItemCaseSensitive(wf, "execution");
	const cJSON *etasks = cJSON_GetObjectItemCaseSensitive(exec, "tasks");
	i = 0;
	cJSON_ArrayForEach(t, etasks) {
		snprintf(where, sizeof(where), "workflow.execution.tasks[%d]", i++);
		const char *id = str(t, "id");
		uint32_t ti;
		bool has;
		double rt;
		if (!id) {
			rc = wfb_error(b, 0, "%s: missing string 'id'", where);
			goto out;
		}
		if (!wfb_task_find(b, id, &ti)) {
			wfb_warn(b, 0, "%s: id '%s' is not a task of the specification; ignored", where, id);
			continue;
		}
		if ((rc = num(b, t, "runtimeInSeconds", where, &has, &rt)))
			goto out;
		if (has && (rc = wfb_task_runtime(b, ti, 0, rt)))
			goto out;
		if ((rc = wfb_task_program(b, ti, program_of(t))))
			goto out;
	}
out:
	wf_smap_free(&sizes);
	free(sz);
	return rc;
}

int wf_read_json(struct wf_builder *b, const char *buf, size_t len, enum wf_format *fmt)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	unsigned line, col;
	int rc;
	if (!root) {
		syntax_error_pos(buf, len, end, &line, &col);
		if (end && (size_t)(end - buf) + 1 >= len)
			return wfb_error(b, line, "malformed JSON: unexpected end of input at column %u (truncated file?)", col);
		return wfb_error(b, line, "malformed JSON at column %u (or nested deeper than %d levels)",
				 col, CJSON_NESTING_LIMIT);
	}
	for (const char *p = end; p && p < buf + len; p++) {
		if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t' && *p != '\0') {
			syntax_error_pos(buf, len, p, &line, &col);
			rc = wfb_error(b, line, "trailing data after the JSON document at column %u", col);
			goto out;
		}
	}
	const cJSON *wf = cJSON_GetObjectItemCaseSensitive(root, "workflow");
	if (!cJSON_IsObject(root) || !cJSON_IsObject(wf)) {
		rc = wfb_error_code(b, -ENOTSUP, 0,
				    "JSON without a 'workflow' object: not a WfCommons WfFormat instance");
		goto out;
	}
	wfb_set_name(b, str(root, "name"));
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(wf, "specification");
	const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(wf, "tasks");
	const cJSON *jobs = cJSON_GetObjectItemCaseSensitive(wf, "jobs");
	if (cJSON_IsObject(spec)) {
		*fmt = WF_FORMAT_WFJSON_SPEC;
		rc = read_spec(b, wf, spec);
	} else if (cJSON_IsArray(tasks)) {
		*fmt = WF_FORMAT_WFJSON_TASKS;
		rc = read_flat(b, tasks, "tasks");
	} else if (cJSON_IsArray(jobs)) {
		*fmt = WF_FORMAT_WFJSON_JOBS;
		rc = read_flat(b, jobs, "jobs");
	} else {
		rc = wfb_error_code(b, -ENOTSUP, 0,
				    "workflow has none of 'specification' (WfFormat 1.5), 'tasks' (1.3-1.4) or 'jobs' (1.0-1.2)");
	}
out:
	cJSON_Delete(root);
	return rc;
}
