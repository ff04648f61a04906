// `gupsim serve`: serves the built web visualiser (web/dist) on 127.0.0.1 only. The model runs in
// the page; this server only hands out static files, so the same directory also works as a static
// site on any host.
// node:http is imported when a server starts: loading it (and, through its ES module facade, the
// fetch implementation) took ~45 ms of every gupsim command's start-up.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';

export const DEFAULT_PORT = 8377;
const HOST = '127.0.0.1';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.gup': 'text/plain; charset=utf-8',
};

/** web/dist, found from this module's place (src/cli under tsx, dist/src/cli once built). */
export function findWebRoot(from = dirname(fileURLToPath(import.meta.url))): string | null {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    const cand = join(dir, 'web', 'dist');
    if (existsSync(join(cand, 'index.html'))) return cand;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

export interface ServeOptions {
  root: string;
  /** 0 picks a free port. */
  port?: number;
}

export interface Serving {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Only requests naming this server by its loopback address (no DNS-rebinding visitors). */
function hostAllowed(req: IncomingMessage, port: number): boolean {
  const host = req.headers.host;
  return host === `${HOST}:${port}` || host === `localhost:${port}`;
}

function handler(root: string, portOf: () => number): (req: IncomingMessage, res: ServerResponse) => void {
  const rootAbs = resolve(root);
  return (req, res) => {
    const send = (status: number, body: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(body);
    };
    if (!hostAllowed(req, portOf())) return send(403, 'forbidden host\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return send(400, 'bad path\n');
    }
    const file = normalize(join(rootAbs, path.endsWith('/') ? path + 'index.html' : path));
    if (file !== rootAbs && !file.startsWith(rootAbs + sep)) return send(403, 'forbidden\n');
    if (!existsSync(file) || !statSync(file).isFile()) return send(404, 'not found\n');
    const body = readFileSync(file);
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': body.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}

/** Start serving `root` on 127.0.0.1. */
export async function serve(opts: ServeOptions): Promise<Serving> {
  let port = opts.port ?? DEFAULT_PORT;
  const { createServer } = await import('node:http');
  const server = createServer(handler(opts.root, () => port));
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, HOST, () => {
      const a = server.address();
      if (a && typeof a === 'object') port = a.port;
      ok({
        server,
        port,
        url: `http://${HOST}:${port}/`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

/**
 * Add `serve` to a commander program (the gupsim CLI). `setCode` receives the exit status: 0 once
 * the server listens (it then runs until the process is stopped), 1 or 2 if it could not start.
 * In src/cli/main.ts: `registerServe(program, (code) => (state.code = code));`
 */
export function registerServe(program: Command, setCode: (code: number) => void = (c) => void (process.exitCode = c)): Command {
  return program
    .command('serve')
    .description('serve the web visualiser on 127.0.0.1 (build it first: npm run build:web)')
    .option('-p, --port <port>', 'port (0: any free port)', String(DEFAULT_PORT))
    .option('--root <dir>', 'directory to serve (default: web/dist)')
    .action(async (o: { port: string; root?: string }) => setCode(await runServe(o)));
}

/** The command's body: returns an exit status if it cannot start, else serves until killed. */
export async function runServe(o: { port?: string; root?: string }): Promise<number> {
  const root = o.root ?? findWebRoot();
  if (!root || !existsSync(join(root, 'index.html'))) {
    process.stderr.write(`gupsim serve: no built web visualiser${o.root ? ` in ${o.root}` : ''}; run \`npm run build:web\` first\n`);
    return 2;
  }
  const port = Number(o.port ?? DEFAULT_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`gupsim serve: bad port ${o.port}\n`);
    return 2;
  }
  try {
    const s = await serve({ root, port });
    process.stdout.write(`gupsim visualiser: ${s.url}  (serving ${root}; 127.0.0.1 only; Ctrl-C stops)\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`gupsim serve: ${(e as Error).message}\n`);
    return 1;
  }
}
