/* ffi_sig.c - signature strings: a C declaration ("size_t strlen(const
 * char *s)") or a ctypes code string ("L(z)") parsed into builtin types.
 * The grammar is in docs/ffi.md.
 *
 * A hand-written recursive-descent parser over a lexer that never looks
 * past the terminating NUL.  Every token is looked at a bounded number
 * of times and recursion (parenthesised declarators, parameter lists of
 * function pointers) stops at DEPTH_LIMIT, so the work is linear in the
 * length of the text and the stack is bounded, whatever the input. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fsig.h"

/* Parentheses (groupings and parameter lists) nest at most this deep. */
#define DEPTH_LIMIT 32

/* ---- the lexer ---- */

enum {
  T_END,  /* the terminating NUL */
  T_BAD,  /* a byte that starts no token */
  T_LONG, /* an identifier longer than WEFT__FSIG_MAX_NAME */
  T_IDENT,
  T_NUMBER,
  T_LPAREN,
  T_RPAREN,
  T_COMMA,
  T_STAR,
  T_LBRACK,
  T_RBRACK,
  T_SEMI,
  T_ELLIPSIS
};

typedef struct tok {
  int kind;
  size_t pos, len; /* byte offset and length in the text */
} tok;

typedef struct parser {
  const char *text;
  size_t pos; /* where the next token is looked for */
  const char *what;
  int depth;
  /* the signature's parameters (only the outermost list is kept) */
  weft__ftype **args;
  size_t nargs, cap;
  int variadic;
  tok name; /* the function's name (len 0: none) */
} parser;

