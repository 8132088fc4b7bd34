/* tier_parser: Pegasus 5 YAML reader (libyaml document API).
 *
 * Reads root `pegasus`, `name`, `jobs[]` (id, name, uses[] with lfn, type,
 * size or metadata.size, executable; stdin/stdout/stderr; pegasus profile
 * runtime) and `jobDependencies[]` (id -> children, the reverse of DAX).
 * Everything else (catalogues, hooks, x-* keys) is ignored.
 * Aliases make the document a DAG, so a walk can cost far more than the
 * document's size (YAML's billion laughs): every node the walk touches is
 * charged to a budget proportional to the number of nodes parsed.
 * libyaml has no nesting limit and its scanner is quadratic in flow depth
 * (100k nested "[" take half a minute), so a first event-only pass stops
 * at WF_YAML_MAX_DEPTH before the document is built.
 */
#include "wf_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define WF_YAML_MAX_DEPTH 64

struct yw {
	struct wf_builder *b;
	yaml_document_t doc;
	uint64_t budget;
};

static unsigned yline(const yaml_node_t *n)
{
	return n ? (unsigned)n->start_mark.line + 1 : 0;
}

static int charge(struct yw *y, const yaml_node_t *n)
{
	if (y->budget-- == 0)
		return wfb_error(y->b, yline(n),
				 "YAML aliases expand to far more nodes than the document holds (alias bomb?)");
	return 0;
}

static yaml_node_t *get(struct yw *y, const yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&y->doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(&y->doc, p->value);
	}
	return NULL;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static const char *get_str(struct yw *y, const yaml_node_t *map, const char *key)
{
	return scalar(get(y, map, key));
}

static int seq_item(struct yw *y, const yaml_node_t *seq, size_t i, yaml_node_t **out)
{
	*out = yaml_document_get_node(&y->doc, seq->data.sequence.items.start[i]);
	return charge(y, *out);
}

static size_t seq_len(const yaml_node_t *n)
{
	return n && n->type == YAML_SEQUENCE_NODE
		       ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start)
		       : 0;
}

static int read_use(struct yw *y, uint32_t task, const char *jid, const yaml_node_t *u)
{
	unsigned line = yline(u);
	const char *lfn = get_str(y, u, "lfn"), *type = get_str(y, u, "type");
	const char *exe = get_str(y, u, "executable");
	if (!lfn)
		return wfb_error(y->b, line, "job '%s': a use without 'lfn'", jid);
	if (exe && strcmp(exe, "true") == 0)
		return 0;
	int link;
	if (!type || strcmp(type, "input") == 0)
		link = WFB_IN;
	else if (strcmp(type, "output") == 0)
		link = WFB_OUT;
	else if (strcmp(type, "inout") == 0 || strcmp(type, "checkpoint") == 0)
		link = WFB_IN | WFB_OUT;
	else if (strcmp(type, "none") == 0)
		link = 0;
	else
		return wfb_error(y->b, line,
				 "job '%s', use '%s': type '%.40s' (expected input, output, inout, checkpoint or none)",
				 jid, lfn, type);
	const char *size = get_str(y, u, "size");
	if (!size)
		size = get_str(y, get(y, u, "metadata"), "size");
	double v = 0;
	if (size && !wf_parse_number(size, &v))
		return wfb_error(y->b, line, "job '%s', use '%s': size '%.40s' is not a number",
				 jid, lfn, size);
	return wfb_use(y->b, task, line, lfn, link, size != NULL, v);
}

static int read_job(struct yw *y, const yaml_node_t *j, size_t i)
{
	unsigned line = yline(j);
	int rc;
	if (j->type != YAML_MAPPING_NODE)
		return wfb_error(y->b, line, "jobs[%zu]: expected a mapping", i);
	const char *id = get_str(y, j, "id");
	if (!id)
		return wfb_error(y->b, line, "jobs[%zu]: missing 'id'", i);
	uint32_t ti;
	if ((rc = wfb_task(y->b, line, id, NULL, get_str(y, j, "name"), &ti)))
		return rc;
	const char *rt = get_str(y, get(y, get(y, j, "profiles"), "pegasus"), "runtime");
	if (rt) {
		double v;
		if (!wf_parse_number(rt, &v))
			return wfb_error(y->b, line, "job '%s': profiles.pegasus.runtime '%.40s' is not a number",
					 id, rt);
		if ((rc = wfb_task_runtime(y->b, ti, line, v)))
			return rc;
	}
	const yaml_node_t *uses = get(y, j, "uses");
	if (uses && uses->type != YAML_SEQUENCE_NODE)
		return wfb_error(y->b, yline(uses), "job '%s': 'uses' is not a list", id);
	for (size_t k = 0; k < seq_len(uses); k++) {
		yaml_node_t *u;
		if ((rc = seq_item(y, uses, k, &u)) || (rc = read_use(y, ti, id, u)))
			return rc;
	}
	static const char *const streams[] = { "stdin", "stdout", "stderr" };
	for (int s = 0; s < 3; s++) {
		const char *lfn = get_str(y, j, streams[s]);
		if (lfn && *lfn && (rc = wfb_use(y->b, ti, line, lfn, s ? WFB_OUT : WFB_IN, false, 0)))
			return rc;
	}
	return 0;
}

