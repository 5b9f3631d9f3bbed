/*
 * auth.c - authentication: the daemon's CURVE key pair, the ZAP handler, who the peer of
 * a message is, and whether it may send the request it sent (auth.h; docs/security.md).
 *
 * Why the key itself is the User-Id. libzmq asks the ZAP handler once, at the handshake;
 * what the handler answers sticks to the connection for as long as it lives. If that were
 * the person, a key revoked afterwards would go on acting as them on every connection
 * already open. So the handler answers with the key (Z85), and every request looks the
 * key up in the ledger's keys index again (auth_check(), one B-tree lookup, through the
 * same view the core reads, so a key.revoke applied just before is seen even before it is
 * committed). Revoking or replacing a key therefore refuses the very next request of an
 * open connection. The ZAP handler reads only what is committed: a key added and not yet
 * committed is refused for the few milliseconds until it is.
 *
 * Why the handler lives in the loop. libzmq lets a CURVE handshake through with any key
 * when no handler is bound at inproc://zeromq.zap.01 (ZMQ_ZAP_ENFORCE_DOMAIN changes that
 * to a refusal, and the daemon sets it too); the handler must therefore exist before the
 * first tcp endpoint is bound, and answer promptly, since each handshake waits for it.
 * It is a REP socket polled by the loop beside the request socket: a lookup is a few
 * microseconds, and the loop never sleeps while there is work, so handshakes wait at most
 * one burst of requests.
 *
 * Why ipc goes by uid. A local process has no key to show, but the kernel knows its uid
 * (SO_PEERCRED), and libzmq reads it when it accepts the connection and hands it over as
 * the messages' "Peer-Address" (":UID:GID:PID"): fixed for the connection's life, with no
 * race on a reused descriptor (ZMQ_SRCFD, the other way, has one). ipc-users maps a uid
 * to a person; root and the daemon's own uid are trusted to name any actor by default
 * (PostgreSQL's "peer" and "trust" for local connections): whoever is root, or the
 * daemon's user, can read and write the ledger's files directly anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "sys.h"

/* ---- ipc-users ---- */

void auth_users_default(struct auth_users *u, uid_t self)
{
	memset(u, 0, sizeof *u);
	u->u[u->n++] = (struct auth_user){ .uid = 0, .any = true };
	if (self != 0)
		u->u[u->n++] = (struct auth_user){ .uid = (uint32_t)self, .any = true };
}