static int is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static int is_ident_start(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident(unsigned char c) {
  return is_ident_start(c) || is_digit(c);
}

static size_t skip_space(const char *s, size_t pos) {
  while (is_space((unsigned char)s[pos]))
    pos++;
  return pos;
}

/* The token at or after byte `pos`: pure, so the parser can look ahead. */
static tok lex_at(const parser *p, size_t pos) {
  const char *s = p->text;
  pos = skip_space(s, pos);
  tok t = {T_BAD, pos, 1};
  unsigned char c = (unsigned char)s[pos];
  if (c == 0) {
    t.kind = T_END;
    t.len = 0;
  } else if (is_ident_start(c)) {
    /* Scanning stops one past the limit: long names cost no more. */
    size_t n = 1;
    while (n <= WEFT__FSIG_MAX_NAME && is_ident((unsigned char)s[pos + n]))
      n++;
    t.kind = n > WEFT__FSIG_MAX_NAME ? T_LONG : T_IDENT;
    t.len = n;
  } else if (is_digit(c)) {
    size_t n = 1;
    while (n <= WEFT__FSIG_MAX_NAME && is_ident((unsigned char)s[pos + n]))
      n++;
    t.kind = T_NUMBER;
    t.len = n;
  } else if (c == '.') {
    if (s[pos + 1] == '.' && s[pos + 2] == '.') {
      t.kind = T_ELLIPSIS;
      t.len = 3;
    }
  } else {
    static const char punct[] = "(),*[];";
    static const int kinds[] = {T_LPAREN, T_RPAREN, T_COMMA, T_STAR,
                                T_LBRACK, T_RBRACK, T_SEMI};
    const char *q = strchr(punct, c);
    if (q != NULL)
      t.kind = kinds[q - punct];
  }
  return t;
}

static tok peek(const parser *p) { return lex_at(p, p->pos); }

static tok next(parser *p) {
  tok t = lex_at(p, p->pos);
  p->pos = t.pos + t.len;
  return t;
}

/* ---- errors ---- */

/* WEFT_EVALUE, "<what>: column N: <reason>", detail N (1-based). */
static __attribute__((format(printf, 3, 4))) weft_status
fail(const parser *p, size_t pos, const char *fmt, ...) {
  char reason[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  int column = pos < (size_t)INT_MAX ? (int)pos + 1 : INT_MAX;
  return weft__error(WEFT_EVALUE, column, "%s: column %d: %s", p->what, column,
                     reason);
}

/* A byte that starts no token, named so that the message stays ASCII. */
static weft_status bad_byte(const parser *p, size_t pos) {
  unsigned char c = (unsigned char)p->text[pos];
  if (c == '.')
    return fail(p, pos, "expected '...'");
  if (c > 0x20 && c < 0x7f)
    return fail(p, pos, "unexpected character '%c'", c);
  return fail(p, pos, "unexpected byte 0x%02X", c);
}

/* The error for token t where something else was `expected`: the end,
 * a bad byte and an overlong name have messages of their own. */
static weft_status unexpected(const parser *p, tok t, const char *expected) {
  switch (t.kind) {
  case T_END:
    return fail(p, t.pos, "unexpected end of the signature");
  case T_BAD:
    return bad_byte(p, t.pos);
  case T_LONG:
    return fail(p, t.pos, "name longer than %d bytes", WEFT__FSIG_MAX_NAME);
  default:
    return fail(p, t.pos, "%s", expected);
  }
}

/* ---- the parameters collected ---- */

static weft_status push_arg(parser *p, weft__ftype *t) {
  if (p->nargs == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 8;
    weft__ftype **a = realloc(p->args, cap * sizeof *a);
    if (a == NULL)
      return weft__errno(ENOMEM, p->what);
    p->args = a;
    p->cap = cap;
  }
  p->args[p->nargs++] = t;
  return 0;
}

/* ---- keywords and type words ---- */

enum {
  K_NONE, /* an identifier */
  K_VOID,
  K_CHAR,
  K_SHORT,
  K_INT,
  K_LONG,
  K_SIGNED,
  K_UNSIGNED,
  K_FLOAT,
  K_DOUBLE,
  K_BOOL,
  K_WCHAR,
  K_STRUCT,
  K_UNION,
  K_ENUM,
  K_QUALIFIER, /* const volatile restrict, and GNU spellings */
  K_EXTERN,
  K_REGISTER,
  K_STATIC,
  K_OTHER /* any other C keyword */
};

static const struct keyword {
  const char *name;
  int k;
} keywords[] = {
    {"void", K_VOID},
    {"char", K_CHAR},
    {"short", K_SHORT},
    {"int", K_INT},
    {"long", K_LONG},
    {"signed", K_SIGNED},
    {"__signed", K_SIGNED},
    {"__signed__", K_SIGNED},
    {"unsigned", K_UNSIGNED},
    {"float", K_FLOAT},
    {"double", K_DOUBLE},
    {"_Bool", K_BOOL},
    {"bool", K_BOOL},
    {"wchar_t", K_WCHAR},
    {"struct", K_STRUCT},
    {"union", K_UNION},
    {"enum", K_ENUM},
    {"const", K_QUALIFIER},
    {"__const", K_QUALIFIER},
    {"__const__", K_QUALIFIER},
    {"volatile", K_QUALIFIER},
    {"__volatile", K_QUALIFIER},
    {"__volatile__", K_QUALIFIER},
    {"restrict", K_QUALIFIER},
    {"__restrict", K_QUALIFIER},
    {"__restrict__", K_QUALIFIER},
    {"extern", K_EXTERN},
    {"register", K_REGISTER},
    {"static", K_STATIC},
    {"auto", K_OTHER},
    {"break", K_OTHER},
    {"case", K_OTHER},
    {"continue", K_OTHER},
    {"default", K_OTHER},
    {"do", K_OTHER},
    {"else", K_OTHER},
    {"for", K_OTHER},
    {"goto", K_OTHER},
    {"if", K_OTHER},
    {"inline", K_OTHER},
    {"return", K_OTHER},
    {"sizeof", K_OTHER},
    {"switch", K_OTHER},
    {"typedef", K_OTHER},
    {"while", K_OTHER},
    {"_Alignas", K_OTHER},
    {"_Alignof", K_OTHER},
    {"_Atomic", K_OTHER},
    {"_Complex", K_OTHER},
    {"_Generic", K_OTHER},
    {"_Imaginary", K_OTHER},
    {"_Noreturn", K_OTHER},
    {"_Static_assert", K_OTHER},
    {"_Thread_local", K_OTHER},
};

static int keyword(const parser *p, tok t) {
  if (t.kind != T_IDENT)
    return K_NONE;
  for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
    const char *k = keywords[i].name;
    if (strlen(k) == t.len && memcmp(k, p->text + t.pos, t.len) == 0)
      return keywords[i].k;
  }
  return K_NONE;
}

/* A builtin named by a one-word identifier other than a keyword or a
 * one-letter code (int32_t, size_t, c_int, c_char_p ...): C's typedef
 * names.  NULL if t is not one. */
static weft__ftype *typedef_name(const parser *p, tok t) {
  char buf[WEFT__FSIG_MAX_NAME + 1];
  if (t.kind != T_IDENT || t.len < 2 || keyword(p, t) != K_NONE)
    return NULL;
  memcpy(buf, p->text + t.pos, t.len);
  buf[t.len] = 0;
  return weft__ftype_builtin(buf);
}

/* The words of a type specifier, as bits; which may combine with which. */
enum {
  W_VOID,
  W_CHAR,
  W_SHORT,
  W_INT,
  W_LONG,
  W_SIGNED,
  W_UNSIGNED,
  W_FLOAT,
  W_DOUBLE,
  W_BOOL,
  W_WCHAR,
  W_TYPEDEF,
  W_STRUCT,
  W_UNION,
  W_ENUM,
  W_COUNT
};

#define B(w) (1u << (w))

static const unsigned combines[W_COUNT] = {
    [W_CHAR] = B(W_SIGNED) | B(W_UNSIGNED),
    [W_SHORT] = B(W_INT) | B(W_SIGNED) | B(W_UNSIGNED),
    [W_INT] = B(W_SHORT) | B(W_LONG) | B(W_SIGNED) | B(W_UNSIGNED),
    [W_LONG] = B(W_INT) | B(W_SIGNED) | B(W_UNSIGNED) | B(W_DOUBLE),
    [W_SIGNED] = B(W_CHAR) | B(W_SHORT) | B(W_INT) | B(W_LONG),
    [W_UNSIGNED] = B(W_CHAR) | B(W_SHORT) | B(W_INT) | B(W_LONG),
    [W_DOUBLE] = B(W_LONG),
};

typedef struct specs {
  unsigned seen; /* B(W_*) */
  int longs;
  tok word[W_COUNT]; /* where each word was (first time) */
  weft__ftype *base; /* NULL for a struct or union */
} specs;

/* The text of word w as seen, for messages ("long long" for two). */
static void word_text(const parser *p, const specs *sp, int w, char *buf,
                      size_t cap) {
  if (w == W_LONG && sp->longs == 2)
    snprintf(buf, cap, "long long");
  else
    snprintf(buf, cap, "%.*s", (int)sp->word[w].len, p->text + sp->word[w].pos);
}

static weft_status add_word(const parser *p, specs *sp, int w, tok t) {
  char seen[WEFT__FSIG_MAX_NAME + 1];
  const char *text = p->text + t.pos;
  int n = (int)t.len;
  if (w == W_LONG && (sp->seen & B(W_LONG))) {
    if (sp->longs == 2 || (sp->seen & B(W_DOUBLE))) {
      word_text(p, sp, sp->longs == 2 ? W_LONG : W_DOUBLE, seen, sizeof seen);
      return fail(p, t.pos, "'%.*s' cannot combine with '%s'", n, text, seen);
    }
    sp->longs = 2;
    return 0;
  }
  if (sp->seen & B(w))
    return fail(p, t.pos, "duplicate '%.*s'", n, text);
  for (int s = 0; s < W_COUNT; s++) {
    if (!(sp->seen & B(s)))
      continue;
    int bad = !(combines[w] & B(s));
    if (w == W_DOUBLE && s == W_LONG && sp->longs == 2)
      bad = 1;
    if (bad) {
      word_text(p, sp, s, seen, sizeof seen);
      return fail(p, t.pos, "'%.*s' cannot combine with '%s'", n, text, seen);
    }
  }
  sp->seen |= B(w);
  sp->word[w] = t;
  if (w == W_LONG)
    sp->longs = 1;
  return 0;
}

/* The builtin the type words name (a struct or union: NULL); typedef
 * names are resolved by parse_specs. */
static weft__ftype *specs_type(const specs *sp) {
  unsigned s = sp->seen;
  const char *name;
  if (s & (B(W_STRUCT) | B(W_UNION)))
    return NULL;
  if (s & B(W_VOID))
    name = "void";
  else if (s & B(W_BOOL))
    name = "bool";
  else if (s & B(W_WCHAR))
    name = "wchar_t";
  else if (s & B(W_FLOAT))
    name = "float";
  else if (s & B(W_DOUBLE))
    name = (s & B(W_LONG)) ? "long double" : "double";
  else if (s & B(W_CHAR))
    name = (s & B(W_SIGNED))     ? "signed char"
           : (s & B(W_UNSIGNED)) ? "unsigned char"
                                 : "char";
  else if (s & B(W_SHORT))
    name = (s & B(W_UNSIGNED)) ? "unsigned short" : "short";
  else if (sp->longs == 2)
    name = (s & B(W_UNSIGNED)) ? "unsigned long long" : "long long";
  else if (sp->longs == 1)
    name = (s & B(W_UNSIGNED)) ? "unsigned long" : "long";
  else if (s & B(W_ENUM))
    name = "int"; /* as C passes an enum without a fixed type */
  else
    name = (s & B(W_UNSIGNED)) ? "unsigned int" : "int";
  return weft__ftype_builtin(name);
}

/* Declaration specifiers: type words and qualifiers in any order, as C
 * allows.  `top`: the return type's (extern allowed), else a
 * parameter's (register allowed). */
static weft_status parse_specs(parser *p, specs *sp, int top) {
  static const int word_of[] = {
      [K_VOID] = W_VOID,         [K_CHAR] = W_CHAR,   [K_SHORT] = W_SHORT,
      [K_INT] = W_INT,           [K_LONG] = W_LONG,   [K_SIGNED] = W_SIGNED,
      [K_UNSIGNED] = W_UNSIGNED, [K_FLOAT] = W_FLOAT, [K_DOUBLE] = W_DOUBLE,
      [K_BOOL] = W_BOOL,         [K_WCHAR] = W_WCHAR, [K_STRUCT] = W_STRUCT,
      [K_UNION] = W_UNION,       [K_ENUM] = W_ENUM,
  };
  memset(sp, 0, sizeof *sp);
  for (int done = 0; !done;) {
    tok t = peek(p);
    if (t.kind != T_IDENT)
      break;
    int k = keyword(p, t);
    weft_status st;
    switch (k) {
    case K_QUALIFIER:
      break;
    case K_EXTERN:
    case K_REGISTER:
      if ((k == K_EXTERN) != top)
        return fail(p, t.pos, "'%.*s' is not allowed here", (int)t.len,
                    p->text + t.pos);
      break;
    case K_STATIC:
    case K_OTHER:
      return fail(p, t.pos,
                  sp->seen ? "'%.*s' is a keyword, not a name"
                           : "unsupported keyword '%.*s'",
                  (int)t.len, p->text + t.pos);
    case K_NONE: {
      if (sp->seen != 0) {
        done = 1; /* the declarator's name */
        continue;
      }
      weft__ftype *ty = typedef_name(p, t);
      if (ty == NULL)
        return fail(p, t.pos, "unknown type name '%.*s'", (int)t.len,
                    p->text + t.pos);
      if ((st = add_word(p, sp, W_TYPEDEF, t)) < 0)
        return st;
      sp->base = ty;
      break;
    }
    default:
      if ((st = add_word(p, sp, word_of[k], t)) < 0)
        return st;
      if (k == K_STRUCT || k == K_UNION || k == K_ENUM) {
        next(p);
        tok tag = peek(p);
        if (tag.kind != T_IDENT || keyword(p, tag) != K_NONE)
          return unexpected(p, tag,
                            k == K_STRUCT  ? "expected a struct tag"
                            : k == K_UNION ? "expected a union tag"
                                           : "expected an enum tag");
      }
      break;
    }
    next(p);
  }
  if (sp->seen == 0)
    return unexpected(p, peek(p), "expected a type name");
  if (!(sp->seen & B(W_TYPEDEF)))
    sp->base = specs_type(sp);
  return 0;
}

/* ---- declarators ---- */

enum { D_POINTER = 1, D_ARRAY, D_FUNCTION };

/* What a declarator derives from its base type, in C's reading order
 * (from the name outward): int *f(void) is [function, pointer].  Only
 * the first two steps and the last one are kept; that is all the
 * meaning a signature takes from it. */
typedef struct chain {
  size_t n;
  int kind[2];
  size_t pos[2];
  int last;
  size_t last_pos;
  int has_function;
} chain;

static weft_status chain_add(const parser *p, chain *c, int kind, size_t pos,
                             size_t count) {
  if (count == 0)
    return 0;
  if (c->n > 0 && c->last == D_FUNCTION && kind == D_ARRAY)
    return fail(p, pos, "a function cannot return an array");
  if (c->n > 0 && c->last == D_FUNCTION && kind == D_FUNCTION)
    return fail(p, pos, "a function cannot return a function");
  if (c->n > 0 && c->last == D_ARRAY && kind == D_FUNCTION)
    return fail(p, pos, "an array cannot hold functions");
  for (size_t i = 0; i < count && c->n + i < 2; i++) {
    c->kind[c->n + i] = kind;
    c->pos[c->n + i] = pos;
  }
  c->n = count > SIZE_MAX - c->n ? SIZE_MAX : c->n + count;
  c->last = kind;
  c->last_pos = pos;
  if (kind == D_FUNCTION)
    c->has_function = 1;
  return 0;
}

static weft_status parse_params(parser *p, int collect);

static weft_status enter(parser *p, tok t) {
  if (p->depth >= DEPTH_LIMIT)
    return fail(p, t.pos, "parentheses nested deeper than %d levels",
                DEPTH_LIMIT);
  p->depth++;
  return 0;
}

/* Whether the '(' at t opens a parenthesised declarator ("(*f)", "(f)")
 * rather than a parameter list ("(int)", "()", "(...)"): C's rule, a
 * parameter list starts with a type or ')'. */
static int is_grouping(const parser *p, tok t) {
  tok u = lex_at(p, t.pos + t.len);
  if (u.kind == T_STAR || u.kind == T_LPAREN || u.kind == T_LBRACK ||
      u.kind == T_LONG)
    return 1;
  return u.kind == T_IDENT && keyword(p, u) == K_NONE &&
         typedef_name(p, u) == NULL;
}

/* An integer constant: decimal, octal or hex, with u/l suffixes. */
static int is_integer(const char *s, size_t n) {
  size_t i = 0, digits = 0;
  if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    for (i = 2; i < n && strchr("0123456789abcdefABCDEF", s[i]) != NULL; i++)
      digits++;
  } else {
    int octal = s[0] == '0';
    for (; i < n && is_digit((unsigned char)s[i]); i++) {
      if (octal && s[i] > '7')
        return 0;
      digits++;
    }
  }
  if (digits == 0 || n - i > 3)
    return 0;
  for (; i < n; i++)
    if (strchr("uUlL", s[i]) == NULL)
      return 0;
  return 1;
}

