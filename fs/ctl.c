/*
 * ctl.c - the control socket: see ctl.h for the protocol.
 *
 * One listener thread serves clients one at a time, each with a receive
 * timeout and a size limit, so a stuck or hostile client cannot hold the
 * daemon; nothing here runs on the FUSE request path except
 * tfs_ctl_note_decision(), a lock-free store into a fixed table.
 */
#define _GNU_SOURCE
#include "ctl.h"
#include "tierfs.h"
#include "kernel_io.h"
#include "loop.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define DECISIONS 65536 /* power of two */

struct decision_note {
	_Atomic uint64_t ino; /* 0 = empty; written last */
	const char *policy;   /* static strings or the core's names */
	const char *reason;
	char workflow[64];
	float proba[TCFG_MAX_TIERS];
	int have_proba;
	int known;
};

struct tfs_ctl {
	int fd;
	int stop_pipe[2];
	pthread_t thread;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char mountpoint[PATH_MAX];
	struct decision_note notes[DECISIONS];
};

static struct tfs_ctl *ctl_of(struct tfs *fs)
{
	return fs->ctl;
}

void tfs_ctl_note_decision(struct tfs *fs, uint64_t ino, const struct tpl_decision *d)
{
	struct tfs_ctl *c = ctl_of(fs);
	if (!c)
		return;
	struct decision_note *n = &c->notes[(ino * 0x9e3779b97f4a7c15ULL) >> 48 & (DECISIONS - 1)];
	atomic_store(&n->ino, 0);
	n->policy = d->policy;
	n->reason = d->reason;
	snprintf(n->workflow, sizeof(n->workflow), "%s",
		 d->workflow_dir ? (d->workflow_dir[0] ? d->workflow_dir : ".") : "");
	memcpy(n->proba, d->proba, sizeof(n->proba));
	n->have_proba = d->have_proba;
	n->known = d->known;
	atomic_store(&n->ino, ino);
}

/* A relative path of the mount from a request: no "..", not absolute, no
 * empty components beyond what normalising removes. */
static int request_path(const char *in, char *out, size_t len)
{
	if (!in || in[0] == '/' || tpl_normalise_path(in, out, len) != 0)
		return -EINVAL;
	if (out[0] == '\0')
		snprintf(out, len, ".");
	return 0;
}

static cJSON *error_reply(const char *fmt, const char *arg)
{
	char msg[PATH_MAX + 640]; /* room for a path or a config error */
	snprintf(msg, sizeof(msg), fmt, arg ? arg : "");
	cJSON *r = cJSON_CreateObject();
	cJSON_AddBoolToObject(r, "ok", 0);
	cJSON_AddStringToObject(r, "error", msg);
	return r;
}

static cJSON *ok_reply(void)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddBoolToObject(r, "ok", 1);
	return r;
}

struct workflow_list {
	struct tfs *fs;
	cJSON *arr;
};

static void add_workflow(void *arg, const struct tpl_attachment_info *a)
{
	struct workflow_list *wl = arg;
	cJSON *w = cJSON_CreateObject();
	cJSON_AddStringToObject(w, "dir", a->dir[0] ? a->dir : ".");
	cJSON_AddStringToObject(w, "file", a->file);
	cJSON_AddStringToObject(w, "name", a->name ? a->name : "");
	cJSON_AddStringToObject(w, "format", a->format);
	cJSON_AddNumberToObject(w, "tasks", a->tasks);
	cJSON_AddNumberToObject(w, "files", a->files);
	/* plan: "model" or the tier that takes every file; plan_detail: the
	 * simulated figures, or why the model stays. */
	cJSON_AddStringToObject(w, "plan", a->plan_tier >= 0 && a->plan_tier < wl->fs->ntiers
						   ? wl->fs->tiers[a->plan_tier].name
						   : "model");
	cJSON_AddStringToObject(w, "plan_detail", a->plan);
	cJSON_AddItemToArray(wl->arr, w);
}

static void list_workflows(struct tfs *fs, cJSON *r)
{
	struct workflow_list wl = {fs, cJSON_AddArrayToObject(r, "workflows")};
	tpl_list(fs->place, add_workflow, &wl);
}

