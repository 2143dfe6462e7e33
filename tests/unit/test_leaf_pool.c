/*
 * test_leaf_pool.c - unit tests for the TLS leaves moatd's listener issues
 * ahead of time (monitor/mon_identity.c, compiled in here: unit tests do
 * not link moatd). The pool fills up to its size and then reports when it
 * next has work; a fork hands the reserved (oldest) leaf to the child
 * alone, which wipes every other pooled leaf, and the parent drops it, so
 * that over many forks no leaf reaches two connections; the child takes
 * its leaf once, and only if it fits: the same identity, names and chain
 * tail, not older than MON_LEAF_POOL_AGE; otherwise, and once the pool is
 * empty, it gets a fresh leaf as before. Every leaf handed out is signed
 * by the identity key and matches its private key. Test code.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor/mon_identity.c"

#include "check.h"

#define NAMES	"localhost,127.0.0.1"

static struct mon_identity ida, idb;	/* the identity, another one */

/* The first certificate of a PEM chain (the leaf), or NULL. */
static X509 *
first_cert(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x;

	if (b == NULL)
		return NULL;
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	return x;
}

/* 1 if the leaf of chain is signed by id, names san, and key_pem is its key. */
static int
leaf_ok(const struct mon_identity *id, const char *chain, const char *key_pem,
    const char *san)
{
	X509 *leaf = first_cert(chain);
	EVP_PKEY *key = NULL;
	BIO *b;
	int ok;

	if (leaf == NULL)
		return 0;
	if ((b = BIO_new_mem_buf(key_pem, -1)) != NULL) {
		key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	ok = key != NULL && X509_verify(leaf, X509_get0_pubkey(id->cert)) == 1 &&
	    X509_check_private_key(leaf, key) == 1 &&
	    (san == NULL || X509_check_host(leaf, san, 0, 0, NULL) == 1);
	EVP_PKEY_free(key);
	X509_free(leaf);
	return ok;
}

static int
pool_count(void)
{
	int i, n = 0;

	for (i = 0; i < MON_LEAF_POOL_SIZE; i++)
		n += pool[i].chain_pem != NULL;
	return n;
}

/*
 * Forks the way the listener does (reserve, fork, forked) and, in the
 * child, asks for a leaf for id and names. The child writes to *out (size
 * outlen) "TAKEN|FRESH <others-left> <leaf ok> <second call fresh>" and
 * the leaf's chain; returns the child's wait status or -1.
 */
static int
fork_monitor(const struct mon_identity *id, const char *names, char *out,
    size_t outlen)
{
	char *chain, *key, *chain2, *key2, *kept, line[64];
	int p[2], st, taken, others, ok, again;
	ssize_t n;
	size_t got = 0;
	pid_t pid;

	if (pipe(p) != 0)
		return -1;
	mon_identity_pool_reserve();
	pid = fork();
	mon_identity_pool_forked(pid);
	if (pid == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		others = pool_count();
		kept = pool_kept.chain_pem != NULL ?
		    strdup(pool_kept.chain_pem) : NULL;
		if (mon_identity_issue_leaf(id, names, &chain, &key) != 0)
			_exit(2);
		/* Taken from the pool only if it fitted; dropped either way. */
		taken = kept != NULL && strcmp(chain, kept) == 0;
		if (pool_kept.chain_pem != NULL || pool_kept.key_pem != NULL)
			_exit(5);
		ok = leaf_ok(id, chain, key, NULL);
		if (mon_identity_issue_leaf(id, names, &chain2, &key2) != 0)
			_exit(3);
		again = strcmp(chain, chain2) != 0 && strcmp(key, key2) != 0;
		snprintf(line, sizeof(line), "%d %d %d %d\n", taken, others, ok,
		    again);
		if (write(p[1], line, strlen(line)) < 0 ||
		    write(p[1], chain, strlen(chain)) < 0)
			_exit(4);
		_exit(0);
	}
	close(p[1]);
	while (got + 1 < outlen &&
	    ((n = read(p[0], out + got, outlen - 1 - got)) > 0 ||
	    (n < 0 && errno == EINTR)))
		if (n > 0)
			got += (size_t)n;
	out[got] = '\0';
	close(p[0]);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	return st;
}

/* The chain part of a fork_monitor() answer. */
static const char *
chain_of(const char *out)
{
	const char *nl = strchr(out, '\n');

	return nl != NULL ? nl + 1 : "";
}

static void
fill_all(const struct mon_identity *id, const char *names)
{
	int i, r;

	for (i = 0; i < MON_LEAF_POOL_SIZE; i++)
		CHECK((r = mon_identity_pool_fill(id, names)) == 1,
		    "fill %d: %d", i, r);
	CHECK(mon_identity_pool_fill(id, names) == 0, "a full pool issues none");
}

static void
test_fill(void)
{
	struct mon_identity nokey = ida;
	int due, i, j;

	nokey.key = NULL;
	CHECK(mon_identity_pool_due(&nokey, NAMES) == -1, "no key: never due");
	CHECK(mon_identity_pool_fill(&nokey, NAMES) == MOAT_ERR_INVALID,
	    "no key: nothing issued");
	CHECK(mon_identity_pool_due(&ida, NAMES) == 0, "empty pool: due now");
	fill_all(&ida, NAMES);
	CHECK(pool_count() == MON_LEAF_POOL_SIZE, "full: %d", pool_count());
	due = mon_identity_pool_due(&ida, NAMES);
	CHECK(due > (MON_LEAF_POOL_AGE - 60) * 1000 &&
	    due <= (MON_LEAF_POOL_AGE + 1) * 1000, "full: due when the "
	    "oldest ages out, %d ms", due);
	for (i = 0; i < MON_LEAF_POOL_SIZE; i++) {
		CHECK(leaf_ok(&ida, pool[i].chain_pem, pool[i].key_pem,
		    "localhost"), "pooled leaf %d signed, matching key", i);
		for (j = 0; j < i; j++)
			CHECK(strcmp(pool[i].key_pem, pool[j].key_pem) != 0,
			    "pooled keys %d and %d differ", i, j);
	}
	/* Other names, another identity: the pool has work again. */
	CHECK(mon_identity_pool_due(&ida, "example.org") == 0, "other names");
	CHECK(mon_identity_pool_due(&idb, NAMES) == 0, "other identity");
	/* An aged leaf is replaced by the next fill. */
	pool[1].issued -= MON_LEAF_POOL_AGE + 1;
	CHECK(mon_identity_pool_due(&ida, NAMES) == 0, "an aged leaf: due now");
	CHECK(mon_identity_pool_fill(&ida, NAMES) == 1, "aged leaf replaced");
	CHECK(pool_count() == MON_LEAF_POOL_SIZE, "full again");
	CHECK(time(NULL) - pool[1].issued <= 1, "slot 1 holds a new leaf");
	mon_identity_pool_clear();
	CHECK(pool_count() == 0 && pool_kept.chain_pem == NULL &&
	    pool_reserved == -1, "cleared");
}

/* Every fork takes another pooled leaf; none is seen twice. */
static void
test_forks(void)
{
	char out[MON_LEAF_POOL_SIZE + 1][8192], want[8192];
	int i, j, st, taken, others, ok, again;

	fill_all(&ida, NAMES);
	for (i = 0; i <= MON_LEAF_POOL_SIZE; i++) {
		mon_identity_pool_reserve();
		want[0] = '\0';
		if (pool_reserved >= 0)
			snprintf(want, sizeof(want), "%s",
			    pool[pool_reserved].chain_pem);
		st = fork_monitor(&ida, NAMES, out[i], sizeof(out[i]));
		CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "child %d exited with %d", i, st);
		taken = others = ok = again = -1;
		CHECK(sscanf(out[i], "%d %d %d %d", &taken, &others, &ok,
		    &again) == 4, "child %d answered: %.40s", i, out[i]);
		CHECK(others == 0, "child %d wiped the other leaves (%d left)",
		    i, others);
		CHECK(ok == 1, "child %d: leaf signed by the identity", i);
		CHECK(again == 1, "child %d: a second leaf is a fresh one", i);
		if (i < MON_LEAF_POOL_SIZE) {
			CHECK(taken == 1, "child %d took its pooled leaf", i);
			CHECK(strcmp(chain_of(out[i]), want) == 0,
			    "child %d got the oldest leaf", i);
			CHECK(pool_count() == MON_LEAF_POOL_SIZE - 1 - i,
			    "the listener dropped it: %d left", pool_count());
			for (j = 0; j < MON_LEAF_POOL_SIZE; j++)
				CHECK(pool[j].chain_pem == NULL ||
				    strcmp(pool[j].chain_pem, want) != 0,
				    "leaf %d is gone from the listener", i);
		} else
			CHECK(taken == 0, "empty pool: a fresh leaf");
		for (j = 0; j < i; j++)
			CHECK(strcmp(chain_of(out[i]), chain_of(out[j])) != 0,
			    "children %d and %d got different leaves", j, i);
	}
	CHECK(pool_reserved == -1, "no reservation left");
	mon_identity_pool_clear();
}

