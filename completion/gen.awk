# SPDX-License-Identifier: Apache-2.0
# Reads `actool __options` (tab-separated: "option" and "command" lines) and
# writes the shell functions that tell completion what each command takes:
#   _actool_commands PARENT      the commands ("") or PARENT's subcommands
#   _actool_options COMMAND      its options: --NAME (flag) or --NAME= (value);
#                                COMMAND "" for the global options
#   _actool_option_arg COMMAND NAME
#                                what the option's value is: "choices WORD...",
#                                "list WORD..." (comma list), "file", "dir",
#                                "image" or "any"
#   _actool_arguments COMMAND    what its arguments are: any of "image", "pod",
#                                "command", "file", "words WORD..."
# Both bash and zsh (emulating ksh) run them.
BEGIN { FS = "\t" }

function q(s) { gsub(/'/, "'\\''", s); return "'" s "'" }

# The option's value: a|b|c in the metavar, else "...: a, b or c" at the
# end of its help; a comma list when the metavar says LIST.
function value_kind(metavar, help,    words, n, i, list, w) {
  if (metavar ~ /^[a-z0-9-]+(\|[a-z0-9-]+)+$/) {
    gsub(/\|/, " ", metavar)
    return "choices " metavar
  }
  list = metavar == "LIST"
  if (match(help, /: [a-z0-9-]+((, | or )[a-z0-9-]+)+( \(|$)/)) {
    w = substr(help, RSTART + 2, RLENGTH - 2)
    sub(/ \($/, "", w)
    gsub(/, | or /, " ", w)
    return (list ? "list " : "choices ") w
  }
  if (metavar == "DIR") return "dir"
  if (metavar == "IMAGE") return "image"
  if (metavar ~ /FILE$/) return "file"
  return "any"
}

function add_kind(kinds, k) {
  return (" " kinds " ") ~ (" " k " ") ? kinds : kinds " " k
}

function add_arg(cmd, name, kind) {
  optarg[cmd "|" name] = kind
  argorder[++nargs] = cmd "|" name
}

$1 == "option" {
  cmd = $2; name = $3; kind = $4
  # An optional value is given only after '=' (--private-users[=UID:COUNT]):
  # offered as the bare option, and never takes the next word.
  word = (length(name) == 1 ? "-" : "--") name (kind == "bool" || kind == "optional" ? "" : "=")
  opts[cmd] = opts[cmd] (opts[cmd] == "" ? "" : " ") word
  if (kind != "bool" && kind != "optional")
    add_arg(cmd, name, value_kind($5, $7))
  known[cmd "|" name] = 1
  next
}

$1 == "command" {
  cmd = $2
  order[++ncmd] = cmd
  usage[cmd] = $5
  if (index(cmd, " ") > 0) {
    parent = substr(cmd, 1, index(cmd, " ") - 1)
    sub_word = substr(cmd, index(cmd, " ") + 1)
  } else {
    parent = ""
    sub_word = cmd
  }
  children[parent] = children[parent] (children[parent] == "" ? "" : " ") sub_word
  has_sub[cmd] = $3 ~ /subcommands/
  next
}

# FN COMMAND: prints what the array has for COMMAND ("" first, then the
# commands in the table's order).
function print_by_command(fn, arr,    i) {
  print fn "() {"
  print "  case $1 in"
  printf "  '') echo %s ;;\n", q(arr[""])
  for (i = 1; i <= ncmd; i++)
    if (order[i] in arr)
      printf "  %s) echo %s ;;\n", q(order[i]), q(arr[order[i]])
  print "  esac"
  print "}"
}

END {
  print_by_command("_actool_commands", children)

  # Options shown in the usage but parsed by the command itself (run's
  # per-image options) are offered too.
  for (i = 1; i <= ncmd; i++) {
    cmd = order[i]
    u = usage[cmd]
    while (match(u, /--[a-z][a-z-]*(=[A-Z]*)?/)) {
      w = substr(u, RSTART, RLENGTH)
      u = substr(u, RSTART + RLENGTH)
      name = w
      metavar = w
      sub(/^--/, "", name)
      sub(/=.*/, "", name)
      sub(/^[^=]*=?/, "", metavar)
      if ((cmd "|" name) in known || ("|" name) in known)
        continue
      known[cmd "|" name] = 1
      opts[cmd] = opts[cmd] (opts[cmd] == "" ? "" : " ") "--" name (w ~ /=/ ? "=" : "")
      if (w ~ /=/)
        add_arg(cmd, name, value_kind(metavar, ""))
    }
  }
  print_by_command("_actool_options", opts)

  print "_actool_option_arg() {"
  print "  case \"$1|$2\" in"
  for (i = 1; i <= nargs; i++)
    if (optarg[argorder[i]] != "any")
      printf "  %s) echo %s ;;\n", q(argorder[i]), q(optarg[argorder[i]])
  print "  *) echo any ;;"
  print "  esac"
  print "}"

  # Arguments, from the usage's placeholders.
  print "_actool_arguments() {"
  print "  case $1 in"
  for (i = 1; i <= ncmd; i++) {
    cmd = order[i]
    if (has_sub[cmd] || usage[cmd] == "-")
      continue
    nl = split(usage[cmd], lines, /\\n/)
    kinds = ""
    words = ""
    for (l = 1; l <= nl; l++) {
      n = split(lines[l], tok, / +/)
      first = 1
      for (j = 1; j <= n; j++) {
        t = tok[j]
        # "actool CMD ..." (a form of its own): the command's words are no action
        if (t == "actool") {
          j += split(cmd, cmd_words, " ")
          continue
        }
        if (t ~ /^\[?-/ || t == "|")
          continue
        # A literal word first on its line: an action ("add", "rm").
        if (first && t ~ /^[a-z]+$/ && t != cmd)
          words = words " " t
        first = 0
        if (t ~ /^\[?IMAGE(\.\.\.)?\]?$/ || t ~ /^NAME\[,LABEL/)
          kinds = add_kind(kinds, "image")
        else if (t ~ /^\[?UUID/)
          kinds = add_kind(kinds, "pod")
        else if (t ~ /^\[?COMMAND/)
          kinds = add_kind(kinds, "command")
        else if (t ~ /(FILE|\.aci|DIR|DEST|LAYOUT|CONTEXT|PATH|SRC|KEYFILE|ACI)/)
          kinds = add_kind(kinds, "file")
      }
    }
    if (words != "")
      kinds = "words" words
    sub(/^ /, "", kinds)
    if (kinds != "")
      printf "  %s) echo %s ;;\n", q(cmd), q(kinds)
  }
  print "  esac"
  print "}"
}
