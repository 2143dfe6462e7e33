/*
 * radius_probe.c - a command-line front end to moat's RADIUS client
 * (auth/radius_client.c), for tests/e2e/test_radius.sh. Test code, run as
 * root; trusts its arguments. Prints what the monitor would learn:
 *
 *   RESULT (ACCEPT, REJECT, CHALLENGE or TIMEOUT)
 *   message=<Reply-Message text, escaped as in the logs: \x0a for newline>
 *   state=<State as hex, empty if none>
 *   signed=<1 if the reply carried a verified Message-Authenticator>
 *   echo=<1 if the reply asked to show the answer (Prompt = Echo)>
 *   server=<the server that answered>
 *   sent=<datagrams sent> dropped=<datagrams dropped>
 *
 * Exit status 0 when the exchange ran (whatever its result), 1 on an
 * error (bad arguments, configuration refused, local failure).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privsep/errors.h"
#include "privsep/log.h"
#include "auth/radius_client.h"

static void
usage(void)
{
	fprintf(stderr, "usage: radius_probe --server ADDR[:PORT] [--server ...] "
	    "--secret-file F --user U --password P\n"
	    "       [--state-hex HEX] [--allow-unsigned] [--timeout-ms N] "
	    "[--retries N] [--budget-ms N]\n"
	    "       [--calling-station ADDR] [--nas-id ID] [--nas-address ADDR]\n");
	exit(1);
}

static int
unhex(const char *s, uint8_t *out, size_t max, size_t *len)
{
	size_t n = strlen(s), i;
	unsigned int v;

	if (n % 2 != 0 || n / 2 > max)
		return -1;
	for (i = 0; i < n / 2; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1 ||
		    strspn(s + 2 * i, "0123456789abcdefABCDEF") < 2)
			return -1;
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
	return 0;
}

static unsigned int
number(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v > 1000000)
		usage();
	return (unsigned int)v;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "secret-file", required_argument, NULL, 'k' },
		{ "user", required_argument, NULL, 'u' },
		{ "password", required_argument, NULL, 'p' },
		{ "state-hex", required_argument, NULL, 'S' },
		{ "allow-unsigned", no_argument, NULL, 'A' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "retries", required_argument, NULL, 'r' },
		{ "budget-ms", required_argument, NULL, 'b' },
		{ "calling-station", required_argument, NULL, 'c' },
		{ "nas-id", required_argument, NULL, 'n' },
		{ "nas-address", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct radius_config cfg;
	struct radius_question q;
	struct radius_answer ans;
	uint8_t state[RADIUS_STATE_MAX];
	char err[512], emsg[RADIUS_MESSAGE_MAX * 4 + 1];
	const char *secret_file = NULL;
	size_t i;
	int ch, r;

	radius_config_init(&cfg);
	memset(&q, 0, sizeof(q));
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (radius_config_add_server(&cfg, optarg, err,
			    sizeof(err)) != 0) {
				fprintf(stderr, "radius_probe: %s\n", err);
				return 1;
			}
			break;
		case 'k':
			secret_file = optarg;
			break;
		case 'u':
			q.user = optarg;
			break;
		case 'p':
			q.response = optarg;
			break;
		case 'S':
			if (unhex(optarg, state, sizeof(state), &q.state_len) != 0)
				usage();
			q.state = state;
			break;
		case 'A':
			cfg.allow_unsigned = 1;
			break;
		case 't':
			cfg.timeout_ms = number(optarg);
			break;
		case 'r':
			cfg.retries = number(optarg);
			break;
		case 'b':
			q.budget_ms = number(optarg);
			break;
		case 'c':
			q.calling_station = optarg;
			break;
		case 'n':
			if (strlen(optarg) >= sizeof(cfg.nas_identifier))
				usage();
			snprintf(cfg.nas_identifier, sizeof(cfg.nas_identifier),
			    "%s", optarg);
			break;
		case 'a':
			if (radius_config_set_nas_address(&cfg, optarg, err,
			    sizeof(err)) != 0) {
				fprintf(stderr, "radius_probe: %s\n", err);
				return 1;
			}
			break;
		default:
			usage();
		}
	}
	if (optind != argc || secret_file == NULL || q.user == NULL ||
	    q.response == NULL || cfg.nservers == 0)
		usage();
	if (radius_secret_load(&cfg, secret_file, err, sizeof(err)) != 0) {
		fprintf(stderr, "radius_probe: %s\n", err);
		return 1;
	}
	r = radius_exchange(&cfg, &q, &ans);
	radius_config_clear(&cfg);
	if (r != 0) {
		fprintf(stderr, "radius_probe: exchange failed: %s\n",
		    moat_strerror(r));
		return 1;
	}
	for (i = 0; radius_result_name(ans.result)[i] != '\0'; i++)
		putchar(radius_result_name(ans.result)[i] - 'a' + 'A');
	putchar('\n');
	log_escape(emsg, sizeof(emsg), ans.message, ans.message_len);
	printf("message=%s\nstate=", emsg);
	for (i = 0; i < ans.state_len; i++)
		printf("%02x", ans.state[i]);
	printf("\nsigned=%d\necho=%d\nserver=%s\nsent=%u dropped=%u\n",
	    ans.signed_reply, ans.echo, ans.server, ans.sent, ans.dropped);
	return 0;
}
