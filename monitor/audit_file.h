/*
 * audit_file.h - the tamper-evident audit file: an append-only JSON-lines
 * file in which every record carries the hash of the one before it, with
 * periodic checkpoints signed by an Ed25519 key only root can read, and
 * rotation that continues the chain (format: docs/audit-file-format.md).
 *
 * Runs in moatd's listener, the single writer; not thread-safe.
 */
#ifndef MOAT_AUDIT_FILE_H
#define MOAT_AUDIT_FILE_H

#include <stddef.h>
#include <stdint.h>

struct audit_file;

struct audit_file_opts {
	const char *path;		/* AuditFile: absolute path of the live file */
	const char *key_path;		/* AuditKey: PEM Ed25519 private key (created if missing) */
	uint32_t checkpoint_every;	/* AuditCheckpointInterval: records between checkpoints; 0 = only at close and rotation */
	uint64_t rotate_size;		/* AuditRotateSize: rotate once the file reaches this many bytes; 0 = never */
	uint32_t rotate_keep;		/* AuditRotateKeep: rotated files kept, PATH.1 (newest) .. PATH.N; 0 counts as 1 */
};

/*
 * Opens (creating if needed) the audit file and its key after checking
 * that root owns every directory on the path and nobody else can write
 * them, that the key is root's alone and the file mode 0600. An existing
 * chain is resumed from its last line, whose hash is checked first; see
 * docs/audit-file-format.md for a torn last line or a missing final
 * checkpoint. Returns 0 with *out, or a negative MOAT_ERR_* (the reason is
 * logged).
 */
int audit_file_open(struct audit_file **out, const struct audit_file_opts *o);

/*
 * Appends one event (a flat JSON object of at most AUDIT_EVENT_MAX bytes,
 * without the reserved members seq, prev, hash and sig) as one chained
 * line; with sync set, the line is on disk (fsync) before it returns.
 * Writes a checkpoint when one is due and rotates when the file is full.
 * Returns 0, MOAT_ERR_INVALID for an unacceptable event (nothing written),
 * or MOAT_ERR_SYSTEM / MOAT_ERR_CRYPTO when the file cannot be written (af
 * then refuses further appends).
 */
int audit_file_append(struct audit_file *af, const char *event_json, size_t len,
    int sync);

/*
 * Writes a final checkpoint, renames PATH to PATH.1 (shifting older files
 * up to rotate_keep) and starts a new PATH whose first record links to
 * the last one of the old file. Returns 0 or a negative MOAT_ERR_*.
 */
int audit_file_rotate(struct audit_file *af);

/* Writes a final checkpoint, fsyncs and closes; frees af (NULL is fine). */
void audit_file_close(struct audit_file *af);

/*
 * Frees af and closes its descriptors without writing anything: for a
 * forked process that inherited the writer's handle and must not use it.
 */
void audit_file_forget(struct audit_file *af);

/* Returns the seq of the last record written (0 before the first). */
uint64_t audit_file_seq(const struct audit_file *af);

#endif
