/*
 * node.c - the daemon's node table: one struct tfs_node per object the
 * kernel knows, found by its stable ino, named by (parent, name).
 *
 * A node stays alive while the kernel holds lookups on it (nlookup) or
 * something inside the daemon holds a reference (refs): a child naming it
 * as parent, an open handle.  No file descriptor is kept per node, so the
 * number of nodes is not bounded by the open-file limit.
 */
#define _GNU_SOURCE /* renameat2 in longpath.h */
#include "tierfs.h"
#include "recorder.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


static size_t slot_of(const struct tfs *fs, uint64_t ino)
{
	uint64_t h = ino * 0x9e3779b97f4a7c15ULL;
	return (size_t)(h >> 20) & (fs->table_size - 1);
}

static size_t name_slot(const struct tfs *fs, const struct tfs_node *parent, const char *name)
{
	uint64_t h = (uint64_t)(uintptr_t)parent * 0x9e3779b97f4a7c15ULL;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	return (size_t)(h ^ (h >> 29)) & (fs->table_size - 1);
}

/* Caller holds table_lock. */
static void name_unlink(struct tfs *fs, struct tfs_node *n)
{
	if (!n->name || !n->parent)
		return;
	struct tfs_node **pp = &fs->names[name_slot(fs, n->parent, n->name)];
	while (*pp && *pp != n)
		pp = &(*pp)->nnext;
	if (*pp)
		*pp = n->nnext;
	n->nnext = NULL;
}

static void name_link(struct tfs *fs, struct tfs_node *n)
{
	if (!n->name || !n->parent)
		return;
	size_t s = name_slot(fs, n->parent, n->name);
	n->nnext = fs->names[s];
	fs->names[s] = n;
}

static void table_grow(struct tfs *fs)
{
	size_t nsize = fs->table_size * 2;
	struct tfs_node **nt = calloc(nsize, sizeof(*nt));
	struct tfs_node **nn = calloc(nsize, sizeof(*nn));
	if (!nt || !nn) {
		free(nt);
		free(nn);
		return; /* keep the old tables: longer chains, still correct */
	}
	struct tfs_node **old = fs->table;
	size_t osize = fs->table_size;
	free(fs->names);
	fs->table = nt;
	fs->names = nn;
	fs->table_size = nsize;
	for (size_t i = 0; i < osize; i++) {
		struct tfs_node *n = old[i];
		while (n) {
			struct tfs_node *next = n->hnext;
			size_t s = slot_of(fs, n->ino);
			n->hnext = nt[s];
			nt[s] = n;
			name_link(fs, n);
			n = next;
		}
	}
	free(old);
}

static struct tfs_node *table_lookup(struct tfs *fs, uint64_t ino)
{
	for (struct tfs_node *n = fs->table[slot_of(fs, ino)]; n; n = n->hnext)
		if (n->ino == ino)
			return n;
	return NULL;
}

static void table_remove(struct tfs *fs, struct tfs_node *n)
{
	struct tfs_node **pp = &fs->table[slot_of(fs, n->ino)];
	while (*pp && *pp != n)
		pp = &(*pp)->hnext;
	if (*pp) {
		*pp = n->hnext;
		fs->table_count--;
	}
	name_unlink(fs, n);
}

static void node_init_locks(struct tfs_node *n)
{
	pthread_rwlock_init(&n->io_lock, NULL);
	pthread_mutex_init(&n->lock, NULL);
}

int tfs_init(struct tfs *fs, struct tcfg *cfg)
{
	memset(fs, 0, sizeof(*fs));
	fs->cfg = cfg;
	pthread_rwlock_init(&fs->tree_lock, NULL);
	pthread_rwlock_init(&fs->mig_lock, NULL);
	fs->io = &tfs_real_io;
	pthread_mutex_init(&fs->table_lock, NULL);
	fs->table_size = 4096;
	fs->table = calloc(fs->table_size, sizeof(*fs->table));
	fs->names = calloc(fs->table_size, sizeof(*fs->names));
	if (!fs->table || !fs->names)
		return -ENOMEM;
	fs->root.ino = TFS_ROOT_ID;
	fs->root.type = S_IFDIR;
	fs->root.tier = -1;
	fs->root.nlookup = 1;
	fs->root.refs = 1;
	node_init_locks(&fs->root);
	return 0;
}

