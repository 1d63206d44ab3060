/*
 * lib/chan_mux.h with a scripted helper on the other end of a socketpair
 * (a thread): answers reach the caller that sent the request even when
 * they come back in another order, time-outs, a dead channel, late
 * CONNECTED answered with CLOSE. No confinement involved, so this runs
 * under the sanitizers too.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/chan_mux.h"
#include "ipc/mono_clock.h"

struct fixture {
	int sv[2]; /* [0] the library's end, [1] the fake helper's */
	struct chan_mux *mux;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	if (fx == NULL || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fx->sv) != 0)
		return -1;
	if (chan_mux_new(fx->sv[0], &fx->mux) != 0)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	chan_mux_free(fx->mux);
	close(fx->sv[0]);
	if (fx->sv[1] >= 0)
		close(fx->sv[1]);
	free(fx);
	return 0;
}

static int helper_read(int fd, uint8_t *buf, struct chan_frame *f, int *fd_out)
{
	return chan_recv(fd, buf, CHAN_MAX_FRAME, CHAN_TO_HELPER, f, fd_out, 5000);
}

static void helper_answer(int fd, uint16_t type, uint32_t id, uint32_t conn, const void *p,
                          uint32_t len)
{
	struct chan_frame f = { .type = type, .id = id, .conn = conn, .payload = p, .len = len };
	assert_int_equal(chan_send(fd, &f, -1, 5000), 0);
}

/* N threads each PING; the fake helper collects all N requests, then
 * answers in reverse order. */
enum { N = 8 };

struct pinger {
	struct chan_mux *mux;
	int64_t timeout_ms; /* 0: 10 s */
	int rc;
	uint16_t type;
	atomic_bool done;
};

static void *ping_thread(void *arg)
{
	struct pinger *p = arg;
	uint8_t *buf = malloc(CHAN_MAX_FRAME);
	struct chan_frame req = { .type = CHAN_T_PING }, ans;
	int64_t timeout_ms = p->timeout_ms != 0 ? p->timeout_ms : 10000;
	p->rc = buf ? chan_mux_call(p->mux, &req, -1, mono_ms() + timeout_ms, buf, &ans) : -1;
	if (p->rc == 0)
		p->type = ans.type;
	free(buf);
	atomic_store(&p->done, true);
	return NULL;
}

static void answers_in_any_order_reach_their_callers(void **state)
{
	struct fixture *fx = *state;
	pthread_t th[N];
	struct pinger p[N];
	for (int i = 0; i < N; i++) {
		p[i] = (struct pinger){ .mux = fx->mux, .rc = -1 };
		assert_int_equal(pthread_create(&th[i], NULL, ping_thread, &p[i]), 0);
	}
	uint8_t *buf = malloc(CHAN_MAX_FRAME);
	uint32_t ids[N];
	for (int i = 0; i < N; i++) {
		struct chan_frame f;
		int fd;
		assert_int_equal(helper_read(fx->sv[1], buf, &f, &fd), 0);
		assert_int_equal(f.type, CHAN_T_PING);
		assert_int_not_equal(f.id, 0);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(ids[j], f.id);
		ids[i] = f.id;
	}
	for (int i = N - 1; i >= 0; i--)
		helper_answer(fx->sv[1], CHAN_T_PONG, ids[i], 0, NULL, 0);
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(p[i].rc, 0);
		assert_int_equal(p[i].type, CHAN_T_PONG);
	}
	free(buf);
}

static void no_answer_times_out_and_a_late_connected_is_closed(void **state)
{
	struct fixture *fx = *state;
	uint8_t *buf = malloc(CHAN_MAX_FRAME);
	uint8_t *hbuf = malloc(CHAN_MAX_FRAME);
	int sp[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	struct chan_frame req = { .type = CHAN_T_CONNECT,
		                  .payload = (const uint8_t *)"localhost",
		                  .len = 9 },
	                  ans, f;
	assert_int_equal(chan_mux_call(fx->mux, &req, sp[0], mono_ms() + 100, buf, &ans),
	                 -ETIMEDOUT);
	int got_fd = -1;
	assert_int_equal(helper_read(fx->sv[1], hbuf, &f, &got_fd), 0);
	assert_int_equal(f.type, CHAN_T_CONNECT);
	assert_true(got_fd >= 0);
	close(got_fd);
	/* The late answer arrives while someone else waits for a PONG. */
	uint32_t late = f.id;
	helper_answer(fx->sv[1], CHAN_T_CONNECTED, late, 42, "TLSv1.3", 7);
	struct pinger p = { .mux = fx->mux, .rc = -1 };
	atomic_init(&p.done, false);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, ping_thread, &p), 0);
	/* PINGs (the pinger's, and maybe the mux's own liveness probe) are
	 * answered until the CLOSE came and the pinger has its PONG. */
	bool saw_close = false;
	while (!saw_close || !atomic_load(&p.done)) {
		int rc =
		    chan_recv(fx->sv[1], hbuf, CHAN_MAX_FRAME, CHAN_TO_HELPER, &f, &got_fd, 100);
		if (rc == -ETIMEDOUT)
			continue;
		assert_int_equal(rc, 0);
		if (f.type == CHAN_T_CLOSE) {
			assert_int_equal(f.conn, 42);
			saw_close = true;
			helper_answer(fx->sv[1], CHAN_T_CLOSED, f.id, 42, NULL, 0);
		} else {
			assert_int_equal(f.type, CHAN_T_PING);
			helper_answer(fx->sv[1], CHAN_T_PONG, f.id, 0, NULL, 0);
		}
	}
	pthread_join(th, NULL);
	assert_int_equal(p.rc, 0);
	close(sp[0]);
	close(sp[1]);
	free(buf);
	free(hbuf);
}

