// The syntax tree of a scenario: one statement per line.
import type { Pos } from './errors.js';

export type BinOp = '|' | '^' | '&' | '<<' | '>>' | '+' | '-' | '*' | '/' | '%';
export type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

export type Expr =
  | { k: 'num'; v: bigint; pos: Pos }
  | { k: 'str'; v: Uint8Array; pos: Pos }
  | { k: 'bytes'; items: Expr[]; pos: Pos }
  | { k: 'name'; name: string; pos: Pos }
  | { k: 'index'; base: Expr; index: Expr; pos: Pos }
  | { k: 'unary'; op: '-' | '~' | '!'; e: Expr; pos: Pos }
  | { k: 'bin'; op: BinOp; l: Expr; r: Expr; pos: Pos }
  /** name(args): only meaningful in expectations (killed(SIGSEGV), line("...")). */
  | { k: 'call'; name: string; args: Arg[]; pos: Pos }
  /** SIGSEGV{SEGV_PKUERR, addr=p, pkey=k}: a signal pattern in expectations. */
  | { k: 'sig'; name: string; args: Arg[]; pos: Pos };

export interface Arg {
  name?: string;
  value: Expr;
  pos: Pos;
}

export interface ExpectItem {
  lhs: Expr;
  op?: CmpOp;
  rhs?: Expr;
  pos: Pos;
}

/** Who runs a step: a task by name, or a kernel thread (kworker/kthread: current has no mm). */
export interface Prefix {
  kind: 'task' | 'kworker' | 'kthread';
  name: string;
  pos: Pos;
}

export interface StepStmt {
  k: 'step';
  prefix?: Prefix;
  bind?: { name: string; pos: Pos };
  name: string;
  namePos: Pos;
  args: Arg[];
  expect: ExpectItem[];
  /** Position of the `expect` keyword (or of the statement). */
  expectPos?: Pos;
  pos: Pos;
  /** The source text of the statement (for reports). */
  text: string;
}

export type Stmt =
  | { k: 'profile'; name: string; pos: Pos }
  | { k: 'machine'; opts: { key: string; value: string; pos: Pos }[]; pos: Pos }
  | { k: 'title'; title: string; pos: Pos }
  | { k: 'model-only'; pos: Pos }
  | { k: 'task'; name: string; opts: Arg[]; pos: Pos }
  | { k: 'expect'; items: ExpectItem[]; pos: Pos }
  | StepStmt;

export interface Script {
  file: string;
  source: string;
  stmts: Stmt[];
}