bool auth_users_parse(struct auth_users *u, const char *v)
{
	char buf[4096], *save = NULL, *tok;

	if (strlen(v) >= sizeof buf)
		return false;
	strcpy(buf, v);
	memset(u, 0, sizeof *u);
	for (tok = strtok_r(buf, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		char *colon = strchr(tok, ':'), *end;
		struct auth_user *e = &u->u[u->n];
		unsigned long uid;

		if (colon == NULL || colon == tok || u->n == AUTH_MAX_USERS)
			return false;
		*colon = '\0';
		errno = 0;
		uid = strtoul(tok, &end, 10);
		if (*end != '\0' || *tok < '0' || *tok > '9' || errno != 0 || uid >= UINT32_MAX)
			return false;
		for (size_t i = 0; i < u->n; i++)
			if (u->u[i].uid == uid)
				return false;	/* one line per uid */
		e->uid = (uint32_t)uid;
		e->any = strcmp(colon + 1, "*") == 0;
		if (!e->any) {
			proto_str p = { colon + 1, (uint32_t)strlen(colon + 1) };

			if (!proto_id_valid(p))
				return false;
			memcpy(e->person, p.ptr, p.len + 1);
		}
		u->n++;
	}
	return true;
}

void auth_users_print(FILE *f, const struct auth_users *u)
{
	fprintf(f, "ipc-users =");
	for (size_t i = 0; i < u->n; i++)
		fprintf(f, "%s %" PRIu32 ":%s", i ? "," : "", u->u[i].uid,
			u->u[i].any ? "*" : u->u[i].person);
	fputc('\n', f);
}

/* ---- the peer of a message ---- */

/* The uid in an ipc Peer-Address, "[HOST]:UID:GID:PID"; -1 if it has none. */
static long peer_uid(const char *addr)
{
	const char *p = addr;
	char *end;
	long uid;
	int colons = 0;

	for (const char *c = addr; *c; c++)
		colons += *c == ':';
	if (colons < 3)
		return -1;
	for (int seen = 0; seen < colons - 2; p++)
		seen += *p == ':';
	errno = 0;
	uid = strtol(p, &end, 10);
	if (end == p || *end != ':' || errno != 0 || uid < 0)
		return -1;
	return uid;
}

void auth_peer_of(const struct auth_users *u, zmq_msg_t *frame, struct auth_peer *p)
{
	const char *key = zmq_msg_gets(frame, "User-Id");
	const char *addr;

	memset(p, 0, sizeof *p);
	p->uid = -1;
	if (key != NULL && strlen(key) == PROTO_KEY_LEN) {
		p->kind = AUTH_KEY;
		memcpy(p->id, key, PROTO_KEY_LEN + 1);
		p->len = PROTO_KEY_LEN;
		return;
	}
	p->kind = AUTH_NOBODY;
	if ((addr = zmq_msg_gets(frame, "Peer-Address")) == NULL ||
	    (p->uid = peer_uid(addr)) < 0)
		return;
	for (size_t i = 0; i < u->n; i++) {
		if (u->u[i].uid != (uint32_t)p->uid)
			continue;
		if (u->u[i].any) {
			p->kind = AUTH_TRUSTED;
		} else {
			p->kind = AUTH_PERSON;
			p->len = (uint32_t)strlen(u->u[i].person);
			memcpy(p->id, u->u[i].person, p->len + 1);
		}
		return;
	}
}

/* ---- may it ---- */

nt_err auth_check(const struct core_view *v, const struct auth_peer *p, bool write,
		  proto_str actor, struct auth_who *who, char *why, size_t whylen)
{
	MDB_val val;
	nt_err rc;

	who->len = 0;
	who->id[0] = '\0';
	switch (p->kind) {
	case AUTH_TRUSTED:
		return NT_OK;
	case AUTH_NOBODY:
		if (!write)
			return NT_OK;
		snprintf(why, whylen, "this connection is nobody: uid %ld is not in the daemon's "
			 "ipc-users, so it may read but not write", p->uid);
		return NT_EFORBIDDEN;
	case AUTH_PERSON:
		memcpy(who->id, p->id, p->len + 1);
		who->len = p->len;
		break;
	case AUTH_KEY:
		rc = v->get(v->ctx, DB_KEYS, p->id, p->len, &val);
		if (rc == NT_ENOTFOUND) {
			snprintf(why, whylen, "the key of this connection is no longer registered "
				 "(revoked or replaced): reconnect with a registered key");
			return NT_EFORBIDDEN;
		}
		if (rc != NT_OK)
			return rc;
		if (val.mv_size == 0 || val.mv_size > PROTO_MAX_NAME_ID)
			return NT_ECORRUPT;
		memcpy(who->id, val.mv_data, val.mv_size);
		who->id[val.mv_size] = '\0';
		who->len = (uint32_t)val.mv_size;
		break;
	}
	if (write && actor.len > 0 && !proto_str_same(actor, (proto_str){ who->id, who->len })) {
		snprintf(why, whylen, "this connection is authenticated as '%s': it cannot act as "
			 "'%.*s'", who->id, (int)actor.len, actor.ptr);
		return NT_EFORBIDDEN;
	}
	return NT_OK;
}

/* ---- the daemon's key pair ---- */

/* Read the secret key in path into sec; NT_ENOTFOUND if there is none. */
static nt_err secret_read(const char *path, char sec[PROTO_KEY_LEN + 1], char *why,
			  size_t whylen)
{
	char buf[128];
	struct stat st;
	ssize_t n;
	nt_err rc = NT_ESYS;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0 && errno == ENOENT)
		return NT_ENOTFOUND;
	if (fd < 0 || fstat(fd, &st) != 0 || (n = read(fd, buf, sizeof buf - 1)) < 0) {
		snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	rc = NT_EBADREQ;
	if ((st.st_mode & 077) != 0) {
		snprintf(why, whylen, "%s may be read by others (mode %04o): the daemon's secret "
			 "key must be the daemon's alone (chmod 600)", path,
			 (unsigned)(st.st_mode & 07777));
		goto out;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	if (!proto_key_valid((proto_str){ buf, (uint32_t)n })) {
		snprintf(why, whylen, "%s does not hold a CURVE secret key (40 characters of "
			 "Z85)", path);
		goto out;
	}
	memcpy(sec, buf, PROTO_KEY_LEN + 1);
	rc = NT_OK;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Write text + "\n" durably to dir/name with mode, through a temporary file: by rename
 * (replace), or by link (only if absent: EEXIST then means another process won). */
static int file_put(const char *dir, const char *name, const char *text, mode_t mode,
		    bool replace)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	int fd, rc = -1, saved;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, name) >= (int)sizeof tmp ||
	    (fd = mkstemp(tmp)) < 0)
		return -1;
	if (fchmod(fd, mode) == 0 && dprintf(fd, "%s\n", text) > 0 && fsync(fd) == 0)
		rc = replace ? rename(tmp, path) : link(tmp, path);
	saved = errno;
	close(fd);
	unlink(tmp);
	errno = saved;
	return rc;
}

