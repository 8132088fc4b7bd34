/*
 * recorder.h - the per-file I/O recorder (issue 10): for every file the
 * daemon creates, what a trace generator learns from (trainer/tracegen.h):
 * its workflow context (producer class, V1-V7), size, bytes and requests
 * per direction, request-size histograms, sequential fraction, opens,
 * lifetime and the read and write bytes over 20 bins of its lifetime.  One
 * CSV line per file (TREC_CSV_HEADER, the columns `tiertrain tracegen`
 * reads) when its life ends: the unlink of its last name (or the last close
 * after it), the kernel forgetting it, or the unmount.  Ids, never paths:
 * a file is a number unique in its run (inode numbers come back after an
 * unlink), the run a hash of the mount's start, the attachment directory
 * and the workflow file.
 *
 * Hot path: trec_io() is a handful of relaxed atomic adds on the file's
 * own counters, no lock (but the file's mutex at its first request after
 * an open, to unpack the time profile trec_file_idle() packed at the last
 * close).  The time axis is a ring of TREC_SLOTS slots whose
 * width doubles (under the file's mutex, taken only then) whenever the
 * file outlives the slots; a request racing with such a doubling may land
 * one slot late, an error of at most one slot (< 1/8 of a bin).
 *
 * Ownership: trec_create() opens the file (append) and returns the
 * recorder, freed by trec_destroy() (NULL ok) after every trec_file was
 * finished or dropped.  A trec_file belongs to its node; trec_file_finish()
 * hands it to the recorder, which writes its record and frees it at the
 * next flush; trec_file_drop() frees it silently.
 * FUSE-free; takes the placement core only to read the workflow context.
 */
#ifndef TIERFS_RECORDER_H
#define TIERFS_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#include "place.h"

#define TREC_WUR __attribute__((warn_unused_result))
#define TREC_BINS 20
#define TREC_HIST 10

/* The record columns, shared with trainer/tracegen.h (TG_CSV_HEADER). */
#define TREC_CSV_HEADER                                                                                   \
	"id,workflow,class,producer_level,producer_width,wf_tasks,wf_bytes,consumers,next_use_distance,"   \
	"last_use_distance,size,bytes_read,bytes_written,reads,writes,opens,lifetime,seq_frac,"             \
	"rh0,rh1,rh2,rh3,rh4,rh5,rh6,rh7,rh8,rh9,wh0,wh1,wh2,wh3,wh4,wh5,wh6,wh7,wh8,wh9,"                 \
	"rc0,rc1,rc2,rc3,rc4,rc5,rc6,rc7,rc8,rc9,rc10,rc11,rc12,rc13,rc14,rc15,rc16,rc17,rc18,rc19,"       \
	"wc0,wc1,wc2,wc3,wc4,wc5,wc6,wc7,wc8,wc9,wc10,wc11,wc12,wc13,wc14,wc15,wc16,wc17,wc18,wc19"

/* Request-size bucket (Darshan's): [0,100), [100,1K), [1K,10K),
 * [10K,100K), [100K,1M), [1M,4M), [4M,10M), [10M,100M), [100M,1G), 1G+. */
static inline int trec_hist_bucket(uint64_t len)
{
	static const uint64_t upper[TREC_HIST - 1] = {
		100, 1000, 10000, 100000, 1000000, 4000000, 10000000, 100000000, 1000000000,
	};
	for (int i = 0; i < TREC_HIST - 1; i++)
		if (len < upper[i])
			return i;
	return TREC_HIST - 1;
}

/* Characters a class name keeps (others become '_'): no separators,
 * nothing that reads as a path. */
static inline int trec_class_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
	       c == ':' || c == '+' || c == '-';
}

struct trec;
struct trec_file;

/* Open (append) the record file at path, writing the header when it is
 * new or empty; -errno with err naming the file.  place may be NULL (no
 * workflow context: class and V1-V7 empty). */
TREC_WUR int trec_create(const char *path, struct tpl *place, struct trec **out, char *err, size_t errlen);
void trec_destroy(struct trec *r);
/* Format and write out the records of the files ended so far (the
 * daemon's ticker, once a second: done per unlink, the formatting and a
 * write were a tenth of the request's time). */
void trec_flush(struct trec *r);

/* Start the stats of a file created at relpath (relative to the mount)
 * with the placement decision d (NULL: unknown to any workflow).  NULL on
 * -ENOMEM (the file then goes unrecorded). */
struct trec_file *trec_file_new(struct trec *r, const char *relpath, const struct tpl_decision *d);
void trec_file_open(struct trec_file *f);
/* One request of len bytes at off that moved done bytes (write != 0: a
 * write).  f may be NULL. */
void trec_io(struct trec_file *f, int write, uint64_t off, uint64_t done);
/* Nobody has the file open, so no trec_io() can run on it until it is
 * opened again: pack its time profile (5 KiB) into its nonzero slots (16
 * bytes each; a file written and read once has a few).  The next
 * trec_io() unpacks it. */
void trec_file_idle(struct trec_file *f);
/* End the file's stats with its final size; its record is written (and f
 * freed) at the next trec_flush() or trec_destroy(). */
void trec_file_finish(struct trec_file *f, uint64_t size);
void trec_file_drop(struct trec_file *f);
/* Records written so far. */
uint64_t trec_count(const struct trec *r);

#endif