/* "phase": the load phase the phase model sees (null without a model). */
static void add_phase(struct tfs *fs, cJSON *r)
{
	if (!fs->phase) {
		cJSON_AddNullToObject(r, "phase");
		return;
	}
	struct mon_phase_status st;
	mon_phase_status(fs->phase, &st);
	cJSON *o = cJSON_AddObjectToObject(r, "phase");
	cJSON_AddStringToObject(o, "model", fs->cfg->phase_model);
	cJSON_AddNumberToObject(o, "phases", (double)mon_phase_info(fs->phase)->k);
	cJSON_AddNumberToObject(o, "current", st.phase); /* -1: warming up */
	cJSON_AddNumberToObject(o, "next", st.next);
	cJSON_AddNumberToObject(o, "next_prob", st.next_prob);
	cJSON_AddNumberToObject(o, "ticks_in_phase", (double)st.ticks_in_phase);
	cJSON_AddNumberToObject(o, "changes", (double)st.changes);
	cJSON_AddNumberToObject(o, "distance", st.distance);
	cJSON_AddBoolToObject(o, "novel", st.novel);
	cJSON_AddBoolToObject(o, "proactive", fs->cfg->proactive);
	cJSON_AddBoolToObject(o, "prefetch", atomic_load(&fs->prefetch));
	cJSON *h = cJSON_AddObjectToObject(o, "headroom");
	for (int t = 0; t < fs->ntiers; t++)
		cJSON_AddNumberToObject(h, fs->tiers[t].name, (double)atomic_load(&fs->headroom[t]));
}

static cJSON *cmd_status(struct tfs *fs, const cJSON *req)
{
	struct mon_state ms;
	int have = fs->mon && mon_snapshot(fs->mon, &ms) == 0;
	cJSON *r = ok_reply();
	cJSON_AddStringToObject(r, "mountpoint", ctl_of(fs)->mountpoint);
	cJSON_AddStringToObject(r, "config", fs->cfg->file);
	cJSON_AddStringToObject(r, "policy", tpl_policy_name(fs->place));
	cJSON_AddStringToObject(r, "fallback", tcfg_placement_name(fs->cfg->placement));
	if (tpl_model_path(fs->place))
		cJSON_AddStringToObject(r, "model", tpl_model_path(fs->place));
	else
		cJSON_AddNullToObject(r, "model");
	cJSON_AddStringToObject(r, "passthrough", tfs_kio_status());
	cJSON_AddStringToObject(r, "io_uring", tfs_kio_uring_status());
	char spl[160];
	cJSON_AddStringToObject(r, "spliced_reads", tfs_kio_splice_status(spl, sizeof(spl)));
	struct tfs_loop_status ls;
	tfs_loop_status(&ls);
	if (ls.running) {
		cJSON *lo = cJSON_AddObjectToObject(r, "loop");
		cJSON_AddStringToObject(lo, "mode", ls.shared ? "all threads" : "one leader");
		cJSON_AddNumberToObject(lo, "spin_us", (double)ls.spin_ns / 1000);
		cJSON_AddNumberToObject(lo, "by_leader", (double)ls.by_leader);
		cJSON_AddNumberToObject(lo, "by_all", (double)ls.by_all);
		cJSON_AddNumberToObject(lo, "switches", (double)ls.switches);
		cJSON_AddNumberToObject(lo, "takeovers", (double)ls.takeovers);
	}
	cJSON_AddBoolToObject(r, "writeback_cache", fs->writeback);
	cJSON_AddStringToObject(r, "state_dir", fs->cfg->state_dir);
	cJSON *tiers = cJSON_AddArrayToObject(r, "tiers");
	for (int t = 0; t < fs->ntiers; t++) {
		const struct tcfg_tier *ct = &fs->cfg->tiers[t];
		uint64_t used = atomic_load(&fs->tiers[t].used), cap = fs->tiers[t].capacity;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", ct->name);
		cJSON_AddStringToObject(o, "path", ct->path);
		cJSON_AddNumberToObject(o, "capacity", (double)cap);
		cJSON_AddNumberToObject(o, "used", (double)used);
		cJSON_AddNumberToObject(o, "free", (double)(used >= cap ? 0 : cap - used));
		cJSON_AddNumberToObject(o, "high_watermark", ct->high_watermark);
		cJSON_AddNumberToObject(o, "low_watermark", ct->low_watermark);
		cJSON_AddBoolToObject(o, "emulated", fs->tiers[t].emulated);
		if (have) {
			cJSON_AddNumberToObject(o, "read_Bps", ms.tiers[t].read_Bps);
			cJSON_AddNumberToObject(o, "write_Bps", ms.tiers[t].write_Bps);
			cJSON_AddNumberToObject(o, "ops_per_s",
						ms.tiers[t].read_ops_per_s + ms.tiers[t].write_ops_per_s);
			cJSON_AddNumberToObject(o, "open_files", (double)ms.tiers[t].open_files);
		}
		cJSON_AddItemToArray(tiers, o);
	}
	if (have) {
		cJSON_AddNumberToObject(r, "creates_per_s", ms.creates_per_s);
		cJSON_AddNumberToObject(r, "meta_per_s", ms.meta_per_s);
	}
	cJSON_AddNumberToObject(r, "spills", (double)atomic_load(&fs->spills));
	struct tfs_migrator_stats mst;
	tfs_migrator_stats(fs, &mst);
	cJSON *mig = cJSON_AddObjectToObject(r, "migration");
	cJSON_AddBoolToObject(mig, "running", fs->migrator != NULL);
	cJSON_AddNumberToObject(mig, "demoted_files", (double)mst.demoted_files);
	cJSON_AddNumberToObject(mig, "demoted_bytes", (double)mst.demoted_bytes);
	cJSON_AddNumberToObject(mig, "promoted_files", (double)mst.promoted_files);
	cJSON_AddNumberToObject(mig, "promoted_bytes", (double)mst.promoted_bytes);
	cJSON_AddNumberToObject(mig, "demoted_finished_bytes", (double)mst.demoted_rank_bytes[0]);
	cJSON_AddNumberToObject(mig, "demoted_unknown_bytes", (double)mst.demoted_rank_bytes[1]);
	cJSON_AddNumberToObject(mig, "demoted_still_needed_bytes", (double)mst.demoted_rank_bytes[2]);
	cJSON_AddNumberToObject(mig, "failed", (double)mst.failed);
	cJSON_AddNumberToObject(mig, "retried", (double)mst.retried);
	cJSON_AddNumberToObject(mig, "moves_total", (double)atomic_load(&fs->moves));
	cJSON_AddNumberToObject(mig, "moved_bytes_total", (double)atomic_load(&fs->moved_bytes));
	cJSON_AddNumberToObject(mig, "proactive_plans", (double)mst.proactive_plans);
	cJSON_AddNumberToObject(mig, "proactive_bytes", (double)mst.proactive_bytes);
	cJSON_AddNumberToObject(mig, "prefetch_plans", (double)mst.prefetch_plans);
	cJSON_AddNumberToObject(mig, "prefetch_files", (double)mst.prefetch_files);
	cJSON_AddNumberToObject(mig, "prefetch_bytes", (double)mst.prefetch_bytes);
	add_phase(fs, r);
	list_workflows(fs, r);
	(void)req;
	return r;
}