/* Handles the kernel never released (the session ended first). */
static void free_handles(struct tfs_node *n)
{
	while (n->handles) {
		struct tfs_handle *h = n->handles;
		n->handles = h->next;
		close(h->fd);
		free(h);
	}
}

static void node_free(struct tfs_node *n)
{
	/* The kernel forgot a file it no longer holds open: its life as the
	 * recorder sees it ended with its last close. */
	trec_file_finish(n->rec, n->size);
	free_handles(n);
	pthread_rwlock_destroy(&n->io_lock);
	pthread_mutex_destroy(&n->lock);
	free(n->name);
	free(n);
}

/* Drop the node once nothing refers to it; walks up to parents whose last
 * reference was this child.  Caller holds table_lock; tree links of a node
 * without references cannot be read by anyone else. */
static void maybe_free_locked(struct tfs *fs, struct tfs_node *n)
{
	while (n && n != &fs->root && n->nlookup == 0 && n->refs == 0) {
		struct tfs_node *parent = n->parent;
		table_remove(fs, n);
		node_free(n);
		n = parent;
		if (n)
			n->refs--;
	}
}

void tfs_destroy(struct tfs *fs)
{
	for (size_t i = 0; fs->table && i < fs->table_size; i++) {
		struct tfs_node *n = fs->table[i];
		while (n) {
			struct tfs_node *next = n->hnext;
			node_free(n);
			n = next;
		}
	}
	free(fs->table);
	free(fs->names);
	fs->table = NULL;
	fs->names = NULL;
	pthread_rwlock_destroy(&fs->tree_lock);
	pthread_rwlock_destroy(&fs->mig_lock);
	pthread_mutex_destroy(&fs->table_lock);
}

/* Caller holds tree_lock for writing. */
static void set_name(struct tfs *fs, struct tfs_node *n, struct tfs_node *parent, const char *name)
{
	if (n == &fs->root)
		return;
	char *dup = NULL;
	if (name && !(n->name && n->parent == parent && strcmp(n->name, name) == 0)) {
		dup = strdup(name);
		if (!dup)
			return; /* keep the old name: ops on it fail with ESTALE at worst */
	} else if (name) {
		return; /* unchanged */
	}
	pthread_mutex_lock(&fs->table_lock);
	name_unlink(fs, n);
	free(n->name);
	n->name = dup;
	struct tfs_node *old = n->parent;
	if (old != parent) {
		if (parent)
			parent->refs++;
		n->parent = parent;
	}
	name_link(fs, n);
	if (old && old != parent) {
		old->refs--;
		maybe_free_locked(fs, old);
	}
	pthread_mutex_unlock(&fs->table_lock);
}

struct tfs_node *tfs_node_get(struct tfs *fs, uint64_t ino, mode_t type, struct tfs_node *parent,
			      const char *name, int tier, uint64_t size)
{
	if (ino == TFS_ROOT_ID) {
		pthread_mutex_lock(&fs->table_lock);
		fs->root.nlookup++;
		pthread_mutex_unlock(&fs->table_lock);
		return &fs->root;
	}
	/* Fast path: a node the kernel knows already, by the same name. */
	pthread_rwlock_rdlock(&fs->tree_lock);
	pthread_mutex_lock(&fs->table_lock);
	struct tfs_node *n = table_lookup(fs, ino);
	int same = n && n->type == (type & S_IFMT) && n->parent == parent && n->name &&
		   strcmp(n->name, name) == 0;
	if (same)
		n->nlookup++;
	pthread_mutex_unlock(&fs->table_lock);
	pthread_rwlock_unlock(&fs->tree_lock);
	if (same)
		goto known;

	pthread_rwlock_wrlock(&fs->tree_lock);
	pthread_mutex_lock(&fs->table_lock);
	n = table_lookup(fs, ino);
	if (n && n->type != (type & S_IFMT)) {
		/* The ino was reused by the backing filesystem for an object of
		 * another kind: forget the old mapping for new lookups. */
		table_remove(fs, n);
		n->hnext = NULL;
		n = NULL; /* the stale node lives on until the kernel forgets it */
	}
	int fresh = 0;
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (!n) {
			pthread_mutex_unlock(&fs->table_lock);
			pthread_rwlock_unlock(&fs->tree_lock);
			return NULL;
		}
		n->ino = ino;
		n->type = type & S_IFMT;
		n->tier = S_ISDIR(type) ? -1 : tier;
		n->size = size;
		node_init_locks(n);
		if (fs->table_count * 2 >= fs->table_size)
			table_grow(fs);
		size_t s = slot_of(fs, ino);
		n->hnext = fs->table[s];
		fs->table[s] = n;
		fs->table_count++;
		fresh = 1;
	}
	n->nlookup++;
	pthread_mutex_unlock(&fs->table_lock);
	set_name(fs, n, parent, name);
	pthread_rwlock_unlock(&fs->tree_lock);
	if (fresh)
		return n;
