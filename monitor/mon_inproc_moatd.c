/*
 * mon_inproc_moatd.c - moatd-inprocess only: moatd.c itself, compiled with
 * its main() renamed moatd_main(), which monitor/mon_inproc.c's main()
 * calls once it was given --insecure-inprocess. Runs as root, like moatd.
 */
#include "mon_inproc.h"

#define main moatd_main
#include "moatd.c"