/* After '[': qualifiers and static (C99's [static 10], [const]), then
 * an optional size (a constant, a name for a VLA, or '*'), then ']'. */
static weft_status parse_array(parser *p) {
  tok t = peek(p);
  while (t.kind == T_IDENT &&
         (keyword(p, t) == K_QUALIFIER || keyword(p, t) == K_STATIC)) {
    next(p);
    t = peek(p);
  }
  if (t.kind == T_NUMBER) {
    if (t.len > WEFT__FSIG_MAX_NAME || !is_integer(p->text + t.pos, t.len))
      return fail(p, t.pos, "bad array size");
    next(p);
  } else if ((t.kind == T_IDENT && keyword(p, t) == K_NONE) ||
             t.kind == T_STAR) {
    next(p);
  }
  t = peek(p);
  if (t.kind != T_RBRACK)
    return unexpected(p, t, "expected ']'");
  next(p);
  return 0;
}

/* A declarator, named or abstract: pointers (with qualifiers), then a
 * name or a parenthesised declarator, then array and function suffixes.
 * Its derivations are appended to c.  `top`: the signature's own
 * declarator, whose first derivation (a function) gives the parameters
 * and whose name is the function's. */
static weft_status parse_declarator(parser *p, chain *c, int top) {
  weft_status st;
  size_t stars = 0, star_pos = 0;
  tok t = peek(p);
  while (t.kind == T_STAR ||
         (t.kind == T_IDENT && keyword(p, t) == K_QUALIFIER)) {
    if (t.kind == T_STAR && stars++ == 0)
      star_pos = t.pos;
    next(p);
    t = peek(p);
  }
  if (t.kind == T_IDENT) {
    if (keyword(p, t) != K_NONE)
      return fail(p, t.pos, "'%.*s' is a keyword, not a name", (int)t.len,
                  p->text + t.pos);
    if (top)
      p->name = t;
    next(p);
  } else if (t.kind == T_LPAREN && is_grouping(p, t)) {
    if ((st = enter(p, t)) < 0)
      return st;
    next(p);
    if ((st = parse_declarator(p, c, top)) < 0)
      return st;
    tok r = peek(p);
    if (r.kind != T_RPAREN)
      return unexpected(p, r, "expected ')'");
    next(p);
    p->depth--;
  }
  for (;;) {
    t = peek(p);
    if (t.kind == T_LBRACK) {
      next(p);
      if ((st = parse_array(p)) < 0 ||
          (st = chain_add(p, c, D_ARRAY, t.pos, 1)) < 0)
        return st;
    } else if (t.kind == T_LPAREN) {
      if ((st = enter(p, t)) < 0)
        return st;
      next(p);
      if ((st = parse_params(p, top && c->n == 0)) < 0 ||
          (st = chain_add(p, c, D_FUNCTION, t.pos, 1)) < 0)
        return st;
      p->depth--;
    } else {
      break;
    }
  }
  return chain_add(p, c, D_POINTER, star_pos, stars);
}

