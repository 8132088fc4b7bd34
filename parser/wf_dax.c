/* tier_parser: Pegasus DAX 2.1 / 3.x XML reader (libxml2 xmlTextReader,
 * streaming, so a large DAX never becomes a DOM).
 *
 * Security: no network (XML_PARSE_NONET), no entity substitution, no DTD
 * loading, and any DOCTYPE is refused outright: real DAX files have none,
 * and refusing it closes both billion-laughs expansion and external
 * entities (e.g. one pointing at /etc/passwd). libxml2's own depth limit
 * (256 without XML_PARSE_HUGE) bounds nesting.
 *
 * Assumes the element layout of notes/workflow-formats.md section 1;
 * elements and attributes it does not know are skipped, namespaces are
 * ignored (matching is on local names).  The exception: a top-level
 * element it does not know that carries an id is read as an opaque task,
 * with a warning, since a <child> or <parent> may name it.
 */
#include "wf_internal.h"

#include <errno.h>
#include <libxml/xmlreader.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct dax {
	struct wf_builder *b;
	xmlTextReaderPtr r;
	char xml_err[512];
	unsigned xml_err_line;
	/* current task (a depth-1 node, see is_node()) */
	bool in_task;
	uint32_t task;
	int runtime_prio; /* 3 attribute, 2 pegasus profile, 1 metadata */
	/* pending <uses> / catalogue <file> with metadata children */
	bool pending;
	bool pending_catalog;
	char *pend_name;
	int pend_link;
	bool pend_has_size;
	double pend_size;
	unsigned pend_line;
	/* current <child ref> */
	char *child;
};

static void xml_error(void *arg, xmlErrorPtr e)
{
	struct dax *d = arg;
	if (!e || d->xml_err[0] || e->level < XML_ERR_ERROR)
		return;
	snprintf(d->xml_err, sizeof(d->xml_err), "%s", e->message ? e->message : "XML error");
	/* one line per message: libxml2 appends "Bytes: 0x.." on a new line */
	for (char *c = d->xml_err; *c; c++)
		if (*c == '\n')
			*c = ' ';
	size_t n = strlen(d->xml_err);
	while (n && d->xml_err[n - 1] == ' ')
		d->xml_err[--n] = '\0';
	d->xml_err_line = e->line > 0 ? (unsigned)e->line : 0;
}

/* libxml2's generic handler would print to stderr; the library never does. */
static void xml_silent(void *ctx, xmlErrorPtr e) { (void)ctx; (void)e; }
static void xml_silent_generic(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;
static void xml_init(void) { xmlInitParser(); }

/* The node's own line: the parser's line runs ahead of the reader. */
static unsigned line_of(struct dax *d)
{
	xmlNodePtr n = xmlTextReaderCurrentNode(d->r);
	long l = n ? xmlGetLineNo(n) : -1;
	if (l <= 0)
		l = xmlTextReaderGetParserLineNumber(d->r);
	return l > 0 ? (unsigned)l : 0;
}

/* Refuse a DOCTYPE before libxml2 sees it: entity declarations are where
 * billion-laughs and external-entity attacks live, and no DAX has one. */
static int refuse_doctype(struct wf_builder *b, const char *buf, size_t len)
{
	size_t i = 0;
	while (i < len) {
		const char *lt = memchr(buf + i, '<', len - i);
		if (!lt)
			return 0;
		i = (size_t)(lt - buf);
		if (len - i >= 4 && memcmp(lt, "<!--", 4) == 0) {
			const char *end = memmem(lt + 4, len - i - 4, "-->", 3);
			if (!end)
				return 0; /* unterminated comment: libxml2 reports it */
			i = (size_t)(end - buf) + 3;
		} else if (len - i >= 2 && lt[1] == '?') {
			const char *end = memmem(lt + 2, len - i - 2, "?>", 2);
			if (!end)
				return 0;
			i = (size_t)(end - buf) + 2;
		} else if (len - i >= 9 && memcmp(lt, "<!DOCTYPE", 9) == 0) {
			unsigned line = 1;
			for (size_t k = 0; k < i; k++)
				line += buf[k] == '\n';
			return wfb_error(b, line,
					 "DOCTYPE declarations are refused in workflow files (no DTDs, no entities)");
		} else {
			return 0;
		}
	}
	return 0;
}

static char *attr(struct dax *d, const char *name)
{
	return (char *)xmlTextReaderGetAttribute(d->r, (const xmlChar *)name);
}

static bool is(const xmlChar *local, const char *s)
{
	return local && strcmp((const char *)local, s) == 0;
}

static bool truthy(const char *v)
{
	return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0);
}

