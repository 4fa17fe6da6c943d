// libedit (BSD editline) for the REPL's line editing: wrappers of its variadic calls, which Swift cannot make.
#ifndef ORBIT_CEDIT_SHIM_H
#define ORBIT_CEDIT_SHIM_H

#include <stdio.h>
#include <unistd.h>
#include <histedit.h>

typedef char *(*orbit_prompt_fn)(EditLine *);
typedef unsigned char (*orbit_key_fn)(EditLine *, int);

/// An editor on the standard streams (Swift cannot name `stdin` safely).
static inline EditLine *orbit_editor_open(const char *program) { return el_init(program, stdin, stdout, stderr); }

static inline History *orbit_history_open(int size) {
    History *history_state = history_init();
    HistEvent event;
    history(history_state, &event, H_SETSIZE, size);
    history(history_state, &event, H_SETUNIQUE, 1);
    return history_state;
}

static inline void orbit_history_add(History *h, const char *line) { HistEvent e; history(h, &e, H_ENTER, line); }
static inline void orbit_history_load(History *h, const char *path) { HistEvent e; history(h, &e, H_LOAD, path); }
static inline void orbit_history_save(History *h, const char *path) { HistEvent e; history(h, &e, H_SAVE, path); }

/// Emacs key bindings, the prompt, the history, Tab bound to `complete`, and `client` for the callbacks.
static inline void orbit_editor_setup(EditLine *el, orbit_prompt_fn prompt, History *h, orbit_key_fn complete,
                                      void *client) {
    el_set(el, EL_EDITOR, "emacs");
    el_set(el, EL_SIGNAL, 1);
    el_set(el, EL_CLIENTDATA, client);
    el_set(el, EL_PROMPT, prompt);
    el_set(el, EL_HIST, history, h);
    el_set(el, EL_ADDFN, "orbit-complete", "complete a name", complete);
    el_set(el, EL_BIND, "^I", "orbit-complete", NULL);
    el_source(el, NULL);
}

static inline void *orbit_editor_client(EditLine *el) {
    void *client = NULL;
    el_get(el, EL_CLIENTDATA, &client);
    return client;
}

#endif
