#ifndef ORBIT_CLUA_SHIM_H
#define ORBIT_CLUA_SHIM_H

/*
 * The only C in Orbit: static inline wrappers for the Lua 5.4 macros Swift cannot import, and the few pieces that
 * must be C because they raise Lua errors (longjmp) or run inside the VM: the host-function trampoline, the limit
 * hook and the counting allocator. No Swift frame is ever on the stack when these raise.
 */

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>
#include <time.h>

/* MARK: - Macro wrappers */

static inline int orbit_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline int orbit_upvalueindex(int i) { return lua_upvalueindex(i); }
static inline void orbit_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline void orbit_insert(lua_State *L, int idx) { lua_insert(L, idx); }
static inline void orbit_remove(lua_State *L, int idx) { lua_remove(L, idx); }
static inline int orbit_pcall(lua_State *L, int nargs, int nresults, int msgh) {
    return lua_pcall(L, nargs, nresults, msgh);
}
static inline const char *orbit_typename(lua_State *L, int idx) { return luaL_typename(L, idx); }
static inline void orbit_collect_garbage(lua_State *L) { lua_gc(L, LUA_GCCOLLECT); }
static inline void *orbit_newuserdata(lua_State *L, size_t size) { return lua_newuserdatauv(L, size, 0); }

/* MARK: - Limits shared by the allocator, the hook and the host */

enum {
    ORBIT_LIMIT_NONE = 0,
    ORBIT_LIMIT_INSTRUCTIONS = 1,
    ORBIT_LIMIT_DEADLINE = 2,
    ORBIT_LIMIT_COUNT = 3
};

/* A host function returns its number of results, ORBIT_RAISE after pushing the error value to raise, or
   ORBIT_RAISE_MEMORY when it needs more memory than the cap leaves. */
#define ORBIT_RAISE (-1)
#define ORBIT_RAISE_MEMORY (-2)

typedef int (*orbit_host_dispatch)(lua_State *L);

/* Per-state bookkeeping. Lives outside the Lua heap; the state's extra space points at it. */
typedef struct orbit_limits {
    size_t memory_used;
    size_t memory_limit;          /* bytes; 0 = unlimited */
    int host_depth;               /* > 0 while the host runs: the allocator then never refuses */
    long long instruction_budget; /* per call; <= 0 = unlimited */
    long long instructions_used;
    int hook_interval;            /* instructions between two hook runs */
    long long deadline_ns;        /* CLOCK_MONOTONIC; 0 = none */
    int tripped;                  /* ORBIT_LIMIT_* once a limit is hit, until the host ends the call */
    int interrupt_refs[ORBIT_LIMIT_COUNT]; /* registry refs of the preallocated interrupt errors */
    orbit_host_dispatch dispatch; /* the Swift side of every host function */
    void *host;                   /* the Swift object that owns this state */
} orbit_limits;

static inline orbit_limits *orbit_limits_of(lua_State *L) { return *(orbit_limits **)lua_getextraspace(L); }

static inline long long orbit_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Refuses growth past the cap while Lua code runs; never refuses while the host is pushing values, so that no
   allocation outside a protected call can raise (which would abort the process through lua_atpanic). */
static inline void *orbit_allocate(void *ud, void *ptr, size_t osize, size_t nsize) {
    orbit_limits *limits = (orbit_limits *)ud;
    if (nsize == 0) {
        if (ptr != NULL) {
            free(ptr);
            limits->memory_used -= osize;
        }
        return NULL;
    }
    size_t old = ptr != NULL ? osize : 0; /* for a new block, osize is a type tag, not a size */
    if (nsize > old && limits->memory_limit > 0 && limits->host_depth == 0
        && limits->memory_used - old + nsize > limits->memory_limit) {
        return NULL;
    }
    void *block = realloc(ptr, nsize);
    if (block == NULL) return NULL;
    limits->memory_used = limits->memory_used - old + nsize;
    /* Work done by C functions (string.rep, table.concat, ...) is proportional to what they allocate: charge it to
       the instruction budget, one instruction per 64 bytes, so a loop of cheap-looking calls cannot run unbounded. */
    if (limits->host_depth == 0 && nsize > old) limits->instructions_used += (long long)((nsize - old) >> 6);
    return block;
}

static inline lua_State *orbit_newstate(orbit_limits *limits) {
    lua_State *L = lua_newstate(orbit_allocate, limits);
    if (L == NULL) return NULL;
    *(orbit_limits **)lua_getextraspace(L) = limits;
    /* Rule calls make short-lived garbage (event tables, results): the generational collector frees it young,
       without walking everything the rules keep. */
    lua_gc(L, LUA_GCGEN, 0, 0);
    return L;
}

/* Once a limit trips, the hook runs on every instruction and raises again, so a pcall inside the rule cannot
   swallow the interruption: the error unwinds to the host's protected call. */