known:
	if (!S_ISDIR(type)) {
		pthread_mutex_lock(&n->lock);
		if (!n->handles && n->tier != tier) {
			n->tier = tier; /* moved behind our back (or by recovery) */
			n->size = size;
		}
		n->unlinked = 0;
		pthread_mutex_unlock(&n->lock);
	}
	return n;
}

struct tfs_node *tfs_node_find(struct tfs *fs, uint64_t ino)
{
	pthread_mutex_lock(&fs->table_lock);
	struct tfs_node *n = ino == TFS_ROOT_ID ? &fs->root : table_lookup(fs, ino);
	if (n)
		n->refs++;
	pthread_mutex_unlock(&fs->table_lock);
	return n;
}

int tfs_node_tier_of(struct tfs *fs, uint64_t ino, int *tier)
{
	pthread_mutex_lock(&fs->table_lock);
	struct tfs_node *n = ino == TFS_ROOT_ID ? &fs->root : table_lookup(fs, ino);
	if (n) {
		pthread_mutex_lock(&n->lock);
		*tier = S_ISREG(n->type) ? n->tier : -1;
		pthread_mutex_unlock(&n->lock);
	}
	pthread_mutex_unlock(&fs->table_lock);
	return n != NULL;
}

void tfs_node_ref(struct tfs *fs, struct tfs_node *n)
{
	pthread_mutex_lock(&fs->table_lock);
	n->refs++;
	pthread_mutex_unlock(&fs->table_lock);
}

void tfs_node_unref(struct tfs *fs, struct tfs_node *n)
{
	pthread_mutex_lock(&fs->table_lock);
	n->refs--;
	maybe_free_locked(fs, n);
	pthread_mutex_unlock(&fs->table_lock);
}

void tfs_node_forget(struct tfs *fs, struct tfs_node *n, uint64_t nlookup)
{
	pthread_mutex_lock(&fs->table_lock);
	n->nlookup = nlookup > n->nlookup ? 0 : n->nlookup - nlookup;
	maybe_free_locked(fs, n);
	pthread_mutex_unlock(&fs->table_lock);
}

/* Two walks up the tree (sizes, then names filled from the end): no array
 * of components, so the depth is bounded by len only (TFS_PATH_MAX in the
 * callers, longpath.h). */
static int build_path(struct tfs *fs, struct tfs_node *n, char *buf, size_t len, size_t *outlen)
{
	size_t total = 0;
	for (struct tfs_node *p = n; p != &fs->root; p = p->parent) {
		if (!p || !p->name)
			return -ESTALE;
		total += strlen(p->name) + 1;
		if (total > len)
			return -ENAMETOOLONG;
	}
	if (total == 0) {
		if (len < 2)
			return -ENAMETOOLONG;
		strcpy(buf, ".");
		*outlen = 1;
		return 0;
	}
	size_t off = total - 1; /* the last component's '/' becomes the NUL */
	buf[off] = '\0';
	for (struct tfs_node *p = n; p != &fs->root; p = p->parent) {
		size_t l = strlen(p->name);
		off -= l;
		memcpy(buf + off, p->name, l);
		if (off)
			buf[--off] = '/';
	}
	*outlen = total - 1;
	return 0;
}

