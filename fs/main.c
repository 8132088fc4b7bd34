/*
 * main.c - the tierfs program: options, configuration, start-up checks,
 * mount, the multithreaded session loop, clean shutdown.
 *
 * Start-up refuses, with a message naming the problem, a bad config, a
 * missing tier directory, overlapping tiers and a mountpoint inside a tier
 * (all checked by tcfg_resolve) before anything is mounted.
 */
#define _GNU_SOURCE
#include "tierfs.h"
#include "kernel_io.h"
#include "loop.h"
#include "ctl.h"
#include "plancheck.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <stdatomic.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

extern const struct fuse_lowlevel_ops tfs_ops;

#define MAX_OVERRIDES 64

struct cli {
	char *config;
	char *workflow;
	char *nonopt[2];
	int nnonopt;
	char *overrides[MAX_OVERRIDES]; /* "key=value" for tcfg_set */
	int noverrides;
	int bad;
	int shared; /* allow_other, allow_root or default_permissions given */
};

enum { KEY_SHARED = 1 };

static const struct fuse_opt cli_spec[] = {
	{"config=%s", offsetof(struct cli, config), 0},
	{"workflow=%s", offsetof(struct cli, workflow), 0},
	FUSE_OPT_KEY("allow_other", KEY_SHARED),
	FUSE_OPT_KEY("allow_root", KEY_SHARED),
	FUSE_OPT_KEY("default_permissions", KEY_SHARED),
	FUSE_OPT_END,
};

static int is_config_key(const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);
	for (size_t i = 0; i < tcfg_noptions; i++)
		if (tcfg_options[i].mount_option && strlen(tcfg_options[i].key) == klen &&
		    !strncmp(tcfg_options[i].key, arg, klen))
			return 1;
	return 0;
}

static int cli_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct cli *c = data;
	if (key == KEY_SHARED) {
		c->shared = 1;
		return 1; /* kept for libfuse */
	}
	if (key == FUSE_OPT_KEY_NONOPT) {
		/* fstab's mount.fuse3 passes "SOURCE MOUNTPOINT": keep the last. */
		if (c->nnonopt == 2) {
			fprintf(stderr, "tierfs: unexpected argument '%s'\n", arg);
			c->bad = 1;
			return 0;
		}
		c->nonopt[c->nnonopt++] = strdup(arg);
		return 0;
	}
	if (key == FUSE_OPT_KEY_OPT && is_config_key(arg)) {
		if (!strchr(arg, '=')) {
			fprintf(stderr, "tierfs: option '%s' needs a value (-o %s=VALUE)\n", arg, arg);
			c->bad = 1;
			return 0;
		}
		if (c->noverrides == MAX_OVERRIDES) {
			fprintf(stderr, "tierfs: too many -o options\n");
			c->bad = 1;
			return 0;
		}
		c->overrides[c->noverrides++] = strdup(arg);
		return 0;
	}
	return 1;
}

