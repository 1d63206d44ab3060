/*
 * Helper sessions of a backend: start one on demand, share it by reference
 * count, retire it when it died or hangs (see backend_priv.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf/log.h"
#include "ipc/mono_clock.h"
#include "lib/backend_priv.h"

static int sess_spawn(struct backend *be, struct hsess **out)
{
	struct hsess *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	int rc = helper_proc_start(be->config_path, be->cfg.logstdout, &s->proc);
	if (rc) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* READY of s, and its channel's multiplexer; on failure s's helper is
 * reaped (s itself is the caller's to free). */
static int sess_ready(struct hsess *s, int timeout_ms)
{
	int rc = helper_proc_await_ready(&s->proc, timeout_ms);
	if (rc == 0) {
		rc = chan_mux_new(s->proc.chan, &s->mux);
		if (rc)
			helper_proc_reap(&s->proc, 1000);
	}
	return rc;
}

int backend_sess_prestart(struct backend *be)
{
	struct hsess *s;
	int rc = sess_spawn(be, &s);
	if (rc)
		return rc;
	s->refs = 1; /* the backend's */
	pthread_mutex_lock(&be->lock);
	be->cur = s;
	pthread_mutex_unlock(&be->lock);
	return 0;
}

int backend_sess_get(struct backend *be, int timeout_ms, struct hsess **out)
{
	int64_t deadline_ms = mono_ms() + timeout_ms;
	pthread_mutex_lock(&be->lock);
	/* Threads arriving while a helper starts wait for that one instead of
	 * each starting their own, but never past their own deadline. */
	while (be->spawning) {
		if (!backend_wait_changed(be, deadline_ms)) {
			pthread_mutex_unlock(&be->lock);
			return -ETIMEDOUT;
		}
	}
	struct hsess *s = be->cur;
	if (s != NULL && s->ready) {
		s->refs++;
		pthread_mutex_unlock(&be->lock);
		*out = s;
		return 0;
	}
	if (s == NULL && be->refused_until_ms != 0 && mono_ms() < be->refused_until_ms) {
		pthread_mutex_unlock(&be->lock);
		wlog(WLOG_DEBUG,
		     "not starting a helper yet: the last one refused its "
		     "configuration or credentials less than %d ms ago",
		     BACKEND_REFUSED_HOLD_MS);
		return -EKEYREJECTED;
	}
	/* A helper started ahead of need (backend_sess_prestart) is this
	 * thread's to await now: the backend's reference comes with it. */
	be->cur = NULL;
	be->spawning = true;
	pthread_mutex_unlock(&be->lock);
	int rc = s != NULL ? 0 : sess_spawn(be, &s);
	if (rc == 0) {
		rc = sess_ready(s, timeout_ms);
		if (rc) {
			free(s);
			s = NULL;
		}
	}
	pthread_mutex_lock(&be->lock);
	be->spawning = false;
	be->refused_until_ms = rc == -EKEYREJECTED ? mono_ms() + BACKEND_REFUSED_HOLD_MS : 0;
	if (rc == 0) {
		s->ready = true;
		s->refs = 2; /* the backend's and the caller's */
		be->cur = s;
		*out = s;
	}
	pthread_cond_broadcast(&be->changed);
	pthread_mutex_unlock(&be->lock);
	return rc;
}

static void sess_destroy(struct hsess *s)
{
	if (!s->ready) {
		helper_proc_stop_unused(&s->proc);
		free(s);
		return;
	}
	/* Closing the channel tells a live helper to exit; one that does not
	 * within a second is killed. */
	helper_proc_reap(&s->proc, 1000);
	chan_mux_free(s->mux);
	free(s);
}

void backend_sess_put(struct backend *be, struct hsess *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&be->lock);
	bool last = --s->refs == 0;
	pthread_mutex_unlock(&be->lock);
	if (last)
		sess_destroy(s);
}

void backend_sess_fail(struct backend *be, struct hsess *s, bool hung)
{
	hung = hung || chan_mux_hung(s->mux);
	pthread_mutex_lock(&be->lock);
	if (s->failed) {
		pthread_mutex_unlock(&be->lock);
		return;
	}
	s->failed = true;
	bool drop_cur = be->cur == s;
	if (drop_cur)
		be->cur = NULL;
	pthread_mutex_unlock(&be->lock);

	if (hung) {
		wlog(WLOG_ERROR, "helper %d does not answer: killing it", (int)s->proc.pid);
		helper_proc_kill(&s->proc);
	}
	chan_mux_kill(s->mux, hung ? "helper hung" : "");
	chan_mux_death_text(s->mux, s->proc.error, sizeof(s->proc.error));
	/* Reap now so the log says at once how it ended; the channel fd stays
	 * open until the last reference goes, since other threads may still
	 * be inside a read on it. Only this thread gets here (failed flag). */
	int chan = s->proc.chan;
	s->proc.chan = -1;
	helper_proc_reap(&s->proc, 500);
	s->proc.chan = chan;
	if (drop_cur)
		backend_sess_put(be, s);
}
