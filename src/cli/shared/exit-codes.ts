// The CLI's exit codes, in one place: commands set process.exitCode from here.

export const EXIT_OK = 0
/** A runtime error: missing files, bad data, a failed download or run. */
export const EXIT_RUNTIME = 1
/** A usage error: an unknown option or command, a bad value. */
export const EXIT_USAGE = 2
/** A process stopped by SIGINT (128 + 2), as shells report it. */
export const EXIT_INTERRUPTED = 130