/* A pinger thread started on p, its PING read on the helper side into
 * buf and left unanswered. Returns the thread. */
static pthread_t ping_in_flight(struct fixture *fx, struct pinger *p, uint8_t *buf)
{
	pthread_t th;
	struct chan_frame f;
	int fd;

	assert_non_null(buf);
	assert_int_equal(pthread_create(&th, NULL, ping_thread, p), 0);
	assert_int_equal(helper_read(fx->sv[1], buf, &f, &fd), 0);
	assert_int_equal(f.type, CHAN_T_PING);
	return th;
}

static void closed_channel_aborts_waiters_and_refuses_new_calls(void **state)
{
	struct fixture *fx = *state;
	uint8_t *buf = malloc(CHAN_MAX_FRAME);
	struct pinger p = { .mux = fx->mux, .rc = -1 };
	pthread_t th = ping_in_flight(fx, &p, buf);
	close(fx->sv[1]);
	fx->sv[1] = -1;
	pthread_join(th, NULL);
	assert_int_equal(p.rc, -ECONNABORTED);
	assert_true(chan_mux_dead(fx->mux));
	struct chan_frame req = { .type = CHAN_T_PING }, ans;
	assert_int_equal(chan_mux_call(fx->mux, &req, -1, mono_ms() + 1000, buf, &ans), -EPIPE);
	free(buf);
}

static void channel_error_kills_the_mux_with_its_text(void **state)
{
	struct fixture *fx = *state;
	uint8_t *buf = malloc(CHAN_MAX_FRAME);
	struct pinger p = { .mux = fx->mux, .rc = -1 };
	pthread_t th = ping_in_flight(fx, &p, buf);
	uint8_t payload[64];
	uint32_t len;
	assert_int_equal(
	    chan_error_encode(CHAN_E_INTERNAL, "out of memory", payload, sizeof(payload), &len), 0);
	helper_answer(fx->sv[1], CHAN_T_ERROR, 0, 0, payload, len);
	pthread_join(th, NULL);
	assert_int_equal(p.rc, -ECONNABORTED);
	char text[64];
	chan_mux_death_text(fx->mux, text, sizeof(text));
	assert_string_equal(text, "out of memory");
	free(buf);
}

/* A waiter on a helper that reads nothing ends at its deadline and finds
 * the helper hung (its PING went unanswered); another waiter with a later
 * deadline is woken at once with -ECONNABORTED. */
struct caller {
	struct chan_mux *mux;
	int64_t deadline_ms;
	int64_t ended_ms;
	int rc;
	uint32_t len; /* payload of a SEND; 0 sends a PING */
};

static void *call_thread(void *arg)
{
	struct caller *c = arg;
	uint8_t *buf = malloc(CHAN_MAX_FRAME);
	uint8_t *payload = calloc(1, c->len + 1);
	struct chan_frame req = { .type = c->len ? CHAN_T_SEND : CHAN_T_PING,
		                  .conn = c->len ? 7 : 0,
		                  .payload = c->len ? payload : NULL,
		                  .len = c->len },
	                  ans;
	c->rc = buf && payload ? chan_mux_call(c->mux, &req, -1, c->deadline_ms, buf, &ans) : -1;
	c->ended_ms = mono_ms();
	free(payload);
	free(buf);
	return NULL;
}

static void silent_helper_is_found_hung_within_the_deadline(void **state)
{
	struct fixture *fx = *state;
	int64_t t0 = mono_ms();
	struct caller first = { .mux = fx->mux, .deadline_ms = t0 + 1500 };
	struct caller later = { .mux = fx->mux, .deadline_ms = t0 + 8000 };
	pthread_t a, b;
	assert_int_equal(pthread_create(&a, NULL, call_thread, &first), 0);
	assert_int_equal(pthread_create(&b, NULL, call_thread, &later), 0);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	assert_int_equal(first.rc, -ETIMEDOUT);
	assert_true(first.ended_ms - first.deadline_ms < 300);
	assert_true(chan_mux_hung(fx->mux));
	assert_int_equal(later.rc, -ECONNABORTED);
	assert_true(later.ended_ms - first.deadline_ms < 300);
}

