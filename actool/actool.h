/* SPDX-License-Identifier: Apache-2.0 */
/* actool CLI: shared types for the command files.
 *
 * Each command lives in its own file (cmd-NAME.c) and exports one
 * `const struct actool_command actool_cmd_NAME`.  A command declares its
 * options as a table of offsets into its own options struct; main.c parses
 * the command line against that table (plus the global options), so `help
 * COMMAND` and `COMMAND --help` print from the same table the parser uses.
 */
#ifndef ACTOOL_ACTOOL_H
#define ACTOOL_ACTOOL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "appc/error.h"

enum { ACTOOL_EXIT_OK = 0, ACTOOL_EXIT_FAILURE = 1, ACTOOL_EXIT_USAGE = 2 };

/* --insecure-options bits. */
enum {
  ACTOOL_INSECURE_IMAGE = 1 << 0,
  ACTOOL_INSECURE_TLS = 1 << 1,
  ACTOOL_INSECURE_HTTP = 1 << 2,
  ACTOOL_INSECURE_SECCOMP = 1 << 3, /* run: no seccomp filter (not in "all") */
};

struct actool_globals {
  bool debug;
  bool help;
  bool version;
  bool quiet; /* no progress lines */
  const char *dir;
  const char *insecure_options;
  unsigned insecure; /* ACTOOL_INSECURE_* parsed from insecure_options */
  const char *cacert;
  const char *port;
};

enum actool_option_kind {
  ACTOOL_OPT_BOOL,     /* --flag, --flag=true|false */
  ACTOOL_OPT_STRING,   /* --flag=VALUE or --flag VALUE; the last one wins */
  ACTOOL_OPT_LIST,     /* repeatable string: appended to a struct actool_list */
  ACTOOL_OPT_OPTIONAL, /* --flag (sets "") or --flag=VALUE; never takes the next argument */
  /* A STRING naming a file or directory (or an image, metavar IMAGE, which
   * may be a file): an empty value is a usage error, lest "--dir=$UNSET"
   * quietly work on the default (an environment variable's, the current
   * directory) instead, or be taken for one. */
  ACTOOL_OPT_PATH,
  ACTOOL_OPT_PATH_LIST, /* a LIST of such names */
};

struct actool_list {
  size_t n;
  const char **v;
};

struct actool_option {
  const char *name;
  enum actool_option_kind kind;
  size_t offset; /* of the bool, const char * or struct actool_list in the options struct */
  const char *metavar;
  const char *help;
  const char *default_value; /* for strings: shown in help and preset before parsing */
};

struct actool_command {
  const char *name;
  const char *summary;
  const char *usage;                   /* after "actool NAME " */
  const char *description;             /* may be NULL */
  const struct actool_option *options; /* terminated by a zeroed entry; may be NULL */
  size_t options_size;                 /* sizeof the command's options struct */
  /* NULL for commands that a later release provides. */
  int (*run)(const struct actool_globals *g, void *options, int argc, char **argv);
  /* For a command with subcommands ("image list"): NULL-terminated; the
   * first argument names the subcommand, whose own table parses the rest. */
  const struct actool_command *const *subcommands;
  /* The command's own options end at its first argument: what follows is
   * handed to run() as it is (run's per-image options and "--"). */
  bool options_end_at_first_argument;
  /* Every argument names something (a file, an image): an empty one is a
   * usage error, as an empty --dir= is, not a message about "". */
  bool operands_nonempty;
};

/* S on F with the control characters (C0 with tab and newline, DEL, the C1
 * controls of UTF-8) written as \xNN: text from a server, a key, an image
 * or the command line must not move the cursor, rewrite what the user reads
 * (a key's fingerprint, say) or add a line to a message.  Not for machine
 * output (--json), which has its own escaping. */
void actool_put_safe(const char *s, FILE *f);
/* Messages to the user: one line each, "actool: " prefixed on errors,
 * made safe as actool_put_safe does. */
void actool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void actool_report(appc_error_t *err); /* prints and releases */
/* A line on stderr with no prefix, made safe as actool_put_safe does: for
 * what names a server's text (a key's URL, say) to the user. */
void actool_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* --json output: pretty, spaced, slashes unescaped, on stdout, as
 * actool_put_json writes it. */
struct json_object;
void actool_print_json(struct json_object *o);
/* JSON TEXT (as json-c writes it) and a newline on stdout, every byte that
 * is no part of valid UTF-8 written as U+FFFD ("\ufffd"): json-c copies a
 * string's bytes as they are, and a key's user ID, a file name or a
 * server's text need not be UTF-8, which JSON must be (RFC 8259, 8.1). */
