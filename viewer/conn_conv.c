/*
 * conn_conv.c - moat-viewer's side of moat's conversation (the VeNCrypt
 * subtype X509Conversation, docs/authentication.md), run inside TLS once
 * the server's identity checked out: answers each question (the stored
 * user name and password first, then --answer values in order, then the
 * terminal), answers a proof question with a signature by the client
 * certificate's key (auth/cert_proof.h), shows each message, and reads the
 * SecurityResult.
 * Runs in moat-viewer; every text comes from the server and is bounded,
 * escaped before it is shown, and limited in number; a challenge is
 * checked (64 lowercase hex digits) before anything is signed, and the
 * signed message binds it to the identity key this viewer verified.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth/cert_proof.h"
#include "net/rfb_conv.h"
#include "privsep/errors.h"
#include "privsep/log.h"
#include "viewer/client_key.h"
#include "viewer/viewer.h"

_Static_assert(CERT_PROOF_ANSWER_MAX <= RFB_CONV_MAX_ANSWER,
    "a proof fits one answer");

/* Reads one server message, bounded by its header before the text. */
static int
read_message(struct viewer_conn *c, uint8_t *kind, char **text)
{
	uint8_t storage[RFB_CONV_MESSAGE_HDR + RFB_CONV_MAX_TEXT], *p;
	struct buf b;
	size_t need;
	int r;

	buf_init_fixed(&b, storage, sizeof(storage));
	if ((r = buf_reserve(&b, RFB_CONV_MESSAGE_HDR, &p)) != 0 ||
	    (r = viewer_conn_read(c, p, RFB_CONV_MESSAGE_HDR)) != 0)
		return r;
	if ((r = rfb_conv_parse_message(&b, kind, text)) == MOAT_ERR_AGAIN) {
		need = (size_t)storage[1] << 24 | (size_t)storage[2] << 16 |
		    (size_t)storage[3] << 8 | storage[4];
		if ((r = buf_reserve(&b, need, &p)) == 0 &&
		    (r = viewer_conn_read(c, p, need)) == 0)
			r = rfb_conv_parse_message(&b, kind, text);
	}
	if (r != 0 && r != MOAT_ERR_EOF && r != MOAT_ERR_SYSTEM &&
	    r != MOAT_ERR_CRYPTO && r != MOAT_ERR_AUTH)
		viewer_err("the server sent a malformed conversation message");
	return r;
}

/* The question's text for the terminal: escaped, without a trailing ": ". */
static void
question_label(const char *text, char *out, size_t outlen)
{
	size_t n = strlen(text);

	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == ':'))
		n--;
	log_escape(out, outlen, n > 0 ? text : "Answer", n > 0 ? n : 6);
}

/* Which of the command line's answers are used up. */
struct answered {
	unsigned questions;	/* asked so far */
	int user_used, pass_used;
	size_t next;		/* next --answer value */
};

/*
 * The answer to the next question: the stored user name (MOAT_USER or the
 * vault) answers the first visible question, the stored password the
 * first hidden one, then the --answer values in order, then the terminal;
 * what the terminal answers to the first visible and first hidden
 * question is kept as the user name and password (for --remember).
 */
static int
answer(const struct viewer_auth *a, struct answered *st, int secret,
    const char *text, char *out, size_t outlen)
{
	char label[RFB_CONV_MAX_TEXT * 4 + 8];
	struct viewer_creds *cr = a->creds;
	const char *given = NULL;
	int keep = 0;

	if (viewer_creds_get(cr, 0) != 0)
		return MOAT_ERR_INVALID;
	if (!secret && !st->user_used) {
		st->user_used = 1;
		if (cr->have_user)
			given = cr->user;
		else
			keep = 1;
	} else if (secret && !st->pass_used) {
		st->pass_used = 1;
		if (cr->have_pass)
			given = cr->pass;
		else
			keep = 1;
	}
	if (given == NULL && st->next < a->nanswers)
		given = a->answers[st->next++];
	if (given != NULL) {
		if (strlen(given) >= outlen) {
			viewer_err("an answer is too long");
			return MOAT_ERR_TOO_LONG;
		}
		memcpy(out, given, strlen(given) + 1);
		return 0;
	}
	question_label(text, label, sizeof(label));
	if (viewer_prompt(label, secret, out, outlen) != 0)
		return MOAT_ERR_INVALID;
	if (keep && strlen(out) < sizeof(cr->user)) {
		strcpy(secret ? cr->pass : cr->user, out);
		*(secret ? &cr->have_pass : &cr->have_user) = 1;
	}
	return 0;
}