/* The type a base with derivations c has: a pointer for any derivation
 * (a parameter's array or function decays to one); char* and wchar_t*
 * for exactly one pointer or array step from char or wchar_t. */
static weft__ftype *derived_type(weft__ftype *base, size_t steps, int first) {
  if (steps == 0)
    return base;
  if (steps == 1 && first != D_FUNCTION) {
    if (base == weft__ftype_builtin("char"))
      return weft__ftype_builtin("char*");
    if (base == weft__ftype_builtin("wchar_t"))
      return weft__ftype_builtin("wchar_t*");
  }
  return weft__ftype_builtin("void*");
}

static weft_status check_void_array(const parser *p, const specs *sp,
                                    const chain *c) {
  if (c->n > 0 && c->last == D_ARRAY && (sp->seen & B(W_VOID)))
    return fail(p, c->last_pos, "an array of void is not a type");
  return 0;
}

static weft_status record_by_value(const parser *p, const specs *sp) {
  int w = (sp->seen & B(W_STRUCT)) ? W_STRUCT : W_UNION;
  return fail(p, sp->word[w].pos, "%s by value need weft_ffi_function_new",
              w == W_STRUCT ? "structs" : "unions");
}

/* One parameter: specifiers and a declarator (its name is ignored). */
static weft_status parse_param(parser *p, int collect, weft__ftype **out) {
  specs sp;
  chain c = {0};
  weft_status st;
  if ((st = parse_specs(p, &sp, 0)) < 0 ||
      (st = parse_declarator(p, &c, 0)) < 0 ||
      (st = check_void_array(p, &sp, &c)) < 0)
    return st;
  if (c.n == 0 && (sp.seen & B(W_VOID)))
    return fail(p, sp.word[W_VOID].pos, "a parameter cannot be void");
  if (c.n == 0 && sp.base == NULL) {
    /* Inside a function pointer's own list it is only a pointer. */
    if (collect)
      return record_by_value(p, &sp);
    *out = weft__ftype_builtin("void*");
    return 0;
  }
  *out = derived_type(sp.base, c.n, c.n > 0 ? c.kind[0] : 0);
  return 0;
}