static int parse_link(struct dax *d, const char *link, const char *file, int *out)
{
	if (!link || strcmp(link, "input") == 0)
		*out = WFB_IN; /* the 2.1 schema's default */
	else if (strcmp(link, "output") == 0)
		*out = WFB_OUT;
	else if (strcmp(link, "inout") == 0 || strcmp(link, "checkpoint") == 0)
		*out = WFB_IN | WFB_OUT;
	else if (strcmp(link, "none") == 0)
		*out = 0;
	else
		return wfb_error(d->b, line_of(d),
				 "<uses> of '%s': link=\"%s\" (expected input, output, inout, checkpoint or none)",
				 file, link);
	return 0;
}

static int number_attr(struct dax *d, const char *what, const char *v, double *out)
{
	if (wf_parse_number(v, out))
		return 0;
	return wfb_error(d->b, line_of(d), "%s=\"%.60s\" is not a number", what, v);
}

static int flush_pending(struct dax *d)
{
	int rc = 0;
	if (!d->pending)
		return 0;
	if (d->pending_catalog) {
		if (d->pend_has_size)
			rc = wfb_file_size(d->b, d->pend_line, d->pend_name, d->pend_size);
	} else {
		rc = wfb_use(d->b, d->task, d->pend_line, d->pend_name, d->pend_link,
			     d->pend_has_size, d->pend_size);
	}
	free(d->pend_name);
	d->pend_name = NULL;
	d->pending = false;
	return rc;
}

static int set_runtime(struct dax *d, int prio, const char *text, const char *what)
{
	double v;
	if (!d->in_task || prio < d->runtime_prio)
		return 0;
	if (!wf_parse_number(text, &v))
		return wfb_error(d->b, line_of(d), "%s '%.60s' is not a number of seconds",
				 what, text ? text : "");
	d->runtime_prio = prio;
	return wfb_task_runtime(d->b, d->task, line_of(d), v);
}

static int start_task(struct dax *d, const xmlChar *local)
{
	char *id = attr(d, "id"), *name = attr(d, "name"), *rt = attr(d, "runtime");
	int rc;
	if (!id) {
		rc = wfb_error(d->b, line_of(d), "<%s> without id attribute", (const char *)local);
		goto out;
	}
	/* sub-workflows are opaque tasks; their category is the element */
	rc = wfb_task(d->b, line_of(d), id, NULL, name ? name : (const char *)local, &d->task);
	if (rc)
		goto out;
	d->in_task = true;
	d->runtime_prio = 0;
	if (rt)
		rc = set_runtime(d, 3, rt, "runtime attribute");
out:
	free(id);
	free(name);
	free(rt);
	return rc;
}

