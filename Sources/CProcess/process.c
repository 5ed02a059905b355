#define _GNU_SOURCE
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <string.h>
#include "CProcess.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/// Reports the failed step to the parent through the close-on-exec pipe and exits. Only
/// async-signal-safe calls from here on.
static void child_fail(int report_fd, int step) {
    int message[2] = {step, errno};
    ssize_t ignored = write(report_fd, message, sizeof(message));
    (void)ignored;
    _exit(127);
}

/// Marks every descriptor from 3 up close-on-exec (the report pipe already is), so nothing the
/// supervisor holds (listening sockets, other children's pipes) leaks into a child.
static void cloexec_from_3(void) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
#endif
    long limit = sysconf(_SC_OPEN_MAX);
    if (limit < 0 || limit > 65536) limit = 65536;
    for (int fd = 3; fd < limit; fd++) {
        int flags = fcntl(fd, F_GETFD);
        if (flags >= 0) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
}

static void run_child(const gw_spawn_options *options, int report_fd) {
    // Default dispositions: an ignored signal (the supervisor ignores SIGTERM, SIGINT and
    // SIGPIPE) would otherwise survive exec.
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    for (int number = 1; number < NSIG; number++) {
        if (number == SIGKILL || number == SIGSTOP) continue;
        sigaction(number, &action, NULL);
    }
    // glibc's sigaction refuses the two signals it reserves for itself (32 and 33), which the
    // parent may still have ignored; the raw system call resets them too. All-zero is SIG_DFL,
    // no flags, empty mask in every architecture's kernel layout.
    for (int number = 32; number <= 33; number++) {
        unsigned long kernel_action[4] = {0, 0, 0, 0};
        syscall(SYS_rt_sigaction, number, kernel_action, NULL, (size_t)8);
    }

    // Own session: a terminal's Ctrl-C reaches only the supervisor, which stops children in order.
    if (setsid() < 0) child_fail(report_fd, GW_SPAWN_STEP_SETSID);

    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0) child_fail(report_fd, GW_SPAWN_STEP_STDIO);
    if (dup2(null_fd, 0) < 0) child_fail(report_fd, GW_SPAWN_STEP_STDIO);
    if (dup2(options->stdout_fd, 1) < 0) child_fail(report_fd, GW_SPAWN_STEP_STDIO);
    if (dup2(options->stderr_fd, 2) < 0) child_fail(report_fd, GW_SPAWN_STEP_STDIO);
    cloexec_from_3();

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) child_fail(report_fd, GW_SPAWN_STEP_NO_NEW_PRIVS);

    if (options->change_identity) {
        // Empty the bounding set while still privileged (needs CAP_SETPCAP); EINVAL marks the
        // end of the capabilities this kernel knows.
        unsigned long long keep = options->ambient_capabilities;
        for (int capability = 0; capability < 64; capability++) {
            if (keep & (1ULL << capability)) continue;
            if (prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0 && errno != EINVAL) {
                child_fail(report_fd, GW_SPAWN_STEP_CAPABILITIES);
            }
        }
        if (keep && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) child_fail(report_fd, GW_SPAWN_STEP_CAPABILITIES);
        if (setgroups(0, NULL) != 0) child_fail(report_fd, GW_SPAWN_STEP_GROUPS);
        if (setresgid(options->gid, options->gid, options->gid) != 0) child_fail(report_fd, GW_SPAWN_STEP_GID);
        // Leaving uid 0 clears the effective set, and without keepcaps the permitted and
        // ambient sets too.
        if (setresuid(options->uid, options->uid, options->uid) != 0) child_fail(report_fd, GW_SPAWN_STEP_UID);
        // Paranoia: the way back must be closed.
        if (options->uid != 0 && setuid(0) == 0) {
            errno = EPERM;
            child_fail(report_fd, GW_SPAWN_STEP_UID);
        }
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        if (keep) {
            // Exactly `keep` in permitted, effective and inheritable (a capability must be in
            // both of the latter two to be raised as ambient), then ambient, which exec keeps.
            struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
            struct __user_cap_data_struct data[2];
            memset(data, 0, sizeof(data));
            for (int word = 0; word < 2; word++) {
                unsigned int bits = (unsigned int)(keep >> (32 * word));
                data[word].effective = bits;
                data[word].permitted = bits;
                data[word].inheritable = bits;
            }
            if (syscall(SYS_capset, &header, data) != 0) child_fail(report_fd, GW_SPAWN_STEP_AMBIENT);
            for (int capability = 0; capability < 64; capability++) {
                if (!(keep & (1ULL << capability))) continue;
                if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, capability, 0, 0) != 0) {
                    child_fail(report_fd, GW_SPAWN_STEP_AMBIENT);
                }
            }
            prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
        }
    } else {
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    }
    if (options->set_umask) umask(options->umask_value);

    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, NULL);
    execve(options->path, options->argv, options->envp);
    child_fail(report_fd, GW_SPAWN_STEP_EXEC);
}

pid_t gw_spawn(const gw_spawn_options *options, int *failed_step, int *error_number) {
    *failed_step = GW_SPAWN_STEP_NONE;
    *error_number = 0;
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        *failed_step = GW_SPAWN_STEP_PIPE;
        *error_number = errno;
        return -1;
    }
    // Block every signal around fork so no handler of the parent runs in the child before the
    // child has reset the dispositions; the child sets its own (empty) mask before exec.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pid_t pid = fork();
    if (pid == 0) {
        close(report[0]);
        run_child(options, report[1]);
    }
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    close(report[1]);
    if (pid < 0) {
        close(report[0]);
        *failed_step = GW_SPAWN_STEP_FORK;
        *error_number = fork_errno;
        return -1;
    }
    // EOF means exec succeeded (the pipe closed on exec); a message means a step failed.
    int message[2] = {0, 0};
    ssize_t received;
    do {
        received = read(report[0], message, sizeof(message));
    } while (received < 0 && errno == EINTR);
    close(report[0]);
    if (received == 0) return pid;
    *failed_step = received == (ssize_t)sizeof(message) ? message[0] : GW_SPAWN_STEP_PIPE;
    *error_number = received == (ssize_t)sizeof(message) ? message[1] : EIO;
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return -1;
}

int gw_wait(pid_t pid, int *exit_code, int *signal_number) {
    int status = 0;
    for (;;) {
        pid_t result = waitpid(pid, &status, 0);
        if (result == pid) break;
        if (result < 0 && errno == EINTR) continue;
        return -1;
    }
    *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    *signal_number = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    return 0;
}

int gw_set_not_dumpable(void) {
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int gw_pipe(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int gw_loopback_up(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct ifreq request;
    memset(&request, 0, sizeof(request));
    strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
    if (ioctl(fd, SIOCGIFFLAGS, &request) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    if (request.ifr_flags & IFF_UP) {
        close(fd);
        return 0;
    }
    request.ifr_flags |= IFF_UP | IFF_RUNNING;
    int result = ioctl(fd, SIOCSIFFLAGS, &request);
    int saved = errno;
    close(fd);
    errno = saved;
    return result < 0 ? -1 : 1;
}
