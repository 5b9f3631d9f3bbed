/*
 * keys.h - CURVE keys in the nanti client (clients/keys.c): key files, `nanti key gen`,
 * `nanti admin key add` and `nanti admin key revoke`.
 *
 * A key file (`nanti key gen --out FILE`, mode 0600) holds a person's key pair as lines
 * `public-key = Z85` and `secret-key = Z85` ('#' starts a comment). The daemon's public
 * key is handed out as its curve.public file: one line, the key.
 */
#ifndef KEYS_H
#define KEYS_H

#include "cmd.h"

/* Read the key pair in file (a key file). Returns CLI_OK or CLI_USAGE after saying why. */
int keys_read_pair(const char *file, char pub[PROTO_KEY_LEN + 1], char sec[PROTO_KEY_LEN + 1]);
/* A public key given as arg: the key itself (40 characters of Z85), or a file holding it
 * (curve.public, or a key file's public-key line). what names the option in messages.
 * Returns CLI_OK or CLI_USAGE after saying why. */
int keys_read_public(const char *arg, const char *what, char pub[PROTO_KEY_LEN + 1]);

#define KEYS_GEN_NSPEC 1
extern const struct args_spec keys_gen_spec[KEYS_GEN_NSPEC];
/* nanti key gen [--out FILE] */
int keys_gen_run(struct run *r);

#define KEYS_ADD_NSPEC 2
extern const struct args_spec keys_add_spec[KEYS_ADD_NSPEC];
#define KEYS_REVOKE_NSPEC 1
extern const struct args_spec keys_revoke_spec[KEYS_REVOKE_NSPEC];
/* nanti admin key add PERSON KEY|FILE: key.add with the key read (keys_read_public()). */
int keys_add_run(struct run *r);

#endif
