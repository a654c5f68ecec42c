# SPDX-License-Identifier: Apache-2.0
# zsh: the engine above runs emulating ksh on the words up to the cursor;
# its answer becomes compadd or _files.
_actool() {
  () {
    emulate -L ksh
    _actool_prog=${words[0]}
    _actool_context $((CURRENT - 1)) "${words[@]:0:CURRENT}"
  }
  local -a cands plain valued
  cands=(${=_actool_cands})
  valued=(${(M)cands:#*=})
  plain=(${cands:#*=})
  [[ -n $_actool_pfx ]] && compset -P '*[=,]'
  local ret=1
  case $_actool_kind in
  words | words+files)
    (( ${#plain} )) && compadd -- $plain && ret=0
    (( ${#valued} )) && compadd -S '' -- $valued && ret=0
    ;;
  esac
  case $_actool_kind in
  files | words+files) _files && ret=0 ;;
  dirs) _files -/ && ret=0 ;;
  esac
  return ret
}

if [[ $funcstack[1] == _actool ]]; then
  _actool "$@"
else
  compdef _actool actool
fi
