# SPDX-License-Identifier: Apache-2.0
# What to offer for one word of an actool command line, from the tables
# above: shared by the bash and zsh completions (zsh runs it emulating ksh).
#
# _actool_context CWORD WORD...: WORD... is the line split at blanks (WORD 0
# being actool), CWORD the index of the word under the cursor.  Sets
#   _actool_kind   words, files, dirs or none
#   _actool_cands  the words to offer (kind words)
#   _actool_cur    the part of the current word that they complete
#   _actool_pfx    what precedes it in the word ("--net=", "--insecure-options=tls,")

# _actool_has WORD LIST: WORD is one of the blank-separated LIST.
_actool_has() {
  case " $2 " in *" $1 "*) return 0 ;; esac
  return 1
}

# The option NAME (no dashes, no value) of COMMAND or of the globals, as
# offered: "--NAME", "--NAME=" or nothing.
_actool_option() {
  local w
  for w in $(_actool_options "$1") $(_actool_options ""); do
    case $w in
    --"$2" | -"$2" | --"$2"= | -"$2"=) echo "$w"; return ;;
    esac
  done
}

# Images of the store: full IDs and names.
_actool_images() {
  local -a d=()
  [ -n "$_actool_dir" ] && d=("--dir=$_actool_dir")
  "${_actool_prog:-actool}" "${d[@]}" image list -q 2>/dev/null
  "${_actool_prog:-actool}" "${d[@]}" image list --json 2>/dev/null |
    sed -n 's/^ *"name": *"\([^"]*\)".*/\1/p' | sort -u
}

_actool_pods() {
  local -a d=()
  [ -n "$_actool_dir" ] && d=("--dir=$_actool_dir")
  "${_actool_prog:-actool}" "${d[@]}" list --json 2>/dev/null |
    sed -n 's/^ *"uuid": *"\([^"]*\)".*/\1/p'
}

# _actool_value COMMAND OPTION VALUE: the value of an option.
_actool_value() {
  local arg
  arg=$(_actool_option_arg "$1" "$2")
  [ "$arg" = any ] && arg=$(_actool_option_arg "" "$2")
  _actool_cur=$3
  case $arg in
  choices\ *) _actool_kind=words _actool_cands=${arg#choices } ;;
  list\ *)
    _actool_kind=words _actool_cands=${arg#list }
    case $3 in *,*) _actool_pfx=$_actool_pfx${3%,*}, _actool_cur=${3##*,} ;; esac
    ;;
  file) _actool_kind=files ;;
  dir) _actool_kind=dirs ;;
  image) _actool_kind=words _actool_cands=$(_actool_images) ;;
  *) _actool_kind=none ;;
  esac
}

_actool_context() {
  local cword=$1
  shift
  local -a w=("$@")
  local cur=${w[cword]} cmd="" i=1 word opt npos=0 dashdash=0 kinds kind

  _actool_kind=none _actool_cands="" _actool_cur=$cur _actool_pfx="" _actool_dir=""
  while [ "$i" -lt "$cword" ]; do
    word=${w[i]}
    if [ "$dashdash" = 1 ]; then
      npos=$((npos + 1))
    elif [ "$word" = -- ] || [ "$word" = --- ]; then
      # "---" starts another image of run; "--" its arguments.
      if [ "$word" = --- ]; then npos=0; else dashdash=1; fi
    elif [ "${word#-}" != "$word" ]; then
      opt=${word#-}
      opt=${opt#-}
      case $opt in
      dir=*) _actool_dir=${opt#dir=} ;;
      *=*) ;;
      *)
        if [ "$(_actool_option "$cmd" "$opt")" = "--$opt=" ]; then
          i=$((i + 1))
          [ "$opt" = dir ] && _actool_dir=${w[i]}
        fi
        ;;
      esac
    elif [ -z "$cmd" ] && _actool_has "$word" "$(_actool_commands "")"; then
      cmd=$word
    elif [ -n "$cmd" ] && [ "$npos" = 0 ] && _actool_has "$word" "$(_actool_commands "$cmd")"; then
      cmd="$cmd $word"
    else
      npos=$((npos + 1))
    fi
    i=$((i + 1))
  done

  if [ "$dashdash" = 1 ]; then
    _actool_kind=files
    return
  fi
  # The value of an option, given as its next word.
  if [ "$cword" -gt 1 ]; then
    word=${w[cword - 1]}
    case $word in
    --*=* | -*=*) ;;
    -*)
      opt=${word#-}
      opt=${opt#-}
      if [ "$(_actool_option "$cmd" "$opt")" = "--$opt=" ]; then
        _actool_value "$cmd" "$opt" "$cur"
        return
      fi
      ;;
    esac
  fi
  case $cur in
  -*=*)
    opt=${cur%%=*}
    _actool_pfx=$opt=
    opt=${opt#-}
    opt=${opt#-}
    _actool_value "$cmd" "$opt" "${cur#*=}"
    return
    ;;
  -*)
    _actool_kind=words
    _actool_cands="$(_actool_options "$cmd") $(_actool_options "")"
    return
    ;;
  esac
  if [ -z "$cmd" ]; then
    _actool_kind=words _actool_cands=$(_actool_commands "")
    return
  fi
  kinds=$(_actool_commands "$cmd")
  if [ -n "$kinds" ]; then
    if [ "$npos" = 0 ]; then _actool_kind=words _actool_cands=$kinds; fi
    return
  fi
  kinds=$(_actool_arguments "$cmd")
  case $kinds in
  words\ *)
    if [ "$npos" = 0 ]; then _actool_kind=words _actool_cands=${kinds#words }; fi
    return
    ;;
  esac
  for kind in $kinds; do
    case $kind in
    command) _actool_kind=words _actool_cands="$_actool_cands $(_actool_commands "")" ;;
    image) _actool_kind=words _actool_cands="$_actool_cands $(_actool_images)" ;;
    pod) _actool_kind=words _actool_cands="$_actool_cands $(_actool_pods)" ;;
    esac
  done
  # Files too where the usage names some, or the word looks like a path.
  case " $kinds :$cur" in
  *" file"* | *:/* | *:.* | *:~*)
    if [ "$_actool_kind" = words ]; then _actool_kind=words+files; else _actool_kind=files; fi
    ;;
  esac
}
