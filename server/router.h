/*
 * Maps a request to its handler by method and path (the route table is one
 * array in router.c, the whole REST surface of ipc/README.md on a screen).
 *
 * Contract:
 *  - Path ids are checked for their shape here: a softcard id that is not
 *    40 lower-case hex, or a uuid that is not uuid-shaped, does not match,
 *    so such paths are 404 not_found like any unknown path.
 *  - A known path with another method is 405 method_not_allowed with an
 *    Allow header.
 *  - Only GET /km/v1/groups takes a query; a query elsewhere is
 *    400 bad_request.
 *  - req->path and req->query are set here (from req->http->target).
 */
#ifndef WSOPD_ROUTER_H
#define WSOPD_ROUTER_H

#include "server/app.h"
#include "server/request.h"

void router_handle(struct app *app, struct wsop_request *req, struct wsop_response *resp);

#endif
