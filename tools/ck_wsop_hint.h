/*
 * What the ck tools add when the module they load is pkcs11wsop: the
 * module reads its configuration and writes its reasons to its own log,
 * where a user running a tool would not look. So the tool reads the same
 * configuration file, prints its warnings on stderr, and after a failed
 * call names the log and the configuration that hold the cause.
 *
 * Contract: ck_wsop_hint_prepare() is called before C_Initialize with the
 * module path; for any other module it does nothing. ck_wsop_hint_print()
 * prints "<prog>: the module's log FILE says why (configuration PATH)"
 * once per process, after the first failure, and nothing for other modules.
 */
#ifndef PKCS11WSOP_TOOLS_CK_WSOP_HINT_H
#define PKCS11WSOP_TOOLS_CK_WSOP_HINT_H

void ck_wsop_hint_prepare(const char *prog, const char *module_path);
void ck_wsop_hint_print(const char *prog);

#endif
