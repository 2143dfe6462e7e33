/*
 * moatctl_audit.h - "moatctl audit verify" and "moatctl audit show".
 */
#ifndef MOAT_MOATCTL_AUDIT_H
#define MOAT_MOATCTL_AUDIT_H

/*
 * Runs "audit verify" or "audit show" with argv[0] the verb and the
 * options and files after it. Returns the process exit status: 0 intact /
 * shown, 1 a fault or an unreadable record, 2 a usage error.
 */
int moatctl_audit_main(int argc, char **argv);

#endif
