#ifndef ENCLAVE_GATEWAY_CPROCESS_H
#define ENCLAVE_GATEWAY_CPROCESS_H

#include <sys/types.h>

/// What the child does between fork and exec. Everything is prepared by the caller (argv and
/// envp as NULL-terminated C arrays), because between fork and exec a multi-threaded parent's
/// child may only make async-signal-safe calls.
typedef struct {
    const char *path;
    char *const *argv;
    char *const *envp;
    /// Become stdout and stderr; stdin is /dev/null. Every other descriptor is closed on exec.
    int stdout_fd;
    int stderr_fd;
    /// Non-zero: drop every capability from the bounding set, clear supplementary groups, then
    /// setresgid(gid) and setresuid(uid). Needs root; the kernel then clears all capabilities.
    int change_identity;
    uid_t uid;
    gid_t gid;
    /// With `change_identity`: capabilities (bit n = capability n) the child keeps as ambient
    /// capabilities, so they survive exec; everything else is dropped. Used only for
    /// CAP_NET_BIND_SERVICE (10), which binding a TCP or vsock port below 1024 needs.
    unsigned long long ambient_capabilities;
    /// Non-zero: set the umask to `umask_value`.
    int set_umask;
    mode_t umask_value;
} gw_spawn_options;

/// The step that failed in the child, reported with its errno.
enum {
    GW_SPAWN_STEP_NONE = 0,
    GW_SPAWN_STEP_FORK = 1,
    GW_SPAWN_STEP_STDIO = 2,
    GW_SPAWN_STEP_SETSID = 3,
    GW_SPAWN_STEP_NO_NEW_PRIVS = 4,
    GW_SPAWN_STEP_CAPABILITIES = 5,
    GW_SPAWN_STEP_GROUPS = 6,
    GW_SPAWN_STEP_GID = 7,
    GW_SPAWN_STEP_UID = 8,
    GW_SPAWN_STEP_EXEC = 9,
    GW_SPAWN_STEP_PIPE = 10,
    GW_SPAWN_STEP_AMBIENT = 11,
};

/// Starts a child: own session, default signal dispositions, empty signal mask, stdio as given,
/// other descriptors closed, PR_SET_NO_NEW_PRIVS, optionally a new identity and umask, then
/// execve. Returns the pid, or -1 with `*failed_step` and `*error_number` set (the child, if one
/// was forked, has been reaped).
pid_t gw_spawn(const gw_spawn_options *options, int *failed_step, int *error_number);

/// Blocks until `pid` ends; returns 0 and sets `*exit_code` (exited) or `*signal_number`
/// (killed), or -1 with errno set.
int gw_wait(pid_t pid, int *exit_code, int *signal_number);

/// pipe2 with O_CLOEXEC, so a concurrently spawned child never inherits either end.
int gw_pipe(int fds[2]);

/// PR_SET_DUMPABLE 0: no core dumps, no ptrace or /proc/<pid>/mem access even from the same
/// uid. Returns 0 or -1 with errno set.
int gw_set_not_dumpable(void);

/// Brings the loopback interface `lo` up if it is down (a Nitro Enclave boots with it down).
/// Returns 1 when it was brought up, 0 when it already was, or -1 with errno set (EPERM
/// without CAP_NET_ADMIN).
int gw_loopback_up(void);

#endif