/* After '(': "" ")", "void)", or parameters separated by ',', the last
 * of which may be "...". */
static weft_status parse_params(parser *p, int collect) {
  weft_status st;
  tok t = peek(p);
  if (t.kind == T_RPAREN) {
    next(p);
    return 0;
  }
  if (keyword(p, t) == K_VOID && lex_at(p, t.pos + t.len).kind == T_RPAREN) {
    next(p);
    next(p);
    return 0;
  }
  for (size_t count = 0;; count++) {
    t = peek(p);
    if (t.kind == T_ELLIPSIS) {
      next(p);
      if (collect)
        p->variadic = 1;
      t = peek(p);
      if (t.kind != T_RPAREN)
        return unexpected(p, t, "'...' must be last");
      next(p);
      return 0;
    }
    if (count == WEFT__FSIG_MAX_ARGS)
      return fail(p, t.pos, "more than %d parameters", WEFT__FSIG_MAX_ARGS);
    weft__ftype *type = NULL;
    if ((st = parse_param(p, collect, &type)) < 0)
      return st;
    if (collect && (st = push_arg(p, type)) < 0)
      return st;
    t = peek(p);
    if (t.kind == T_RPAREN) {
      next(p);
      return 0;
    }
    if (t.kind != T_COMMA)
      return unexpected(p, t, "expected ')' or ','");
    next(p);
  }
}

