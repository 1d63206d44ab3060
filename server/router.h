/*
 * Maps a request to its handler: the rows of ipc/wsop_endpoints.h (the
 * whole REST surface of ipc/README.md, shared with the client) give the
 * method, the path pattern, whether a query is taken and whether the
 * request is mutating; router.c maps each row's id to its handler.
 *
 * Contract:
 *  - Path ids are checked for their shape by the matcher: a softcard id
 *    that is not 40 lower-case hex, or a uuid that is not uuid-shaped, does
 *    not match, so such paths are 404 not_found like any unknown path.
 *  - A known path with another method is 405 method_not_allowed with an
 *    Allow header.
 *  - Only the listings (GET of groups, of a group's keys and of a
 *    softcard's objects) take a query; a query elsewhere is 400
 *    bad_request.
 *  - A mutating request whose Idempotency-Key is known gets the recorded
 *    answer before the handler runs, whatever has changed since
 *    (activation, restart, the resource itself). Activate records no
 *    answer (its token must not be written to disk; a repeat makes
 *    another activation), so for it this only refuses a key used with
 *    another path.
 *  - Every mutating request and every refusal gets an audit line naming
 *    the row's name as its action.
 *  - req->path and req->query are set here (from req->http->target).
 */
#ifndef WSOPD_ROUTER_H
#define WSOPD_ROUTER_H

#include "server/app.h"
#include "server/request.h"

void router_handle(struct app *app, struct wsop_request *req, struct wsop_response *resp);

#endif
