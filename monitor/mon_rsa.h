/*
 * mon_rsa.h - the identity key's part in the RSA-AES security types:
 * its public key in RA2 wire form for moat-net, and the one private-key
 * operation per connection, decrypting the viewer's ClientRandom with
 * implicit rejection. Runs in the monitor (root); the ciphertext comes
 * from moat-net, which is untrusted, so every size is the monitor's own.
 */
#ifndef MOAT_MON_RSA_H
#define MOAT_MON_RSA_H

#include <stddef.h>
#include <stdint.h>

#include "mon_identity.h"

#define MON_RSA_SECRET_LEN	32	/* per-process implicit-rejection key */
#define MON_RSA_MAX_BLOB	(4 + 2 * 1024)	/* an 8192-bit key */

/*
 * Writes the identity key's public half as RA2 sends it (U32 bits, N, E,
 * each left-padded to ceil(bits/8) bytes) into out. Returns 0 and sets
 * *len, MOAT_ERR_INVALID if there is no RSA key (or it is outside
 * 1024..8192 bits), MOAT_ERR_TOO_LONG if outlen is too small, or
 * MOAT_ERR_CRYPTO.
 */
int mon_rsa_public_blob(const struct mon_identity *id, uint8_t *out,
    size_t outlen, size_t *len);

/*
 * Returns the ClientRandom size of RSA-AES security type sec_type (16 or
 * 32) when the Encryption level enc (CONFIG_ENC_* / IPC_ENC_*) offers it,
 * and 0 when it does not: AlwaysOn and PreferOn offer RA2 and RA2_256,
 * AlwaysMaximum RA2_256 only, PreferOff also RA2ne and RA2ne_256.
 */
size_t mon_rsa_random_len(int enc, uint8_t sec_type);

/*
 * Checks that em[0..k) is a PKCS#1 v1.5 encryption block (type 2) carrying
 * exactly mlen bytes: 00 02, k - mlen - 3 >= 8 nonzero padding bytes, 00,
 * then the message. Runs in time independent of em's contents. Returns
 * an all-ones mask when it is, 0 when it is not.
 */
unsigned mon_rsa_pkcs1_type2_mask(const uint8_t *em, size_t k, size_t mlen);

/*
 * Decrypts the ciphertext ct (exactly the modulus size) with the identity
 * key and writes the outlen-byte (16 or 32) message to out. When the
 * padding or the message length is wrong, writes instead the first outlen
 * bytes of HMAC-SHA256(secret, ct), chosen in constant time: the caller
 * cannot tell the cases apart (implicit rejection), and the same ciphertext
 * always gives the same answer. Returns 0 (either way), MOAT_ERR_INVALID
 * for a wrong ct or out size, or MOAT_ERR_CRYPTO.
 */
int mon_rsa_decrypt_random(const struct mon_identity *id,
    const uint8_t secret[MON_RSA_SECRET_LEN], const uint8_t *ct, size_t ctlen,
    uint8_t *out, size_t outlen);

#endif