nt_err auth_keypair(const char *dir, char pub[PROTO_KEY_LEN + 1],
		    char sec[PROTO_KEY_LEN + 1], char *why, size_t whylen)
{
	char path[PATH_MAX], have[PROTO_KEY_LEN + 8] = "";
	nt_err rc;
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, AUTH_SECRET_FILE);
	if ((rc = secret_read(path, sec, why, whylen)) == NT_ENOTFOUND) {
		if (zmq_curve_keypair(pub, sec) != 0) {
			snprintf(why, whylen, "cannot make a CURVE key pair: %s",
				 zmq_strerror(zmq_errno()));
			return NT_ESYS;
		}
		if (file_put(dir, AUTH_SECRET_FILE, sec, 0600, false) != 0 && errno != EEXIST) {
			snprintf(why, whylen, "cannot write %s: %s", path, strerror(errno));
			return NT_ESYS;
		}
		log_notice("made the daemon's CURVE key pair in %s", path);
		rc = secret_read(path, sec, why, whylen);	/* ours, or a racing one's */
	}
	if (rc != NT_OK)
		return rc;
	if (zmq_curve_public(pub, sec) != 0) {
		snprintf(why, whylen, "cannot derive the public key: %s", zmq_strerror(zmq_errno()));
		return NT_ESYS;
	}
	/* curve.public is a copy for operators: written again whenever it differs */
	snprintf(path, sizeof path, "%s/%s", dir, AUTH_PUBLIC_FILE);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		ssize_t n = read(fd, have, sizeof have - 1);

		have[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	if (strncmp(have, pub, PROTO_KEY_LEN) != 0 || strlen(have) != PROTO_KEY_LEN + 1)
		if (file_put(dir, AUTH_PUBLIC_FILE, pub, 0644, true) != 0)
			log_warn("cannot write %s", path);
	return NT_OK;
}

/* ---- the ZAP handler (ZeroMQ RFC 27) ---- */

#define ZAP_FRAMES 8
#define ZAP_LOG_EVERY_MS 10000	/* refusals are logged at most this often */