static cJSON *cmd_where(struct tfs *fs, const cJSON *req)
{
	const cJSON *paths = cJSON_GetObjectItemCaseSensitive(req, "paths");
	if (!cJSON_IsArray(paths))
		return error_reply("'paths' must be an array of paths relative to the mount%s", NULL);
	cJSON *r = ok_reply();
	cJSON *out = cJSON_AddArrayToObject(r, "files");
	const cJSON *p;
	cJSON_ArrayForEach(p, paths)
	{
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToArray(out, o);
		char rel[PATH_MAX];
		if (!cJSON_IsString(p) || request_path(p->valuestring, rel, sizeof(rel)) != 0) {
			cJSON_AddStringToObject(o, "path", cJSON_IsString(p) ? p->valuestring : "");
			cJSON_AddStringToObject(o, "error", "not a path inside the mount");
			continue;
		}
		cJSON_AddStringToObject(o, "path", rel);
		struct stat st;
		int t = tfs_find(fs, rel, &st);
		if (t < 0) {
			cJSON_AddStringToObject(o, "error", strerror(-t));
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			cJSON *ts = cJSON_AddArrayToObject(o, "tiers");
			unsigned mask = tfs_where(fs, rel);
			for (int i = 0; i < fs->ntiers; i++)
				if (mask & (1u << i))
					cJSON_AddItemToArray(ts, cJSON_CreateString(fs->tiers[i].name));
			cJSON_AddStringToObject(o, "type", "directory");
			continue;
		}
		cJSON_AddStringToObject(o, "tier", fs->tiers[t].name);
		cJSON_AddStringToObject(o, "type", S_ISREG(st.st_mode) ? "file" : S_ISLNK(st.st_mode) ? "symlink" : "special");
		cJSON_AddNumberToObject(o, "size", (double)st.st_size);
		uint64_t ino = tfs_ino_of(fs, t, rel, &st);
		char inos[24];
		snprintf(inos, sizeof(inos), "%llu", (unsigned long long)ino);
		cJSON_AddStringToObject(o, "ino", inos); /* a double would round it */
		if (st.st_nlink > 1 && S_ISREG(st.st_mode))
			cJSON_AddStringToObject(o, "note", "hard-linked: never moved between tiers");
		struct decision_note *n = &ctl_of(fs)->notes[(ino * 0x9e3779b97f4a7c15ULL) >> 48 & (DECISIONS - 1)];
		if (atomic_load(&n->ino) != ino) {
			cJSON_AddStringToObject(o, "why", "placed before this mount, or its decision was forgotten");
			continue;
		}
		cJSON_AddStringToObject(o, "policy", n->policy ? n->policy : "");
		if (n->reason)
			cJSON_AddStringToObject(o, "reason", n->reason);
		if (n->workflow[0])
			cJSON_AddStringToObject(o, "workflow", n->workflow);
		if (n->have_proba) {
			cJSON *pr = cJSON_AddObjectToObject(o, "probabilities");
			for (int i = 0; i < fs->ntiers; i++)
				cJSON_AddNumberToObject(pr, fs->tiers[i].name, n->proba[i]);
		}
	}
	return r;
}