static int yaml_syntax_error(struct wf_builder *b, const yaml_parser_t *p)
{
	return wfb_error(b, (unsigned)p->problem_mark.line + 1,
			 "malformed YAML at column %u: %s%s%s",
			 (unsigned)p->problem_mark.column + 1,
			 p->problem ? p->problem : "parse error",
			 p->context ? " " : "", p->context ? p->context : "");
}

static int check_depth(struct wf_builder *b, const char *buf, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, rc = 0;
	if (!yaml_parser_initialize(&p))
		return wfb_error_code(b, -ENOMEM, 0, "cannot create YAML parser");
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = yaml_syntax_error(b, &p);
			break;
		}
		yaml_event_type_t t = ev.type;
		unsigned line = (unsigned)ev.start_mark.line + 1;
		yaml_event_delete(&ev);
		if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
			if (++depth > WF_YAML_MAX_DEPTH) {
				rc = wfb_error(b, line, "YAML nested deeper than %d levels",
					       WF_YAML_MAX_DEPTH);
				break;
			}
		} else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
			depth--;
		} else if (t == YAML_STREAM_END_EVENT) {
			break;
		}
	}
	yaml_parser_delete(&p);
	return rc;
}

int wf_read_yaml(struct wf_builder *b, const char *buf, size_t len, enum wf_format *fmt)
{
	yaml_parser_t p;
	struct yw y = { .b = b };
	int rc = check_depth(b, buf, len);
	if (rc)
		return rc;
	if (!yaml_parser_initialize(&p))
		return wfb_error_code(b, -ENOMEM, 0, "cannot create YAML parser");
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&p, &y.doc)) {
		rc = yaml_syntax_error(b, &p);
		yaml_parser_delete(&p);
		return rc;
	}
	y.budget = 16 * (uint64_t)(y.doc.nodes.top - y.doc.nodes.start) + ((uint64_t)1 << 20);
	yaml_node_t *root = yaml_document_get_root_node(&y.doc);
	if (!root || root->type != YAML_MAPPING_NODE || !get(&y, root, "pegasus")) {
		rc = wfb_error_code(b, -ENOTSUP, 0,
				    "not a recognised workflow: expected DAX XML (<adag>), WfFormat JSON or Pegasus 5 YAML (a mapping with a 'pegasus' key)");
		goto out;
	}
	*fmt = WF_FORMAT_PEGASUS5;
	wfb_set_name(b, get_str(&y, root, "name"));
	const yaml_node_t *jobs = get(&y, root, "jobs");
	if (!jobs || jobs->type != YAML_SEQUENCE_NODE) {
		rc = wfb_error(b, yline(root), "missing 'jobs' list");
		goto out;
	}
	for (size_t i = 0; i < seq_len(jobs); i++) {
		yaml_node_t *j;
		if ((rc = seq_item(&y, jobs, i, &j)) || (rc = read_job(&y, j, i)))
			goto out;
	}
	const yaml_node_t *deps = get(&y, root, "jobDependencies");
	for (size_t i = 0; i < seq_len(deps); i++) {
		yaml_node_t *d;
		if ((rc = seq_item(&y, deps, i, &d)))
			goto out;
		const char *id = get_str(&y, d, "id");
		const yaml_node_t *ch = get(&y, d, "children");
		if (!id) {
			rc = wfb_error(b, yline(d), "jobDependencies[%zu]: missing 'id'", i);
			goto out;
		}
		for (size_t k = 0; k < seq_len(ch); k++) {
			yaml_node_t *c;
			if ((rc = seq_item(&y, ch, k, &c)))
				goto out;
			if (!scalar(c)) {
				rc = wfb_error(b, yline(c), "jobDependencies '%s': a child that is not a job id", id);
				goto out;
			}
			if ((rc = wfb_edge(b, yline(c), id, scalar(c), WFB_REF_ID)))
				goto out;
		}
	}
out:
	yaml_document_delete(&y.doc);
	yaml_parser_delete(&p);
	return rc;
}