void actool_put_json(const char *text);
void actool_debug(const struct actool_globals *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The library's notes to the user (appc_ace_notify_fn): warnings always,
 * the rest with --debug.  DATA is the struct actool_globals. */
void actool_notify(void *data, bool warn, const char *msg);
/* Usage error for COMMAND: prints the message and a hint, returns 2. */
int actool_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Unlink a build's named temporary output if a signal ends actool: pass
 * actool_temp_notify as appc_build_options.temp_notify after installing. */
void actool_install_temp_guard(void);
void actool_temp_notify(const char *tmp_path, void *data);

enum appc_compression;
/* Usage checks shared by the commands that write ACIs (return 0 or 2). */
int actool_check_aci_name(const char *command, const char *path);
/* NAME (--compression, NULL when not given) and --no-compression, which must agree. */
int actool_output_compression(const char *command, const char *name, bool no_compression,
                              enum appc_compression *out);
/* OUT "-": the ACI goes to standard output.  The library writes files
 * (named, renamed into place), so it is written into a private temporary
 * directory and copied out: actool_stdout_output_begin makes the directory
 * and sets PATH, actool_stdout_output_end removes both and, if BUILT,
 * copies the file out first. */
struct actool_stdout_output {
  char dir[PATH_MAX];
  char path[PATH_MAX];
};
int actool_stdout_output_begin(struct actool_stdout_output *o, appc_error_t *err);
int actool_stdout_output_end(struct actool_stdout_output *o, bool built, appc_error_t *err);
/* Copy what FD reads to standard output, shown on the progress line as
 * "VERB WHAT" unless VERB is NULL (standard output may be a file or a pipe
 * while stderr is a terminal). */
int actool_copy_to_stdout(int fd, const char *what, const char *verb, appc_error_t *err);
/* 0, or a usage error (2) when standard output is a terminal. */
int actool_stdout_not_terminal(const char *command);
/* Warnings ("actool: warning: WHERE: app.workingDir: unknown key, ignored
 * (did you mean ...)") for the keys of a manifest that the schema does not
 * define; nothing for an invalid one, whose validation says what is wrong.
 * Each is also added, without "warning: ", to the JSON array WARNINGS
 * unless it is NULL.  The _yaml_ form checks the JSON document a YAML
 * image manifest stands for (the same field paths) and names the line
 * ("WHERE:LINE: ..."); the _layout_ form reads LAYOUT/manifest, or its YAML
 * form, if there is one. */
void actool_warn_unknown_keys(const char *where, const char *json, size_t len,
                              struct json_object *warnings);
void actool_warn_unknown_yaml_keys(const char *where, const char *yaml, size_t len,
                                   struct json_object *warnings);
void actool_warn_unknown_layout_keys(const char *layout, struct json_object *warnings);
/* "actool: LAYOUT: waiting for the layout command that holds its lock" when
 * a layout command (layout run, copy, an edit) holds LAYOUT's lock, so that
 * a build or validate about to wait for it says so (as apt's "Waiting for
 * cache lock" does) rather than hang without a word. */
void actool_layout_lock_notice(const char *layout);
/* Warnings of unknown keys, for an appc_unknown_key_fn (actool_unknown_key,
 * its DATA one of these): "actool: warning: WHERE: PATH: unknown key, FATE
 * (did you mean ...)", FATE "ignored" when NULL; a layout's edits say
 * "dropped by the edit" (WHERE the manifest's path), layout init --from
 * "not taken into the layout" (WHERE the image as the command line names
 * it).  Only the first 20 are shown: actool_unknown_keys_end says how many
 * more there were. */
struct actool_unknown_keys {
  const char *where;
  struct json_object *warnings; /* the lines (without "warning: ") added here too, or NULL */
  const char *fate;
  size_t seen;
};
void actool_unknown_key(void *u, const char *path, const char *suggestion);
void actool_unknown_keys_end(struct actool_unknown_keys *u);
/* PATH names a YAML file (*.yaml, *.yml). */
bool actool_is_yaml_name(const char *path);
/* Read a whole manifest file of at most APPC_MANIFEST_MAX bytes. */
int actool_read_manifest_fd(int fd, const char *path, char **out, size_t *out_len,
                            appc_error_t *err);
int actool_read_manifest_file(const char *path, char **out, size_t *out_len, appc_error_t *err);

/* Long store operations honour SIGINT, SIGTERM and SIGHUP by cancelling:
 * between actool_cancel_begin and actool_cancel_end such a signal only sets
 * a flag that actool_cancelled (an appc_cancel_fn) reports; the library
 * then cleans up and fails with ECANCELED, and actool_cancel_end re-raises
 * the signal so that actool dies of it as usual. */
void actool_cancel_begin(void);
bool actool_cancelled(void *data);
void actool_cancel_end(void);
/* What actool gives every long library operation (one structure for the
 * process): actool_cancelled, --debug lines, and a progress line on a
 * terminal, which actool_progress_clear takes away when the operation
 * ends. */
struct appc_callbacks;
const struct appc_callbacks *actool_callbacks(const struct actool_globals *g);
void actool_progress_clear(void);
/* A step of actool's own on that progress line ("VERB WHAT: DONE / TOTAL"),
 * drawn once actool_callbacks has been called, as the library's are. */
void actool_progress(const char *verb, const char *what, uint64_t done, uint64_t total);

/* Open the store named by --dir, ACTOOL_DIR or the default location. */
struct appc_store;
/* That location, without opening anything; prints errors. */
int actool_store_dir(const struct actool_globals *g, char **out);
int actool_open_store(const struct actool_globals *g, struct appc_store **out);
/* Print an error, release it and return ACTOOL_EXIT_FAILURE. */
int actool_fail(appc_error_t *err);
/* actool_fail, with HINT in parentheses after the message when the library
 * tagged the error ERRNUM (a condition an option of ours changes; the
 * library names no option). */
int actool_fail_hint(appc_error_t *err, int errnum, const char *hint);
/* The same for a command that writes an output: the library's EEXIST (the
 * output exists) is told how FLAG replaces it; FLAG NULL when it was given. */
int actool_fail_output(appc_error_t *err, const char *flag);
/* The same for what fetches over the network: an untrusted certificate,
 * plain http refused, an image without a signature, each told which option
 * allows it, and an image the store lacks, told the option that kept the
 * network out. */
int actool_fail_net(appc_error_t *err);
/* Add --set-env's KEY=VALUE ASSIGNMENTS to ENV, a later one of a name
 * winning; a bad one is COMMAND's usage error, naming --set-env (exit 2). */
struct appc_kv_list;
int actool_set_env(const char *command, struct appc_kv_list *env,
                   const struct actool_list *assignments);

/* Resolve IMAGE (ID, ID prefix or NAME[,LABEL=VALUE...]); prints errors. */
struct appc_store_image;
int actool_lookup_image(struct appc_store *s, const char *spec, struct appc_store_image *img);
/* Pods (list, status): "running" or "abandoned"; a time as RFC 3339 UTC. */
const char *actool_pod_state_name(int state);
/* "running", "exited" or, in an abandoned pod, "unknown". */
struct appc_ace_pod_info;
const char *actool_app_state_name(const struct appc_ace_pod_info *p, size_t app);
struct timespec;
void actool_pod_time(const struct timespec *t, char *buf, size_t size);
/* The same for when app A ended (it has, A->finished_ns > 0). */
struct appc_ace_app_info;
void actool_app_finished(const struct appc_ace_app_info *a, char *buf, size_t size);
/* A pod as `list --json` and `status --json` show it (a new object). */
struct json_object;
struct json_object *actool_pod_json(const struct appc_ace_pod_info *p);
/* Parse a Go duration ("24h", "1h30m", "90s"); -1 if malformed. */
int actool_parse_duration(const char *s, double *seconds);

/* image render and image extract: the same command over two functions. */
struct actool_render_options {
  bool rootfs;
  bool overwrite;
};
struct appc_store_render_options;
typedef int (*actool_render_fn)(struct appc_store *s, const char *id, const char *dest,
                                const struct appc_store_render_options *opts, appc_error_t *err);
extern const struct actool_option actool_render_option_table[];
int actool_render_command(const struct actool_globals *g, const char *command, actool_render_fn fn,
                          const struct actool_render_options *o, int argc, char **argv);

/* Find a subcommand of CMD by its last word. */
const struct actool_command *actool_find_subcommand(const struct actool_command *cmd,
                                                    const char *name);

/* Parse Go-style booleans (1, t, T, TRUE, true, True, 0, f, ...). */
int actool_parse_bool(const char *s, bool *out);

/* Every command, in the order `help` lists them. */
extern const struct actool_command *const actool_commands[];
const struct actool_command *actool_find_command(const char *name);
void actool_print_command_help(const struct actool_command *cmd, bool to_stderr);
/* On stderr for a usage error (no command), as a command's help is. */
void actool_print_global_help(bool to_stderr);
/* actool version, actool --version. */
int actool_print_version(void);
/* The command of CMDS (NULL-terminated; for subcommands their last word)
 * that WORD is most likely a typo of, or NULL. */
const char *actool_suggest_command(const struct actool_command *const *cmds, const char *word);
/* An unknown command or subcommand: the message, a suggestion if one is
 * close, and a hint; returns 2.  PARENT is NULL for a command. */
int actool_unknown_command(const struct actool_command *parent, const char *word);

#endif