/* A pooled leaf that does not fit is dropped, and a fresh one issued. */
static void
test_misfits(void)
{
	struct mon_identity rot = ida;	/* borrowed: not freed here */
	char out[8192], want[8192];
	int st, taken = -1, others, ok = -1, again;
	X509 *leaf;

	/* Other names. */
	fill_all(&ida, NAMES);
	st = fork_monitor(&ida, "example.org", out, sizeof(out));
	CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    sscanf(out, "%d %d %d %d", &taken, &others, &ok, &again) == 4,
	    "child (other names) ran");
	CHECK(taken == 0 && ok == 1, "other names: fresh leaf");
	leaf = first_cert(chain_of(out));
	CHECK(leaf != NULL && X509_check_host(leaf, "example.org", 0, 0,
	    NULL) == 1, "the fresh leaf names example.org");
	X509_free(leaf);
	CHECK(pool_count() == MON_LEAF_POOL_SIZE - 1,
	    "the listener still dropped the reserved leaf");
	/* Another identity. */
	st = fork_monitor(&idb, NAMES, out, sizeof(out));
	CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    sscanf(out, "%d %d %d %d", &taken, &others, &ok, &again) == 4,
	    "child (other identity) ran");
	CHECK(taken == 0 && ok == 1, "other identity: fresh leaf it signed");
	/* Too old by the time the monitor asks. */
	mon_identity_pool_reserve();
	pool[pool_reserved].issued -= MON_LEAF_POOL_AGE + 1;
	st = fork_monitor(&ida, NAMES, out, sizeof(out));
	CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    sscanf(out, "%d %d %d %d", &taken, &others, &ok, &again) == 4,
	    "child (aged leaf) ran");
	CHECK(taken == 0 && ok == 1, "aged leaf: fresh one instead");
	/* A rotation's overlap that ends between issue and use. */
	mon_identity_pool_clear();
	rot.rot_cross = idb.cert;	/* only compared, never verified here */
	rot.rot_prev = idb.cert;
	rot.rot_until = time(NULL) + 3600;
	rot.rot_logged = NULL;
	CHECK(mon_identity_pool_fill(&rot, NAMES) == 1, "fill during overlap");
	rot.rot_until = time(NULL) - 1;
	CHECK(mon_identity_pool_due(&rot, NAMES) == 0,
	    "overlap over: the pooled chain no longer fits");
	mon_identity_pool_reserve();
	snprintf(want, sizeof(want), "%s", pool[pool_reserved].chain_pem);
	st = fork_monitor(&rot, NAMES, out, sizeof(out));
	CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    sscanf(out, "%d %d %d %d", &taken, &others, &ok, &again) == 4,
	    "child (rotation over) ran");
	CHECK(taken == 0 && strcmp(chain_of(out), want) != 0,
	    "overlap over: fresh leaf without the cross certificate");
	/* A failed fork only ends the reservation. */
	CHECK(mon_identity_pool_fill(&ida, NAMES) == 1, "fill");
	mon_identity_pool_reserve();
	CHECK(pool_reserved >= 0, "reserved");
	mon_identity_pool_forked(-1);
	CHECK(pool_reserved == -1 && pool_count() == 1,
	    "failed fork: the leaf stays pooled");
	mon_identity_pool_clear();
}

int
main(void)
{
	char dir[] = "/tmp/moat-leafpool-XXXXXX", key[128], crt[128], err[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return check_summary();
	}
	snprintf(key, sizeof(key), "%s/a.key", dir);
	snprintf(crt, sizeof(crt), "%s/a.crt", dir);
	CHECK(mon_identity_create(&ida, key, crt, err, sizeof(err)) == 0,
	    "%s", err);
	unlink(key);
	unlink(crt);
	CHECK(mon_identity_create(&idb, key, crt, err, sizeof(err)) == 0,
	    "%s", err);
	unlink(key);
	unlink(crt);
	rmdir(dir);
	if (ida.key == NULL || idb.key == NULL)
		return check_summary();
	test_fill();
	test_forks();
	test_misfits();
	mon_identity_free(&ida);
	mon_identity_free(&idb);
	return check_summary();
}