static cJSON *text_reply(const char *key, int (*print)(struct mon *, FILE *), struct mon *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return error_reply("out of memory%s", NULL);
	int rc = m ? print(m, f) : -ENOENT;
	fclose(f);
	cJSON *r = rc ? error_reply("cannot produce it: %s", strerror(-rc)) : ok_reply();
	if (!rc)
		cJSON_AddStringToObject(r, key, buf ? buf : "");
	free(buf);
	return r;
}

static cJSON *cmd_stats(struct tfs *fs, const cJSON *req)
{
	const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(req, "format");
	if (cJSON_IsString(fmt) && !strcmp(fmt->valuestring, "prometheus")) {
		cJSON *r = text_reply("text", mon_print_prometheus, fs->mon);
		cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "text");
		if (cJSON_IsString(t)) {
			char extra[512];
			int n = snprintf(extra, sizeof(extra),
					 "# HELP tierfs_spills_total Files moved because their tier was full.\n"
					 "# TYPE tierfs_spills_total counter\ntierfs_spills_total %llu\n",
					 (unsigned long long)atomic_load(&fs->spills));
			if (fs->phase) {
				struct mon_phase_status st;
				mon_phase_status(fs->phase, &st);
				snprintf(extra + n, sizeof(extra) - (size_t)n,
					 "# HELP tierfs_phase Load phase by the phase model (-1 while warming up).\n"
					 "# TYPE tierfs_phase gauge\ntierfs_phase %d\n"
					 "# HELP tierfs_phase_novel 1 while the load is unlike every learnt phase.\n"
					 "# TYPE tierfs_phase_novel gauge\ntierfs_phase_novel %d\n",
					 st.phase, st.novel);
			}
			size_t l = strlen(t->valuestring) + strlen(extra) + 1;
			char *all = malloc(l);
			if (all) {
				snprintf(all, l, "%s%s", t->valuestring, extra);
				cJSON_ReplaceItemInObjectCaseSensitive(r, "text", cJSON_CreateString(all));
				free(all);
			}
		}
		return r;
	}
	struct mon_state ms;
	if (!fs->mon || mon_snapshot(fs->mon, &ms) != 0)
		return error_reply("the monitor is not running%s", NULL);
	cJSON *r = ok_reply();
	cJSON_AddNumberToObject(r, "uptime_s", ms.uptime_s);
	cJSON_AddNumberToObject(r, "creates_total", (double)ms.creates_total);
	cJSON_AddNumberToObject(r, "meta_ops_total", (double)ms.meta_total);
	cJSON_AddNumberToObject(r, "creates_per_s", ms.creates_per_s);
	cJSON_AddNumberToObject(r, "meta_per_s", ms.meta_per_s);
	cJSON_AddNumberToObject(r, "migration_backlog_bytes", (double)ms.migration_backlog_bytes);
	cJSON_AddNumberToObject(r, "spills_total", (double)atomic_load(&fs->spills));
	cJSON *tiers = cJSON_AddArrayToObject(r, "tiers");
	for (size_t t = 0; t < ms.ntiers; t++) {
		const struct mon_tier_state *ts = &ms.tiers[t];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", ts->name);
		cJSON_AddNumberToObject(o, "capacity", (double)ts->capacity);
		cJSON_AddNumberToObject(o, "used", (double)ts->used);
		cJSON_AddNumberToObject(o, "used_frac", ts->used_frac);
		cJSON_AddNumberToObject(o, "read_Bps", ts->read_Bps);
		cJSON_AddNumberToObject(o, "write_Bps", ts->write_Bps);
		cJSON_AddNumberToObject(o, "fill_Bps", ts->fill_Bps);
		cJSON_AddNumberToObject(o, "open_files", (double)ts->open_files);
		cJSON_AddNumberToObject(o, "read_bytes_total", (double)ts->read_bytes_total);
		cJSON_AddNumberToObject(o, "write_bytes_total", (double)ts->write_bytes_total);
		cJSON_AddNumberToObject(o, "reads_total", (double)ts->reads_total);
		cJSON_AddNumberToObject(o, "writes_total", (double)ts->writes_total);
		cJSON_AddNumberToObject(o, "opens_total", (double)ts->opens_total);
		if (ts->fs_checked) {
			cJSON_AddNumberToObject(o, "backing_avail", (double)ts->fs_avail);
			cJSON_AddBoolToObject(o, "backing_short", ts->fs_short);
		}
		cJSON_AddItemToArray(tiers, o);
	}
	add_phase(fs, r);
	return r;
}