static void usage(const char *prog)
{
	printf("usage: %s MOUNTPOINT -o config=FILE [-f] [-d] [-o OPTION...]\n\n"
	       "tierfs mounts one directory over several storage tiers (memory, local SSD,\n"
	       "parallel filesystem) and places each new file on one of them.\n\n",
	       prog);
	tcfg_print_help(stdout);
	printf("\nFUSE options:\n");
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

static void config_log(void *arg, enum tcfg_log_level level, const char *msg)
{
	tfs_log((int)level, "%s", msg);
}

static void monitor_log(void *arg, const char *msg)
{
	tfs_log(TCFG_LOG_WARN, "%s", msg);
}

static char *default_config(void)
{
	char buf[PATH_MAX];
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	if (xdg && *xdg)
		snprintf(buf, sizeof(buf), "%s/tierfs/tierfs.conf", xdg);
	else if (home && *home)
		snprintf(buf, sizeof(buf), "%s/.config/tierfs/tierfs.conf", home);
	else
		buf[0] = '\0';
	if (buf[0] && access(buf, R_OK) == 0)
		return strdup(buf);
	if (access("/etc/tierfs/tierfs.conf", R_OK) == 0)
		return strdup("/etc/tierfs/tierfs.conf");
	return NULL;
}

/* The daemon's housekeeping thread: once a second it flushes the record
 * log; on SIGHUP it reloads the model.  It stops when the session ends. */
struct ticker {
	struct tfs *fs;
	struct fuse_session *se;
	pthread_t thread;
	int running;
	_Atomic int stop; /* libfuse resets its own exit flag when the loop ends */
};

static volatile sig_atomic_t hup_pending;

static void on_sighup(int sig)
{
	hup_pending = 1;
}

static void *ticker_main(void *arg)
{
	struct ticker *tk = arg;
	while (!atomic_load(&tk->stop)) {
		struct timespec ts = {1, 0};
		nanosleep(&ts, NULL);
		if (hup_pending) {
			hup_pending = 0;
			char err[512];
			if (tfs_reload(tk->fs, NULL, err, sizeof(err)) == 0)
				tfs_log(TCFG_LOG_INFO, "SIGHUP: model reloaded");
			else
				tfs_log(TCFG_LOG_ERROR, "SIGHUP: %s; the old model stays", err);
		}
		tpl_log_flush(tk->fs->place);
		tfs_records_flush();
		struct tfs *fs = tk->fs;
		for (int t = 0; t < fs->ntiers; t++)
			mon_used(fs->mon, t, atomic_load(&fs->tiers[t].used));
		tfs_migrator_tick(fs);
		int trc = mon_tick(fs->mon);
		if (trc && trc != -EAGAIN) /* -EAGAIN: the clock did not move */
			tfs_log(TCFG_LOG_WARN, "monitor tick: %s", strerror(-trc));
	}
	return NULL;
}

int tfs_reload(struct tfs *fs, const char *model, char *err, size_t errlen)
{
	if (!model && !fs->cfg->model) {
		snprintf(err, errlen, "no model configured (model = in %s)", fs->cfg->file);
		return -ENOENT;
	}
	return tpl_reload(fs->place, model, err, errlen);
}

/* Finish or undo the moves a crash interrupted, before anything is served
 * or counted; then keep the journal open for this session's moves. */
static int recover(struct tfs *fs, const char *mountpoint)
{
	char real[PATH_MAX], path[PATH_MAX];
	if (!realpath(mountpoint, real))
		snprintf(real, sizeof(real), "%s", mountpoint);
	snprintf(path, sizeof(path), "%s/journal-%016llx.log", fs->cfg->state_dir,
		 (unsigned long long)tfs_mount_hash(real));
	struct tfs_recovery r;
	int rc = tfs_recover(fs, path, &r);
	if (rc) {
		fprintf(stderr, "tierfs: recovery with journal %s failed: %s\n", path, strerror(-rc));
		return -1;
	}
	if (r.intents || r.temps_removed || r.duplicates_fixed)
		tfs_log(TCFG_LOG_WARN,
			"recovery: %u interrupted moves (%u finished, %u undone), %u temporary files removed, %u duplicates fixed",
			r.intents, r.rolled_forward, r.rolled_back, r.temps_removed, r.duplicates_fixed);
	rc = tfs_journal_open(path, &fs->journal);
	if (rc) {
		fprintf(stderr, "tierfs: cannot open the journal %s: %s\n", path, strerror(-rc));
		return -1;
	}
	return 0;
}

/* Filesystems whose close() can report an error of its own (delayed
 * write-back to a server): FLUSH is forwarded only when a tier is on one. */
static int is_network_fs(int fd)
{
	static const unsigned long remote[] = {
		0x6969,	    /* NFS */
		0x0BD00BD0, /* Lustre */
		0x47504653, /* GPFS */
		0x19830326, /* BeeGFS */
		0xFF534D42, /* CIFS */
		0xFE534D42, /* SMB2 */
		0x00C36400, /* Ceph */
		0x65735546, /* FUSE (sshfs, another tierfs, ...) */
		0x013111A8, /* IBRIX */
		0x6B414653, /* AFS */
		0x5346414F, /* OpenAFS */
		0x73757245, /* Coda */
	};
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0)
		return 1; /* unknown: keep close's errors */
	for (size_t i = 0; i < sizeof(remote) / sizeof(remote[0]); i++)
		if ((unsigned long)sf.f_type == remote[i])
			return 1;
	return 0;
}