static int64_t zap_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One refusal worth a log line, but not a line per handshake: an unknown peer that
 * reconnects for ever must not fill the journal. */
static void zap_log_refusal(const char *addr, const char *what)
{
	static int64_t next;
	static uint64_t quiet;
	int64_t now = zap_now_ms();

	if (now < next) {
		quiet++;
		return;
	}
	log_notice("refused a connection from %s: %s (%" PRIu64 " more refused since the "
		   "last such line)", addr, what, quiet);
	quiet = 0;
	next = now + ZAP_LOG_EVERY_MS;
}

/* Is the CURVE key (32 bytes) registered? Its Z85 into z85. */
static bool zap_key_known(struct ledger *lg, const uint8_t *key, char z85[PROTO_KEY_LEN + 1])
{
	struct ledger_txn t;
	MDB_val v;
	bool known = false;

	if (zmq_z85_encode(z85, key, 32) == NULL)
		return false;
	if (ledger_begin(lg, &t, false) == NT_OK) {
		known = ledger_get(&t, DB_KEYS, z85, PROTO_KEY_LEN, &v) == NT_OK;
		ledger_abort(&t);
	}
	return known;
}

/* Answer one request of n frames f: version, request id, domain, address, identity,
 * mechanism, credentials. */
static void zap_answer(void *zap, struct ledger *lg, zmq_msg_t *f, int n)
{
	char z85[PROTO_KEY_LEN + 1] = "", addr[64] = "?";
	const char *status = "400", *text = "no such key";
	bool curve = n >= 7 && zmq_msg_size(&f[5]) == 5 && memcmp(zmq_msg_data(&f[5]), "CURVE", 5) == 0;

	if (n >= 4)
		snprintf(addr, sizeof addr, "%.*s", (int)zmq_msg_size(&f[3]),
			 (const char *)zmq_msg_data(&f[3]));
	if (n < 6 || zmq_msg_size(&f[0]) != 3 || memcmp(zmq_msg_data(&f[0]), "1.0", 3) != 0) {
		status = "500";
		text = "not a ZAP 1.0 request";
	} else if (!curve || zmq_msg_size(&f[6]) != 32) {
		text = "only CURVE is accepted";
		zap_log_refusal(addr, "no CURVE key");
	} else if (zap_key_known(lg, zmq_msg_data(&f[6]), z85)) {
		status = "200";
		text = "OK";
	} else {
		char what[96];

		snprintf(what, sizeof what, "key %s is not registered", z85);
		zap_log_refusal(addr, what);
		z85[0] = '\0';
	}
	zmq_send(zap, "1.0", 3, ZMQ_SNDMORE);
	zmq_send(zap, n > 1 ? zmq_msg_data(&f[1]) : "", n > 1 ? zmq_msg_size(&f[1]) : 0,
		 ZMQ_SNDMORE);
	zmq_send(zap, status, 3, ZMQ_SNDMORE);
	zmq_send(zap, text, strlen(text), ZMQ_SNDMORE);
	zmq_send(zap, z85, strlen(z85), ZMQ_SNDMORE);
	zmq_send(zap, "", 0, 0);
}

void auth_zap_serve(void *zap, struct ledger *lg)
{
	for (;;) {
		zmq_msg_t f[ZAP_FRAMES], extra;
		int n = 0, more;

		do {
			zmq_msg_t *m = n < ZAP_FRAMES ? &f[n] : &extra;

			zmq_msg_init(m);
			if (zmq_msg_recv(m, zap, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
				zmq_msg_close(m);
				for (int i = 0; i < n; i++)
					zmq_msg_close(&f[i]);
				return;	/* none waiting (or the context is ending) */
			}
			more = zmq_msg_more(m);
			if (m == &extra)
				zmq_msg_close(m);
			else
				n++;
		} while (more);
		zap_answer(zap, lg, f, n);
		for (int i = 0; i < n; i++)
			zmq_msg_close(&f[i]);
	}
}