/* RET [NAME] ( PARAMS ) [;] as a C declaration: specifiers and one
 * declarator whose first derivation is a function. */
static weft_status parse_decl(parser *p, weft__ftype **ret) {
  specs sp;
  chain c = {0};
  weft_status st;
  if ((st = parse_specs(p, &sp, 1)) < 0 ||
      (st = parse_declarator(p, &c, 1)) < 0)
    return st;
  if (!c.has_function)
    return unexpected(p, peek(p), "expected '('");
  if (c.kind[0] != D_FUNCTION)
    return fail(p, c.pos[0], "expected a function, not a pointer to one");
  if ((st = check_void_array(p, &sp, &c)) < 0)
    return st;
  tok t = peek(p);
  if (t.kind == T_SEMI) {
    next(p);
    t = peek(p);
  }
  if (t.kind != T_END)
    return unexpected(p, t, "expected the end of the signature");
  if (c.n == 1 && sp.base == NULL)
    return record_by_value(p, &sp);
  *ret = derived_type(sp.base, c.n - 1, c.n > 1 ? c.kind[1] : 0);
  return 0;
}

/* ---- code strings ---- */

static const char codes[] = "?cubBhHiIlLqQfdgzZP";

static int is_code(char c) { return c != 0 && strchr(codes, c) != NULL; }

