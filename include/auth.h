/*
 * auth.h - who sent a request (daemon/auth.c; docs/security.md, "Authentication").
 *
 * Three ways a connection is somebody:
 *   - a tcp endpoint speaks ZeroMQ CURVE; the daemon's ZAP handler lets a handshake
 *     through only for a key registered in the ledger (key.add) and names the key as the
 *     connection's User-Id. Each request is then checked again against the ledger: a key
 *     revoked or replaced stops working on connections that are already open.
 *   - an ipc peer is a local process: the kernel says its uid, and ipc-users in the
 *     configuration maps the uid to a person, or trusts it to name any actor (`UID:*`;
 *     by default root and the daemon's own uid), or does not name it (nobody: reads only).
 *   - the daemon's own requests (timer firings) are trusted.
 * A connection that is a person writes only as that person: a request naming another
 * actor is refused `forbidden`, and one naming none acts as that person.
 */
#ifndef AUTH_H
#define AUTH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <zmq.h>

#include "core.h"
#include "ledger.h"
#include "proto.h"

#define AUTH_ZAP_ENDPOINT "inproc://zeromq.zap.01"	/* where libzmq asks (RFC 27) */
#define AUTH_ZAP_DOMAIN "nanti"
#define AUTH_SECRET_FILE "curve.secret"	/* in the state directory, mode 0600 */
#define AUTH_PUBLIC_FILE "curve.public"

enum auth_kind {
	AUTH_TRUSTED,	/* names any actor: a trusted uid, the daemon itself (the zero value) */
	AUTH_PERSON,	/* an ipc uid mapped to one person: id */
	AUTH_KEY,	/* a CURVE key: id is the key (Z85); the ledger says whose */
	AUTH_NOBODY,	/* an ipc uid that ipc-users does not name: reads only */
};

/* Who is at the other end of one received message. */
struct auth_peer {
	enum auth_kind kind;
	long uid;			/* ipc: the peer's uid; -1 when not known */
	char id[PROTO_MAX_NAME_ID + 1];	/* AUTH_PERSON: the person; AUTH_KEY: the key */
	uint32_t len;
};

/* ipc-users = UID:PERSON, UID:*, ... */
#define AUTH_MAX_USERS 64
struct auth_users {
	size_t n;
	struct auth_user {
		uint32_t uid;
		bool any;			/* UID:* */
		char person[PROTO_MAX_NAME_ID + 1];
	} u[AUTH_MAX_USERS];
};

/* The default: root and the uid self (the daemon's own), trusted. */
void auth_users_default(struct auth_users *u, uid_t self);
/* Parse the value of ipc-users into u (replacing it); false if it is not valid. An empty
 * value trusts nobody. */
bool auth_users_parse(struct auth_users *u, const char *v);
/* "ipc-users = ..." as the configuration file writes it. */
void auth_users_print(FILE *f, const struct auth_users *u);

/*
 * auth_peer_of - the peer of the message whose frame this is (any frame of it): a CURVE
 * connection's User-Id (the key, as the ZAP handler named it); else an ipc peer's uid,
 * from the "Peer-Address" ZeroMQ gives an ipc connection (":UID:GID:PID", read with
 * SO_PEERCRED when it was accepted), looked up in u.
 */
void auth_peer_of(const struct auth_users *u, zmq_msg_t *frame, struct auth_peer *p);

/*
 * auth_check - may peer p send this request, and as whom? Reads the ledger through v (for
 * a key: who holds it now). write: the request changes the ledger and names actor (len 0:
 * none). Returns NT_OK with who filled (len 0: trusted, the actor is as named), or
 * NT_EFORBIDDEN (why says why): a key no longer registered (anything), nobody (writes), an
 * actor other than who (writes); or the ledger's failure.
 */
struct auth_who {
	char id[PROTO_MAX_NAME_ID + 1];
	uint32_t len;
};
nt_err auth_check(const struct core_view *v, const struct auth_peer *p, bool write,
		  proto_str actor, struct auth_who *who, char *why, size_t whylen);

/*
 * auth_keypair - the daemon's CURVE key pair, Z85: read from dir/curve.secret, or made
 * (zmq_curve_keypair()) and written there with mode 0600 on first start; the public key is
 * derived from it and kept in dir/curve.public (0644) for operators to hand out. Refuses a
 * secret file that others may read. Returns NT_OK, or NT_ESYS / NT_EBADREQ with why.
 */
nt_err auth_keypair(const char *dir, char pub[PROTO_KEY_LEN + 1],
		    char sec[PROTO_KEY_LEN + 1], char *why, size_t whylen);

/*
 * auth_zap_serve - answer every ZAP request waiting on zap (a REP socket bound at
 * AUTH_ZAP_ENDPOINT): 200 with the key as User-Id for a CURVE key registered in the
 * ledger's committed state, 400 for any other key or mechanism. Never blocks.
 */
void auth_zap_serve(void *zap, struct ledger *lg);

#endif