/* Answers every PING with a PONG, nothing else, until the channel ends. */
static void *pong_only_helper(void *arg)
{
	int fd = *(int *)arg;
	uint8_t *buf = malloc(CHAN_MAX_FRAME);
	struct chan_frame f;
	int got_fd;
	while (buf && chan_recv(fd, buf, CHAN_MAX_FRAME, CHAN_TO_HELPER, &f, &got_fd, 5000) == 0)
		if (f.type == CHAN_T_PING) {
			struct chan_frame pong = { .type = CHAN_T_PONG, .id = f.id };
			(void)chan_send(fd, &pong, -1, 1000);
		}
	free(buf);
	return NULL;
}

static void live_helper_without_an_answer_is_not_hung(void **state)
{
	struct fixture *fx = *state;
	pthread_t h;
	assert_int_equal(pthread_create(&h, NULL, pong_only_helper, &fx->sv[1]), 0);
	struct caller c = { .mux = fx->mux, .deadline_ms = mono_ms() + 1500, .len = 16 };
	call_thread(&c);
	assert_int_equal(c.rc, -ETIMEDOUT);
	assert_true(c.ended_ms - c.deadline_ms < 300);
	assert_false(chan_mux_hung(fx->mux));
	assert_false(chan_mux_dead(fx->mux));
	shutdown(fx->sv[1], SHUT_RDWR);
	pthread_join(h, NULL);
}

/* Nobody reads the channel: big SENDs fill it, and the threads that come
 * later queue for the send role. Each ends by its own deadline. */
static void full_channel_holds_no_sender_past_its_deadline(void **state)
{
	struct fixture *fx = *state;
	enum { SENDERS = 8 };
	struct caller c[SENDERS];
	pthread_t th[SENDERS];
	for (int i = 0; i < SENDERS; i++) {
		c[i] = (struct caller){ .mux = fx->mux,
			                .deadline_ms = mono_ms() + 700,
			                .len = CHAN_MAX_PAYLOAD };
		assert_int_equal(pthread_create(&th[i], NULL, call_thread, &c[i]), 0);
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	for (int i = 0; i < SENDERS; i++) {
		pthread_join(th[i], NULL);
		/* -EPIPE: found dead (hung) before its frame went out. */
		assert_true(c[i].rc == -ETIMEDOUT || c[i].rc == -ECONNABORTED || c[i].rc == -EPIPE);
		assert_true(c[i].ended_ms - c[i].deadline_ms < 300);
	}
}

/* One answer at a time, each only after the previous caller has returned:
 * whenever the thread holding the receive role gets its answer and leaves,
 * a sleeping waiter must take the role over. The deadlines are an hour
 * away, so a role left to nobody hangs the test (the harness's timeout
 * fails it) instead of being rescued by a deadline. */
static void receive_role_passes_on_when_its_holder_is_answered(void **state)
{
	struct fixture *fx = *state;
	pthread_t th[N];
	struct pinger p[N];
	uint8_t *buf = malloc(CHAN_MAX_FRAME);
	uint32_t ids[N];

	assert_non_null(buf);
	for (int i = 0; i < N; i++) {
		p[i] = (struct pinger){ .mux = fx->mux, .timeout_ms = 3600 * 1000, .rc = -1 };
		assert_int_equal(pthread_create(&th[i], NULL, ping_thread, &p[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		struct chan_frame f;
		int fd;
		assert_int_equal(helper_read(fx->sv[1], buf, &f, &fd), 0);
		ids[i] = f.id;
	}
	/* Ids are handed out in send order; the first sender is the likeliest
	 * leader, so answer it first, then the others, one by one. */
	for (int i = 0; i < N; i++) {
		helper_answer(fx->sv[1], CHAN_T_PONG, ids[i], 0, NULL, 0);
		for (;;) {
			int returned = 0;
			for (int j = 0; j < N; j++)
				returned += atomic_load(&p[j].done) ? 1 : 0;
			if (returned == i + 1)
				break;
			struct timespec ts = { 0, 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(p[i].rc, 0);
		assert_int_equal(p[i].type, CHAN_T_PONG);
	}
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(answers_in_any_order_reach_their_callers),
		T(receive_role_passes_on_when_its_holder_is_answered),
		T(no_answer_times_out_and_a_late_connected_is_closed),
		T(closed_channel_aborts_waiters_and_refuses_new_calls),
		T(channel_error_kills_the_mux_with_its_text),
		T(silent_helper_is_found_hung_within_the_deadline),
		T(live_helper_without_an_answer_is_not_hung),
		T(full_channel_holds_no_sender_past_its_deadline),
	};
	return cmocka_run_group_tests_name("chan_mux", tests, NULL, NULL);
}
