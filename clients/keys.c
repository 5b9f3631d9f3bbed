/*
 * keys.c - CURVE keys in the nanti client: the key file, `nanti key gen`, and the key a
 * command line names (keys.h; docs/client.md, docs/security.md).
 *
 * Keys are made by libzmq (zmq_curve_keypair(): libsodium's randomness) on the person's
 * own machine; only the public half ever travels, to the admin who registers it with
 * `nanti admin key add`. The secret half stays in the key file, which is created with
 * O_EXCL and mode 0600: `nanti key gen` never overwrites a key, since a key pair lost is
 * a person locked out until the admin registers a new one.
 *
 * A key file is lines `NAME = VALUE`, like nantid.conf, so that people can read it and
 * tools can grep it. '=' and '#' are Z85 characters, so only " = " (a key has no spaces)
 * splits a line, and a line is a comment when it begins with '#' and is not a bare key
 * (curve.public is one line, the key, which may begin with '#').
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "keys.h"

#define KEYS_LINE 256

static bool keys_valid(const char *k)
{
	return proto_key_valid((proto_str){ k, (uint32_t)strlen(k) });
}

/* Strip the line's newline and surrounding blanks. */
static char *keys_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/*
 * Read file: the value of `public-key` and of `secret-key` (either may be NULL: not
 * wanted), or, for a file of one bare key (curve.public), that key as the public one.
 * Returns CLI_OK or CLI_USAGE after saying why.
 */
static int keys_read_file(const char *file, const char *what, char *pub, char *sec)
{
	char line[KEYS_LINE];
	bool have_pub = false, have_sec = false;
	int n = 0;
	FILE *f = fopen(file, "r");

	if (f == NULL) {
		cli_warn("%s: cannot read %s: %s", what, file, strerror(errno));
		return CLI_USAGE;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		char *s = keys_trim(line), *eq = strstr(s, " = ");
		const char *name = s, *val = s;

		if (*s == '\0' || (*s == '#' && (eq != NULL || !keys_valid(s))))
			continue;
		n++;
		if (eq != NULL) {
			*eq = '\0';
			val = keys_trim(eq + 3);
		} else {
			name = "public-key";	/* a file of one bare key */
		}
		if (!keys_valid(val) || (eq == NULL && n > 1))
			continue;
		if (strcmp(name, "public-key") == 0 && pub != NULL) {
			memcpy(pub, val, PROTO_KEY_LEN + 1);
			have_pub = true;
		} else if (strcmp(name, "secret-key") == 0 && sec != NULL) {
			memcpy(sec, val, PROTO_KEY_LEN + 1);
			have_sec = true;
		}
	}
	fclose(f);
	if ((pub != NULL && !have_pub) || (sec != NULL && !have_sec)) {
		cli_warn("%s: %s holds no %s (a key file from nanti key gen has public-key and "
			 "secret-key lines of 40 characters of Z85)", what, file,
			 pub != NULL && !have_pub ? "public key" : "secret key");
		return CLI_USAGE;
	}
	return CLI_OK;
}

int keys_read_pair(const char *file, char pub[PROTO_KEY_LEN + 1], char sec[PROTO_KEY_LEN + 1])
{
	char derived[PROTO_KEY_LEN + 1];
	int rc = keys_read_file(file, "--key", pub, sec);

	if (rc != CLI_OK)
		return rc;
	if (zmq_curve_public(derived, sec) != 0 || strcmp(derived, pub) != 0) {
		cli_warn("--key: in %s the public key is not the secret key's", file);
		return CLI_USAGE;
	}
	return CLI_OK;
}

int keys_read_public(const char *arg, const char *what, char pub[PROTO_KEY_LEN + 1])
{
	if (keys_valid(arg)) {
		memcpy(pub, arg, PROTO_KEY_LEN + 1);
		return CLI_OK;
	}
	if (access(arg, F_OK) != 0 && strlen(arg) == PROTO_KEY_LEN) {
		cli_warn("%s: '%s' is not a CURVE public key (40 characters of Z85) nor a file",
			 what, arg);
		return CLI_USAGE;
	}
	return keys_read_file(arg, what, pub, NULL);
}

/* ---- nanti key gen ---- */

const struct args_spec keys_gen_spec[KEYS_GEN_NSPEC] = {
	{ "--out", ARGS_STR, "FILE", "write the key pair to FILE (mode 0600; never "
	  "overwritten) and print the public key", { .key = NULL } },
};

int keys_gen_run(struct run *r)
{
	const struct args_val *out = args_find(r->t, "--out");
	char pub[PROTO_KEY_LEN + 1], sec[PROTO_KEY_LEN + 1], text[3 * KEYS_LINE];
	int fd, n;

	if (zmq_curve_keypair(pub, sec) != 0) {
		cli_warn("cannot make a key pair: %s", zmq_strerror(errno));
		return CLI_LOCAL;
	}
	n = snprintf(text, sizeof text, "# a nanti CURVE key pair (nanti key gen): keep it "
		     "secret; give the admin\n# the public key, for nanti admin key add\n"
		     "public-key = %s\nsecret-key = %s\n", pub, sec);
	if (out == NULL || !out->set) {
		fputs(text, stdout);
		return CLI_OK;
	}
	if ((fd = open(out->s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		cli_warn("key gen: cannot create %s: %s%s", out->s, strerror(errno),
			 errno == EEXIST ? " (a key file is never overwritten)" : "");
		return errno == EEXIST ? CLI_USAGE : CLI_LOCAL;
	}
	if (write(fd, text, (size_t)n) != n || fsync(fd) != 0) {
		cli_warn("key gen: cannot write %s: %s", out->s, strerror(errno));
		close(fd);
		unlink(out->s);
		return CLI_LOCAL;
	}
	close(fd);
	if (r->conf->json)
		printf("{\"public_key\":\"%s\",\"file\":\"%s\"}\n", pub, out->s);
	else
		printf("%s\n", pub);
	return CLI_OK;
}

/* ---- nanti admin key add, revoke ---- */

const struct args_spec keys_add_spec[KEYS_ADD_NSPEC] = {
	{ "PERSON", ARGS_STR, NULL, "the person whose key it is",
	  { .key = "person", .type = PT_ID, .required = true } },
	{ "KEY", ARGS_STR, NULL, "their public key: 40 characters of Z85, or their key file "
	  "(only its public-key line is read)",
	  { .key = "key", .type = PT_STR, .required = true, .min = PROTO_KEY_LEN,
	    .max = PROTO_KEY_LEN } },
};

const struct args_spec keys_revoke_spec[KEYS_REVOKE_NSPEC] = {
	{ "PERSON", ARGS_STR, NULL, "the person whose key is revoked",
	  { .key = "person", .type = PT_ID, .required = true } },
};

int keys_add_run(struct run *r)
{
	static char pub[PROTO_KEY_LEN + 1];
	struct args_val *key = args_find(r->t, "KEY");
	int rc;

	if ((rc = keys_read_public(key->s, "KEY", pub)) != CLI_OK)
		return rc;
	key->s = pub;	/* what is sent: the key, read from the file if it was one */
	key->len = PROTO_KEY_LEN;
	return cmd_single(r);
}
