# SPDX-License-Identifier: Apache-2.0
# Shell completion for bash and zsh, generated from actool's own command and
# option tables (actool __options), so that it cannot fall out of step with
# the parser: gen.awk turns the tables into shell functions, core.sh decides
# what a word of the line takes, bash.sh and zsh.zsh hand that to the shell.
COMPLETION_SRC = completion/gen.awk completion/core.sh completion/bash.sh completion/zsh.zsh
EXTRA_DIST += $(COMPLETION_SRC)
bashcompletiondir = $(BASH_COMPLETION_DIR)
bashcompletion_DATA = completion/actool
zshcompletiondir = $(ZSH_COMPLETION_DIR)
zshcompletion_DATA = completion/_actool
CLEANFILES += completion/actool completion/_actool completion/options

completion/options: actool/actool
	$(AM_V_GEN)$(MKDIR_P) completion && actool/actool __options >$@.tmp && mv $@.tmp $@
completion/actool: completion/options $(COMPLETION_SRC)
	$(AM_V_GEN){ echo '# SPDX-License-Identifier: Apache-2.0'; \
	  echo '# bash completion for actool, generated from its option tables: do not edit.'; \
	  $(AWK) -f $(srcdir)/completion/gen.awk completion/options && \
	  sed 1d $(srcdir)/completion/core.sh && sed 1d $(srcdir)/completion/bash.sh; } >$@.tmp && mv $@.tmp $@
completion/_actool: completion/options $(COMPLETION_SRC)
	$(AM_V_GEN){ echo '#compdef actool'; echo '# SPDX-License-Identifier: Apache-2.0'; \
	  echo '# zsh completion for actool, generated from its option tables: do not edit.'; \
	  $(AWK) -f $(srcdir)/completion/gen.awk completion/options && \
	  sed 1d $(srcdir)/completion/core.sh && sed 1d $(srcdir)/completion/zsh.zsh; } >$@.tmp && mv $@.tmp $@
