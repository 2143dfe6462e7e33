/*
 * net_ra2.c - the RSA-AES security types in moat-net (RA2 5, RA2ne 6,
 * RA2_256 129, RA2ne_256 130; rfbproto "RSA-AES Security Type"): key
 * exchange, key confirmation and the viewer's credentials. Runs in
 * moat-net inside its sandbox; every byte from the viewer is hostile and
 * parsed by net/rfb_ra2.c. The server's RSA key is the identity key:
 * moat-net holds only its public half (from the monitor) and asks the
 * monitor, once, to decrypt the viewer's ClientRandom (IPC_NET_RSA_DECRYPT).
 * The monitor answers a bad padding with a pseudo-random value, so a
 * forged ClientRandom surfaces only here, as a hash that does not match.
 *
 * Viewers pipeline (TigerVNC sends its public key and encrypted random
 * together, noVNC also its hash before reading ours): every read below is
 * exact, so pipelined bytes simply wait in the socket or the record layer.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "net_conn.h"
#include "privsep/errors.h"
#include "privsep/ipc.h"
#include "privsep/ipc_msg.h"
#include "privsep/log.h"
#include "rfb_ra2.h"

/* Reads the viewer's public-key message into k. */
static int
read_client_key(struct net_conn *c, struct rfb_ra2_pubkey *k)
{
	struct buf b;
	uint8_t *p;
	uint32_t bits;
	size_t len;
	int r;

	buf_init(&b, RFB_RA2_MAX_KEY_BLOB);
	if ((r = buf_reserve(&b, 4, &p)) != 0 ||
	    (r = net_io_read_exact(&c->io, p, 4)) != 0)
		goto out;
	bits = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
	/* Bound the size before reading a byte of the key. */
	if (rfb_ra2_pubkey_len(bits, &len) != 0) {
		info_f("viewer sent an RSA key of %u bits; %d to %d are accepted",
		    bits, RFB_RA2_MIN_BITS, RFB_RA2_MAX_BITS);
		r = MOAT_ERR_PROTOCOL;
		goto out;
	}
	if ((r = buf_reserve(&b, len - 4, &p)) != 0 ||
	    (r = net_io_read_exact(&c->io, p, len - 4)) != 0)
		goto out;
	if ((r = rfb_ra2_parse_pubkey(&b, k)) != 0) {
		info_f("viewer sent a malformed RSA public key (%u bits)", bits);
		r = MOAT_ERR_PROTOCOL;
	}
out:
	buf_free(&b);
	return r;
}

/* Reads the viewer's encrypted ClientRandom (exactly the server modulus size). */
static int
read_client_random(struct net_conn *c, uint8_t *ct)
{
	size_t ml = c->init.rsa_key.mod_len;
	struct buf b;
	uint8_t *p;
	int r;

	buf_init(&b, 2 + RFB_RA2_MAX_MODULUS);
	if ((r = buf_reserve(&b, 2, &p)) != 0 ||
	    (r = net_io_read_exact(&c->io, p, 2)) != 0)
		goto out;
	if ((((size_t)p[0] << 8) | p[1]) != ml) {
		info_f("viewer's encrypted random has %u bytes, not %zu",
		    ((unsigned)p[0] << 8) | p[1], ml);
		r = MOAT_ERR_PROTOCOL;
		goto out;
	}
	if ((r = buf_reserve(&b, ml, &p)) != 0 ||
	    (r = net_io_read_exact(&c->io, p, ml)) != 0)
		goto out;
	r = rfb_ra2_parse_encrypted_random(&b, ml, ct);
out:
	buf_free(&b);
	return r;
}

/* The identity key's one private operation: the monitor's. */
static int
monitor_decrypt(struct net_conn *c, const struct rfb_ra2_params *p,
    const uint8_t *ct, uint8_t *rnd)
{
	struct ipc_rsa_decrypt rq = { p->type,
	    { ct, c->init.rsa_key.mod_len } };
	struct ipc_rsa_result res;
	struct ipc_msg m;
	int r;

	if ((r = ipc_msg_send_rsa_decrypt(NET_FD_MONITOR, &rq, -1)) != 0 ||
	    (r = ipc_recv(NET_FD_MONITOR, &m, 0)) != 0)
		return r;
	if (m.type != IPC_MON_RSA_RESULT) {
		ipc_msg_clear(&m);
		return MOAT_ERR_PROTOCOL;
	}
	if ((r = ipc_msg_get_rsa_result(&m.payload, &res)) == 0) {
		if (res.random.len == p->random_len)
			memcpy(rnd, res.random.p, p->random_len);
		else
			r = MOAT_ERR_PROTOCOL;
	}
	ipc_msg_clear(&m);	/* wipes the payload */
	return r;
}

static void
report_security(const struct rfb_ra2_params *p, uint32_t client_bits)
{
	char cipher[128];
	struct ipc_net_security sec;

	/* No TLS: the record cipher, the hash and the viewer's key. */
	snprintf(cipher, sizeof(cipher), "%s%s, %s, viewer key RSA-%u",
	    p->cipher, p->all_encrypted ? "" : " for the login only",
	    p->sha256 ? "SHA-256" : "SHA-1", client_bits);
	sec.type = ipc_view_cstr(p->name);
	sec.tls_version = ipc_view_cstr("");
	sec.cipher = ipc_view_cstr(cipher);
	(void)ipc_msg_send_net_security(NET_FD_MONITOR, &sec, -1);
}