/* Each monitor frame (ticker thread): the phase tracker's step, the phase
 * offered to the placement model, and in proactive mode the headroom the
 * migrator keeps free in each tier (mon_phase_reserve: the rule the
 * simulator runs too) and whether the migrator may prefetch (the current
 * or the likeliest next phase reads more than it writes). */
static void phase_on_frame(void *ud, const double *frame, size_t ncols)
{
	struct tfs *fs = ud;
	static int last_phase = -1, last_novel;
	if (mon_phase_step(fs->phase, frame, ncols) != 0)
		return;
	struct mon_phase_status st;
	mon_phase_status(fs->phase, &st);
	tpl_set_phase(fs->place, st.phase);
	if (st.phase != last_phase && st.phase >= 0)
		tfs_log(TCFG_LOG_INFO, "load phase %d (was %d); likeliest next %d", st.phase, last_phase, st.next);
	if (st.novel && !last_novel)
		tfs_log(TCFG_LOG_WARN, "load unlike any learnt phase for %llu ticks (distance %.2f): consider retraining the phase model",
			(unsigned long long)st.ticks_in_phase, st.distance);
	last_phase = st.phase;
	last_novel = st.novel;
	int proactive = fs->cfg->proactive && st.phase >= 0;
	double theta = fs->cfg->proactive_theta;
	for (int t = 0; t < fs->ntiers; t++) {
		uint64_t need = 0, keep = 0;
		if (proactive) {
			uint64_t cap = fs->tiers[t].capacity;
			double low = fs->cfg->tiers[t].low_watermark, h = fs->cfg->proactive_horizon;
			need = mon_phase_reserve(fs->phase, st.phase, (size_t)t, cap, low, h, theta);
			keep = mon_phase_keep(fs->phase, st.phase, (size_t)t, cap, low, h, theta);
		}
		atomic_store(&fs->headroom[t], need);
		atomic_store(&fs->prefetch_keep[t], keep);
	}
	int read_heavy = mon_phase_read_heavy(fs->phase, st.phase) ||
			 (st.next_prob > theta && mon_phase_read_heavy(fs->phase, st.next));
	atomic_store(&fs->prefetch, proactive && fs->cfg->proactive_prefetch && read_heavy);
}

/* phase_model = FILE: loaded before the monitor starts, refused (and the
 * mount with it) when it does not fit this mount's tiers. */
static int load_phase_model(struct tfs *fs, const struct tcfg *cfg)
{
	char err[512];
	if (!cfg->phase_model) {
		if (cfg->proactive)
			tfs_log(TCFG_LOG_WARN, "proactive = true needs phase_model =; static watermarks only");
		return 0;
	}
	if (mon_phase_load(cfg->phase_model, &fs->phase, err, sizeof(err)) != 0) {
		fprintf(stderr, "tierfs: phase_model: %s\n", err);
		return -1;
	}
	const struct mon_phase_info *in = mon_phase_info(fs->phase);
	if (in->ntiers != (size_t)fs->ntiers) {
		fprintf(stderr, "tierfs: phase_model: %s was trained on %zu tiers, this mount has %d\n", cfg->phase_model,
			in->ntiers, fs->ntiers);
		return -1;
	}
	for (int t = 0; t < fs->ntiers; t++)
		if (strcmp(mon_phase_tier_name(fs->phase, (size_t)t), fs->tiers[t].name))
			tfs_log(TCFG_LOG_WARN, "phase_model: tier %d is '%s' in %s but '%s' here; taken as the same", t,
				mon_phase_tier_name(fs->phase, (size_t)t), cfg->phase_model, fs->tiers[t].name);
	tfs_log(TCFG_LOG_INFO, "phase model %s: %zu phases over %zu-frame windows%s", cfg->phase_model, in->k,
		in->history + 1, cfg->proactive ? ", proactive demotion on" : "");
	return 0;
}

