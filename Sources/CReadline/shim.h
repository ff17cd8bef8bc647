// GNU readline and history (GPL-3.0-or-later; drht is licensed to match).
#include <stdio.h>
#include <readline/readline.h>
#include <readline/history.h>
