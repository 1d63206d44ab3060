/* wsopd: the reference WSOP key server. Parses the command line, sets up
 * logging, signals, the store, TLS and the listening socket, then runs the
 * accept loop until SIGTERM or SIGINT. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "build_config.h"
#include "conf/log.h"
#include "server/app.h"
#include "server/listener.h"
#include "server/options.h"
#include "server/server.h"
#include "server/store_pg.h"
#include "server/tls.h"

#define EXIT_USAGE 2

/* SIGTERM/SIGINT are blocked in every thread (threads inherit the mask)
 * and read from a signalfd by the accept loop: no work in handlers. */
static int setup_signals(void)
{
	sigset_t set;

	/* A client that vanishes mid-answer must not kill the server. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -1;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC);
}

static int run(const struct wsopd_options *opt)
{
	struct server_config cfg = { .threads = opt->threads,
		                     .max_clients = opt->max_clients,
		                     .max_handshakes = opt->max_handshakes,
		                     .handshake_timeout_s = opt->handshake_timeout_s,
		                     .head_timeout_s = opt->head_timeout_s,
		                     .idle_timeout_s = opt->idle_timeout_s,
		                     .event_loops = opt->event_loops,
		                     .loop_busy = opt->loop_busy_percent * 10,
		                     .store_shared = store_pg_is_conninfo(opt->store_dir) };
	struct app app;
	char err[512];
	char bound[LISTENER_ADDR_MAX];
	int signal_fd;
	int rc = EXIT_FAILURE;

	signal_fd = setup_signals();
	if (signal_fd < 0) {
		wlog(WLOG_ERROR, "cannot set up signal handling");
		return EXIT_FAILURE;
	}
	char where[320];

	if (app_open(&app, opt->store_dir, opt->master_path, opt->activation_ttl,
	             opt->activation_idle, err, sizeof(err)) != 0) {
		wlog(WLOG_ERROR, "%s", err);
		close(signal_fd);
		return EXIT_FAILURE;
	}
	app.login_limit = opt->max_login_failures;
	app.login_lockout_s = opt->login_lockout;
	cfg.tls = tls_server_context(opt->cert_path, opt->key_path, opt->ca_path, err, sizeof(err));
	if (cfg.tls == NULL) {
		wlog(WLOG_ERROR, "%s", err);
		goto out;
	}
	cfg.listen_fd = listener_open(opt->host, opt->port, 128, bound, err, sizeof(err));
	if (cfg.listen_fd < 0) {
		wlog(WLOG_ERROR, "%s", err);
		goto out;
	}
	cfg.app = &app;
	cfg.signal_fd = signal_fd;
	/* Never the connection string itself: it may hold a password. */
	store_describe(opt->store_dir, where, sizeof(where));
	wlog(WLOG_INFO,
	     "wsopd %s: store %s, %u request threads, up to %u clients and %u TLS handshakes",
	     PKCS11WSOP_VERSION, where, opt->threads, opt->max_clients, opt->max_handshakes);
	/* Tests parse this exact line to find the port. */
	wlog(WLOG_INFO, "listening on %s", bound);
	if (server_run(&cfg) == 0)
		rc = EXIT_SUCCESS;
	wlog(WLOG_INFO, "stopped");
out:
	SSL_CTX_free(cfg.tls);
	app_close(&app);
	close(signal_fd);
	return rc;
}

int main(int argc, char **argv)
{
	struct wsopd_options opt;
	struct wlog_config log = { .ident = "wsopd", .to_stderr = true };
	char err[256];
	int rc;

	switch (options_parse(argc, argv, &opt, err, sizeof(err))) {
	case OPTIONS_HELP:
		fputs(options_usage(), stdout);
		return EXIT_SUCCESS;
	case OPTIONS_VERSION:
		printf("wsopd %s\n", PKCS11WSOP_VERSION);
		return EXIT_SUCCESS;
	case OPTIONS_ERROR:
		fprintf(stderr, "wsopd: %s\n\n%s", err, options_usage());
		return EXIT_USAGE;
	case OPTIONS_RUN:
		break;
	}
	log.level = opt.log_level;
	wlog_open(&log);
	rc = run(&opt);
	wlog_close();
	return rc;
}