/* U8 ulen, user, U8 plen, password, read through the record layer. */
static int
read_credentials(struct net_conn *c, char **user, char **pass)
{
	uint8_t raw[2 + 2 * RFB_RA2_MAX_CRED];	/* U8 lengths bound it */
	size_t ulen, plen;
	struct buf b;
	int r;

	if ((r = net_io_read_exact(&c->io, raw, 1)) != 0)
		goto out;
	ulen = raw[0];
	if ((r = net_io_read_exact(&c->io, raw + 1, ulen + 1)) != 0)
		goto out;
	plen = raw[1 + ulen];
	if ((r = net_io_read_exact(&c->io, raw + 2 + ulen, plen)) != 0)
		goto out;
	buf_view(&b, raw, 2 + ulen + plen);
	if ((r = rfb_ra2_parse_credentials(&b, user, pass)) != 0) {
		info_f("viewer sent invalid RSA-AES credentials (%s)",
		    moat_strerror(r));
		r = MOAT_ERR_PROTOCOL;
	}
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	return r;
}

int
net_ra2_handshake(struct net_conn *c, uint8_t type, char **user, char **pass)
{
	const struct rfb_ra2_params *p = rfb_ra2_params(type);
	const struct rfb_ra2_pubkey *sk = &c->init.rsa_key;
	struct rfb_ra2_pubkey *ck;
	uint8_t srnd[RFB_RA2_MAX_RANDOM], crnd[RFB_RA2_MAX_RANDOM];
	uint8_t ckey[RFB_RA2_MAX_KEY], skey[RFB_RA2_MAX_KEY];
	uint8_t hash[RFB_RA2_MAX_HASH], peer[RFB_RA2_MAX_HASH];
	uint8_t ct[RFB_RA2_MAX_MODULUS], subtype = RFB_RA2_SUBTYPE_USER_PASS;
	struct buf b;
	int r;

	if (p == NULL || !c->init.have_ra2)
		return MOAT_ERR_INVALID;
	if ((ck = calloc(1, sizeof(*ck))) == NULL)
		return MOAT_ERR_NOMEM;
	buf_init(&b, 2 + RFB_RA2_MAX_MODULUS);
	/* 1-2: public keys */
	if ((r = net_io_write(&c->io, sk->blob, sk->blob_len)) != 0 ||
	    (r = read_client_key(c, ck)) != 0)
		goto out;
	/* 3: ServerRandom, encrypted to the viewer's key */
	if (RAND_bytes(srnd, (int)p->random_len) != 1) {
		r = MOAT_ERR_CRYPTO;
		goto out;
	}
	if ((r = rfb_ra2_put_encrypted_random(&b, ck, srnd, p->random_len)) != 0 ||
	    (r = net_io_write(&c->io, buf_ptr(&b), buf_len(&b))) != 0)
		goto out;
	/* 4: ClientRandom, decrypted by the monitor */
	if ((r = read_client_random(c, ct)) != 0 ||
	    (r = monitor_decrypt(c, p, ct, crnd)) != 0)
		goto out;
	/* Both directions keyed; every byte from here on is a record. */
	if ((r = rfb_ra2_derive(p, srnd, crnd, ckey, skey)) != 0 ||
	    (r = net_io_ra2_start(&c->io, ckey, skey, p->key_len)) != 0)
		goto out;
	/* 5-6: key confirmation over both public keys */
	if ((r = rfb_ra2_hash(p, sk->blob, sk->blob_len, ck->blob,
	    ck->blob_len, hash)) != 0 ||
	    (r = net_io_write(&c->io, hash, p->hash_len)) != 0 ||
	    (r = rfb_ra2_hash(p, ck->blob, ck->blob_len, sk->blob,
	    sk->blob_len, hash)) != 0 ||
	    (r = net_io_read_exact(&c->io, peer, p->hash_len)) != 0)
		goto out;
	if (CRYPTO_memcmp(hash, peer, p->hash_len) != 0) {
		info_f("viewer's RSA-AES key confirmation hash does not match");
		r = MOAT_ERR_PROTOCOL;
		goto out;
	}
	report_security(p, ck->bits);
	/* 7-8: user name and password */
	if ((r = net_io_write(&c->io, &subtype, 1)) != 0 ||
	    (r = read_credentials(c, user, pass)) != 0)
		goto out;
	/* RA2ne: plaintext from SecurityResult on. */
	if (!p->all_encrypted && (r = net_io_ra2_stop(&c->io)) != 0) {
		info_f("viewer sent data ahead of the SecurityResult");
		OPENSSL_cleanse(*pass, strlen(*pass));
		free(*pass);
		free(*user);
		*user = *pass = NULL;
	}
out:
	OPENSSL_cleanse(srnd, sizeof(srnd));
	OPENSSL_cleanse(crnd, sizeof(crnd));
	OPENSSL_cleanse(ckey, sizeof(ckey));
	OPENSSL_cleanse(skey, sizeof(skey));
	buf_free(&b);
	free(ck);
	return r;
}