/* tier_place's plan-check hook: the workflow simulated on one node of
 * plan_check_cores cores whose tiers hold what is free on this mount now
 * (a tier with nothing free counts one byte: it takes nothing). */
static int plan_hook(void *arg, const wf_graph *g, const struct lrn_model *model, struct tpl_plan *out, char *err,
		     size_t errlen)
{
	struct tfs *fs = arg;
	struct sim_config sc;
	sim_config_default(&sc);
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	sc.cores = fs->cfg->plan_check_cores > 0 ? (uint32_t)fs->cfg->plan_check_cores
		   : online > 0			  ? (uint32_t)online
						  : 1;
	for (int t = 0; t < fs->ntiers; t++) {
		uint64_t used = atomic_load(&fs->tiers[t].used), cap = fs->tiers[t].capacity;
		sc.capacity[t] = cap > used ? cap - used : 1;
	}
	return plan_check_place(g, fs->cfg, &sc, model, out, err, errlen);
}

static int open_tiers(struct tfs *fs, struct tcfg *cfg, const char *mountpoint)
{
	fs->ntiers = (int)cfg->ntiers;
	for (int t = 0; t < fs->ntiers; t++) {
		struct tfs_tier *tr = &fs->tiers[t];
		tr->idx = t;
		tr->name = cfg->tiers[t].name;
		tr->path = cfg->tiers[t].path;
		tr->capacity = cfg->tiers[t].capacity;
		const struct tcfg_tier *ct = &cfg->tiers[t];
		tfs_pipe_init(&tr->rd, ct->emulate_read_bandwidth, ct->emulate_latency_ns);
		tfs_pipe_init(&tr->wr, ct->emulate_write_bandwidth, ct->emulate_latency_ns);
		tr->emulated = ct->emulate_read_bandwidth || ct->emulate_write_bandwidth || ct->emulate_latency_ns;
		if (tr->emulated)
			tfs_log(TCFG_LOG_INFO, "tier %s: emulating %llu B/s read, %llu B/s write, %llu ns latency",
				ct->name, (unsigned long long)ct->emulate_read_bandwidth,
				(unsigned long long)ct->emulate_write_bandwidth,
				(unsigned long long)ct->emulate_latency_ns);
		tr->rootfd = open(tr->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		struct stat st;
		if (tr->rootfd < 0 || fstat(tr->rootfd, &st) < 0) {
			fprintf(stderr, "tierfs: tier %s: cannot open %s: %s\n", tr->name, tr->path,
				strerror(errno));
			return -1;
		}
		tr->dev = st.st_dev;
		tr->remote = is_network_fs(tr->rootfd);
		fs->remote_tier |= tr->remote;
		/* Migrations into the tier take at most migrate_share of its
		 * declared write bandwidth (unlimited when none is declared). */
		tfs_pipe_init(&tr->mig, (uint64_t)((double)ct->write_bandwidth * ct->migrate_share), 0);
	}
	if (recover(fs, mountpoint) != 0)
		return -1;
	int rc = tfs_scan_usage(fs);
	if (rc) {
		fprintf(stderr, "tierfs: cannot measure the tiers' use: %s\n", strerror(-rc));
		return -1;
	}
	if (load_phase_model(fs, cfg) != 0)
		return -1;
	struct mon_config mc = {.ntiers = (size_t)fs->ntiers, .log = monitor_log};
	if (fs->phase) {
		mc.on_frame = phase_on_frame;
		mc.frame_ud = fs;
	}
	for (int t = 0; t < fs->ntiers; t++)
		mc.tiers[t] = (struct mon_tier_config){fs->tiers[t].name, fs->tiers[t].capacity,
						       atomic_load(&fs->tiers[t].used), fs->tiers[t].path};
	rc = mon_create(&mc, &fs->mon);
	if (rc) {
		fprintf(stderr, "tierfs: cannot start the monitor: %s\n", strerror(-rc));
		return -1;
	}
	return 0;
}

/* The kernel caps a FUSE mount's readahead at its backing device's
 * read_ahead_kb (128 KiB) whatever INIT says, so a sequential read costs a
 * round trip per 128 KiB.  As root, raise it to the readahead INIT asks
 * for (ops.c); the device is found in mountinfo, as a stat of the
 * mountpoint would wait for the session loop that has not started. */
static void set_readahead(const char *mountpoint)
{
	if (geteuid() != 0)
		return;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return;
	char line[PATH_MAX + 512], mnt[PATH_MAX], dev[32] = "";
	unsigned maj, min;
	while (fgets(line, sizeof(line), f)) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT ...; the last match is ours */
		if (sscanf(line, "%*s %*s %u:%u %*s %4095s", &maj, &min, mnt) == 3 && !strcmp(mnt, mountpoint) &&
		    strstr(line, " - fuse.tierfs "))
			snprintf(dev, sizeof(dev), "%u:%u", maj, min);
	}
	fclose(f);
	if (!dev[0])
		return;
	char path[96];
	snprintf(path, sizeof(path), "/sys/class/bdi/%s/read_ahead_kb", dev);
	FILE *ra = fopen(path, "we");
	int ok = ra && fprintf(ra, "%u\n", TFS_READAHEAD_KB) > 0;
	if (ra && fclose(ra) != 0)
		ok = 0;
	if (!ok)
		tfs_log(TCFG_LOG_INFO, "readahead stays at the kernel's default: cannot write %s", path);
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts opts;
	struct cli cli = {0};
	struct tcfg *cfg = NULL;
	struct fuse_session *se = NULL;
	struct tfs fs;
	char err[TCFG_ERRLEN];
	int ret = 1, fs_ready = 0;

	memset(&opts, 0, sizeof(opts));
	if (fuse_opt_parse(&args, &cli, cli_spec, cli_proc) != 0 || cli.bad)
		goto out_args;
	if (cli.nnonopt > 0 && fuse_opt_add_arg(&args, cli.nonopt[cli.nnonopt - 1]) != 0)
		goto out_args;
	if (fuse_parse_cmdline(&args, &opts) != 0)
		goto out_args;
	if (opts.show_help) {
		usage(argv[0]);
		ret = 0;
		goto out_args;
	}
	if (opts.show_version) {
		printf("tierfs version %s\nFUSE library version %s\n", TIERFS_VERSION, fuse_pkgversion());
		fuse_lowlevel_version();
		ret = 0;
		goto out_args;
	}
	if (!opts.mountpoint) {
		fprintf(stderr, "usage: %s MOUNTPOINT -o config=FILE [-f] [-d] [-o OPTION...]\n"
				"       %s --help for all options\n",
			argv[0], argv[0]);
		goto out_args;
	}
	if (!cli.config)
		cli.config = default_config();
	if (!cli.config) {
		fprintf(stderr, "tierfs: no configuration: give -o config=FILE (see tierfs.conf(5))\n");
		goto out_args;
	}
	if (tcfg_load(cli.config, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "tierfs: %s\n", err);
		goto out_args;
	}
	for (int i = 0; i < cli.noverrides; i++) {
		char *eq = strchr(cli.overrides[i], '=');
		*eq = '\0';
		if (tcfg_set(cfg, cli.overrides[i], eq + 1, err, sizeof(err)) != 0) {
			fprintf(stderr, "tierfs: %s\n", err);
			goto out_cfg;
		}
	}
	cfg->log = config_log;
	if (tcfg_resolve(cfg, opts.mountpoint, err, sizeof(err)) != 0) {
		fprintf(stderr, "tierfs: %s\n", err);
		goto out_cfg;
	}
	tfs_log_set_level(opts.debug ? TCFG_LOG_DEBUG : (int)cfg->log_level);
	if (tfs_init(&fs, cfg) != 0) {
		fprintf(stderr, "tierfs: out of memory\n");
		goto out_cfg;
	}
	fs_ready = 1;
	fs.is_root = geteuid() == 0;
	fs.euid = geteuid();
	fs.egid = getegid();
	fs.clock = tfs_real_clock;
	if (open_tiers(&fs, cfg, opts.mountpoint) != 0)
		goto out_fs;
	if (tpl_create(cfg, &fs.place, err, sizeof(err)) != 0) {
		fprintf(stderr, "tierfs: %s\n", err);
		goto out_fs;
	}
	if (cfg->plan_check)
		tpl_set_plan_check(fs.place, plan_hook, &fs);
	if (cli.workflow && tfs_attach_workflow(&fs, "", cli.workflow, err, sizeof(err)) != 0) {
		fprintf(stderr, "tierfs: workflow: %s\n", err);
		goto out_fs;
	}
	{
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/records.csv", cfg->state_dir);
		if (tpl_log_open(fs.place, path, err, sizeof(err)) != 0) {
			fprintf(stderr, "tierfs: %s\n", err);
			goto out_fs;
		}
	}
	umask(0); /* modes arrive with the caller's umask applied */

	/* The kernel checks permissions (default_permissions) whenever a
	 * user other than the daemon's can reach the mount.  Otherwise the
	 * only caller is the daemon's own user, and the tier filesystem's
	 * checks, made with the daemon's credentials, are the caller's:
	 * the kernel's copy of them would cost a GETATTR of the directory
	 * before every create and unlink in it (its attributes are stale
	 * after each change).  What differs then is listed in ops.c. */
	fs.kernel_perms = cli.shared;
	if (fuse_opt_add_arg(&args, fs.kernel_perms ? "-odefault_permissions,fsname=tierfs,subtype=tierfs"
						    : "-ofsname=tierfs,subtype=tierfs") != 0)
		goto out_fs;
	/* Spliced READ replies must fit a pipe: a smaller max_read. */
	size_t max_read = tfs_kio_splice_plan(fs.cfg);
	char max_read_opt[40];
	snprintf(max_read_opt, sizeof(max_read_opt), "-omax_read=%zu", max_read);
	if (max_read && fuse_opt_add_arg(&args, max_read_opt) != 0)
		goto out_fs;
	se = fuse_session_new(&args, &tfs_ops, sizeof(tfs_ops), &fs);
	if (!se)
		goto out_fs;
	fs.se = se;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_session;
	/* SIGHUP reloads the model instead of ending the session. */
	struct sigaction sa = {.sa_handler = on_sighup};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	if (fuse_session_mount(se, opts.mountpoint) != 0) {
		fprintf(stderr, "tierfs: cannot mount on %s\n", opts.mountpoint);
		goto out_signals;
	}
	set_readahead(opts.mountpoint);
	if (tfs_kio_install(&fs, se) != 0)
		tfs_log(TCFG_LOG_WARN, "cannot install the device I/O hooks: no passthrough, one more round trip per write");
	for (int t = 0; t < fs.ntiers; t++)
		tfs_log(TCFG_LOG_INFO, "tier %s: %s, capacity %llu bytes, %llu in use", fs.tiers[t].name,
			fs.tiers[t].path, (unsigned long long)fs.tiers[t].capacity,
			(unsigned long long)atomic_load(&fs.tiers[t].used));
	if (tpl_model_path(fs.place))
		tfs_log(TCFG_LOG_INFO, "mounted on %s, placement by model %s (fallback %s)", opts.mountpoint,
			tpl_model_path(fs.place), tcfg_placement_name(cfg->placement));
	else
		tfs_log(TCFG_LOG_INFO, "mounted on %s, placement %s", opts.mountpoint,
			tcfg_placement_name(cfg->placement));
	if (fuse_daemonize(opts.foreground) != 0)
		goto out_unmount;
	if (!opts.foreground)
		tfs_log_to_syslog(1);

	/* Threads only after fuse_daemonize(): a fork keeps just the caller. */
	if (tfs_ctl_start(&fs, opts.mountpoint) != 0)
		tfs_log(TCFG_LOG_WARN, "tierctl will not reach this mount");
	if (tfs_migrator_start(&fs) != 0)
		tfs_log(TCFG_LOG_WARN, "no background migrator: files move only when a tier is full");
	/* Signals must reach the main thread, which libfuse wakes with them;
	 * the ticker is created with them blocked (it inherits the mask). */
	struct ticker tk = {.fs = &fs, .se = se};
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	tk.running = pthread_create(&tk.thread, NULL, ticker_main, &tk) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (opts.singlethread) {
		ret = fuse_session_loop(se);
	} else {
		struct fuse_loop_config *lc = fuse_loop_cfg_create();
		if (!lc)
			goto out_unmount;
		fuse_loop_cfg_set_clone_fd(lc, opts.clone_fd);
		if (opts.max_idle_threads != UINT_MAX)
			fuse_loop_cfg_set_idle_threads(lc, opts.max_idle_threads);
		fuse_loop_cfg_set_max_threads(lc, (unsigned)cfg->threads);
		if (opts.clone_fd) /* libfuse's loop reads a cloned device per thread */
			ret = fuse_session_loop_mt(se, lc);
		else
			ret = tfs_loop_run(se, cfg->threads, cfg->spin_ns);
		fuse_loop_cfg_destroy(lc);
	}
	/* libfuse reports an exit by SIGTERM/SIGINT/SIGHUP as that signal
	 * number: that is the ordinary way to stop, not a failure. */
	ret = !(ret == 0 || ret == SIGTERM || ret == SIGINT || ret == SIGHUP);
	tfs_log(TCFG_LOG_INFO, "unmounting %s", opts.mountpoint);
	tfs_kio_stop();
	atomic_store(&tk.stop, 1);
	tfs_ctl_stop(&fs);
	if (tk.running)
		pthread_join(tk.thread, NULL);
	tk.running = 0;
	tfs_migrator_stop(&fs);
	tfs_log_live_files(&fs);
	{
		char series[PATH_MAX];
		snprintf(series, sizeof(series), "%s/series.csv", cfg->state_dir);
		int src = mon_write_csv(fs.mon, series);
		if (src)
			tfs_log(TCFG_LOG_WARN, "cannot write the time series to %s: %s", series, strerror(-src));
	}

out_unmount:
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out_fs:
	if (fs_ready) {
		for (int t = 0; t < fs.ntiers; t++)
			if (fs.tiers[t].rootfd > 0)
				close(fs.tiers[t].rootfd);
		tpl_destroy(fs.place);
		mon_destroy(fs.mon);
		mon_phase_destroy(fs.phase);
		tfs_journal_close(fs.journal);
		tfs_destroy(&fs);
	}
out_cfg:
	tcfg_free(cfg);
out_args:
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	free(cli.config);
	free(cli.workflow);
	for (int i = 0; i < cli.nnonopt; i++)
		free(cli.nonopt[i]);
	for (int i = 0; i < cli.noverrides; i++)
		free(cli.overrides[i]);
	return ret;
}
