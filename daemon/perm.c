/*
 * perm.c - who may do what (see perm.h): reach, relations to a case, the admin gate.
 *
 * A unit's place in the tree is found by walking up its parents through the view: the
 * tree is shallow (county, township or street, village), so a check costs a few lookups
 * and no index has to be kept in step with moves.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "perm.h"

nt_err perm_within(const struct core_view *v, proto_str unit, proto_str above, bool *yes)
{
	proto_str cur = unit;
	nt_err rc;

	*yes = false;
	for (int depth = 0; depth < UNIT_MAX_DEPTH && cur.len > 0; depth++) {
		struct unit_rec u;

		if (proto_str_same(cur, above)) {
			*yes = true;
			return NT_OK;
		}
		if ((rc = core_get_unit(v, cur, &u)) != NT_OK)
			return rc == NT_ENOTFOUND ? NT_OK : rc;
		cur = u.parent;
	}
	return NT_OK;
}

nt_err perm_reaches(const struct core_view *v, const struct person_rec *actor, proto_str unit,
		    bool *yes)
{
	nt_err rc;

	*yes = false;
	if (actor->roles & (ROLE_COUNTY | ROLE_THEME | ROLE_SUPERVISION)) {
		*yes = true;
		return NT_OK;
	}
	if ((rc = perm_within(v, unit, actor->unit, yes)) != NT_OK || *yes)
		return rc;
	if ((actor->roles & ROLE_RESIDENT) && actor->village.len > 0)
		return perm_within(v, unit, actor->village, yes);
	return NT_OK;
}

nt_err perm_relations(const struct core_view *v, const struct person_rec *actor,
		      proto_str unit, proto_str lead, proto_str taker, unsigned *rels)
{
	bool yes;
	nt_err rc;

	*rels = 0;
	if (proto_str_same(actor->id, lead))
		*rels |= REL_LEAD;
	if (taker.len > 0 && proto_str_same(actor->id, taker))
		*rels |= REL_TAKER;
	if (actor->roles & ROLE_THEME)
		*rels |= REL_THEME;
	if (actor->roles & ROLE_SUPERVISION)
		*rels |= REL_SUPERVISION;
	if ((rc = perm_reaches(v, actor, unit, &yes)) != NT_OK)
		return rc;
	if (yes)
		*rels |= REL_REACH;
	if (actor->roles & ROLE_HEAD) {
		if ((rc = perm_within(v, unit, actor->unit, &yes)) != NT_OK)
			return rc;
		if (yes)
			*rels |= REL_HEAD;
	}
	return NT_OK;
}

nt_err perm_actor(const struct core_view *v, proto_str actor, struct person_rec *p, char *why,
		  size_t whylen)
{
	nt_err rc = core_get_person(v, actor, p);

	if (rc == NT_ENOTFOUND) {
		snprintf(why, whylen, "'%.*s' is not a person in the ledger: only registered "
			 "people act in it", (int)actor.len, actor.ptr);
		return NT_EFORBIDDEN;
	}
	return rc;
}

nt_err perm_admin(const struct core_view *v, proto_str actor, char *why, size_t whylen)
{
	struct person_rec p;
	MDB_val val;
	nt_err rc;

	rc = v->get(v->ctx, DB_META, META_ADMINS, strlen(META_ADMINS), &val);
	if (rc == NT_ENOTFOUND || (rc == NT_OK && val.mv_size == 8 && ledger_u64(val.mv_data) == 0))
		return NT_OK;	/* no admin yet: the bootstrap */
	if (rc != NT_OK)
		return rc;
	rc = core_get_person(v, actor, &p);
	if (rc != NT_OK && rc != NT_ENOTFOUND)
		return rc;
	if (rc == NT_OK && (p.roles & ROLE_ADMIN))
		return NT_OK;
	snprintf(why, whylen, "only an admin manages units and people, and '%.*s' is not one",
		 (int)actor.len, actor.ptr);
	return NT_EFORBIDDEN;
}

/* ---- households ---- */

#define COUNTY_READERS (ROLE_COUNTY | ROLE_THEME | ROLE_SUPERVISION | ROLE_ADMIN)

nt_err perm_household_read(const struct core_view *v, const struct person_rec *actor,
			   const struct household_rec *h, bool *yes)
{
	*yes = (actor->roles & COUNTY_READERS) != 0 || proto_str_same(h->cadre, actor->id);
	if (*yes)
		return NT_OK;
	return perm_reaches(v, actor, h->village, yes);
}

bool perm_household_sensitive(const struct person_rec *actor, const struct household_rec *h)
{
	return (actor->roles & (ROLE_THEME | ROLE_SUPERVISION | ROLE_ADMIN)) != 0 ||
	       proto_str_same(h->cadre, actor->id) ||
	       ((actor->roles & ROLE_RESIDENT) && proto_str_same(actor->village, h->village));
}

nt_err perm_pairing_cadre(const struct core_view *v, const struct person_rec *p, bool *yes)
{
	struct unit_rec u;
	nt_err rc;

	*yes = false;
	if (!(p->roles & HH_PAIR_ROLES))
		return NT_OK;
	if ((rc = core_get_unit(v, p->unit, &u)) != NT_OK)
		return rc == NT_ENOTFOUND ? NT_OK : rc;
	*yes = u.kind != UNIT_VILLAGE;
	return NT_OK;
}
