/* SPDX-License-Identifier: Apache-2.0 */
/* What the exec shim (ace/exec-shim.c, a program of its own built without
 * the C library) and its caller (ace/exec.c) must agree on: kept here so
 * that they cannot part.  Only preprocessor definitions: the shim includes
 * no other header.
 *
 *   argv: ACE_EXEC_SHIM_MARKER REPORT_FD PREFIX SUFFIX PATH ARGV0 ARGV1 ...
 */
#ifndef ACE_EXEC_SHIM_H
#define ACE_EXEC_SHIM_H

/* The shim's argv[0], which it checks: started any other way (as a
 * script's interpreter, say) it refuses to run. */
#define ACE_EXEC_SHIM_MARKER "actool-exec-shim"

/* argv[1] to argv[4]; the command's own argv follows. */
#define ACE_EXEC_SHIM_FIXED_ARGS 5

#endif