static weft__ftype *code_type(char c) {
  char name[2] = {c, 0};
  return weft__ftype_builtin(name);
}

/* Whether the text is a code string: a code (or v) and then '('. */
static int is_code_string(const char *s) {
  size_t i = skip_space(s, 0);
  if (!is_code(s[i]) && s[i] != 'v')
    return 0;
  return s[skip_space(s, i + 1)] == '(';
}

/* R(CODES) with an optional "..." before ')'; spaces between tokens. */
static weft_status parse_codes(parser *p, weft__ftype **ret) {
  const char *s = p->text;
  size_t i = skip_space(s, 0);
  *ret = s[i] == 'v' ? weft__ftype_builtin("void") : code_type(s[i]);
  i = skip_space(s, i + 1) + 1; /* the '(' is_code_string saw */
  for (;;) {
    i = skip_space(s, i);
    char c = s[i];
    if (c == ')') {
      i++;
      break;
    }
    if (c == '.') {
      if (s[i + 1] != '.' || s[i + 2] != '.')
        return fail(p, i, "expected '...'");
      p->variadic = 1;
      i = skip_space(s, i + 3);
      if (s[i] == 0)
        return fail(p, i, "unexpected end of the signature");
      if (s[i] != ')')
        return fail(p, i, "'...' must be last");
      i++;
      break;
    }
    if (c == 0)
      return fail(p, i, "unexpected end of the signature");
    if (c == 'v')
      return fail(p, i, "a parameter cannot be void");
    if (!is_code(c)) {
      unsigned char u = (unsigned char)c;
      if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || is_digit(u) ||
          u == '_')
        return fail(p, i, "unknown type code '%c'", c);
      if (u > 0x20 && u < 0x7f)
        return fail(p, i, "expected a type code, '...' or ')'");
      return bad_byte(p, i);
    }
    if (p->nargs == WEFT__FSIG_MAX_ARGS)
      return fail(p, i, "more than %d parameters", WEFT__FSIG_MAX_ARGS);
    weft_status st = push_arg(p, code_type(c));
    if (st < 0)
      return st;
    i++;
  }
  i = skip_space(s, i);
  if (s[i] != 0)
    return s[i] == '.' ? fail(p, i, "expected the end of the signature")
                       : unexpected(p, lex_at(p, i),
                                    "expected the end of the signature");
  return 0;
}

