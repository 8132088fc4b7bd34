/* tier_parser entry points: read a workflow file under a size limit,
 * detect its format from its first bytes, hand it to the right reader.
 *
 * Detection: '<' -> DAX XML, '{' -> WfFormat JSON, anything else is tried
 * as Pegasus 5 YAML (which must have a top-level `pegasus` key). A UTF-8
 * byte-order mark and leading whitespace are skipped first.
 * The size limit is checked with fstat before any byte is read, so a huge
 * file costs nothing.
 */
#include "wf_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

int wf_load_buffer(const char *buf, size_t len, const char *name,
		   const struct wf_options *opts, wf_graph **out, char *err,
		   size_t errlen)
{
	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (!name)
		name = "<buffer>";
	size_t max = opts && opts->max_bytes ? opts->max_bytes : WF_DEFAULT_MAX_BYTES;
	if (len > max)
		return fail(err, errlen, -EFBIG,
			    "%s: workflow is %zu bytes, over the limit of %zu bytes (option max_bytes)",
			    name, len, max);
	size_t i = 0;
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
		i++;
	if (i == len)
		return fail(err, errlen, -EINVAL, "%s: empty workflow file", name);

	struct wf_builder *b = wfb_new(name, opts, err, errlen);
	if (!b)
		return fail(err, errlen, -ENOMEM, "%s: out of memory", name);
	enum wf_format fmt = WF_FORMAT_UNKNOWN;
	int rc;
	if (buf[i] == '<')
		rc = wf_read_dax(b, buf, len, &fmt);
	else if (buf[i] == '{')
		rc = wf_read_json(b, buf + i, len - i, &fmt);
	else if (buf[i] == '[')
		rc = wfb_error_code(b, -ENOTSUP, 0,
				    "JSON array at top level: not a WfCommons WfFormat instance (expected an object)");
	else
		rc = wf_read_yaml(b, buf, len, &fmt);
	if (!rc)
		rc = wfb_finish(b, fmt, out);
	wfb_free(b);
	return rc;
}

int wf_load(const char *path, const struct wf_options *opts, wf_graph **out,
	    char *err, size_t errlen)
{
	*out = NULL;
	char ebuf[128];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		return fail(err, errlen, -e, "%s: cannot open workflow: %s", path,
			    strerror_r(e, ebuf, sizeof(ebuf)));
	}
	struct stat st;
	int rc;
	char *buf = NULL;
	size_t max = opts && opts->max_bytes ? opts->max_bytes : WF_DEFAULT_MAX_BYTES;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		rc = fail(err, errlen, -e, "%s: cannot stat workflow: %s", path,
			  strerror_r(e, ebuf, sizeof(ebuf)));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = fail(err, errlen, -EINVAL, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		rc = fail(err, errlen, -EFBIG,
			  "%s: workflow is %lld bytes, over the limit of %zu bytes (option max_bytes)",
			  path, (long long)st.st_size, max);
		goto out;
	}
	size_t len = (size_t)st.st_size, got = 0;
	buf = malloc(len + 1);
	if (!buf) {
		rc = fail(err, errlen, -ENOMEM, "%s: out of memory for %zu bytes", path, len);
		goto out;
	}
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			rc = fail(err, errlen, -e, "%s: read error: %s", path,
				  strerror_r(e, ebuf, sizeof(ebuf)));
			goto out;
		}
		if (n == 0)
			break; /* shrank under us: parse what is there */
		got += (size_t)n;
	}
	buf[got] = '\0';
	rc = wf_load_buffer(buf, got, path, opts, out, err, errlen);
out:
	free(buf);
	close(fd);
	return rc;
}
