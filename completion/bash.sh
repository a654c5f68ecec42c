# SPDX-License-Identifier: Apache-2.0
# bash: the line up to the cursor split at blanks (so that "--net=h" stays
# one word whatever COMP_WORDBREAKS says), then the replies cut back to the
# part of the word that readline replaces.
_actool() {
  local line=${COMP_LINE:0:COMP_POINT} rl words=() f
  read -r -a words <<<"$line"
  [[ $line == *[[:blank:]] || ${#words[@]} -eq 0 ]] && words+=("")
  _actool_prog=${words[0]}
  _actool_context $((${#words[@]} - 1)) "${words[@]}"
  COMPREPLY=()
  case $_actool_kind in
  words | words+files)
    local IFS=$'\n'
    COMPREPLY=($(IFS=$' \t\n' compgen -W "$_actool_cands" -- "$_actool_cur"))
    ;;
  esac
  case $_actool_kind in
  files | words+files)
    local IFS=$'\n'
    COMPREPLY+=($(compgen -f -- "$_actool_cur"))
    compopt -o filenames 2>/dev/null
    ;;
  dirs)
    local IFS=$'\n'
    COMPREPLY=($(compgen -d -- "$_actool_cur"))
    compopt -o filenames 2>/dev/null
    ;;
  esac
  # Replies whole words with the value's prefix; readline replaces only what
  # follows the last break character.
  local word=${words[${#words[@]} - 1]}
  rl=$word
  local breaks=${COMP_WORDBREAKS//[[:blank:]]/}
  [[ -n $breaks ]] && rl=${word##*["$breaks"]}
  local cut=${word%"$rl"}
  local i
  for i in "${!COMPREPLY[@]}"; do
    f=$_actool_pfx${COMPREPLY[i]}
    COMPREPLY[i]=${f#"$cut"}
  done
  # An option that takes a value goes on with its value, not a blank.
  if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
    compopt -o nospace 2>/dev/null
  fi
  return 0
}
complete -F _actool actool
