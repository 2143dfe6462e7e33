/*
 * listener.h - moatd's long-lived listener: accepts viewers and forks one
 * monitor per connection, accepts moat-session registrations, and routes
 * a monitor's request for a desktop channel to the session of the user it
 * authenticated. Runs as root; never reads RFB bytes.
 */
#ifndef MOAT_LISTENER_H
#define MOAT_LISTENER_H

#include "monitor.h"

/* Binds the viewer socket and the session registration socket. Returns 0 or negative, err filled. */
int listener_open(const struct moat_config *cfg, int *tcp_fd, int *sess_fd,
    char *err, size_t errlen);

/* Serves until SIGTERM/SIGINT. Returns the process exit status. */
int listener_run(const struct mon_ctx *ctx, int tcp_fd, int sess_fd);

#endif
