// What this teaches: how the runtime hands its init the descriptors it inherited:
// by number, in environment variables, as runc does with _LIBCONTAINER_INITPIPE.
// Mirrors the _LIBCONTAINER_* variable names of runc's libcontainer/init_linux.go.

/** The sync socket's descriptor number in the init. */
export const initPipeVariable = "_MINI_RUNC_INITPIPE";

/** The console socket's descriptor number in the init (process.terminal only). */
export const consoleSocketVariable = "_MINI_RUNC_CONSOLE";
