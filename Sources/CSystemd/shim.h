#ifndef C_SYSTEMD_SHIM_H
#define C_SYSTEMD_SHIM_H
// sd_notify(3) and the watchdog helpers; libsystemd-dev provides the header and library.
#include <systemd/sd-daemon.h>
#endif