static cJSON *cmd_series(struct tfs *fs, const cJSON *req)
{
	(void)req;
	return text_reply("csv", mon_print_csv, fs->mon);
}

static cJSON *cmd_attach(struct tfs *fs, const cJSON *req)
{
	const cJSON *dir = cJSON_GetObjectItemCaseSensitive(req, "dir");
	const cJSON *wf = cJSON_GetObjectItemCaseSensitive(req, "workflow");
	char rel[PATH_MAX], err[TCFG_ERRLEN];
	if (!cJSON_IsString(dir) || request_path(dir->valuestring, rel, sizeof(rel)) != 0)
		return error_reply("'dir' must be a directory inside the mount, given relative to its root%s", NULL);
	if (!cJSON_IsString(wf) || wf->valuestring[0] != '/')
		return error_reply("'workflow' must be an absolute path to a workflow file%s", NULL);
	struct stat st;
	if (strcmp(rel, ".") != 0 && (tfs_find(fs, rel, &st) < 0 || !S_ISDIR(st.st_mode)))
		return error_reply("no directory '%s' in the mount", rel);
	if (tfs_attach_workflow(fs, strcmp(rel, ".") ? rel : "", wf->valuestring, err, sizeof(err)) != 0)
		return error_reply("%s", err);
	tfs_log(TCFG_LOG_INFO, "workflow %s attached to %s", wf->valuestring, rel);
	return ok_reply();
}

int tfs_attach_workflow(struct tfs *fs, const char *dir, const char *wf_path, char *err, size_t errlen)
{
	int rc = tpl_attach(fs->place, dir, wf_path, err, errlen);
	struct tpl_plan plan;
	if (rc == 0 && tpl_plan_of(fs->place, dir, &plan) == 0)
		tfs_log(TCFG_LOG_INFO, "workflow %s: %s", wf_path, plan.text);
	return rc;
}

static cJSON *cmd_detach(struct tfs *fs, const cJSON *req)
{
	const cJSON *dir = cJSON_GetObjectItemCaseSensitive(req, "dir");
	char rel[PATH_MAX];
	if (!cJSON_IsString(dir) || request_path(dir->valuestring, rel, sizeof(rel)) != 0)
		return error_reply("'dir' must be a directory inside the mount, given relative to its root%s", NULL);
	if (tpl_detach(fs->place, strcmp(rel, ".") ? rel : "") != 0)
		return error_reply("no workflow is attached to '%s'", rel);
	return ok_reply();
}

