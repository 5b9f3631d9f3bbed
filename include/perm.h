/*
 * perm.h - who may do what: how a person stands to a case, by role and jurisdiction.
 *
 * The rules (docs/workflow.md has the table):
 *   - a case's lead advances it through the steps;
 *   - a unit head reassigns cases within the unit and its sub-units;
 *   - the theme office verifies, crosses off, returns and reopens;
 *   - the supervision office reads everything and escalates;
 *   - admins manage units and people;
 *   - anyone may add a progress note to a case within their reach.
 * A person's reach is their unit and its sub-units (and, for a village-resident cadre,
 * their village); county leaders, the theme office and the supervision office reach the
 * whole county.
 *
 * Everything here is pure: it reads units through the core's view.
 */
#ifndef PERM_H
#define PERM_H

#include <stdbool.h>

#include "core.h"
#include "model.h"

/* How an actor stands to a case: a set of these. */
enum perm_rel {
	REL_LEAD = 1 << 0,		/* the case's lead */
	REL_TAKER = 1 << 1,		/* a petition's case-taking leader */
	REL_HEAD = 1 << 2,		/* unit head of the case's unit or one above it */
	REL_THEME = 1 << 3,		/* the theme office */
	REL_SUPERVISION = 1 << 4,	/* the supervision office */
	REL_REACH = 1 << 5,		/* the case's unit is within the actor's reach */
};

/*
 * perm_within - is unit `unit` the unit `above` or one of its sub-units? Walks up the
 * parents, at most UNIT_MAX_DEPTH. Returns NT_OK with *yes, or the ledger's failure.
 */
nt_err perm_within(const struct core_view *v, proto_str unit, proto_str above, bool *yes);

/* perm_reaches - is `unit` within actor's reach? */
nt_err perm_reaches(const struct core_view *v, const struct person_rec *actor, proto_str unit,
		    bool *yes);

/*
 * perm_relations - how actor stands to a case in `unit` led by `lead` (taker: the
 * petition's case-taking leader, or empty). Fills *rels with enum perm_rel bits.
 */
nt_err perm_relations(const struct core_view *v, const struct person_rec *actor,
		      proto_str unit, proto_str lead, proto_str taker, unsigned *rels);

/*
 * perm_actor - load the person who acts. A request whose actor is not a person in the
 * ledger is refused: NT_EFORBIDDEN with why set.
 */
nt_err perm_actor(const struct core_view *v, proto_str actor, struct person_rec *p, char *why,
		  size_t whylen);

/*
 * perm_admin - may actor manage units and people? Yes for admins, and for anyone while
 * the ledger has no admin yet (the bootstrap: the first admin is created that way).
 * NT_OK, or NT_EFORBIDDEN with why set.
 */
nt_err perm_admin(const struct core_view *v, proto_str actor, char *why, size_t whylen);

/*
 * Households (docs/protocol.md section 9). perm_household_read: may actor read household h
 * (its village within their reach, its paired cadre, or the whole county's readers)?
 * perm_household_sensitive: may they see its sensitive fields (its paired cadre, a
 * village-resident cadre of its village, the theme and supervision offices, admins)?
 * perm_pairing_cadre: may p be paired with a household (a pairing role, in a unit that is
 * not a village)? Each NT_OK with *yes, or the ledger's failure.
 */
nt_err perm_household_read(const struct core_view *v, const struct person_rec *actor,
			   const struct household_rec *h, bool *yes);
bool perm_household_sensitive(const struct person_rec *actor, const struct household_rec *h);
nt_err perm_pairing_cadre(const struct core_view *v, const struct person_rec *p, bool *yes);

#endif
