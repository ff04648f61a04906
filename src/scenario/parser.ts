// The scenario parser (chevrotain): a line-oriented, C-like language.
//
//   profile linux-6.12                     # header: kernel profile
//   machine ram=64M pku=on                 # header: machine size and features
//   task A                                 # a process that has exec'd the default program
//   A: p = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
//   A: store(p, "x")  expect SIGSEGV{SEGV_PKUERR, addr=p, pkey=k}
//   kworker: get_user_pages_remote(mm=B, p, 1, FOLL_WRITE)
import { EOF, EmbeddedActionsParser, Lexer, createToken, type ILexerConfig, type ILexingError, type IOrAlt, type IRecognitionException, type IToken, type TokenType } from './chevrotain.js';
import type { Arg, BinOp, CmpOp, ExpectItem, Expr, Prefix, Script, Stmt } from './ast.js';
import { ScenarioError, type Pos } from './errors.js';

// start_chars_hint (the characters a token can start with) and line_breaks (whether it can hold a
// line break) are given for every token: otherwise the lexer works them out by parsing each pattern
// at start-up. checkTokenHints() (in the tests) holds them to what that analysis gives.
const LETTERS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_'];
const DIGITS = [...'0123456789'];
const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r]+/, group: Lexer.SKIPPED, line_breaks: false, start_chars_hint: [' ', '\t', '\r'] });
const LineContinuation = createToken({ name: 'LineContinuation', pattern: /\\[ \t]*\r?\n/, group: Lexer.SKIPPED, line_breaks: true, start_chars_hint: ['\\'] });
const HashComment = createToken({ name: 'HashComment', pattern: /#[^\n]*/, group: Lexer.SKIPPED, line_breaks: false, start_chars_hint: ['#'] });
const SlashComment = createToken({ name: 'SlashComment', pattern: /\/\/[^\n]*/, group: Lexer.SKIPPED, line_breaks: false, start_chars_hint: ['/'] });
const BlockComment = createToken({ name: 'BlockComment', pattern: /\/\*[\s\S]*?\*\//, group: Lexer.SKIPPED, line_breaks: true, start_chars_hint: ['/'] });
const NL = createToken({ name: 'NL', pattern: /\n/, line_breaks: true, label: 'end of line', start_chars_hint: ['\n'] });

const Ident = createToken({ name: 'Ident', pattern: /[A-Za-z_][A-Za-z0-9_]*/, label: 'a name', line_breaks: false, start_chars_hint: LETTERS });
const kw = (name: string): TokenType => createToken({ name, pattern: new RegExp(name), longer_alt: Ident, label: `'${name}'`, line_breaks: false, start_chars_hint: [name[0]!] });
const Expect = kw('expect');
const Task = kw('task');
const Profile = kw('profile');
const Machine = kw('machine');
const Scenario = kw('scenario');
const Kworker = kw('kworker');
const Kthread = kw('kthread');
const ModelOnly = createToken({ name: 'ModelOnly', pattern: /model-only(?![A-Za-z0-9_])/, label: "'model-only'", line_breaks: false, start_chars_hint: ['m'] });
const ProfileName = createToken({ name: 'ProfileName', pattern: /linux-[0-9][0-9A-Za-z.-]*/, label: 'a profile name', line_breaks: false, start_chars_hint: ['l'] });

const StringLit = createToken({ name: 'StringLit', pattern: /"(?:[^"\\\n]|\\[^\n])*"/, label: 'a string', line_breaks: false, start_chars_hint: ['"'] });
const CharLit = createToken({ name: 'CharLit', pattern: /'(?:[^'\\\n]|\\(?:x[0-9a-fA-F]{1,2}|[0-7]{1,3}|[^\n]))'/, label: 'a character', line_breaks: false, start_chars_hint: ["'"] });
const SizeLit = createToken({ name: 'SizeLit', pattern: /[0-9]+[KMG](?![A-Za-z0-9_])/, label: 'a size', line_breaks: false, start_chars_hint: DIGITS });
const NumberLit = createToken({ name: 'NumberLit', pattern: /0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+(?![A-Za-z_])/, label: 'a number', line_breaks: false, start_chars_hint: DIGITS });

/** Categories: one CONSUME matches any binary (or prefix) operator, so expressions parse in one rule. */
const BinOpTok = createToken({ name: 'BinOp', pattern: Lexer.NA, label: 'an operator' });
const UnaryOpTok = createToken({ name: 'UnaryOp', pattern: Lexer.NA, label: 'a prefix operator' });
// Operators: the first character of the pattern, unescaped.
const p = (name: string, pattern: RegExp, label: string, categories: TokenType[] = []): TokenType =>
  createToken({ name, pattern, label, categories, line_breaks: false, start_chars_hint: [pattern.source.replace(/^\\/, '')[0]!] });
const LParen = p('LParen', /\(/, "'('");
const RParen = p('RParen', /\)/, "')'");
const LBrace = p('LBrace', /\{/, "'{'");
const RBrace = p('RBrace', /\}/, "'}'");
const LBrack = p('LBrack', /\[/, "'['");
const RBrack = p('RBrack', /\]/, "']'");
const Comma = p('Comma', /,/, "','");
const Colon = p('Colon', /:/, "':'");
const EqEq = p('EqEq', /==/, "'=='");
const NotEq = p('NotEq', /!=/, "'!='");
const Shl = p('Shl', /<</, "'<<'", [BinOpTok]);
const Shr = p('Shr', />>/, "'>>'", [BinOpTok]);
const Le = p('Le', /<=/, "'<='");
const Ge = p('Ge', />=/, "'>='");
const Lt = p('Lt', /</, "'<'");
const Gt = p('Gt', />/, "'>'");
const Eq = p('Eq', /=/, "'='");
const Pipe = p('Pipe', /\|/, "'|'", [BinOpTok]);
const Caret = p('Caret', /\^/, "'^'", [BinOpTok]);
const Amp = p('Amp', /&/, "'&'", [BinOpTok]);
const Plus = p('Plus', /\+/, "'+'", [BinOpTok, UnaryOpTok]);
const Minus = p('Minus', /-/, "'-'", [BinOpTok, UnaryOpTok]);
const Star = p('Star', /\*/, "'*'", [BinOpTok]);
const Slash = p('Slash', /\//, "'/'");
const Percent = p('Percent', /%/, "'%'", [BinOpTok]);
const Tilde = p('Tilde', /~/, "'~'", [UnaryOpTok]);
const Bang = p('Bang', /!/, "'!'", [UnaryOpTok]);

const ALL_TOKENS: TokenType[] = [
  WhiteSpace, LineContinuation, HashComment, SlashComment, BlockComment, NL,
  ModelOnly, ProfileName, Expect, Task, Profile, Machine, Scenario, Kworker, Kthread, Ident,
  StringLit, CharLit, SizeLit, NumberLit,
  LParen, RParen, LBrace, RBrace, LBrack, RBrack, Comma, Colon,
  EqEq, NotEq, Shl, Shr, Le, Ge, Lt, Gt, Eq, Pipe, Caret, Amp, Plus, Minus, Star, Slash, Percent, Tilde, Bang,
  BinOpTok, UnaryOpTok,
];

/** What may follow a name in an expression: a call, a signal pattern, an index. */
type Suffix = { k: 'call' | 'sig'; args: Arg[]; end: IToken } | { k: 'index'; index: Expr; end: IToken };

// Lexer validations (token patterns that can never match, and the like) cost start-up time on
// every run; validateGrammar() runs them in the test suite instead.
// The language's only line break is \n (CRLF files are normalised first): a lone \r is blank space.
// (chevrotain's default also counts \r, in blank space only, so lines after one were numbered one
// more than the line an error message showed.)
const LEXER_OPTIONS: ILexerConfig = { positionTracking: 'onlyStart', ensureOptimizations: false, lineTerminatorCharacters: ['\n'], lineTerminatorsPattern: /\n/g };
const lexer = new Lexer(ALL_TOKENS, { ...LEXER_OPTIONS, skipValidations: true });

function posOf(t: IToken): Pos {
  return { line: t.startLine ?? 1, col: t.startColumn ?? 1, len: t.image.length || 1 };
}

function span(a: Pos, b: Pos, sameLineEndCol?: number): Pos {
  if (a.line !== b.line) return a;
  const end = sameLineEndCol ?? b.col + (b.len ?? 1);
  return { line: a.line, col: a.col, len: Math.max(1, end - a.col) };
}

/** C escapes: \n \t \r \0 \\ \" \' \xHH \ooo. */
const ENC = new TextEncoder();

export function unescapeC(body: string, pos: Pos): Uint8Array {
  // Plain ASCII without escapes (the common case): the characters are the bytes.
  if (/^[\x20-\x5b\x5d-\x7e]*$/.test(body)) {
    const b = new Uint8Array(body.length);
    for (let i = 0; i < body.length; i++) b[i] = body.charCodeAt(i);
    return b;
  }
  const out: number[] = [];
  const enc = ENC;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      const code = c.codePointAt(0)!;
      if (code < 0x80) out.push(code);
      else {
        const ch = String.fromCodePoint(code);
        for (const b of enc.encode(ch)) out.push(b);
        if (code > 0xffff) i++;
      }
      continue;
    }
    const n = body[++i];
    switch (n) {
      case 'n': out.push(10); break;
      case 't': out.push(9); break;
      case 'r': out.push(13); break;
      case 'a': out.push(7); break;
      case 'b': out.push(8); break;
      case 'f': out.push(12); break;
      case 'v': out.push(11); break;
      case 'e': out.push(27); break;
      case '\\': out.push(92); break;
      case '"': out.push(34); break;
      case "'": out.push(39); break;
      case '?': out.push(63); break;
      case 'x': {
        const m = /^[0-9a-fA-F]{1,2}/.exec(body.slice(i + 1));
        if (!m) throw new ScenarioError('syntax', 'bad \\x escape: hex digits expected', pos, 'write bytes as \\x41 (one or two hex digits)');
        out.push(parseInt(m[0], 16));
        i += m[0].length;
        break;
      }
      default: {
        const m = /^[0-7]{1,3}/.exec(body.slice(i));
        if (m) {
          const v = parseInt(m[0], 8);
          if (v > 255) throw new ScenarioError('range', `octal escape \\${m[0]} is larger than a byte`, pos);
          out.push(v);
          i += m[0].length - 1;
          break;
        }
        throw new ScenarioError('syntax', `unknown escape \\${n ?? ''}`, pos, 'known escapes: \\n \\t \\r \\0 \\\\ \\" \\xHH \\ooo');
      }
    }
  }
  return Uint8Array.from(out);
}

export function parseNumber(image: string, pos: Pos): bigint {
  if (/^0[xX]/.test(image) || /^0[bB]/.test(image)) return BigInt(image);
  if (image.length > 1 && image.startsWith('0')) {
    if (/[89]/.test(image)) throw new ScenarioError('syntax', `invalid octal number ${image}`, pos, 'a leading 0 means octal, as in C (0644); drop the 0 for decimal');
    return BigInt('0o' + image.slice(1));
  }
  return BigInt(image);
}

class ScenarioParser extends EmbeddedActionsParser {
  /** Grammar validations cost ~100 ms at start-up; the test suite runs them (validateGrammar()). */
  constructor(validate = false) {
    super(ALL_TOKENS, { maxLookahead: 2, recoveryEnabled: false, skipValidations: !validate });
    this.performSelfAnalysis();
  }

  /**
   * One line's tokens: its statement, or the first syntax error. (Reading `errors` copies the
   * list, which cost more than parsing a short line; a rule that failed returns undefined.)
   */
  line(tokens: IToken[]): Stmt | IRecognitionException {
    this.input = tokens;
    const st = this.statement();
    if (st && this.LA(1).tokenType === EOF) return st;
    return this.errors[0]!;
  }

  /** One statement, without the line end. */
  // Alternatives arrays are built once and kept: they only refer to `this`, and rebuilding them
  // (with their closures) on every call was most of the parser's allocation.
  private altStatement?: IOrAlt<Stmt>[];
  private altArg?: IOrAlt<Arg>[];
  private altPrimary?: IOrAlt<Expr>[];
  private altSuffix?: IOrAlt<Suffix>[];

  statement = this.RULE('statement', (): Stmt | null => {
    return this.OR(this.altStatement ??= [
      { ALT: () => this.SUBRULE(this.profileStmt) },
      { ALT: () => this.SUBRULE(this.machineStmt) },
      { ALT: () => this.SUBRULE(this.titleStmt) },
      {
        ALT: () => {
          const t = this.CONSUME(ModelOnly);
          return this.ACTION((): Stmt => ({ k: 'model-only', pos: posOf(t) }));
        },
      },
      { ALT: () => this.SUBRULE(this.taskStmt) },
      {
        ALT: () => {
          const t = this.CONSUME(Expect);
          const items = this.SUBRULE(this.expectList);
          return this.ACTION((): Stmt => ({ k: 'expect', items, pos: posOf(t) }));
        },
      },
      { ALT: () => this.SUBRULE(this.stepStmt) },
    ]);
  });

  profileStmt = this.RULE('profileStmt', (): Stmt => {
    this.CONSUME(Profile);
    const v = this.OR([
      { ALT: () => this.CONSUME(ProfileName) },
      { ALT: () => this.CONSUME(StringLit) },
      { ALT: () => this.CONSUME(Ident) },
    ]);
    return this.ACTION((): Stmt => ({ k: 'profile', name: v.image.replace(/^"|"$/g, ''), pos: posOf(v) }));
  });

  machineStmt = this.RULE('machineStmt', (): Stmt => {
    const t = this.CONSUME(Machine);
    const opts: { key: string; value: string; pos: Pos }[] = [];
    this.MANY(() => {
      const k = this.CONSUME(Ident);
      this.CONSUME(Eq);
      const v = this.OR([
        { ALT: () => this.CONSUME(SizeLit) },
        { ALT: () => this.CONSUME(NumberLit) },
        { ALT: () => this.CONSUME2(Ident) },
      ]);
      this.ACTION(() => opts.push({ key: k.image, value: v.image, pos: posOf(k) }));
    });
    return this.ACTION((): Stmt => ({ k: 'machine', opts, pos: posOf(t) }));
  });

  titleStmt = this.RULE('titleStmt', (): Stmt => {
    const t = this.CONSUME(Scenario);
    const s = this.CONSUME(StringLit);
    return this.ACTION((): Stmt => ({ k: 'title', title: new TextDecoder().decode(unescapeC(s.image.slice(1, -1), posOf(s))), pos: posOf(t) }));
  });

  taskStmt = this.RULE('taskStmt', (): Stmt => {
    const t = this.CONSUME(Task);
    const n = this.CONSUME(Ident);
    const opts: Arg[] = [];
    this.MANY(() => {
      const k = this.CONSUME2(Ident);
      this.CONSUME(Eq);
      const v = this.SUBRULE(this.expr);
      this.ACTION(() => opts.push({ name: k.image, value: v, pos: posOf(k) }));
    });
    return this.ACTION((): Stmt => ({ k: 'task', name: n.image, opts, pos: { ...posOf(n), col: posOf(t).col, len: posOf(n).col + n.image.length - posOf(t).col } }));
  });

  stepStmt = this.RULE('stepStmt', (): Stmt => {
    let prefix: Prefix | undefined;
    let bind: { name: string; pos: Pos } | undefined;
    this.OPTION(() => {
      const t = this.OR([
        { ALT: () => this.CONSUME(Ident) },
        { ALT: () => this.CONSUME(Kworker) },
        { ALT: () => this.CONSUME(Kthread) },
      ]);
      this.CONSUME(Colon);
      this.ACTION(() => {
        const kind = t.tokenType === Kworker ? 'kworker' : t.tokenType === Kthread ? 'kthread' : 'task';
        prefix = { kind, name: t.image, pos: posOf(t) };
      });
    });
    this.OPTION2(() => {
      const b = this.CONSUME2(Ident);
      this.CONSUME(Eq);
      this.ACTION(() => {
        bind = { name: b.image, pos: posOf(b) };
      });
    });
    const name = this.CONSUME3(Ident);
    this.CONSUME(LParen);
    const args = this.OPTION3(() => this.SUBRULE(this.argList)) ?? [];
    const rp = this.CONSUME(RParen);
    let expect: ExpectItem[] = [];
    let expectPos: Pos | undefined;
    this.OPTION4(() => {
      const e = this.CONSUME(Expect);
      expect = this.SUBRULE(this.expectList);
      this.ACTION(() => {
        expectPos = posOf(e);
      });
    });
    return this.ACTION((): Stmt => {
      const start = prefix?.pos ?? bind?.pos ?? posOf(name);
      return {
        k: 'step', prefix, bind, name: name.image, namePos: posOf(name), args: args ?? [], expect, expectPos,
        pos: span(start, posOf(rp)), text: '',
      };
    });
  });

  /** Arguments, each `expr` or `name = expr` (inlined: one rule call fewer per argument). */
  argList = this.RULE('argList', (): Arg[] => {
    const args: Arg[] = [];
    this.AT_LEAST_ONE_SEP({
      SEP: Comma,
      DEF: () => {
        const a = this.OR(this.altArg ??= [
          {
            ALT: () => {
              const n = this.CONSUME(Ident);
              this.CONSUME(Eq);
              const v = this.SUBRULE(this.expr);
              return this.ACTION((): Arg => ({ name: n.image, value: v, pos: span(posOf(n), v.pos) }));
            },
          },
          {
            ALT: () => {
              const v = this.SUBRULE2(this.expr);
              return this.ACTION((): Arg => ({ value: v, pos: v.pos }));
            },
          },
        ]);
        this.ACTION(() => args.push(a));
      },
    });
    return args;
  });

  expectList = this.RULE('expectList', (): ExpectItem[] => {
    const items: ExpectItem[] = [];
    this.AT_LEAST_ONE_SEP({
      SEP: Comma,
      DEF: () => {
        const lhs = this.SUBRULE(this.expr);
        let op: CmpOp | undefined;
        let rhs: Expr | undefined;
        this.OPTION(() => {
          const o = this.OR([
            { ALT: () => this.CONSUME(EqEq) },
            { ALT: () => this.CONSUME(NotEq) },
            { ALT: () => this.CONSUME(Le) },
            { ALT: () => this.CONSUME(Ge) },
            { ALT: () => this.CONSUME(Lt) },
            { ALT: () => this.CONSUME(Gt) },
          ]);
          rhs = this.SUBRULE2(this.expr);
          this.ACTION(() => {
            op = o.image as CmpOp;
          });
        });
        this.ACTION(() => items.push({ lhs, op, rhs, pos: rhs ? span(lhs.pos, rhs.pos) : lhs.pos }));
      },
    });
    return items;
  });

  /** Prefix operators, then a literal, a name (with a call, signal or index suffix) or a group. */
  operand = this.RULE('operand', (): Expr => {
    const ops: IToken[] = [];
    this.MANY(() => {
      const o = this.CONSUME(UnaryOpTok);
      this.ACTION(() => ops.push(o));
    });
    const e = this.OR(this.altPrimary ??= [
      {
        ALT: () => {
          const t = this.CONSUME(NumberLit);
          return this.ACTION((): Expr => ({ k: 'num', v: parseNumber(t.image, posOf(t)), pos: posOf(t) }));
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(CharLit);
          return this.ACTION((): Expr => {
            const b = unescapeC(t.image.slice(1, -1), posOf(t));
            if (b.length !== 1) throw new ScenarioError('syntax', `character literal ${t.image} is not one byte`, posOf(t), 'use a string "..." for several bytes');
            return { k: 'num', v: BigInt(b[0]!), pos: posOf(t) };
          });
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(StringLit);
          return this.ACTION((): Expr => ({ k: 'str', v: unescapeC(t.image.slice(1, -1), posOf(t)), pos: posOf(t) }));
        },
      },
      {
        ALT: () => {
          this.CONSUME(LParen);
          const e = this.SUBRULE(this.expr);
          this.CONSUME(RParen);
          return e;
        },
      },
      {
        ALT: () => {
          const lb = this.CONSUME(LBrace);
          const items: Expr[] = [];
          this.MANY_SEP({
            SEP: Comma,
            DEF: () => {
              const e = this.SUBRULE2(this.expr);
              this.ACTION(() => items.push(e));
            },
          });
          const rb = this.CONSUME(RBrace);
          return this.ACTION((): Expr => ({ k: 'bytes', items, pos: span(posOf(lb), posOf(rb)) }));
        },
      },
      {
        ALT: () => {
          const n = this.CONSUME(Ident);
          const sfx = this.OPTION3(() => this.OR2(this.altSuffix ??= [
            {
              ALT: () => {
                this.CONSUME2(LParen);
                const args = this.OPTION(() => this.SUBRULE(this.argList));
                const end = this.CONSUME2(RParen);
                return { k: 'call' as const, args: args ?? [], end };
              },
            },
            {
              ALT: () => {
                this.CONSUME2(LBrace);
                const args = this.OPTION2(() => this.SUBRULE2(this.argList));
                const end = this.CONSUME2(RBrace);
                return { k: 'sig' as const, args: args ?? [], end };
              },
            },
            {
              ALT: () => {
                this.CONSUME(LBrack);
                const index = this.SUBRULE3(this.expr);
                const end = this.CONSUME(RBrack);
                return { k: 'index' as const, index, end };
              },
            },
          ]));
          return this.ACTION((): Expr => {
            const np = posOf(n);
            if (!sfx) return { k: 'name', name: n.image, pos: np };
            const pos = span(np, posOf(sfx.end));
            if (sfx.k === 'index') return { k: 'index', base: { k: 'name', name: n.image, pos: np }, index: sfx.index, pos };
            return { k: sfx.k, name: n.image, args: sfx.args, pos };
          });
        },
      },
    ]);
    return this.ACTION((): Expr => {
      let out = e;
      for (let k = ops.length - 1; k >= 0; k--) {
        const o = ops[k]!;
        if (o.image !== '+') out = { k: 'unary', op: o.image as '-' | '~' | '!', e: out, pos: span(posOf(o), out.pos) };
      }
      return out;
    });
  });

  /** operand (op operand)*, grouped by C precedence afterwards (one rule instead of one per level). */
  expr = this.RULE('expr', (): Expr => {
    const first = this.SUBRULE(this.operand);
    const rest: [IToken, Expr][] = [];
    this.MANY(() => {
      const o = this.CONSUME(BinOpTok);
      const r = this.SUBRULE2(this.operand);
      this.ACTION(() => rest.push([o, r]));
    });
    return this.ACTION(() => (rest.length ? climb(first, rest) : first));
  });
}

/** Build the lexer and parser with chevrotain's validations on (throws if the tokens or grammar are ambiguous). */
export function validateGrammar(): void {
  new Lexer(ALL_TOKENS, { ...LEXER_OPTIONS, skipValidations: false });
  new ScenarioParser(true);
  checkTokenHints();
}

/** Every kind of token, lone \r and \r\n included, for checkTokenHints(). */
const HINT_SAMPLE = 'profile linux-6.1\tmachine ram=64M pku=on # c\r\nscenario "s\\"\r" model-only\n' +
  "task A uid=0 // x\r\nA: b = f(1,\r 0x1F, 0b1, 017, 'c', '\r', '\\x41', {1}, q[0], -~!2 | 3 ^ 4 & 5 << 6 >> 7 + 8 - 9 * 1 / 2 % 3) \\ \n" +
  ' expect x == 1, y != 2, z <= 3, w >= 4, v < 5, u > 6 /* a\r\nb */ kworker: kthread: expect\n';

/**
 * The tokens' start_chars_hint and line_breaks must say what chevrotain would work out from the
 * patterns: a lexer without them must cut a sample into the same tokens at the same places.
 */
function checkTokenHints(): void {
  const clones = new Map<TokenType, TokenType & { LINE_BREAKS?: boolean; START_CHARS_HINT?: unknown }>(ALL_TOKENS.map((t) => [t, { ...t }]));
  for (const c of clones.values()) {
    delete c.LINE_BREAKS;
    delete c.START_CHARS_HINT;
    if (c.LONGER_ALT && !Array.isArray(c.LONGER_ALT)) c.LONGER_ALT = clones.get(c.LONGER_ALT);
  }
  const plain = [...clones.values()];
  const show = (ts: IToken[]): string => ts.map((t) => `${t.tokenType.name}@${t.startLine}:${t.startColumn}=${JSON.stringify(t.image)}`).join(' ');
  const a = lexer.tokenize(HINT_SAMPLE);
  const b = new Lexer(plain, { ...LEXER_OPTIONS, skipValidations: false }).tokenize(HINT_SAMPLE);
  if (a.errors.length || b.errors.length) throw new Error(`token hint sample does not lex: ${a.errors[0]?.message ?? b.errors[0]?.message}`);
  if (show(a.tokens) !== show(b.tokens)) throw new Error(`token hints change the lexer's output:\n${show(a.tokens)}\n${show(b.tokens)}`);
}

/** C precedence, low to high: | ^ & << >> + - * / % (all left-associative). */
const PREC: Record<string, number> = { '|': 1, '^': 2, '&': 3, '<<': 4, '>>': 4, '+': 5, '-': 5, '*': 6, '/': 6, '%': 6 };

/** Precedence climbing over a flat operand/operator list. */
function climb(first: Expr, rest: [IToken, Expr][]): Expr {
  let i = 0;
  const parse = (lhs: Expr, min: number): Expr => {
    while (i < rest.length && PREC[rest[i]![0].image]! >= min) {
      const [op, rhs0] = rest[i++]!;
      const prec = PREC[op.image]!;
      let rhs = rhs0;
      while (i < rest.length && PREC[rest[i]![0].image]! > prec) rhs = parse(rhs, prec + 1);
      lhs = { k: 'bin', op: op.image as BinOp, l: lhs, r: rhs, pos: span(lhs.pos, rhs.pos) };
    }
    return lhs;
  };
  return parse(first, 0);
}

let parserInstance: ScenarioParser | null = null;
function parser(): ScenarioParser {
  parserInstance ??= new ScenarioParser();
  return parserInstance;
}

const SYNTAX_HINT = 'a step looks like  A: p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)  [expect ...]';

function describe(t: IToken): string {
  if (t.tokenType.name === 'EOF' || t.tokenType === NL) return 'end of line';
  return `'${t.image}'`;
}

const EXPECT_HINT = 'expectations look like  expect 0 | expect EFAULT | expect ok | expect SIGSEGV{SEGV_PKUERR, addr=p, pkey=k} | expect data == "x"';
const ARG_HINT = 'an argument is an expression (4096, PROT_READ|PROT_WRITE, p+0x1000, "text", {1, 2}, fds[0]) or name=expression';

/** A hint from what came before the bad token: inside an expect list, inside parentheses, or a statement. */
function friendlyHint(msg: string, before: IToken[]): string {
  if (before.some((t) => t.tokenType === Expect)) return EXPECT_HINT;
  let depth = 0;
  for (const t of before) {
    if (t.tokenType === LParen || t.tokenType === LBrace || t.tokenType === LBrack) depth++;
    else if (t.tokenType === RParen || t.tokenType === RBrace || t.tokenType === RBrack) depth--;
  }
  if (depth > 0) return ARG_HINT;
  if (/possible Token sequences|at least one iteration/.test(msg)) return SYNTAX_HINT;
  const first = msg.split('\n')[0]!.replace(/-->\s*/g, '').replace(/\s*<--/g, '');
  return (first.length > 200 ? first.slice(0, 200) + '…' : first) + '; ' + SYNTAX_HINT;
}

/**
 * The lexer takes the text a chunk of about CHUNK_LINES lines at a time, so that the parse holds
 * one chunk's tokens rather than the whole file's (no speed-up above the noise was measured on its
 * own: bench/README.md).
 */
const CHUNK_LINES = 64;

/**
 * Where the chunk starting at `start` ends, and how many line ends it holds: just after its
 * CHUNK_LINES-th line end, or a later one
 * if a block comment is still open there (the only token that can hold a line break before its
 * end; a line continuation ends with its line break, and a statement carries on into the next
 * chunk). The test is conservative: a `/*` inside a string or a comment also postpones the cut, and
 * not cutting is always correct.
 */
function chunkEnd(source: string, start: number, blockComments: boolean): [end: number, lines: number] {
  let end = start;
  let open = -1; // the chunk's last `/*` and last `*/`, relative to `start` (`/*/` opens, not closes)
  let close = -1;
  for (let n = 1; ; n++) {
    const nl = source.indexOf('\n', end);
    if (nl < 0) return [source.length, n - 1];
    const lineStart = end;
    end = nl + 1;
    if (n < CHUNK_LINES) continue;
    if (!blockComments) return [end, n];
    // Lines before the CHUNK_LINES-th are searched together, later ones one by one.
    const from = n === CHUNK_LINES ? start : lineStart;
    const text = source.slice(from, nl);
    const o = text.lastIndexOf('/*');
    const c = text.lastIndexOf('*/');
    if (o >= 0) open = from - start + o;
    if (c >= 0) close = from - start + c;
    if (open < 0 || close >= open + 2) return [end, n];
  }
}

function lexError(chunk: string, e: ILexingError, line0: number): ScenarioError {
  const pos: Pos = { line: (e.line ?? 1) + line0, col: e.column ?? 1, len: 1 };
  const ch = chunk[e.offset] ?? '';
  if (ch === '"') return new ScenarioError('syntax', 'unterminated string literal', pos, 'strings end on the same line with "; use \\n for a newline');
  if (ch === "'") return new ScenarioError('syntax', 'bad character literal', pos, "a character literal holds one byte: 'a', '\\n', '\\x41'");
  return new ScenarioError('syntax', `unexpected character '${ch}'`, pos, SYNTAX_HINT);
}

/** Parse a whole scenario text. Throws ScenarioError on the first problem. */
export function parseScenario(text: string, file = '<input>'): Script {
  // CRLF files: step texts and the lines shown in error messages carry no \r.
  const source = text.includes('\r') ? text.replace(/\r\n/g, '\n') : text;
  const input = source.endsWith('\n') ? source : source + '\n';
  const blockComments = input.includes('/*');
  const stmts: Stmt[] = [];
  const ps = parser();
  let chunk = '';
  let cur: IToken[] = [];
  // Each non-empty line (continued lines together) is one statement.
  const flush = (): void => {
    if (cur.length === 0) return;
    const st = ps.line(cur);
    if (st instanceof Error) {
      let t = st.token;
      const atEnd = t.tokenType === EOF || Number.isNaN(t.startLine);
      if (atEnd) t = cur[cur.length - 1]!;
      const pos = atEnd ? { line: t.startLine!, col: t.startColumn! + t.image.length, len: 1 } : posOf(t);
      const idx = atEnd ? cur.length : cur.indexOf(st.token);
      throw new ScenarioError('syntax', `unexpected ${atEnd ? 'end of line' : describe(t)}`, pos, friendlyHint(st.message, cur.slice(0, Math.max(0, idx))));
    }
    if (st.k === 'step') {
      const first = cur[0]!;
      const last = cur[cur.length - 1]!;
      st.text = first.startLine === last.startLine ? chunk.slice(first.startOffset, last.startOffset + last.image.length) : cur.map((x) => x.image).join(' ');
    }
    stmts.push(st);
    cur = [];
  };
  for (let start = 0, line0 = 0; start < input.length; ) {
    const [end, lines] = chunkEnd(input, start, blockComments);
    chunk = input.slice(start, end);
    const lex = lexer.tokenize(chunk);
    // A character the lexer cannot take is reported after the syntax errors of the lines before it:
    // problems come in the file's order.
    const bad = lex.errors[0];
    for (const t of lex.tokens) {
      if (bad && t.startOffset >= bad.offset) break;
      t.startLine! += line0;
      if (t.tokenType === NL) flush();
      else cur.push(t);
    }
    if (bad) throw lexError(chunk, bad, line0);
    line0 += lines;
    start = end;
  }
  flush();
  return { file, source, stmts };
}

/** Token names for REPL completion and docs. */
export const KEYWORDS = ['expect', 'task', 'profile', 'machine', 'scenario', 'kworker', 'kthread', 'model-only'];