/*
 * The answer to a proof question: the signature of the challenge text,
 * bound to identity, with the client certificate's key. Returns 0 or a
 * negative MOAT_ERR_* (printed).
 */
static int
prove(const struct viewer_auth *a, const char *text,
    const uint8_t identity[32], char *out, size_t outlen)
{
	const struct viewer_client_key *ck = a->ck;
	int r;

	if (ck == NULL) {
		viewer_err("the server asks for a client certificate: use "
		    "--cert and --key");
		return MOAT_ERR_UNSUPPORTED;
	}
	r = cert_proof_sign(ck->key, text, identity, ck->der, ck->derlen, out,
	    outlen);
	if (r == MOAT_ERR_PROTOCOL)
		viewer_err("the server sent a malformed certificate challenge");
	else if (r == MOAT_ERR_UNSUPPORTED)
		viewer_err("the client key is of a type or size moat does not "
		    "use");
	else if (r != 0)
		viewer_err("the client key could not sign the proof (did the "
		    "smartcard refuse?)");
	else
		fprintf(stderr, "moat-viewer: proved possession of the client "
		    "certificate key\n");
	return r;
}

int
viewer_conversation(struct viewer_conn *c, const struct viewer_auth *a,
    const uint8_t identity[32])
{
	char ans[RFB_CONV_MAX_ANSWER + 2], esc[RFB_CONV_MAX_TEXT * 4 + 8];
	uint8_t out[RFB_CONV_ANSWER_HDR + RFB_CONV_MAX_ANSWER];
	struct answered st = { 0, 0, 0, 0 };
	char *text = NULL;
	uint8_t kind;
	struct buf b;
	int r;

	for (;;) {
		if ((r = read_message(c, &kind, &text)) != 0)
			return r;
		if (kind == RFB_CONV_END) {
			free(text);
			return viewer_security_result(c);
		}
		if (kind == RFB_CONV_INFO || kind == RFB_CONV_ERROR) {
			log_escape(esc, sizeof(esc), text, strlen(text));
			fprintf(stderr, "moat-viewer: server%s: %s\n",
			    kind == RFB_CONV_ERROR ? " (error)" : "", esc);
			free(text);
			continue;
		}
		if (st.questions++ == RFB_CONV_MAX_QUESTIONS) {
			viewer_err("the server asked more than %d questions",
			    RFB_CONV_MAX_QUESTIONS);
			free(text);
			return MOAT_ERR_PROTOCOL;
		}
		if (kind == RFB_CONV_PROVE)
			r = prove(a, text, identity, ans, sizeof(ans));
		else
			r = answer(a, &st, kind == RFB_CONV_SECRET, text, ans,
			    sizeof(ans));
		free(text);
		text = NULL;
		if (r != 0)
			return r;
		buf_init_fixed(&b, out, sizeof(out));
		if ((r = rfb_conv_put_answer(&b, ans, strlen(ans))) == 0)
			r = viewer_conn_write(c, buf_ptr(&b), buf_len(&b));
		OPENSSL_cleanse(ans, sizeof(ans));
		OPENSSL_cleanse(out, sizeof(out));
		if (r != 0) {
			if (r == MOAT_ERR_TOO_LONG)
				viewer_err("an answer is longer than %d bytes",
				    RFB_CONV_MAX_ANSWER);
			return r;
		}
	}
}
