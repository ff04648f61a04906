// The scenario language: parse, check and run scenarios on the model; views of the results.
export { parseScenario, KEYWORDS } from './parser.js';
export type { Script, Stmt, StepStmt, Expr } from './ast.js';
export { ScenarioError, InternalError, formatError, type Pos } from './errors.js';
export { Checker, type Headers } from './check.js';
export { Session, symbolizeText, type Report, type StepReport, type TaskReport, type ExpectResult } from './interp.js';
export { runScript, runSource, loadScenario, type RunOptions, type RunResult } from './run.js';
export {
  canonicalLine, parseCanonicalLine, diffCanonical, outcomeToJson, SymbolTable, fnv1a32, dataField,
  type Outcome, type CanonicalStep, type FieldDiff, type SigOut,
} from './outcome.js';
export {
  registerStep, lookupStep, allSteps, stepNames, signature, paramsOf, isModelOnly, p,
  type StepDef, type ParamDef, type ArgKind, type Args, type RunCtx, type StepResult, type PrintCtx, type CEmitCtx, type Value,
} from './registry.js';
export { CONSTANTS, strerror } from './constants.js';
export { renderTrace, traceLines, type Paint } from './trace_render.js';
export { reportText, reportJson, summarize, tally, withHalt, ktap, ktapCase, expectFailure, type KtapCase, type RunSummary } from './report.js';