static int start_uses(struct dax *d, bool catalog)
{
	char *name = attr(d, "name");
	if (!name)
		name = attr(d, "file");
	char *link = attr(d, "link"), *size = attr(d, "size");
	char *exe = attr(d, "executable"), *type = attr(d, "type");
	int rc = 0;
	if (!name) {
		rc = wfb_error(d->b, line_of(d), "<%s> without name or file attribute",
			       catalog ? "file" : "uses");
		goto out;
	}
	/* staged executables are not workflow data */
	if (truthy(exe) || (type && strcmp(type, "executable") == 0))
		goto out;
	d->pend_link = 0;
	if (!catalog && (rc = parse_link(d, link, name, &d->pend_link)))
		goto out;
	d->pend_has_size = false;
	if (size) {
		if ((rc = number_attr(d, "size", size, &d->pend_size)))
			goto out;
		d->pend_has_size = true;
	}
	d->pending = true;
	d->pending_catalog = catalog;
	d->pend_name = name;
	d->pend_line = line_of(d);
	name = NULL;
	if (xmlTextReaderIsEmptyElement(d->r))
		rc = flush_pending(d);
out:
	free(name);
	free(link);
	free(size);
	free(exe);
	free(type);
	return rc;
}

static int std_stream(struct dax *d, const xmlChar *local)
{
	char *name = attr(d, "name");
	if (!name)
		name = attr(d, "file");
	if (!name)
		return 0;
	int link = is(local, "stdin") ? WFB_IN : WFB_OUT;
	int rc = wfb_use(d->b, d->task, line_of(d), name, link, false, 0);
	free(name);
	return rc;
}

static int metadata(struct dax *d, int depth)
{
	char *key = attr(d, "key");
	int rc = 0;
	if (!key)
		return 0;
	if (d->pending && depth >= 2 && strcmp(key, "size") == 0) {
		char *text = (char *)xmlTextReaderReadString(d->r);
		if (!wf_parse_number(text, &d->pend_size))
			rc = wfb_error(d->b, line_of(d), "<metadata key=\"size\"> of '%s': '%.60s' is not a number",
				       d->pend_name, text ? text : "");
		else
			d->pend_has_size = true;
		free(text);
	} else if (d->in_task && !d->pending && depth == 2 &&
		   (strcmp(key, "time") == 0 || strcmp(key, "runtime") == 0)) {
		char *text = (char *)xmlTextReaderReadString(d->r);
		rc = set_runtime(d, 1, text, "<metadata key=\"time\">");
		free(text);
	}
	free(key);
	return rc;
}

/* The DAG's nodes at the top level: jobs, sub-workflows (<dax>, <dag>)
 * and Decaf dataflows (<dflow>, DAX 3.6), whose inner jobs exchange data
 * in memory: the dataflow's own <uses> are the files it reads and writes. */
static bool is_node(const xmlChar *local)
{
	return is(local, "job") || is(local, "dax") || is(local, "dag") || is(local, "dflow");
}

static int profile(struct dax *d)
{
	char *ns = attr(d, "namespace"), *key = attr(d, "key");
	int rc = 0;
	if (ns && key && strcmp(ns, "pegasus") == 0 && strcmp(key, "runtime") == 0) {
		char *text = (char *)xmlTextReaderReadString(d->r);
		rc = set_runtime(d, 2, text, "pegasus profile runtime");
		free(text);
	}
	free(ns);
	free(key);
	return rc;
}

static int element(struct dax *d, int depth, enum wf_format *fmt)
{
	const xmlChar *local = xmlTextReaderConstLocalName(d->r);
	if (depth == 0) {
		if (!is(local, "adag"))
			return wfb_error_code(d->b, -ENOTSUP, line_of(d),
					      "root element is <%s>, expected <adag> (Pegasus DAX)",
					      (const char *)local);
		char *v = attr(d, "version"), *name = attr(d, "name");
		*fmt = v && v[0] == '2' ? WF_FORMAT_DAX2 : WF_FORMAT_DAX3;
		wfb_set_name(d->b, name);
		free(v);
		free(name);
		return 0;
	}
	if (depth == 1) {
		d->in_task = false;
		free(d->child);
		d->child = NULL;
		if (is_node(local))
			return start_task(d, local);
		if (is(local, "file"))
			return start_uses(d, true);
		if (is(local, "child")) {
			d->child = attr(d, "ref");
			if (!d->child)
				return wfb_error(d->b, line_of(d), "<child> without ref attribute");
			return 0;
		}
		char *id = attr(d, "id");
		if (id) {
			wfb_warn(d->b, line_of(d), "<%s id=\"%s\"> is not a DAX element tierfs knows: read as an opaque task",
				 (const char *)local, id);
			free(id);
			return start_task(d, local);
		}
		return 0;
	}
	if (depth == 2 && is(local, "parent") && d->child) {
		char *ref = attr(d, "ref");
		int rc = ref ? wfb_edge(d->b, line_of(d), ref, d->child, WFB_REF_ID)
			     : wfb_error(d->b, line_of(d), "<parent> without ref attribute");
		free(ref);
		return rc;
	}
	if (is(local, "metadata"))
		return metadata(d, depth);
	if (depth != 2 || !d->in_task)
		return 0;
	if (is(local, "uses"))
		return start_uses(d, false);
	if (is(local, "stdin") || is(local, "stdout") || is(local, "stderr"))
		return std_stream(d, local);
	if (is(local, "profile"))
		return profile(d);
	return 0;
}

