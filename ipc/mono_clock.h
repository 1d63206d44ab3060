/*
 * The monotonic clock in milliseconds: every deadline and interval of the
 * library, the helper, wsopd and the tools is measured with it (never the
 * wall clock, which may be set back).
 */
#ifndef PKCS11WSOP_IPC_MONO_CLOCK_H
#define PKCS11WSOP_IPC_MONO_CLOCK_H

#include <stdint.h>

int64_t mono_ms(void);

#endif