int tfs_node_path_unlocked(struct tfs *fs, struct tfs_node *n, char *buf, size_t len)
{
	size_t l;
	return build_path(fs, n, buf, len, &l);
}

int tfs_node_path(struct tfs *fs, struct tfs_node *n, char *buf, size_t len)
{
	size_t l;
	pthread_rwlock_rdlock(&fs->tree_lock);
	int rc = build_path(fs, n, buf, len, &l);
	pthread_rwlock_unlock(&fs->tree_lock);
	return rc;
}

int tfs_child_path(struct tfs *fs, struct tfs_node *parent, const char *name, char *buf, size_t len)
{
	size_t l;
	size_t nl = strlen(name);
	if (nl > NAME_MAX)
		return -ENAMETOOLONG;
	pthread_rwlock_rdlock(&fs->tree_lock);
	int rc = build_path(fs, parent, buf, len, &l);
	pthread_rwlock_unlock(&fs->tree_lock);
	if (rc)
		return rc;
	if (parent == &fs->root)
		l = 0;
	else
		buf[l++] = '/';
	if (l + nl + 1 > len)
		return -ENAMETOOLONG;
	memcpy(buf + l, name, nl + 1);
	return 0;
}

/* Find the node currently named parent/name.  Caller holds tree_lock. */
static struct tfs_node *named_locked(struct tfs *fs, struct tfs_node *parent, const char *name)
{
	struct tfs_node *n;
	pthread_mutex_lock(&fs->table_lock);
	for (n = fs->names[name_slot(fs, parent, name)]; n; n = n->nnext)
		if (n->parent == parent && strcmp(n->name, name) == 0)
			break;
	pthread_mutex_unlock(&fs->table_lock);
	return n;
}

void tfs_node_renamed(struct tfs *fs, struct tfs_node *oldp, const char *oldname,
		      struct tfs_node *newp, const char *newname)
{
	pthread_rwlock_wrlock(&fs->tree_lock);
	struct tfs_node *victim = named_locked(fs, newp, newname);
	struct tfs_node *moved = named_locked(fs, oldp, oldname);
	if (victim && victim != moved)
		set_name(fs, victim, victim->parent, NULL);
	if (moved)
		set_name(fs, moved, newp, newname);
	pthread_rwlock_unlock(&fs->tree_lock);
}

void tfs_node_exchanged(struct tfs *fs, struct tfs_node *p1, const char *name1, struct tfs_node *p2,
			const char *name2)
{
	pthread_rwlock_wrlock(&fs->tree_lock);
	struct tfs_node *a = named_locked(fs, p1, name1);
	struct tfs_node *b = named_locked(fs, p2, name2);
	if (a)
		set_name(fs, a, a->parent, NULL);
	if (b)
		set_name(fs, b, p1, name1);
	if (a)
		set_name(fs, a, p2, name2);
	pthread_rwlock_unlock(&fs->tree_lock);
}

void tfs_node_detach(struct tfs *fs, struct tfs_node *parent, const char *name)
{
	pthread_rwlock_wrlock(&fs->tree_lock);
	struct tfs_node *n = named_locked(fs, parent, name);
	if (n)
		set_name(fs, n, n->parent, NULL);
	pthread_rwlock_unlock(&fs->tree_lock);
}

char **tfs_node_child_names(struct tfs *fs, struct tfs_node *dir, size_t *count)
{
	size_t n = 0, cap = 0;
	char **names = NULL;
	*count = 0;
	pthread_rwlock_rdlock(&fs->tree_lock);
	pthread_mutex_lock(&fs->table_lock);
	for (size_t i = 0; i < fs->table_size; i++)
		for (struct tfs_node *c = fs->table[i]; c; c = c->hnext) {
			if (c->parent != dir || !c->name)
				continue;
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				char **nn = realloc(names, ncap * sizeof(*nn));
				if (!nn)
					goto out;
				names = nn;
				cap = ncap;
			}
			if (!(names[n] = strdup(c->name)))
				goto out;
			n++;
		}
out:
	pthread_mutex_unlock(&fs->table_lock);
	pthread_rwlock_unlock(&fs->tree_lock);
	*count = n;
	return names;
}