int wf_read_dax(struct wf_builder *b, const char *buf, size_t len, enum wf_format *fmt)
{
	struct dax d = { .b = b };
	int rc = 0;
	if (len > INT32_MAX)
		return wfb_error_code(b, -EFBIG, 0, "XML document larger than 2 GiB");
	if ((rc = refuse_doctype(b, buf, len)))
		return rc;
	pthread_once(&xml_once, xml_init);
	xmlStructuredErrorFunc old_fn = xmlStructuredError;
	void *old_ctx = xmlStructuredErrorContext;
	xmlGenericErrorFunc old_gen = xmlGenericError;
	void *old_gen_ctx = xmlGenericErrorContext;
	/* both handlers are per thread in libxml2, so this is thread-safe */
	xmlSetStructuredErrorFunc(NULL, xml_silent);
	xmlSetGenericErrorFunc(NULL, xml_silent_generic);
	d.r = xmlReaderForMemory(buf, (int)len, wfb_src(b), NULL,
				 XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
	if (!d.r) {
		rc = wfb_error_code(b, -ENOMEM, 0, "cannot create XML reader");
		goto out;
	}
	xmlTextReaderSetStructuredErrorHandler(d.r, xml_error, &d);
	*fmt = WF_FORMAT_UNKNOWN;
	int ret;
	while ((ret = xmlTextReaderRead(d.r)) == 1) {
		int type = xmlTextReaderNodeType(d.r);
		int depth = xmlTextReaderDepth(d.r);
		if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
			rc = wfb_error(b, line_of(&d),
				       "DOCTYPE declarations are refused in workflow files (no DTDs or entities)");
			break;
		}
		if (type == XML_READER_TYPE_ENTITY_REFERENCE) {
			rc = wfb_error(b, line_of(&d), "entity references are refused in workflow files");
			break;
		}
		if (type == XML_READER_TYPE_ELEMENT)
			rc = element(&d, depth, fmt);
		else if (type == XML_READER_TYPE_END_ELEMENT) {
			const xmlChar *local = xmlTextReaderConstLocalName(d.r);
			if ((depth == 2 && is(local, "uses")) || (depth == 1 && is(local, "file")))
				rc = flush_pending(&d);
		}
		if (rc)
			break;
	}
	if (!rc && ret != 0) {
		if (d.xml_err[0])
			rc = wfb_error(b, d.xml_err_line, "malformed XML: %s", d.xml_err);
		else
			rc = wfb_error(b, line_of(&d), "malformed XML");
	}
	if (!rc && *fmt == WF_FORMAT_UNKNOWN)
		rc = wfb_error_code(b, -ENOTSUP, 0, "no <adag> root element");
out:
	free(d.pend_name);
	free(d.child);
	xmlFreeTextReader(d.r);
	xmlSetStructuredErrorFunc(old_ctx, old_fn);
	xmlSetGenericErrorFunc(old_gen_ctx, old_gen);
	return rc;
}