static cJSON *cmd_list(struct tfs *fs, const cJSON *req)
{
	cJSON *r = ok_reply();
	list_workflows(fs, r);
	(void)req;
	return r;
}

static cJSON *cmd_reload(struct tfs *fs, const cJSON *req)
{
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(req, "model");
	char err[TCFG_ERRLEN];
	if (model && (!cJSON_IsString(model) || model->valuestring[0] != '/'))
		return error_reply("'model' must be an absolute path to a model file%s", NULL);
	if (tfs_reload(fs, model ? model->valuestring : NULL, err, sizeof(err)) != 0)
		return error_reply("%s; the old model stays", err);
	tfs_log(TCFG_LOG_INFO, "model reloaded from %s", tpl_model_path(fs->place));
	cJSON *r = ok_reply();
	cJSON_AddStringToObject(r, "model", tpl_model_path(fs->place));
	return r;
}

static int tier_index(struct tfs *fs, const char *name)
{
	for (int t = 0; t < fs->ntiers; t++)
		if (!strcmp(fs->tiers[t].name, name))
			return t;
	return -1;
}

static cJSON *cmd_migrate(struct tfs *fs, const cJSON *req)
{
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(req, "path");
	const cJSON *tier = cJSON_GetObjectItemCaseSensitive(req, "tier");
	char rel[PATH_MAX];
	if (!cJSON_IsString(path) || request_path(path->valuestring, rel, sizeof(rel)) != 0)
		return error_reply("'path' must be a file inside the mount, given relative to its root%s", NULL);
	if (!cJSON_IsString(tier) || tier_index(fs, tier->valuestring) < 0)
		return error_reply("'tier' must name a tier of this mount%s", NULL);
	int rc = tfs_migrate(fs, rel, tier_index(fs, tier->valuestring));
	if (rc == -EXDEV)
		rc = 0; /* already there */
	if (rc == -EMLINK)
		return error_reply("%s has more than one hard link: tierfs does not move it", rel);
	if (rc == -EAGAIN)
		return error_reply("%s was written during the copy; try again", rel);
	if (rc)
		return error_reply("cannot move it: %s", strerror(-rc));
	return ok_reply();
}

static cJSON *cmd_pin(struct tfs *fs, const cJSON *req)
{
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(req, "path");
	const cJSON *tier = cJSON_GetObjectItemCaseSensitive(req, "tier");
	char rel[PATH_MAX];
	if (!cJSON_IsString(path) || request_path(path->valuestring, rel, sizeof(rel)) != 0)
		return error_reply("'path' must be a file inside the mount, given relative to its root%s", NULL);
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(req, "cmd");
	int unpin = cJSON_IsString(cmd) && !strcmp(cmd->valuestring, "unpin");
	if (!unpin && (!cJSON_IsString(tier) || tier_index(fs, tier->valuestring) < 0))
		return error_reply("'tier' must name a tier of this mount%s", NULL);
	int rc = tfs_pin(fs, rel, unpin ? NULL : tier->valuestring);
	if (rc)
		return error_reply("cannot pin it: %s", strerror(-rc));
	return ok_reply();
}

static const struct {
	const char *name;
	cJSON *(*fn)(struct tfs *fs, const cJSON *req);
} commands[] = {
	{"status", cmd_status}, {"where", cmd_where},	{"stats", cmd_stats},	{"series", cmd_series},
	{"attach", cmd_attach}, {"detach", cmd_detach}, {"list", cmd_list},	{"reload", cmd_reload},
	{"migrate", cmd_migrate}, {"pin", cmd_pin},	{"unpin", cmd_pin},
};

static cJSON *dispatch(struct tfs *fs, const char *buf, size_t len)
{
	cJSON *req = cJSON_ParseWithLength(buf, len);
	if (!req || !cJSON_IsObject(req)) {
		cJSON_Delete(req);
		return error_reply("the request is not a JSON object%s", NULL);
	}
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(req, "cmd");
	cJSON *r = NULL;
	if (!cJSON_IsString(cmd))
		r = error_reply("the request has no \"cmd\"%s", NULL);
	for (size_t i = 0; !r && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd->valuestring, commands[i].name))
			r = commands[i].fn(fs, req);
	if (!r)
		r = error_reply("unknown command '%s'", cmd->valuestring);
	cJSON_Delete(req);
	return r;
}