static inline void orbit_limit_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    orbit_limits *limits = orbit_limits_of(L);
    if (limits->tripped == ORBIT_LIMIT_NONE) {
        limits->instructions_used += limits->hook_interval;
        if (limits->instruction_budget > 0 && limits->instructions_used > limits->instruction_budget) {
            limits->tripped = ORBIT_LIMIT_INSTRUCTIONS;
        } else if (limits->deadline_ns > 0 && orbit_monotonic_ns() > limits->deadline_ns) {
            limits->tripped = ORBIT_LIMIT_DEADLINE;
        } else {
            return;
        }
        lua_sethook(L, orbit_limit_hook, LUA_MASKCOUNT, 1);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, limits->interrupt_refs[limits->tripped]);
    lua_error(L);
}

/* Installs (interval > 0) or removes (interval == 0) the limit hook. */
static inline void orbit_set_limit_hook(lua_State *L, int interval) {
    if (interval > 0) {
        orbit_limits_of(L)->hook_interval = interval;
        lua_sethook(L, orbit_limit_hook, LUA_MASKCOUNT, interval);
    } else {
        lua_sethook(L, NULL, 0, 0);
    }
}

/* MARK: - Read-only tables */

/* A read-only view of a table is an empty proxy whose metatable reads from the table (__index) and whose other
   metamethods are these shared C functions, which find the table through the metatable (hidden from rules by
   __metatable = false): wrapping allocates two tables and no closure, and needs no Lua call. */

static inline void orbit_readonly_target(lua_State *L, int proxy) {
    lua_getmetatable(L, proxy);
    lua_getfield(L, -1, "__index");
    lua_remove(L, -2);
}

/* Whether the value at `index` is a read-only view made by orbit_make_readonly. */
static inline int orbit_is_readonly(lua_State *L, int index) {
    if (!lua_getmetatable(L, index)) return 0;
    int readonly = lua_getfield(L, -1, "__readonly") == LUA_TSTRING;
    lua_pop(L, 2);
    return readonly;
}

static inline int orbit_readonly_newindex(lua_State *L) {
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "__readonly");
    const char *name = lua_tostring(L, -1);
    const char *key = luaL_tolstring(L, 2, NULL);
    return luaL_error(L, "attempt to modify read-only table '%s' (field '%s')", name ? name : "?", key);
}

static inline int orbit_readonly_len(lua_State *L) {
    orbit_readonly_target(L, 1);
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, -1));
    return 1;
}

/* The iterator pairs() returns: next over the table in its upvalue (the proxy is the state, and stays empty). */
static inline int orbit_readonly_next(lua_State *L) {
    lua_settop(L, 2);
    if (lua_next(L, lua_upvalueindex(1))) return 2;
    lua_pushnil(L);
    return 1;
}

static inline int orbit_readonly_pairs(lua_State *L) {
    orbit_readonly_target(L, 1);
    lua_pushcclosure(L, orbit_readonly_next, 1);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* Replaces the table on top of the stack with its read-only view, named `name` in errors. */
static inline void orbit_make_readonly(lua_State *L, const char *name) {
    lua_createtable(L, 0, 0);
    lua_createtable(L, 0, 6);
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, orbit_readonly_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, orbit_readonly_len);
    lua_setfield(L, -2, "__len");
    lua_pushcfunction(L, orbit_readonly_pairs);
    lua_setfield(L, -2, "__pairs");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__readonly");
    lua_setmetatable(L, -2);
    lua_replace(L, -2);
}

/* readonly(t, name) for the sandbox's own Lua. */
static inline int orbit_readonly_function(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    const char *name = luaL_checkstring(L, 2);
    lua_settop(L, 2);
    lua_pushvalue(L, 1);
    orbit_make_readonly(L, name);
    return 1;
}

static inline lua_CFunction orbit_readonly_cfunction(void) { return orbit_readonly_function; }

/* MARK: - Host functions */

/* Every Swift function reached from Lua goes through here: the Swift dispatcher returns normally, and only then is
   the error raised, so lua_error never unwinds a Swift frame. */
static inline int orbit_trampoline(lua_State *L) {
    orbit_limits *limits = orbit_limits_of(L);
    int results = limits->dispatch(L);
    if (results == ORBIT_RAISE) return lua_error(L);
    if (results == ORBIT_RAISE_MEMORY) {
        /* An allocation the cap refuses makes Lua raise its own memory error (LUA_ERRMEM). */
        lua_newuserdatauv(L, limits->memory_limit + 1, 0);
        return lua_error(L);
    }
    return results;
}

/* Pushes a host function; its `upvalues` values must be on the stack. */
static inline void orbit_push_host_function(lua_State *L, int upvalues) {
    lua_pushcclosure(L, orbit_trampoline, upvalues);
}

#endif