/* ---- entry ---- */

weft_status weft__fsig_parse(const char *text, weft__fsig *sig,
                             const char *what) {
  if (what == NULL)
    what = "signature";
  if (sig == NULL)
    return weft__error(WEFT_EVALUE, 0, "%s: sig is NULL", what);
  memset(sig, 0, sizeof *sig);
  if (text == NULL)
    return weft__error(WEFT_EVALUE, 0, "%s: signature is NULL", what);
  parser p = {.text = text, .what = what};
  weft__ftype *ret = NULL;
  weft_status st;
  size_t start = skip_space(text, 0);
  if (text[start] == 0)
    st = fail(&p, start, "empty signature");
  else if (is_code_string(text))
    st = parse_codes(&p, &ret);
  else
    st = parse_decl(&p, &ret);
  if (st < 0) {
    free(p.args);
    return st;
  }
  sig->ret = ret;
  sig->args = p.args;
  sig->nargs = p.nargs;
  sig->variadic = p.variadic;
  memcpy(sig->name, text + p.name.pos, p.name.len);
  sig->name[p.name.len] = 0;
  return 0;
}

void weft__fsig_release(weft__fsig *sig) {
  if (sig == NULL)
    return;
  free(sig->args);
  memset(sig, 0, sizeof *sig);
}
