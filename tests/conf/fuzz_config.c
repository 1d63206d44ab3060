/* libFuzzer target: config_parse() on arbitrary text. Besides the
 * sanitizers, it checks that a successful parse leaves every field in its
 * documented range and that a failed one always explains itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "conf/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct wsop_config *c, const struct config_report *r, int rc)
{
	if (rc < 0) {
		if (r->error[0] == '\0')
			abort();
		return;
	}
	if (r->error[0] != '\0')
		abort();
	if (c->port < 1 || c->port > 65535 || c->loglevel < 0 || c->loglevel > 6 ||
	    c->maxretries > CONFIG_MAX_MAXRETRIES || c->retrydelay > CONFIG_MAX_RETRYDELAY ||
	    c->timeout < 1 || c->timeout > CONFIG_MAX_TIMEOUT)
		abort();
	switch (c->logfacility) {
	case LOG_AUTHPRIV:
	case LOG_AUTH:
	case LOG_DAEMON:
	case LOG_USER:
	case LOG_LOCAL0:
	case LOG_LOCAL1:
	case LOG_LOCAL2:
	case LOG_LOCAL3:
	case LOG_LOCAL4:
	case LOG_LOCAL5:
	case LOG_LOCAL6:
	case LOG_LOCAL7:
		break;
	default:
		abort();
	}
	if (memchr(c->host, '\0', sizeof(c->host)) == NULL ||
	    memchr(c->cert, '\0', sizeof(c->cert)) == NULL ||
	    memchr(c->key, '\0', sizeof(c->key)) == NULL ||
	    memchr(c->auth, '\0', sizeof(c->auth)) == NULL ||
	    memchr(c->logfilepath, '\0', sizeof(c->logfilepath)) == NULL)
		abort();
	if (memchr(r->first_warning, '\0', sizeof(r->first_warning)) == NULL)
		abort();
	/* HOST: 1..CONFIG_SERVERS_MAX servers, each named, on a port, the
	 * first one's name in host. */
	if (c->n_servers > CONFIG_SERVERS_MAX || (c->n_servers == 0) != (c->host[0] == '\0'))
		abort();
	for (unsigned i = 0; i < c->n_servers; i++) {
		const struct config_server *s = &c->servers[i];
		if (memchr(s->host, '\0', sizeof(s->host)) == NULL || s->host[0] == '\0' ||
		    strpbrk(s->host, ", \t[]") != NULL || s->port < 1 || s->port > 65535)
			abort();
	}
	if (c->n_servers > 0 && strcmp(c->host, c->servers[0].host) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wsop_config cfg;
	static struct config_report rep;
	int rc;

	config_set_defaults(&cfg);
	rc = config_parse("fuzz.cfg", (const char *)data, size, &cfg, &rep);
	check(&cfg, &rep, rc);
	return 0;
}
