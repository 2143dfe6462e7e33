/*
 * conn_conv.c - moat-viewer's side of moat's conversation (the VeNCrypt
 * subtype X509Conversation, docs/authentication.md), run inside TLS once
 * the server's identity checked out: answers each question (the user name
 * and password options first, then --answer values in order, then the
 * terminal), shows each message, and reads the SecurityResult.
 * Runs in moat-viewer; every text comes from the server and is bounded,
 * escaped before it is shown, and limited in number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "net/rfb_conv.h"
#include "privsep/errors.h"
#include "privsep/log.h"
#include "viewer/viewer.h"

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
	    r != MOAT_ERR_CRYPTO)
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
 * The answer to the next question: the user name option answers the first
 * visible question, the password option the first hidden one, then the
 * --answer values in order, then the terminal.
 */
static int
answer(const struct viewer_auth *a, struct answered *st, int secret,
    const char *text, char *out, size_t outlen)
{
	char label[RFB_CONV_MAX_TEXT * 4 + 8];
	const char *given = NULL;

	if (!secret && !st->user_used && a->user != NULL) {
		st->user_used = 1;
		given = a->user;
	} else if (secret && !st->pass_used && a->pass != NULL) {
		st->pass_used = 1;
		given = a->pass;
	} else if (st->next < a->nanswers)
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
	return viewer_prompt(label, secret, out, outlen) == 0 ? 0 :
	    MOAT_ERR_INVALID;
}

int
viewer_conversation(struct viewer_conn *c, const struct viewer_auth *a)
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
