// Trace events: the model emits them, sinks (CLI, web) render them. Off by default; callers test
// `tracer.on` before building any event, so tracing costs nothing when off.

export type TraceEvent =
  | { kind: 'enter'; fn: string; detail?: string }
  | { kind: 'exit'; fn: string; ret?: string }
  | { kind: 'decision'; rule: string; check: string; result: 'allow' | 'deny' | 'bypass' | 'info'; detail: string }
  | { kind: 'log'; level: 'info' | 'warn' | 'err'; msg: string };

export class Tracer {
  on = false;
  events: TraceEvent[] = [];

  enter(fn: string, detail?: string): void {
    this.events.push(detail === undefined ? { kind: 'enter', fn } : { kind: 'enter', fn, detail });
  }

  exit(fn: string, ret?: string | number): void {
    this.events.push(ret === undefined ? { kind: 'exit', fn } : { kind: 'exit', fn, ret: String(ret) });
  }

  decision(rule: string, check: string, result: 'allow' | 'deny' | 'bypass' | 'info', detail: string): void {
    this.events.push({ kind: 'decision', rule, check, result, detail });
  }

  take(): TraceEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }
}