static void serve(struct tfs *fs, int cfd)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		const char *msg = "{\"ok\":false,\"error\":\"only the mount's owner may control it\"}\n";
		(void)!write(cfd, msg, strlen(msg));
		return;
	}
	struct timeval tv = {2, 0};
	setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	char *buf = malloc(TFS_CTL_MAX_REQUEST + 1);
	size_t len = 0;
	int too_big = 0, done = 0;
	while (buf && !done) {
		ssize_t n = read(cfd, buf + len, TFS_CTL_MAX_REQUEST + 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf + len - (size_t)n, '\n', (size_t)n))
			done = 1;
		if (len > TFS_CTL_MAX_REQUEST) {
			too_big = 1;
			break;
		}
	}
	cJSON *r = !buf	    ? error_reply("out of memory%s", NULL)
		   : too_big ? error_reply("the request is larger than %s bytes", "65536")
			     : dispatch(fs, buf, len);
	char *out = cJSON_PrintUnformatted(r);
	if (out) {
		size_t ol = strlen(out), off = 0;
		out[ol] = '\n';
		while (off < ol + 1) {
			ssize_t w = write(cfd, out + off, ol + 1 - off);
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		out[ol] = '\0';
	}
	cJSON_free(out);
	cJSON_Delete(r);
	if (too_big && buf) {
		/* Let the client read the refusal instead of a reset: take what it
		 * still sends (bounded, and the receive timeout applies). */
		shutdown(cfd, SHUT_WR);
		size_t drained = 0;
		ssize_t n;
		while (drained < (16u << 20) && (n = read(cfd, buf, TFS_CTL_MAX_REQUEST)) > 0)
			drained += (size_t)n;
	}
	free(buf);
}

static void *ctl_main(void *arg)
{
	struct tfs *fs = arg;
	struct tfs_ctl *c = ctl_of(fs);
	struct pollfd pfd[2] = {{c->fd, POLLIN, 0}, {c->stop_pipe[0], POLLIN, 0}};
	for (;;) {
		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[1].revents)
			break;
		int cfd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0)
			continue;
		serve(fs, cfd);
		close(cfd);
	}
	return NULL;
}

int tfs_ctl_start(struct tfs *fs, const char *mountpoint)
{
	struct tfs_ctl *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = -1;
	if (!realpath(mountpoint, c->mountpoint))
		snprintf(c->mountpoint, sizeof(c->mountpoint), "%s", mountpoint);
	uint64_t h = tfs_mount_hash(c->mountpoint);
	int n = snprintf(c->path, sizeof(c->path), "%s/ctl-%016llx.sock", fs->cfg->state_dir,
			 (unsigned long long)h);
	if (n < 0 || (size_t)n >= sizeof(c->path)) {
		tfs_log(TCFG_LOG_WARN, "state_dir %s is too long for a socket path: no control socket",
			fs->cfg->state_dir);
		free(c);
		return -ENAMETOOLONG;
	}
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	memcpy(sa.sun_path, c->path, (size_t)n + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || pipe2(c->stop_pipe, O_CLOEXEC) < 0)
		goto fail;
	(void)unlink(c->path); /* a socket left by a killed daemon */
	mode_t old = umask(077);
	int rc = bind(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || chmod(c->path, 0600) < 0 || listen(c->fd, 16) < 0)
		goto fail;
	fs->ctl = c;
	if (pthread_create(&c->thread, NULL, ctl_main, fs) != 0) {
		fs->ctl = NULL;
		goto fail;
	}
	return 0;
fail:
	rc = -errno;
	tfs_log(TCFG_LOG_WARN, "no control socket at %s: %s", c->path, strerror(errno));
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	return rc;
}

void tfs_ctl_stop(struct tfs *fs)
{
	struct tfs_ctl *c = ctl_of(fs);
	if (!c)
		return;
	(void)!write(c->stop_pipe[1], "x", 1);
	pthread_join(c->thread, NULL);
	close(c->fd);
	close(c->stop_pipe[0]);
	close(c->stop_pipe[1]);
	(void)unlink(c->path);
	fs->ctl = NULL;
	free(c);
}

const char *tfs_ctl_socket(struct tfs *fs)
{
	return fs->ctl ? ctl_of(fs)->path : NULL;
}
